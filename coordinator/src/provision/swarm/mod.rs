//! The swarm provisioner: agents as Docker Swarm services, one per role.
//!
//! A role's service (`swarm-PLAN-ROLE`, see [`spec`]) runs the agent image
//! with as many replicas as the coordinator has asked for agents of the
//! role; each task's agent takes its id from the task's slot. Growing is
//! raising the replicas. Shrinking is two steps, so no running attempt is
//! killed: the coordinator drains the agents it picks (they finish their
//! work and exit 0, and the restart policy `on-failure` leaves their slots
//! down), then this provisioner sees those completed slots and lowers the
//! replicas by as many — Swarm removes slots that do not run first. Services
//! carry the labels `swarm.coordinator`, `swarm.role` and `swarm.plan`;
//! every query is scoped by `swarm.coordinator`, and the services are
//! removed when swarmd stops.
//!
//! The engine is the one `DOCKER_HOST` names (else the local socket); it
//! must be a swarm manager and have the image. Talking to it is here; the
//! loop that reacts to the coordinator and to task states is in [`run`].

use std::collections::HashMap;

use bollard::models::{Service, Task, TaskState};
use bollard::query_parameters::{
    ListServicesOptionsBuilder, ListTasksOptionsBuilder, UpdateServiceOptionsBuilder,
};
use bollard::Docker;

mod run;
pub mod spec;

pub use run::run;
pub use spec::SwarmSettings;
pub use swarm_core::jobs::provision::{service_name, slot_of};

use super::container::check_agent_settings;
use super::docker::{require_image, status_of, ProvisionError, LABEL_COORDINATOR, LABEL_ROLE};

/// Tries of a replica change that lost a race with another update.
const UPDATE_TRIES: usize = 3;

/// Creates, scales and removes one coordinator's agent services.
pub struct SwarmProvisioner {
    /// The engine client, API version negotiated; a swarm manager.
    docker: Docker,
    /// Checked settings.
    settings: SwarmSettings,
    /// How the engine is named in messages.
    engine: String,
}

/// One of this coordinator's services, as listed.
#[derive(Debug, Clone)]
pub struct AgentService {
    /// Service id.
    pub id: String,
    /// Service name.
    pub name: String,
    /// Its role (label).
    pub role: String,
    /// Replicas asked for.
    pub replicas: u64,
}

/// The task that holds one slot of a service now.
#[derive(Debug, Clone)]
pub struct SlotTask {
    /// Task id.
    pub id: String,
    /// Service name.
    pub service: String,
    /// Slot number.
    pub slot: u64,
    /// Observed state.
    pub state: TaskState,
    /// The engine's error, if any (e.g. `No such image: ...`).
    pub err: Option<String>,
    /// Exit code of its container, once it exited.
    pub exit_code: Option<i64>,
}

