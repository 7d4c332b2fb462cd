//! Starting and stopping local `swarm-agent` processes: the one launcher
//! behind `swarmd run`'s agents and the process provisioner.
//!
//! The agent binary is the `swarm-agent` next to the running `swarmd`; its
//! directory goes first on the agent's `PATH`, because tasks call
//! `swarmctl`, which sits there too. stdin is closed and stdout and stderr
//! go to one log file per agent. A child is killed if its handle is dropped;
//! [`stop`] drains agents properly (SIGTERM, then SIGKILL after
//! [`DRAIN_WAIT`]).

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// How long [`stop`] waits for a drained agent to exit before killing it.
pub const DRAIN_WAIT: Duration = Duration::from_secs(10);

/// One agent to start.
#[derive(Debug, Clone, Copy)]
pub struct AgentLaunch<'a> {
    /// Coordinator URL as the agent reaches it.
    pub url: &'a str,
    /// The role it registers for.
    pub role: &'a str,
    /// Roles it can also play: a standup may switch it to one of them.
    pub also: &'a [String],
    /// The id it registers as.
    pub id: &'a str,
    /// Working directory of its task processes.
    pub workdir: &'a Path,
    /// The agent token, given in its environment (`SWARM_TOKEN`): never on
    /// its command line (which every user may read) nor in a file where
    /// its tasks run. The agent keeps it from its tasks.
    pub token: &'a str,
    /// Its `--exec` command template, if any.
    pub exec: Option<&'a str>,
    /// File that receives its stdout and stderr (truncated; the directory
    /// is created if missing).
    pub log: &'a Path,
    /// `--orphan-timeout`: the agent exits once its coordinator has been
    /// unreachable this long (whole seconds, at least 1); `None` lets it
    /// retry forever.
    pub orphan_timeout: Option<Duration>,
    /// `--ca`, `--cert`, `--key` for a TLS coordinator.
    pub tls: &'a swarm_client::TlsFiles,
    /// The sandbox of its tasks (`[sandbox]`), as `--sandbox*` flags.
    pub sandbox: &'a crate::daemon::config::AgentSandbox,
    /// Where it exports its own spans (`--otlp-endpoint`): swarmd's.
    pub otlp_endpoint: Option<&'a str>,
}

/// The `swarm-agent` binary that agents are started from.
#[derive(Debug, Clone)]
pub struct Launcher {
    bin: PathBuf,
}

impl Launcher {
    /// The launcher for the `swarm-agent` next to the running executable.
    ///
    /// # Errors
    /// `NotFound` naming the missing binary and how to build it.
    pub fn next_to_swarmd() -> std::io::Result<Self> {
        let exe = std::env::current_exe()?;
        let bin = exe.with_file_name(format!("swarm-agent{}", std::env::consts::EXE_SUFFIX));
        if !bin.exists() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "{} not found: build the whole workspace (cargo build --workspace) so swarm-agent sits next to swarmd",
                    bin.display()
                ),
            ));
        }
        Ok(Launcher { bin })
    }

    /// Starts one agent.
    ///
    /// # Errors
    /// When the log file cannot be created or the process cannot start.
    pub fn spawn(&self, agent: &AgentLaunch<'_>) -> std::io::Result<Child> {
        if let Some(dir) = agent.log.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let log = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(agent.log)?;
        let mut cmd = self.command(agent);
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        cmd.spawn()
    }

    /// The agent's command line and environment.
    fn command(&self, agent: &AgentLaunch<'_>) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--coordinator")
            .arg(agent.url)
            .arg("--role")
            .arg(agent.role)
            .args(agent.also.iter().flat_map(|r| ["--role", r.as_str()]))
            .arg("--id")
            .arg(agent.id)
            .arg("--workdir")
            .arg(agent.workdir);
        cmd.env("SWARM_TOKEN", agent.token);
        // Only what it is given here: never TLS files or swarmd's own
        // tokens from swarmd's environment (its tasks would inherit them).
        for name in [
            "SWARM_CA",
            "SWARM_CERT",
            "SWARM_KEY",
            "SWARM_ADMIN_TOKEN",
            "SWARM_AGENT_TOKEN",
        ] {
            cmd.env_remove(name);
        }
        for (flag, file) in [
            ("--ca", &agent.tls.ca),
            ("--cert", &agent.tls.cert),
            ("--key", &agent.tls.key),
        ] {
            if let Some(file) = file {
                cmd.arg(flag).arg(file);
            }
        }
        // Only the sandbox it is given here, never swarmd's SWARM_SANDBOX*.
        for name in crate::daemon::config::SANDBOX_ENV {
            cmd.env_remove(name);
        }
        cmd.args(agent.sandbox.args());
        if let Some(template) = agent.exec {
            cmd.arg("--exec").arg(template);
        }
        if let Some(limit) = agent.orphan_timeout {
            cmd.arg("--orphan-timeout")
                .arg(limit.as_secs().max(1).to_string());
        }
        if let Some(url) = agent.otlp_endpoint {
            cmd.arg("--otlp-endpoint").arg(url);
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        let dirs = self
            .bin
            .parent()
            .map(Path::to_path_buf)
            .into_iter()
            .chain(std::env::split_paths(&path));
        if let Ok(joined) = std::env::join_paths(dirs) {
            cmd.env("PATH", joined);
        }
        cmd
    }
}

