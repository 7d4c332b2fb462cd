//! The sandbox task processes run in: what the agent found on this host
//! ([`Sandbox`]), and how one attempt's commands are wrapped under its
//! settings ([`Policy`], see [`super::policy`]) and its role's overrides
//! ([`Sandbox::plan`]).
//!
//! Whatever the settings, the agent's secrets (its token file, TLS key,
//! its directory `.swarm-agent/`) and the coordinator's state directory
//! (`.swarm/` of the workdir or a directory above it, and the one the
//! coordinator names in its Welcome) are hidden from sandboxed tasks.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::bwrap::{self, Bwrap};
pub use super::policy::{Filesystem, Mode, Network, Policy, RoleSandbox};

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
    /// `workdir` and writing `grants` besides, is wrapped.
    ///
    /// # Errors
    /// An invalid override, or a sandbox required where none can be made.
    /// `user` is the (uid, gid) the commands run as (`--run-as`), if not
    /// the agent's: bubblewrap, running as that user, cannot mount over
    /// what the user cannot reach, and need not.
    pub(crate) fn plan(
        &self,
        role: &RoleSandbox,
        workdir: &Path,
        grants: &[PathBuf],
        user: Option<(u32, u32)>,
    ) -> Result<Plan, String> {
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
        if let Some((uid, gid)) = user {
            hidden.retain(|path| reachable(path, uid, gid));
        }
        let grants: Vec<PathBuf> = self.grants.iter().chain(grants).cloned().collect();
        let layout = bwrap::Layout {
            policy,
            workdir,
            hidden: &hidden,
            grants: &grants,
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

/// Whether user `uid` (group `gid`, no others) can look `path` up: it
/// may search every directory above it.
fn reachable(path: &Path, uid: u32, gid: u32) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(path) = std::fs::canonicalize(path) else {
        return false;
    };
    path.ancestors().skip(1).all(|dir| {
        std::fs::metadata(dir).is_ok_and(|m| {
            let bits = if m.uid() == uid {
                m.mode() >> 6
            } else if m.gid() == gid {
                m.mode() >> 3
            } else {
                m.mode()
            };
            uid == 0 || bits & 0o1 != 0
        })
    })
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
    fn without_bubblewrap_auto_runs_unsandboxed_and_required_refuses() {
        let sandbox = Sandbox::none();
        let dir = Path::new("/");
        let auto = RoleSandbox {
            mode: Some("auto".into()),
            ..RoleSandbox::default()
        };
        assert_eq!(sandbox.plan(&auto, dir, &[], None), Ok(Plan::Unsandboxed));
        let required = RoleSandbox {
            mode: Some("required".into()),
            ..RoleSandbox::default()
        };
        assert!(sandbox
            .plan(&required, dir, &[], None)
            .unwrap_err()
            .contains("requires a sandbox"));
        assert_eq!(sandbox.kind(), "none");
    }

    /// A sandbox with an unchecked bubblewrap and `policy`.
    fn with_bwrap(policy: Policy) -> Sandbox {
        Sandbox {
            bwrap: Some(Bwrap::unchecked("/usr/bin/bwrap")),
            policy,
            ..Sandbox::default()
        }
    }

    #[test]
    fn the_welcomes_state_dir_and_the_task_socket_reach_the_plan() {
        let top = tempfile::tempdir().expect("tmp");
        let state = top.path().join("coordinator-state");
        std::fs::create_dir(&state).expect("dir");
        let mut sandbox = with_bwrap(Policy::default());
        sandbox.set_unix_url("unix:///run/x/coordinator.sock".into());
        assert_eq!(sandbox.kind(), "bwrap");
        let argv = |s: &Sandbox, role: &RoleSandbox| match s.plan(role, top.path(), &[], None) {
            Ok(Plan::Bwrap { argv, env, .. }) => (argv.join(" "), env),
            other => panic!("expected bubblewrap, got {other:?}"),
        };
        let state_arg = format!("--tmpfs {}", state.canonicalize().expect("c").display());
        let (before, env) = argv(&sandbox, &RoleSandbox::default());
        assert!(!before.contains(&state_arg) && env.is_empty(), "{before}");
        sandbox.set_state_dir(&state.display().to_string());
        let offline = RoleSandbox {
            network: Some("none".into()),
            ..RoleSandbox::default()
        };
        let (after, env) = argv(&sandbox, &offline);
        assert!(after.contains(&state_arg), "{after}");
        assert!(after.contains("--unshare-net"), "{after}");
        let url = (
            "SWARM_COORDINATOR".to_string(),
            "unix:///run/x/coordinator.sock".to_string(),
        );
        assert_eq!(env, [url]);
        let off = RoleSandbox {
            mode: Some("off".into()),
            ..RoleSandbox::default()
        };
        assert_eq!(
            sandbox.plan(&off, top.path(), &[], None),
            Ok(Plan::Unsandboxed)
        );
    }

    #[test]
    fn only_what_a_user_can_look_up_needs_hiding_from_it() {
        use std::os::unix::fs::PermissionsExt as _;
        let top = tempfile::tempdir().expect("tmp");
        let closed = top.path().join("closed");
        std::fs::create_dir(&closed).expect("dir");
        std::fs::write(closed.join("key"), "k").expect("key");
        std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let me = nix::unistd::geteuid().as_raw();
        let gid = nix::unistd::getegid().as_raw();
        assert!(reachable(&closed.join("key"), me, gid));
        assert!(reachable(&closed, 65534, 65534), "the directory itself");
        if me != 65534 {
            assert!(!reachable(&closed.join("key"), 65534, 65534));
        }
        assert!(!reachable(&top.path().join("missing"), me, gid));
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