impl SwarmProvisioner {
    /// Connects to the engine `DOCKER_HOST` names (else the local socket),
    /// agrees on an API version, checks that it is a swarm manager and that
    /// the image is there.
    pub async fn connect(settings: SwarmSettings) -> Result<Self, ProvisionError> {
        let engine = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|h| !h.trim().is_empty())
            .unwrap_or_else(|| "the default local socket".to_string());
        let settings = validated(settings)?;
        let unreachable = |error| ProvisionError::Unreachable {
            engine: engine.clone(),
            error,
        };
        let docker = Docker::connect_with_defaults().map_err(unreachable)?;
        let docker = docker.negotiate_version().await.map_err(unreachable)?;
        if let Err(error) = docker.inspect_swarm().await {
            return Err(match status_of(&error) {
                Some(503 | 406) => ProvisionError::NotSwarmManager { engine, error },
                _ => ProvisionError::Engine {
                    action: "inspecting the swarm".into(),
                    engine,
                    error,
                },
            });
        }
        require_image(&docker, &settings.image, engine.clone()).await?;
        Ok(SwarmProvisioner {
            docker,
            settings,
            engine,
        })
    }

    /// Adds `more` agents to `role`'s service for `plan`, creating the
    /// service if it is not there; returns its replicas now.
    pub async fn add(&self, plan: &str, role: &str, more: u64) -> Result<u64, ProvisionError> {
        let name = service_name(plan, role);
        for _ in 0..UPDATE_TRIES {
            let current = match self.docker.inspect_service(&name, None).await {
                Ok(s) => s,
                Err(error) if status_of(&error) == Some(404) => {
                    let spec = spec::service_spec(&self.settings, plan, role, more);
                    match self.docker.create_service(spec, None).await {
                        Ok(_) => {
                            tracing::info!(service = %name, %role, replicas = more, image = %self.settings.image, "agent service created");
                            return Ok(more);
                        }
                        // Created meanwhile: scale it instead.
                        Err(error) if status_of(&error) == Some(409) => continue,
                        Err(error) => {
                            return Err(self.failed(format!("creating service `{name}`"), error))
                        }
                    }
                }
                Err(error) => {
                    return Err(self.failed(format!("inspecting service `{name}`"), error))
                }
            };
            let owner = current
                .spec
                .as_ref()
                .and_then(|s| s.labels.as_ref())
                .and_then(|l| l.get(LABEL_COORDINATOR))
                .cloned()
                .unwrap_or_default();
            if owner != self.settings.coordinator_url {
                return Err(ProvisionError::ServiceTaken {
                    name,
                    owner: if owner.is_empty() {
                        "no swarmd (it has no swarm.coordinator label)".into()
                    } else {
                        format!("the coordinator at {owner}")
                    },
                    engine: self.engine.clone(),
                });
            }
            let replicas = replicas_of(&current).saturating_add(more);
            if self.update_replicas(&current, &name, replicas).await? {
                return Ok(replicas);
            }
        }
        Err(self.conflict(&name))
    }

    /// Sets the replicas of service `name` (one of [`services`](Self::services)).
    pub async fn set_replicas(&self, name: &str, replicas: u64) -> Result<(), ProvisionError> {
        for _ in 0..UPDATE_TRIES {
            let current = self
                .docker
                .inspect_service(name, None)
                .await
                .map_err(|e| self.failed(format!("inspecting service `{name}`"), e))?;
            if self.update_replicas(&current, name, replicas).await? {
                return Ok(());
            }
        }
        Err(self.conflict(name))
    }

    /// Writes `replicas` into `current`'s spec; false when another update
    /// came first (the caller reads the service again).
    async fn update_replicas(
        &self,
        current: &Service,
        name: &str,
        replicas: u64,
    ) -> Result<bool, ProvisionError> {
        let version = current
            .version
            .as_ref()
            .and_then(|v| v.index)
            .unwrap_or_default();
        let mut spec = current.spec.clone().unwrap_or_default();
        let mode = spec.mode.get_or_insert_with(Default::default);
        mode.replicated
            .get_or_insert_with(Default::default)
            .replicas = Some(i64::try_from(replicas).unwrap_or(i64::MAX));
        let options = UpdateServiceOptionsBuilder::new()
            .version(i32::try_from(version).unwrap_or(i32::MAX))
            .build();
        match self.docker.update_service(name, spec, options, None).await {
            Ok(_) => {
                tracing::info!(service = %name, replicas, "agent service scaled");
                Ok(true)
            }
            // "update out of sequence": someone updated it since we read it.
            Err(error) if error.to_string().contains("out of sequence") => Ok(false),
            Err(error) => Err(self.failed(
                format!("setting the replicas of service `{name}` to {replicas}"),
                error,
            )),
        }
    }

    /// This coordinator's services.
    pub async fn services(&self) -> Result<Vec<AgentService>, ProvisionError> {
        let filters = HashMap::from([(
            "label",
            vec![format!(
                "{LABEL_COORDINATOR}={}",
                self.settings.coordinator_url
            )],
        )]);
        let options = ListServicesOptionsBuilder::new().filters(&filters).build();
        let listed = self
            .docker
            .list_services(Some(options))
            .await
            .map_err(|e| self.failed("listing agent services".into(), e))?;
        Ok(listed
            .into_iter()
            .filter_map(|s| {
                let spec = s.spec.as_ref()?;
                Some(AgentService {
                    id: s.id.clone()?,
                    name: spec.name.clone()?,
                    role: spec.labels.as_ref()?.get(LABEL_ROLE)?.clone(),
                    replicas: replicas_of(&s),
                })
            })
            .collect())
    }

    /// The task holding each slot of `services`: per slot, the one Swarm
    /// wants running if there is one, else the newest.
    pub async fn slots(&self, services: &[AgentService]) -> Result<Vec<SlotTask>, ProvisionError> {
        if services.is_empty() {
            return Ok(Vec::new());
        }
        let ids: HashMap<String, String> = services
            .iter()
            .map(|s| (s.id.clone(), s.name.clone()))
            .collect();
        let filters = HashMap::from([("service", ids.keys().cloned().collect::<Vec<_>>())]);
        let options = ListTasksOptionsBuilder::new().filters(&filters).build();
        let tasks = self
            .docker
            .list_tasks(Some(options))
            .await
            .map_err(|e| self.failed("listing the agent services' tasks".into(), e))?;
        Ok(current_slots(tasks, &ids))
    }

    /// Removes every service of this coordinator (Swarm stops their
    /// agents: SIGTERM, then [`spec::STOP_GRACE`]); returns how many.
    pub async fn remove_all(&self) -> Result<usize, ProvisionError> {
        let all = self.services().await?;
        for s in &all {
            match self.docker.delete_service(&s.name).await {
                Err(error) if status_of(&error) != Some(404) => {
                    return Err(self.failed(format!("removing service `{}`", s.name), error))
                }
                _ => tracing::info!(service = %s.name, "agent service removed"),
            }
        }
        Ok(all.len())
    }

    fn failed(&self, action: String, error: bollard::errors::Error) -> ProvisionError {
        ProvisionError::Engine {
            action,
            engine: self.engine.clone(),
            error,
        }
    }

    fn conflict(&self, name: &str) -> ProvisionError {
        ProvisionError::InvalidSetting {
            field: "replicas",
            problem: format!(
                "of service `{name}` kept changing under this provisioner ({UPDATE_TRIES} tries); \
                 is something else scaling it?"
            ),
        }
    }
}