/// Drains agents: SIGTERM to every one, then waits for each up to
/// [`DRAIN_WAIT`] and kills the ones still running.
pub async fn stop<'a>(children: impl IntoIterator<Item = &'a mut Child>) {
    let children: Vec<&mut Child> = children.into_iter().collect();
    for c in &children {
        if let Some(pid) = c.id() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
    }
    for c in children {
        if tokio::time::timeout(DRAIN_WAIT, c.wait()).await.is_err() {
            let _ = c.kill().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::config::AgentSandbox;
    use swarm_roles::sandbox::{Filesystem, Mode, Network};

    #[test]
    fn the_command_line_carries_the_sandbox_and_never_a_token() {
        let launcher = Launcher {
            bin: PathBuf::from("/opt/swarm/swarm-agent"),
        };
        let sandbox = AgentSandbox {
            mode: Mode::Required,
            filesystem: Filesystem::Workdir,
            network: Network::None,
            grants: vec![PathBuf::from("/srv/cache")],
        };
        let tls = swarm_client::TlsFiles::default();
        let agent = AgentLaunch {
            url: "http://127.0.0.1:7420",
            role: "sre",
            also: &["qa".to_string()],
            id: "local-sre-0",
            workdir: Path::new("/srv/work"),
            token: "the-agent-token",
            exec: None,
            log: Path::new("/dev/null"),
            orphan_timeout: Some(Duration::from_secs(60)),
            tls: &tls,
            sandbox: &sandbox,
            otlp_endpoint: None,
        };
        let cmd = launcher.command(&agent);
        let args: Vec<String> = cmd
            .as_std()
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let line = args.join(" ");
        assert!(
            line.contains(
                "--sandbox required --sandbox-filesystem workdir --sandbox-network none \
                 --sandbox-grant /srv/cache"
            ),
            "{line}"
        );
        assert!(line.contains("--role sre --role qa --id local-sre-0 --workdir /srv/work"));
        assert!(!line.contains("the-agent-token"), "{line}");
        let envs: std::collections::BTreeMap<String, Option<String>> = cmd
            .as_std()
            .get_envs()
            .map(|(k, v)| {
                let v = v.map(|v| v.to_string_lossy().into_owned());
                (k.to_string_lossy().into_owned(), v)
            })
            .collect();
        assert_eq!(envs["SWARM_TOKEN"].as_deref(), Some("the-agent-token"));
        for removed in ["SWARM_ADMIN_TOKEN", "SWARM_AGENT_TOKEN", "SWARM_SANDBOX"] {
            assert_eq!(envs.get(removed), Some(&None), "{removed} is removed");
        }
    }
}
