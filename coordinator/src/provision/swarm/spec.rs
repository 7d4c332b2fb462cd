//! What a role's swarm service looks like: its name (from the plan and the
//! role), its labels, the agent's command line and environment, restart
//! policy, placement, limits and network. Pure: nothing here talks to an
//! engine, so all of it is unit-tested.
//!
//! Each task of the service is one agent whose id is the service's name and
//! the task's slot (`swarm-PLAN-ROLE.N`): Swarm puts it in the container's
//! `SWARM_AGENT_ID` from the template `{{.Service.Name}}.{{.Task.Slot}}`,
//! and a container that Swarm replaces in the same slot comes back with the
//! same id, so the coordinator's same-id rules (resume, fencing) apply.

use std::collections::HashMap;

use bollard::models::{
    Limit, Mount, MountType, NetworkAttachmentConfig, ServiceSpec, ServiceSpecMode,
    ServiceSpecModeReplicated, TaskSpec, TaskSpecContainerSpec, TaskSpecPlacement,
    TaskSpecResources, TaskSpecRestartPolicy, TaskSpecRestartPolicyConditionEnum,
};

use swarm_core::jobs::provision::service_name;

use crate::daemon::config::Placement;
use crate::provision::container::agent_command;
use crate::provision::docker::{CONTAINER_WORKDIR, LABEL_COORDINATOR, LABEL_PLAN, LABEL_ROLE};

/// The agent id template Swarm expands in each task's environment.
pub const AGENT_ID_TEMPLATE: &str = "{{.Service.Name}}.{{.Task.Slot}}";

/// How long Swarm waits after SIGTERM before it kills an agent whose
/// service is removed or scaled past it (the agent drains meanwhile).
pub const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Delay before Swarm restarts an agent that failed, in its slot.
const RESTART_DELAY: std::time::Duration = std::time::Duration::from_secs(5);

/// How agent services are made; the same for every role but placement.
#[derive(Clone)]
pub struct SwarmSettings {
    /// The agent image (never pulled by this provisioner; it must be on
    /// the nodes, or in a registry they can reach).
    pub image: String,
    /// The coordinator URL as the agents reach it.
    pub coordinator_url: String,
    /// The agent token (in the service's environment; never in a label
    /// or a log line).
    pub agent_token: String,
    /// Network the services attach to; `None`: host networking.
    pub network: Option<String>,
    /// Extra `swarm-agent` flags.
    pub extra_args: Vec<String>,
    /// Extra `NAME=value` variables of the agents' environment.
    pub extra_env: Vec<String>,
    /// TLS files, bind-mounted read-only from the node (they must exist
    /// at the same path on every node the agents may run on).
    pub tls: swarm_client::TlsFiles,
    /// By role: constraints and limits.
    pub placement: std::collections::BTreeMap<String, Placement>,
}

impl std::fmt::Debug for SwarmSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwarmSettings")
            .field("image", &self.image)
            .field("coordinator_url", &self.coordinator_url)
            .field("agent_token", &"<redacted>")
            .field("network", &self.network)
            .field("extra_args", &self.extra_args)
            .field("extra_env", &self.extra_env)
            .field("placement", &self.placement)
            .finish()
    }
}

/// The labels of a role's service and of its containers.
pub fn labels(s: &SwarmSettings, plan: &str, role: &str) -> HashMap<String, String> {
    HashMap::from([
        (LABEL_COORDINATOR.to_string(), s.coordinator_url.clone()),
        (LABEL_ROLE.to_string(), role.to_string()),
        (LABEL_PLAN.to_string(), plan.to_string()),
    ])
}

