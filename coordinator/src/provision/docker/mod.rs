//! The docker provisioner: agents as containers on a Docker engine.
//!
//! Each agent is one container of the agent image (built by
//! `scripts/build-agent-image.sh`, never pulled) whose entry point is
//! `swarm-agent`, told the coordinator URL, its role, its id and `/work` as
//! its working directory. The agent token travels in the container's
//! environment (`SWARM_TOKEN`), never in a label, a command line or a log
//! line. Containers carry the labels `swarm.coordinator`, `swarm.agent`,
//! `swarm.role` and `swarm.plan`; every query of this provisioner is scoped
//! by `swarm.coordinator`, so several coordinators can share an engine.
//!
//! The engine is the one `DOCKER_HOST` names (else the local socket), so a
//! remote engine works as well as the local one. With no network setting the
//! containers use host networking, and a coordinator on the engine's host is
//! reached at `http://127.0.0.1:PORT`.

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::{ContainerCreateBody, ContainerSummary, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, KillContainerOptionsBuilder, ListContainersOptionsBuilder,
    RemoveContainerOptionsBuilder,
};
use bollard::Docker;
use futures_util::StreamExt;

use super::container::agent_command;

mod error;
mod settings;

pub use error::ProvisionError;
pub(crate) use error::{require_image, status_of};
pub use settings::DockerSettings;

/// The image used when none is configured.
pub const DEFAULT_IMAGE: &str = "swarm-agent:dev";
/// Label holding the URL of the coordinator that owns the container.
pub const LABEL_COORDINATOR: &str = "swarm.coordinator";
/// Label holding the agent id.
pub const LABEL_AGENT: &str = "swarm.agent";
/// Label holding the agent's role.
pub const LABEL_ROLE: &str = "swarm.role";
/// Label holding the plan the agent was started for.
pub const LABEL_PLAN: &str = "swarm.plan";
/// Working directory of the agent (and its tasks) inside the container.
pub const CONTAINER_WORKDIR: &str = "/work";

/// Where the agent's TLS files are mounted (read-only) in its container.
pub const CONTAINER_TLS_DIR: &str = "/etc/swarm/tls";

/// Starts, lists and removes agent containers for one coordinator.
pub struct DockerProvisioner {
    /// The engine client, API version already negotiated.
    docker: Docker,
    /// Validated settings.
    settings: DockerSettings,
    /// How the engine is named in messages.
    engine: String,
}

/// One agent container as listed by the engine.
struct AgentContainer {
    id: String,
    agent: String,
    role: String,
    state: String,
}

