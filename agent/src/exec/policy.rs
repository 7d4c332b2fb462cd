//! The sandbox's settings ([`Policy`]) and a role's overrides of them
//! ([`RoleSandbox`]); the values themselves are named once in
//! `swarm_roles::sandbox`, shared with swarmd's `[sandbox]` and the roles
//! file.
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

pub use swarm_roles::sandbox::{
    Filesystem, Mode, Network, ROLE_FILESYSTEM, ROLE_MODE, ROLE_NETWORK,
};

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
