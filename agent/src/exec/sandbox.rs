//! The sandbox task processes run in: its settings ([`Policy`]), what the
//! agent found on this host ([`Sandbox`]), and which of them one attempt
//! gets ([`Sandbox::plan`]).
//!
//! Settings, from the agent's flags (`--sandbox`, `--sandbox-filesystem`,
//! `--sandbox-network`, or `SWARM_SANDBOX*`), each overridable per role by
//! the role profile's environment (`SWARM_SANDBOX`,
//! `SWARM_SANDBOX_FILESYSTEM`, `SWARM_SANDBOX_NETWORK`):
//!
//! | setting      | values                                                  |
//! |--------------|---------------------------------------------------------|
//! | `sandbox`    | `auto` (bubblewrap when it works here), `required` (no task runs without it), `off` |
//! | `filesystem` | `host` (as the agent's user has it), `workdir` (read-only except the working directory, a private `/tmp`, the agent's runtime directory and granted paths) |
//! | `network`    | `host`, `none` (no network; swarmd through a Unix socket) |
//!
//! Whatever the settings, the agent's secrets (its token file, TLS key,
//! its directory `.swarm-agent/`) and the coordinator's state directory
//! (`.swarm/` of the workdir or a directory above it, and the one the
//! coordinator names in its Welcome) are hidden from sandboxed tasks.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use super::bwrap::{self, Bwrap};

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

/// The sandbox as found on this host, shared by every attempt.
#[derive(Debug, Clone)]
pub struct Sandbox {
    /// A working bubblewrap, if there is one.
    bwrap: Option<Bwrap>,
    /// The agent's settings.
    policy: Policy,
    /// Files and directories no sandboxed task sees (the agent's secrets).
    hidden: Vec<PathBuf>,
    /// Writable under `filesystem = "workdir"` (the runtime directory and
    /// the agent's grants).
    grants: Vec<PathBuf>,
    /// `SWARM_COORDINATOR` for tasks without a network: the agent's socket.
    unix_url: Option<String>,
    /// The coordinator's state directory, once its Welcome names it.
    state_dir: Arc<Mutex<Option<PathBuf>>>,
}

impl Default for Sandbox {
    /// No sandbox: `sandbox = "off"`, bubblewrap not looked for.
    fn default() -> Sandbox {
        Sandbox {
            bwrap: None,
            policy: Policy {
                mode: Mode::Off,
                ..Policy::default()
            },
            hidden: Vec::new(),
            grants: Vec::new(),
            unix_url: None,
            state_dir: Arc::new(Mutex::new(None)),
        }
    }
}

/// How one attempt's commands are wrapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Under bubblewrap: its program and arguments before the command.
    Bwrap {
        /// Whether the resident guard must still watch the tree (a setuid
        /// bubblewrap clears the parent-death signal).
        resident: bool,
        /// `bwrap ... --`.
        argv: Vec<String>,
        /// Variables set for the command (`SWARM_COORDINATOR`, `TMPDIR`).
        env: Vec<(String, String)>,
    },
    /// Without: the resident guard ends the process tree.
    Unsandboxed,
}

impl Sandbox {
    /// Looks for bubblewrap (unless `policy` is off) and checks that it can
    /// make a sandbox here. Logs once what tasks will run in.
    ///
    /// # Errors
    /// `sandbox = "required"` and no working bubblewrap: what was tried.
    pub fn detect(policy: Policy) -> Result<Sandbox, String> {
        let bwrap = match bwrap::find() {
            Ok(b) => Some(b),
            Err(why) if policy.mode == Mode::Required => {
                return Err(format!(
                    "--sandbox required, but no sandbox can be made: {why} \
                     (install the bubblewrap package, or use --sandbox auto or off)"
                ));
            }
            Err(why) if policy.mode == Mode::Auto => {
                tracing::warn!(
                    "no sandbox: {why}; tasks run as this agent's user with its view of the \
                     file system (their process trees still end with their attempts)"
                );
                None
            }
            Err(why) => {
                tracing::debug!("bubblewrap: {why}");
                None
            }
        };
        if let (Some(b), Mode::Auto | Mode::Required) = (&bwrap, policy.mode) {
            tracing::info!(
                "tasks run in a sandbox ({}): own PID namespace, no new privileges, \
                 agent and coordinator secrets hidden",
                b.path().display()
            );
        }
        if policy.mode == Mode::Off {
            tracing::warn!("--sandbox off: tasks run without a sandbox");
        }
        Ok(Sandbox {
            bwrap,
            policy,
            hidden: Vec::new(),
            grants: Vec::new(),
            unix_url: None,
            state_dir: Arc::new(Mutex::new(None)),
        })
    }