impl DockerProvisioner {
    /// Connects to the engine `DOCKER_HOST` names (else the local socket),
    /// agrees on an API version and checks that the image is there.
    pub async fn connect(settings: DockerSettings) -> Result<Self, ProvisionError> {
        let engine = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|h| !h.trim().is_empty())
            .unwrap_or_else(|| "the default local socket".to_string());
        let client = Docker::connect_with_defaults();
        Self::connect_with(client, engine, settings).await
    }

    /// Like [`connect`](Self::connect), with the engine at `host`
    /// (`unix:///path`, `tcp://host:port` or `http://host:port`).
    pub async fn connect_to(host: &str, settings: DockerSettings) -> Result<Self, ProvisionError> {
        let client = Docker::connect_with_host(host);
        Self::connect_with(client, host.to_string(), settings).await
    }

    async fn connect_with(
        client: Result<Docker, bollard::errors::Error>,
        engine: String,
        settings: DockerSettings,
    ) -> Result<Self, ProvisionError> {
        let settings = settings.validated()?;
        let unreachable = |error| ProvisionError::Unreachable {
            engine: engine.clone(),
            error,
        };
        let docker = client.map_err(unreachable)?;
        let docker = docker.negotiate_version().await.map_err(unreachable)?;
        require_image(&docker, &settings.image, engine.clone()).await?;
        Ok(DockerProvisioner {
            docker,
            settings,
            engine,
        })
    }

    /// The settings in use (token included; do not log it).
    pub fn settings(&self) -> &DockerSettings {
        &self.settings
    }

    /// Creates and starts the container of agent `agent_id` playing `role`;
    /// returns the container id.
    pub async fn start_agent(&self, role: &str, agent_id: &str) -> Result<String, ProvisionError> {
        let role = checked("role", role, 64)?;
        let agent_id = checked("agent id", agent_id, 128)?;
        let s = &self.settings;
        let name = container_name(agent_id);
        let (cmd, tls) = agent_command(
            &s.coordinator_url,
            role,
            Some(agent_id),
            &s.extra_args,
            &s.tls,
        );
        let binds: Vec<String> = (tls.iter())
            .map(|m| format!("{}:{}:ro", m.host, m.inside))
            .collect();
        let labels = HashMap::from([
            (LABEL_COORDINATOR.to_string(), s.coordinator_url.clone()),
            (LABEL_AGENT.to_string(), agent_id.to_string()),
            (LABEL_ROLE.to_string(), role.to_string()),
            (LABEL_PLAN.to_string(), s.plan.clone()),
        ]);
        let body = ContainerCreateBody {
            image: Some(s.image.clone()),
            cmd: Some(cmd),
            env: Some(
                std::iter::once(format!("SWARM_TOKEN={}", s.agent_token.trim()))
                    .chain(s.extra_env.iter().cloned())
                    .collect(),
            ),
            labels: Some(labels),
            working_dir: Some(CONTAINER_WORKDIR.to_string()),
            host_config: Some(HostConfig {
                network_mode: Some(s.network.clone().unwrap_or_else(|| "host".to_string())),
                // A small init as PID 1 forwards SIGTERM to the agent and
                // reaps whatever its tasks leave behind.
                init: Some(true),
                binds: (!binds.is_empty()).then_some(binds),
                ..HostConfig::default()
            }),
            ..ContainerCreateBody::default()
        };
        let options = CreateContainerOptionsBuilder::new().name(&name).build();
        let created = match self.docker.create_container(Some(options), body).await {
            Ok(created) => created,
            Err(error) => {
                return Err(match status_of(&error) {
                    Some(409) => ProvisionError::NameTaken {
                        agent_id: agent_id.to_string(),
                        name,
                        engine: self.engine.clone(),
                    },
                    Some(404) => ProvisionError::ImageMissing {
                        image: s.image.clone(),
                        engine: self.engine.clone(),
                    },
                    _ => self.failed(
                        format!(
                            "creating container `{name}` for agent `{agent_id}` (role `{role}`)"
                        ),
                        error,
                    ),
                })
            }
        };
        let id = created.id;
        if let Err(error) = self.docker.start_container(&id, None).await {
            if let Err(cleanup) = self.remove(&id).await {
                tracing::warn!(container = %id, agent = %agent_id, %cleanup, "removing a container that did not start failed");
            }
            return Err(self.failed(
                format!("starting container `{name}` for agent `{agent_id}` (role `{role}`)"),
                error,
            ));
        }
        tracing::info!(agent = %agent_id, %role, container = %short(&id), image = %s.image, "agent container started");
        Ok(id)
    }

    /// Stops agent `agent_id`: SIGTERM (the agent drains and exits), up to
    /// `grace` to exit, then the container is removed (killed if still up).
    pub async fn stop_agent(&self, agent_id: &str, grace: Duration) -> Result<(), ProvisionError> {
        let containers = self.containers(&[(LABEL_AGENT, agent_id)], &[]).await?;
        if containers.is_empty() {
            let known: Vec<String> = self.list().await?.into_iter().map(|(a, _, _)| a).collect();
            return Err(ProvisionError::NoSuchAgent {
                agent_id: agent_id.to_string(),
                coordinator: self.settings.coordinator_url.clone(),
                known: if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                },
            });
        }
        for c in containers {
            let mut exited = c.state == "exited" || c.state == "dead";
            if !exited {
                let options = KillContainerOptionsBuilder::new().signal("SIGTERM").build();
                match self.docker.kill_container(&c.id, Some(options)).await {
                    // 409: it is not running any more.
                    Err(error) if !matches!(status_of(&error), Some(404 | 409)) => {
                        return Err(self.failed(
                            format!(
                                "sending SIGTERM to agent `{agent_id}` (container {})",
                                short(&c.id)
                            ),
                            error,
                        ))
                    }
                    _ => {}
                }
                // Any end of the wait stream (exit status, error, gone) is
                // an exit; only the timeout is not.
                let mut wait = self.docker.wait_container(&c.id, None);
                exited = tokio::time::timeout(grace, wait.next()).await.is_ok();
            }
            self.remove(&c.id).await?;
            if exited {
                tracing::info!(agent = %agent_id, container = %short(&c.id), "agent drained and its container was removed");
            } else {
                tracing::warn!(agent = %agent_id, container = %short(&c.id), grace_ms = grace.as_millis() as u64, "agent did not exit within its grace period; container killed and removed");
            }
        }
        Ok(())
    }

    /// Removes this coordinator's containers that have exited and returns
    /// their agent ids.
    pub async fn reap(&self) -> Result<Vec<String>, ProvisionError> {
        let exited = self.containers(&[], &["exited", "dead"]).await?;
        let mut agents = Vec::with_capacity(exited.len());
        for c in exited {
            self.remove(&c.id).await?;
            tracing::info!(agent = %c.agent, container = %short(&c.id), "exited agent container removed");
            agents.push(c.agent);
        }
        Ok(agents)
    }

    /// Removes every container of this coordinator, running or not; returns
    /// how many there were.
    pub async fn remove_all(&self) -> Result<usize, ProvisionError> {
        let all = self.containers(&[], &[]).await?;
        for c in &all {
            self.remove(&c.id).await?;
        }
        if !all.is_empty() {
            tracing::info!(count = all.len(), coordinator = %self.settings.coordinator_url, "agent containers removed");
        }
        Ok(all.len())
    }

    /// This coordinator's containers as (agent id, role, container state),
    /// by agent id.
    pub async fn list(&self) -> Result<Vec<(String, String, String)>, ProvisionError> {
        let mut all: Vec<_> = self
            .containers(&[], &[])
            .await?
            .into_iter()
            .map(|c| (c.agent, c.role, c.state))
            .collect();
        all.sort();
        Ok(all)
    }

    /// This coordinator's containers, with more label filters and, if any
    /// are given, only in those states.
    async fn containers(
        &self,
        labels: &[(&str, &str)],
        states: &[&str],
    ) -> Result<Vec<AgentContainer>, ProvisionError> {
        let mut label_filters = vec![format!(
            "{LABEL_COORDINATOR}={}",
            self.settings.coordinator_url
        )];
        label_filters.extend(labels.iter().map(|(k, v)| format!("{k}={v}")));
        let mut filters: HashMap<&str, Vec<String>> = HashMap::from([("label", label_filters)]);
        if !states.is_empty() {
            filters.insert("status", states.iter().map(|s| s.to_string()).collect());
        }
        let options = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&filters)
            .build();
        let listed = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(|error| self.failed("listing agent containers".to_string(), error))?;
        Ok(listed.into_iter().filter_map(agent_container).collect())
    }

    /// Force-removes a container; one already gone or being removed is fine.
    async fn remove(&self, id: &str) -> Result<(), ProvisionError> {
        let options = RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(true)
            .build();
        match self.docker.remove_container(id, Some(options)).await {
            Err(error) if !matches!(status_of(&error), Some(404 | 409)) => {
                Err(self.failed(format!("removing container {}", short(id)), error))
            }
            _ => Ok(()),
        }
    }

    fn failed(&self, action: String, error: bollard::errors::Error) -> ProvisionError {
        ProvisionError::Engine {
            action,
            engine: self.engine.clone(),
            error,
        }
    }
}

