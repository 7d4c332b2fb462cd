//! The sandbox's settings ([`Policy`]) and a role's overrides of them
//! ([`RoleSandbox`]).
//!
//! Settings come from the agent's flags (`--sandbox`,
//! `--sandbox-filesystem`, `--sandbox-network`, or `SWARM_SANDBOX*`), each
//! overridable per role by the role profile's environment (`SWARM_SANDBOX`,
//! `SWARM_SANDBOX_FILESYSTEM`, `SWARM_SANDBOX_NETWORK`):
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

/// The sandbox settings of an agent or a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policy {
    /// `sandbox`.
    pub mode: Mode,
    /// `filesystem`.
    pub filesystem: Filesystem,
    /// `network`.
    pub network: Network,
}

/// A setting's value that is not one of its choices.
fn invalid(setting: &str, value: &str, valid: &str) -> String {
    format!("{setting} = {value:?} is not a choice; valid: {valid}")
}

impl FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Mode, String> {
        match s.trim() {
            "auto" => Ok(Mode::Auto),
            "required" => Ok(Mode::Required),
            "off" => Ok(Mode::Off),
            other => Err(invalid("sandbox", other, "auto, required, off")),
        }
    }
}

impl FromStr for Filesystem {
    type Err = String;
    fn from_str(s: &str) -> Result<Filesystem, String> {
        match s.trim() {
            "host" => Ok(Filesystem::Host),
            "workdir" => Ok(Filesystem::Workdir),
            other => Err(invalid("filesystem", other, "host, workdir")),
        }
    }
}

impl FromStr for Network {
    type Err = String;
    fn from_str(s: &str) -> Result<Network, String> {
        match s.trim() {
            "host" => Ok(Network::Host),
            "none" => Ok(Network::None),
            other => Err(invalid("network", other, "host, none")),
        }
    }
}

/// The variables of a role profile's environment that override the
/// agent's settings for that role's tasks.
pub const ROLE_MODE: &str = "SWARM_SANDBOX";
/// See [`ROLE_MODE`].
pub const ROLE_FILESYSTEM: &str = "SWARM_SANDBOX_FILESYSTEM";
/// See [`ROLE_MODE`].
pub const ROLE_NETWORK: &str = "SWARM_SANDBOX_NETWORK";

/// A role's overrides, read from its profile's environment; each `None`
/// keeps the agent's setting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleSandbox {
    /// The three values as the profile gives them.
    pub mode: Option<String>,
    /// See `mode`.
    pub filesystem: Option<String>,
    /// See `mode`.
    pub network: Option<String>,
}

impl RoleSandbox {
    /// The overrides in a role profile's environment.
    pub fn from_env<'a>(env: impl IntoIterator<Item = (&'a String, &'a String)>) -> RoleSandbox {
        let mut out = RoleSandbox::default();
        for (key, value) in env {
            let slot = match key.as_str() {
                ROLE_MODE => &mut out.mode,
                ROLE_FILESYSTEM => &mut out.filesystem,
                ROLE_NETWORK => &mut out.network,
                _ => continue,
            };
            *slot = Some(value.clone());
        }
        out
    }

    /// `base` with these overrides laid over it.
    ///
    /// # Errors
    /// A value that is not one of its choices, named with the variable.
    pub fn apply(&self, base: Policy) -> Result<Policy, String> {
        let role = |var: &str, e: String| format!("the role profile's {var}: {e}");
        let mut p = base;
        if let Some(v) = &self.mode {
            p.mode = v.parse().map_err(|e| role(ROLE_MODE, e))?;
        }
        if let Some(v) = &self.filesystem {
            p.filesystem = v.parse().map_err(|e| role(ROLE_FILESYSTEM, e))?;
        }
        if let Some(v) = &self.network {
            p.network = v.parse().map_err(|e| role(ROLE_NETWORK, e))?;
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_and_refuse_with_the_choices() {
        assert_eq!("required".parse::<Mode>(), Ok(Mode::Required));
        assert_eq!("workdir".parse::<Filesystem>(), Ok(Filesystem::Workdir));
        assert_eq!("none".parse::<Network>(), Ok(Network::None));
        let err = "sometimes".parse::<Mode>().unwrap_err();
        assert!(err.contains("auto, required, off"), "{err}");
    }

    #[test]
    fn a_role_overrides_field_by_field() {
        let env = [
            (ROLE_NETWORK.to_string(), "none".to_string()),
            ("OTHER".to_string(), "x".to_string()),
        ];
        let role = RoleSandbox::from_env(env.iter().map(|(k, v)| (k, v)));
        let p = role.apply(Policy::default()).expect("valid");
        assert_eq!(p.network, Network::None);
        assert_eq!((p.mode, p.filesystem), (Mode::Auto, Filesystem::Host));
        let bad = RoleSandbox {
            filesystem: Some("all".into()),
            ..RoleSandbox::default()
        };
        let err = bad.apply(Policy::default()).unwrap_err();
        assert!(err.contains(ROLE_FILESYSTEM) && err.contains("host, workdir"));
    }
}