    /// No sandbox at all (tests, library use).
    pub fn none() -> Sandbox {
        Sandbox::default()
    }

    /// What the agent tells the coordinator it has: `bwrap` or `none`.
    pub fn kind(&self) -> &'static str {
        match (&self.bwrap, self.policy.mode) {
            (Some(_), Mode::Auto | Mode::Required) => "bwrap",
            _ => "none",
        }
    }

    /// Whether bubblewrap works here (whatever the agent's own setting).
    pub fn available(&self) -> bool {
        self.bwrap.is_some()
    }

    /// Hides `path` (a file or directory) from sandboxed tasks.
    pub fn hide(&mut self, path: &Path) {
        self.hidden.push(path.to_path_buf());
    }

    /// Lets sandboxed tasks write `path` under `filesystem = "workdir"`.
    pub fn grant(&mut self, path: &Path) {
        self.grants.push(path.to_path_buf());
    }

    /// Tasks without a network reach swarmd through this URL.
    pub fn set_unix_url(&mut self, url: String) {
        self.unix_url = Some(url);
    }

    /// The coordinator's state directory, from its Welcome (empty: not
    /// named); hidden from tasks started from now on.
    pub fn set_state_dir(&self, dir: &str) {
        let dir = (!dir.trim().is_empty()).then(|| PathBuf::from(dir));
        if let Ok(mut slot) = self.state_dir.lock() {
            *slot = dir;
        }
    }

    /// How an attempt of a role with `role` overrides, working in
    /// `workdir`, is wrapped.
    ///
    /// # Errors
    /// An invalid override, or a sandbox required where none can be made.
    pub(crate) fn plan(&self, role: &RoleSandbox, workdir: &Path) -> Result<Plan, String> {
        let policy = role.apply(self.policy)?;
        let bwrap = match (&self.bwrap, policy.mode) {
            (_, Mode::Off) => return Ok(Plan::Unsandboxed),
            (Some(b), Mode::Auto | Mode::Required) => b,
            (None, Mode::Auto) => return Ok(Plan::Unsandboxed),
            (None, Mode::Required) => {
                return Err("the role requires a sandbox (SWARM_SANDBOX=required) and \
                     bubblewrap cannot make one on this agent's host"
                    .to_string());
            }
        };
        let mut hidden = self.hidden.clone();
        if let Ok(Some(dir)) = self.state_dir.lock().map(|d| d.clone()) {
            hidden.push(dir);
        }
        hidden.extend(coordinator_dirs(workdir));
        let layout = bwrap::Layout {
            policy,
            workdir,
            hidden: &hidden,
            grants: &self.grants,
        };
        let mut env = Vec::new();
        if policy.network == Network::None {
            let url = self.unix_url.clone().ok_or_else(|| {
                "network = \"none\" needs the agent's task socket, which is not open".to_string()
            })?;
            env.push(("SWARM_COORDINATOR".to_string(), url));
        }
        if policy.filesystem == Filesystem::Workdir {
            env.push(("TMPDIR".to_string(), "/tmp".to_string()));
        }
        Ok(Plan::Bwrap {
            resident: bwrap.setuid(),
            argv: bwrap.argv(&layout),
            env,
        })
    }
}

/// `.swarm` of `workdir` and of every directory above it, where they
/// exist: a coordinator's state directory when the task runs in or below
/// its workdir.
fn coordinator_dirs(workdir: &Path) -> Vec<PathBuf> {
    workdir
        .ancestors()
        .map(|d| d.join(".swarm"))
        .filter(|d| d.is_dir())
        .collect()
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

    #[test]
    fn without_bubblewrap_auto_runs_unsandboxed_and_required_refuses() {
        let sandbox = Sandbox::none();
        let dir = Path::new("/");
        let auto = RoleSandbox {
            mode: Some("auto".into()),
            ..RoleSandbox::default()
        };
        assert_eq!(sandbox.plan(&auto, dir), Ok(Plan::Unsandboxed));
        let required = RoleSandbox {
            mode: Some("required".into()),
            ..RoleSandbox::default()
        };
        assert!(sandbox
            .plan(&required, dir)
            .unwrap_err()
            .contains("requires a sandbox"));
        assert_eq!(sandbox.kind(), "none");
    }

    #[test]
    fn coordinator_state_dirs_above_the_workdir_are_found() {
        let top = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(top.path().join(".swarm")).expect("state");
        let below = top.path().join("repo/sub");
        std::fs::create_dir_all(&below).expect("below");
        assert!(coordinator_dirs(&below).contains(&top.path().join(".swarm")));
    }
}
