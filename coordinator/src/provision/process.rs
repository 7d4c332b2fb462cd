//! The process provisioner: local `swarm-agent` processes.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use super::Target;

/// Starts and stops local agent processes.
pub struct ProcessProvisioner {
    target: Target,
    children: Vec<(String, tokio::process::Child)>,
}

impl ProcessProvisioner {
    /// A provisioner for agents of `target`.
    pub fn new(target: Target) -> Self {
        ProcessProvisioner {
            target,
            children: Vec::new(),
        }
    }

    fn binary() -> std::io::Result<PathBuf> {
        let exe = std::env::current_exe()?;
        let bin = exe.with_file_name(format!("swarm-agent{}", std::env::consts::EXE_SUFFIX));
        if bin.exists() {
            Ok(bin)
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{} not found next to swarmd", bin.display()),
            ))
        }
    }

    /// Starts one agent.
    pub fn start(&mut self, role: &str, agent_id: &str) -> std::io::Result<()> {
        let logs = self.target.workdir.join(".swarm").join("agents");
        std::fs::create_dir_all(&logs)?;
        let log = std::fs::File::create(logs.join(format!("{agent_id}.log")))?;
        let bin = Self::binary()?;
        let path = std::env::var_os("PATH").unwrap_or_default();
        let dirs: Vec<PathBuf> = bin
            .parent()
            .map(|p| p.to_path_buf())
            .into_iter()
            .chain(std::env::split_paths(&path))
            .collect();
        let mut cmd = tokio::process::Command::new(&bin);
        cmd.arg("--coordinator")
            .arg(&self.target.url)
            .arg("--role")
            .arg(role)
            .arg("--id")
            .arg(agent_id);
        cmd.arg("--workdir").arg(&self.target.workdir);
        cmd.env("SWARM_TOKEN", &self.target.token);
        if let Ok(joined) = std::env::join_paths(dirs) {
            cmd.env("PATH", joined);
        }
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        let child = cmd.spawn()?;
        tracing::info!(
            "started agent {agent_id} ({role}) as process {}",
            child.id().unwrap_or(0)
        );
        self.children.push((agent_id.to_string(), child));
        Ok(())
    }

    /// Forgets agents that exited (after draining).
    pub fn reap(&mut self) {
        self.children.retain_mut(|(id, c)| match c.try_wait() {
            Ok(Some(status)) => {
                tracing::info!("agent {id} exited ({status})");
                false
            }
            _ => true,
        });
    }

    /// Drains every agent it started (SIGTERM) and waits for them.
    pub async fn stop_all(&mut self) {
        for (_, c) in &self.children {
            if let Some(pid) = c.id() {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid as i32),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
        }
        for (_, c) in &mut self.children {
            if tokio::time::timeout(Duration::from_secs(10), c.wait())
                .await
                .is_err()
            {
                let _ = c.kill().await;
            }
        }
        self.children.clear();
    }
}