/// The whole spec of `role`'s service with `replicas` agents.
pub fn service_spec(s: &SwarmSettings, plan: &str, role: &str, replicas: u64) -> ServiceSpec {
    let name = service_name(plan, role);
    let (args, tls) = agent_command(&s.coordinator_url, role, None, &s.extra_args, &s.tls);
    let mounts: Vec<Mount> = tls
        .into_iter()
        .map(|m| Mount {
            source: Some(m.host),
            target: Some(m.inside),
            typ: Some(MountType::BIND),
            read_only: Some(true),
            ..Mount::default()
        })
        .collect();
    let placement = s.placement.get(role).cloned().unwrap_or_default();
    let limits = (placement.cpus.is_some() || placement.memory_bytes.is_some()).then(|| Limit {
        nano_cpus: placement.cpus.map(|c| (c * 1e9).round() as i64),
        memory_bytes: placement
            .memory_bytes
            .map(|m| i64::try_from(m).unwrap_or(i64::MAX)),
        pids: None,
    });
    let labels = labels(s, plan, role);
    ServiceSpec {
        name: Some(name),
        labels: Some(labels.clone()),
        mode: Some(ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated {
                replicas: Some(i64::try_from(replicas).unwrap_or(i64::MAX)),
            }),
            ..ServiceSpecMode::default()
        }),
        task_template: Some(TaskSpec {
            container_spec: Some(TaskSpecContainerSpec {
                image: Some(s.image.clone()),
                labels: Some(labels),
                args: Some(args),
                env: Some(
                    [
                        format!("SWARM_AGENT_ID={AGENT_ID_TEMPLATE}"),
                        format!("SWARM_TOKEN={}", s.agent_token.trim()),
                    ]
                    .into_iter()
                    .chain(s.extra_env.iter().cloned())
                    .collect(),
                ),
                dir: Some(CONTAINER_WORKDIR.to_string()),
                mounts: (!mounts.is_empty()).then_some(mounts),
                // A small init as PID 1 forwards SIGTERM to the agent and
                // reaps whatever its tasks leave behind.
                init: Some(true),
                stop_grace_period: Some(STOP_GRACE.as_nanos() as i64),
                ..TaskSpecContainerSpec::default()
            }),
            // A drained agent exits 0 and stays down (its slot is then
            // removed by lowering the replicas); one that crashed comes back
            // in its slot, with its id.
            restart_policy: Some(TaskSpecRestartPolicy {
                condition: Some(TaskSpecRestartPolicyConditionEnum::ON_FAILURE),
                delay: Some(RESTART_DELAY.as_nanos() as i64),
                max_attempts: Some(0),
                window: None,
            }),
            placement: (!placement.constraints.is_empty()).then(|| TaskSpecPlacement {
                constraints: Some(placement.constraints.clone()),
                ..TaskSpecPlacement::default()
            }),
            resources: limits.map(|l| TaskSpecResources {
                limits: Some(l),
                ..TaskSpecResources::default()
            }),
            networks: Some(vec![NetworkAttachmentConfig {
                target: Some(s.network.clone().unwrap_or_else(|| "host".to_string())),
                ..NetworkAttachmentConfig::default()
            }]),
            ..TaskSpec::default()
        }),
        ..ServiceSpec::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarm_core::jobs::provision::slot_of;

    fn settings() -> SwarmSettings {
        SwarmSettings {
            image: "swarm-agent:dev".into(),
            coordinator_url: "http://127.0.0.1:7420".into(),
            agent_token: "s3cret".into(),
            network: None,
            extra_args: vec!["--orphan-timeout".into(), "60".into()],
            extra_env: vec![],
            tls: swarm_client::TlsFiles::default(),
            placement: Default::default(),
        }
    }

    #[test]
    fn names_are_dns_labels_and_slots_map_back_to_them() {
        assert_eq!(
            service_name("Release Rehearsal (v2)", "sre"),
            "swarm-release-rehearsal-v2-sre"
        );
        assert_eq!(
            service_name("", "data-engineer"),
            "swarm-plan-data-engineer"
        );
        let long = service_name(&"x".repeat(300), &"y".repeat(300));
        assert!(long.len() <= 63, "{long}");
        assert_eq!(slot_of("swarm-demo-sre.3", "Demo", "sre"), Some(3));
        assert_eq!(slot_of("swarm-demo-sre.0", "Demo", "sre"), None);
        assert_eq!(slot_of("swarm-demo-sre.x", "Demo", "sre"), None);
        assert_eq!(slot_of("swarm-demo-sre-3", "Demo", "sre"), None);
        assert_eq!(slot_of("swarm-demo-performance.1", "Demo", "sre"), None);
    }

    #[test]
    fn the_spec_carries_role_id_template_labels_placement_and_limits() {
        let mut s = settings();
        s.placement.insert(
            "sre".into(),
            Placement {
                constraints: vec!["node.role==worker".into()],
                cpus: Some(0.5),
                memory_bytes: Some(256 << 20),
            },
        );
        let spec = service_spec(&s, "Demo", "sre", 3);
        assert_eq!(spec.name.as_deref(), Some("swarm-demo-sre"));
        let replicas = spec.mode.as_ref().and_then(|m| m.replicated.as_ref());
        assert_eq!(replicas.and_then(|r| r.replicas), Some(3));
        let labels = spec.labels.clone().unwrap_or_default();
        assert_eq!(labels[LABEL_ROLE], "sre");
        assert_eq!(labels[LABEL_PLAN], "Demo");
        assert_eq!(labels[LABEL_COORDINATOR], "http://127.0.0.1:7420");
        assert!(!format!("{labels:?}").contains("s3cret"));
        let task = spec.task_template.expect("task");
        let c = task.container_spec.expect("container");
        let env = c.env.unwrap_or_default();
        assert!(env.contains(&format!("SWARM_AGENT_ID={AGENT_ID_TEMPLATE}")));
        let args = c.args.unwrap_or_default().join(" ");
        assert!(args.contains("--role sre"), "{args}");
        assert!(args.contains("--orphan-timeout 60"), "{args}");
        assert!(!args.contains("s3cret"), "{args}");
        assert_eq!(
            task.placement.and_then(|p| p.constraints),
            Some(vec!["node.role==worker".to_string()])
        );
        let limits = task.resources.and_then(|r| r.limits).expect("limits");
        assert_eq!(limits.nano_cpus, Some(500_000_000));
        assert_eq!(limits.memory_bytes, Some(256 << 20));
        let nets = task.networks.unwrap_or_default();
        assert_eq!(nets[0].target.as_deref(), Some("host"));
        // Another role has no placement of its own.
        let other = service_spec(&s, "Demo", "performance", 2)
            .task_template
            .expect("task");
        assert!(other.placement.is_none() && other.resources.is_none());
        assert!(!format!("{s:?}").contains("s3cret"));
    }
}
