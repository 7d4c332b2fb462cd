//! What the docker provisioner is told: image, coordinator URL, agent
//! token, plan label, network and extra agent flags, checked once when it
//! connects. The token never appears in `Debug` output.

use std::fmt;

use super::{ProvisionError, DEFAULT_IMAGE};
use crate::provision::container::check_agent_settings;

/// How agent containers are made.
#[derive(Clone)]
pub struct DockerSettings {
    /// The agent image (default [`DEFAULT_IMAGE`]).
    pub image: String,
    /// The coordinator URL as the containers reach it.
    pub coordinator_url: String,
    /// The agent token the containers present (kept out of logs and labels).
    pub agent_token: String,
    /// Value of the `swarm.plan` label.
    pub plan: String,
    /// Docker network to attach to; `None` is host networking.
    pub network: Option<String>,
    /// Extra `swarm-agent` flags appended to every command line.
    pub extra_args: Vec<String>,
    /// Extra `NAME=value` variables of every container's environment.
    pub extra_env: Vec<String>,
    /// TLS files on the engine's host, mounted read-only into each
    /// container and given to its agent.
    pub tls: swarm_client::TlsFiles,
}

impl DockerSettings {
    /// Settings with the default image, no plan label, host networking and
    /// no extra flags.
    pub fn new(coordinator_url: impl Into<String>, agent_token: impl Into<String>) -> Self {
        DockerSettings {
            image: DEFAULT_IMAGE.to_string(),
            coordinator_url: coordinator_url.into(),
            agent_token: agent_token.into(),
            plan: String::new(),
            network: None,
            extra_args: Vec::new(),
            extra_env: Vec::new(),
            tls: swarm_client::TlsFiles::default(),
        }
    }

    /// Checks every field and trims the URL's trailing slash, so labels
    /// written and filtered on agree.
    pub(super) fn validated(mut self) -> Result<Self, ProvisionError> {
        check_agent_settings(
            &mut self.image,
            &mut self.coordinator_url,
            &self.agent_token,
            "the containers can reach, like http://127.0.0.1:7420",
        )?;
        let invalid = |field, problem: &str| ProvisionError::InvalidSetting {
            field,
            problem: problem.to_string(),
        };
        if self.network.as_deref().is_some_and(|n| n.trim().is_empty()) {
            return Err(invalid(
                "network",
                "is empty; name a Docker network, or leave it unset for host networking",
            ));
        }
        Ok(self)
    }
}

impl fmt::Debug for DockerSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DockerSettings")
            .field("image", &self.image)
            .field("coordinator_url", &self.coordinator_url)
            .field("agent_token", &"<redacted>")
            .field("plan", &self.plan)
            .field("network", &self.network)
            .field("extra_args", &self.extra_args)
            .field("extra_env", &self.extra_env)
            .finish()
    }
}