/// The fields this provisioner uses from a listed container.
fn agent_container(c: ContainerSummary) -> Option<AgentContainer> {
    let labels = c.labels.unwrap_or_default();
    Some(AgentContainer {
        id: c.id?,
        agent: labels.get(LABEL_AGENT).cloned().unwrap_or_default(),
        role: labels.get(LABEL_ROLE).cloned().unwrap_or_default(),
        state: c.state.map(|s| s.to_string()).unwrap_or_default(),
    })
}

/// `value` trimmed, if it is non-empty, at most `max` characters and free of
/// whitespace and control characters.
fn checked<'a>(what: &'static str, value: &'a str, max: usize) -> Result<&'a str, ProvisionError> {
    let trimmed = value.trim();
    if trimmed.is_empty()
        || trimmed.chars().count() > max
        || trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ProvisionError::InvalidAgent {
            what,
            value: value.to_string(),
            expected: format!("give 1 to {max} characters without spaces or control characters"),
        });
    }
    Ok(trimmed)
}

/// `swarm-agent-<agent id>` with everything Docker refuses in a name
/// replaced by `-`.
pub fn container_name(agent_id: &str) -> String {
    let safe: String = agent_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("swarm-agent-{safe}")
}

/// The first 12 characters of a container id, as `docker ps` shows it.
fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

#[cfg(test)]
mod tests;