/// Per slot, the task that holds it: the one desired running if any,
/// else the newest (highest version).
fn current_slots(tasks: Vec<Task>, services: &HashMap<String, String>) -> Vec<SlotTask> {
    let mut best: HashMap<(String, u64), (bool, u64, SlotTask)> = HashMap::new();
    for t in tasks {
        let (Some(id), Some(slot), Some(service)) = (
            t.id.clone(),
            t.slot.and_then(|s| u64::try_from(s).ok()),
            t.service_id.as_ref().and_then(|s| services.get(s)).cloned(),
        ) else {
            continue;
        };
        let live = matches!(
            t.desired_state,
            Some(TaskState::RUNNING | TaskState::READY | TaskState::ACCEPTED)
        );
        let version = t.version.as_ref().and_then(|v| v.index).unwrap_or(0);
        let status = t.status.unwrap_or_default();
        let task = SlotTask {
            id,
            service: service.clone(),
            slot,
            state: status.state.unwrap_or_default(),
            err: status.err.filter(|e| !e.is_empty()),
            exit_code: status.container_status.and_then(|c| c.exit_code),
        };
        let key = (service, slot);
        let better = best
            .get(&key)
            .is_none_or(|(l, v, _)| (live, version) > (*l, *v));
        if better {
            best.insert(key, (live, version, task));
        }
    }
    let mut out: Vec<SlotTask> = best.into_values().map(|(_, _, t)| t).collect();
    out.sort_by(|a, b| (&a.service, a.slot).cmp(&(&b.service, b.slot)));
    out
}

fn replicas_of(s: &Service) -> u64 {
    s.spec
        .as_ref()
        .and_then(|s| s.mode.as_ref())
        .and_then(|m| m.replicated.as_ref())
        .and_then(|r| r.replicas)
        .and_then(|r| u64::try_from(r).ok())
        .unwrap_or(0)
}

/// Checks the settings once: image, URL, token, network.
fn validated(mut s: SwarmSettings) -> Result<SwarmSettings, ProvisionError> {
    check_agent_settings(
        &mut s.image,
        &mut s.coordinator_url,
        &s.agent_token,
        "the agents can reach, like http://10.0.0.5:7420",
    )?;
    Ok(s)
}

#[cfg(test)]
mod tests;
