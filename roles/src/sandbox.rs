//! The sandbox's settings, named once for everyone who sets them: the
//! agent's flags (`--sandbox`, `--sandbox-filesystem`,
//! `--sandbox-network`), swarmd's `[sandbox]` for the agents it starts,
//! and a role's profile (`sandbox`, `sandbox_filesystem`,
//! `sandbox_network` in the roles file), which reaches the agent as the
//! variables [`ROLE_MODE`], [`ROLE_FILESYSTEM`] and [`ROLE_NETWORK`] of
//! the role's environment.
//!
//! | setting      | values                                                  |
//! |--------------|---------------------------------------------------------|
//! | `sandbox`    | `auto` (bubblewrap when it works here), `required` (no task runs without it), `off` |
//! | `filesystem` | `host` (as the agent's user has it), `workdir` (read-only except the working directory, a private `/tmp`, the agent's runtime directory and granted paths) |
//! | `network`    | `host`, `none` (no network; swarmd through a Unix socket) |

use std::str::FromStr;

/// Whether tasks run under bubblewrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Under bubblewrap when it works on this host, else without.
    #[default]
    Auto,
    /// Under bubblewrap, or not at all.
    Required,
    /// Never.
    Off,
}

/// What of the file system a sandboxed task may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Filesystem {
    /// Whatever the agent's user may.
    #[default]
    Host,
    /// Its working directory, a private `/tmp`, the agent's runtime
    /// directory and granted paths; the rest is read-only.
    Workdir,
}

/// Whether a sandboxed task has the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Network {
    /// The agent's network.
    #[default]
    Host,
    /// None at all: swarmd is reached through the agent's Unix socket.
    None,
}

/// The variable of a role profile's environment that overrides the
/// agent's `--sandbox` for that role's tasks.
pub const ROLE_MODE: &str = "SWARM_SANDBOX";
/// The same for `--sandbox-filesystem`.
pub const ROLE_FILESYSTEM: &str = "SWARM_SANDBOX_FILESYSTEM";
/// The same for `--sandbox-network`.
pub const ROLE_NETWORK: &str = "SWARM_SANDBOX_NETWORK";

/// A setting with a few named values.
pub trait Choice: Copy + Sized + 'static {
    /// The setting's name, as the agent's flags say it after `--`.
    const NAME: &'static str;
    /// Every value.
    const ALL: &'static [Self];
    /// The value as flags and files spell it.
    fn as_str(self) -> &'static str;

    /// `value` read as one of the choices; `key` names the setting in the
    /// error, which lists the choices.
    ///
    /// # Errors
    /// `KEY = "VALUE" is not a choice; valid: ...`.
    fn parse_as(key: &str, value: &str) -> Result<Self, String> {
        let value = value.trim();
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == value)
            .ok_or_else(|| {
                let valid: Vec<&str> = Self::ALL.iter().map(|c| c.as_str()).collect();
                format!(
                    "{key} = {value:?} is not a choice; valid: {}",
                    valid.join(", ")
                )
            })
    }
}

impl Choice for Mode {
    const NAME: &'static str = "sandbox";
    const ALL: &'static [Mode] = &[Mode::Auto, Mode::Required, Mode::Off];
    fn as_str(self) -> &'static str {
        match self {
            Mode::Auto => "auto",
            Mode::Required => "required",
            Mode::Off => "off",
        }
    }
}

impl Choice for Filesystem {
    const NAME: &'static str = "filesystem";
    const ALL: &'static [Filesystem] = &[Filesystem::Host, Filesystem::Workdir];
    fn as_str(self) -> &'static str {
        match self {
            Filesystem::Host => "host",
            Filesystem::Workdir => "workdir",
        }
    }
}

impl Choice for Network {
    const NAME: &'static str = "network";
    const ALL: &'static [Network] = &[Network::Host, Network::None];
    fn as_str(self) -> &'static str {
        match self {
            Network::Host => "host",
            Network::None => "none",
        }
    }
}

impl FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Mode, String> {
        Mode::parse_as(Mode::NAME, s)
    }
}

impl FromStr for Filesystem {
    type Err = String;
    fn from_str(s: &str) -> Result<Filesystem, String> {
        Filesystem::parse_as(Filesystem::NAME, s)
    }
}

impl FromStr for Network {
    type Err = String;
    fn from_str(s: &str) -> Result<Network, String> {
        Network::parse_as(Network::NAME, s)
    }
}

/// A role profile's sandbox settings as the roles file gives them
/// (`sandbox`, `sandbox_filesystem`, `sandbox_network`), checked; each
/// `None` keeps the agent's own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoleSettings {
    /// `sandbox`.
    pub mode: Option<Mode>,
    /// `sandbox_filesystem`.
    pub filesystem: Option<Filesystem>,
    /// `sandbox_network`.
    pub network: Option<Network>,
}

impl RoleSettings {
    /// Reads the three values; a value that is not a choice is an error
    /// naming the key and the choices.
    ///
    /// # Errors
    /// `KEY = "VALUE" is not a choice; valid: ...`.
    pub fn parse(
        mode: Option<&str>,
        filesystem: Option<&str>,
        network: Option<&str>,
    ) -> Result<RoleSettings, String> {
        Ok(RoleSettings {
            mode: mode.map(|v| Mode::parse_as("sandbox", v)).transpose()?,
            filesystem: filesystem
                .map(|v| Filesystem::parse_as("sandbox_filesystem", v))
                .transpose()?,
            network: network
                .map(|v| Network::parse_as("sandbox_network", v))
                .transpose()?,
        })
    }

    /// The variables of the role's environment that carry these settings
    /// to the agent.
    pub fn env(self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(m) = self.mode {
            out.push((ROLE_MODE.to_string(), m.as_str().to_string()));
        }
        if let Some(f) = self.filesystem {
            out.push((ROLE_FILESYSTEM.to_string(), f.as_str().to_string()));
        }
        if let Some(n) = self.network {
            out.push((ROLE_NETWORK.to_string(), n.as_str().to_string()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_refuse_with_the_choices() {
        for m in [Mode::Auto, Mode::Required, Mode::Off] {
            assert_eq!(m.as_str().parse::<Mode>(), Ok(m));
        }
        for f in [Filesystem::Host, Filesystem::Workdir] {
            assert_eq!(f.as_str().parse::<Filesystem>(), Ok(f));
        }
        for n in [Network::Host, Network::None] {
            assert_eq!(n.as_str().parse::<Network>(), Ok(n));
        }
        let err = "sometimes".parse::<Mode>().unwrap_err();
        assert_eq!(
            err,
            "sandbox = \"sometimes\" is not a choice; valid: auto, required, off"
        );
    }

    #[test]
    fn a_role_s_settings_name_their_key_and_travel_as_its_environment() {
        let s = RoleSettings::parse(Some("off"), None, Some("none")).expect("valid");
        assert_eq!(
            s.env(),
            [
                (ROLE_MODE.to_string(), "off".to_string()),
                (ROLE_NETWORK.to_string(), "none".to_string())
            ]
        );
        let err = RoleSettings::parse(None, Some("all"), None).unwrap_err();
        assert_eq!(
            err,
            "sandbox_filesystem = \"all\" is not a choice; valid: host, workdir"
        );
    }
}
