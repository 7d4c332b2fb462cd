//! The process provisioner: local `swarm-agent` processes.

use super::launch::{self, AgentLaunch, Launcher};
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

    /// Starts one agent; its log is `WORKDIR/.swarm/agents/AGENT_ID.log`.
    pub fn start(&mut self, role: &str, agent_id: &str) -> std::io::Result<()> {
        let log = self
            .target
            .workdir
            .join(".swarm")
            .join("agents")
            .join(format!("{agent_id}.log"));
        let child = Launcher::next_to_swarmd()?.spawn(&AgentLaunch {
            url: &self.target.url,
            role,
            also: &[],
            id: agent_id,
            workdir: &self.target.workdir,
            token: &self.target.token,
            exec: None,
            log: &log,
            orphan_timeout: Some(self.target.orphan_timeout),
            tls: &self.target.tls,
            sandbox: &self.target.sandbox,
            otlp_endpoint: self.target.otlp_endpoint.as_deref(),
        })?;
        tracing::info!(
            "started agent {agent_id} ({role}) as process {}",
            child.id().unwrap_or(0)
        );
        self.children.push((agent_id.to_string(), child));
        Ok(())
    }

    /// Forgets agents that exited (after draining).
    /// Forgets the agents that exited; returns them with their status.
    pub fn reap(&mut self) -> Vec<(String, std::process::ExitStatus)> {
        let mut gone = Vec::new();
        self.children.retain_mut(|(id, c)| match c.try_wait() {
            Ok(Some(status)) => {
                tracing::info!("agent {id} exited ({status})");
                gone.push((id.clone(), status));
                false
            }
            _ => true,
        });
        gone
    }

    /// Drains every agent it started (SIGTERM) and waits for them.
    pub async fn stop_all(&mut self) {
        launch::stop(self.children.iter_mut().map(|(_, c)| c)).await;
        self.children.clear();
    }
}
