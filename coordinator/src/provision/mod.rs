//! Provisioners: how a role's pool of agents grows and shrinks.
//!
//! The scheduler loop decides (at checkpoints) and sends [`ProvisionCmd`]s
//! after its commit; the provisioner task carries them out:
//!
//! - `none`: nothing is started; the shortfall is reported;
//! - `process`: local `swarm-agent` processes, next to `swarmd`;
//! - `docker`: agent containers on the local engine or the one
//!   `DOCKER_HOST` names (see [`docker`]);
//! - `swarm`: one Docker Swarm service per role, its replicas the agents
//!   wanted (see [`swarm`]).
//!
//! Shrinking is draining: the loop tells a surplus agent to drain over its
//! session; it finishes its work and exits, and the provisioner reaps the
//! process or container (or, for swarm, lowers the service's replicas).

mod container;
pub mod docker;
pub(crate) mod launch;
mod process;
pub mod swarm;

use swarm_core::jobs::ProvisionCmd;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::workers::next;

pub use process::ProcessProvisioner;

/// Where provisioned agents connect and with which token.
#[derive(Debug, Clone)]
pub struct Target {
    /// Coordinator URL as the agents see it.
    pub url: String,
    /// The agent token they present (in their environment, never on a
    /// command line).
    pub token: String,
    /// Working directory of process agents.
    pub workdir: std::path::PathBuf,
    /// Plan label (docker).
    pub plan: String,
    /// How long a process agent may go without reaching its coordinator
    /// before it exits (its `--orphan-timeout`).
    pub orphan_timeout: std::time::Duration,
    /// The CA, certificate and key provisioned agents present to a TLS
    /// coordinator (`agent_ca`, `agent_cert`, `agent_key`).
    pub tls: swarm_client::TlsFiles,
    /// By role: swarm placement constraints and limits.
    pub placement: std::collections::BTreeMap<String, crate::daemon::config::Placement>,
    /// Network of swarm agent services; `None`: host networking.
    pub swarm_network: Option<String>,
    /// `[sandbox]`: how provisioned agents sandbox their tasks.
    pub sandbox: crate::daemon::config::AgentSandbox,
    /// Where provisioned agents export their own spans: swarmd's endpoint.
    pub otlp_endpoint: Option<String>,
}

/// Tells the scheduler that an agent it asked for could not start.
pub(crate) fn failed(core: &swarm_core::CoreHandle, agent_id: &str, reason: String) {
    tracing::error!("cannot start agent {agent_id}: {reason}");
    core.tell(swarm_core::Command::ProvisionFailed {
        agent_id: agent_id.to_string(),
        reason,
    });
}

/// Runs provisioning commands until the channel closes (the core
/// stopped) or `cancel` fires, then stops every agent it started (so the
/// registry waits for it). Starts that fail are told to the scheduler (`core`),
/// which reports them and backs off.
pub async fn run(
    kind: crate::daemon::config::ProvisionerKind,
    target: Target,
    docker_image: String,
    mut cmds: mpsc::UnboundedReceiver<ProvisionCmd>,
    core: swarm_core::CoreHandle,
    cancel: CancellationToken,
) {
    use crate::daemon::config::ProvisionerKind;
    match kind {
        ProvisionerKind::None => while next(&mut cmds, &cancel).await.is_some() {},
        ProvisionerKind::Process => {
            let mut p = ProcessProvisioner::new(target);
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
            loop {
                tokio::select! {
                    cmd = next(&mut cmds, &cancel) => match cmd {
                        Some(ProvisionCmd::Start { role, agent_id, .. }) => {
                            if let Err(e) = p.start(&role, &agent_id) {
                                failed(&core, &agent_id, format!("the process provisioner could not start it ({role}): {e}"));
                            }
                        }
                        None => break,
                    },
                    _ = tick.tick() => {
                        // An agent that exits before it registers did not
                        // start (the scheduler ignores those that had).
                        for (id, status) in p.reap() {
                            failed(&core, &id, format!("the agent process exited ({status})"));
                        }
                    }
                }
            }
            p.stop_all().await;
        }
        ProvisionerKind::Docker => docker_loop(target, docker_image, cmds, core, cancel).await,
        ProvisionerKind::Swarm => {
            let settings = swarm::SwarmSettings {
                image: docker_image,
                coordinator_url: target.url.clone(),
                agent_token: target.token.clone(),
                network: target.swarm_network.clone(),
                extra_args: container_agent_args(&target),
                extra_env: container_agent_env(&target, |v| std::env::var(v).ok()),
                tls: target.tls.clone(),
                placement: target.placement.clone(),
            };
            swarm::run(settings, cmds, core, cancel).await;
        }
    }
}

/// What every containerised agent's command line adds: it stops by
/// itself once its coordinator went away, sandboxes its tasks as
/// `[sandbox]` says, and exports its spans where swarmd does.
fn container_agent_args(target: &Target) -> Vec<String> {
    let mut args = vec![
        "--orphan-timeout".to_string(),
        target.orphan_timeout.as_secs().max(1).to_string(),
    ];
    args.extend(target.sandbox.args());
    if let Some(url) = &target.otlp_endpoint {
        args.extend(["--otlp-endpoint".to_string(), url.clone()]);
    }
    args
}

/// The exporter variables a containerised agent needs to send its spans
/// the way swarmd sends its own (a process agent inherits them): the
/// protocol and timeout swarmd was given (`get` reads its environment).
/// TLS files are not passed: an https:// collector must be trusted by
/// the image's system CAs.
fn container_agent_env(target: &Target, get: impl Fn(&str) -> Option<String>) -> Vec<String> {
    const PASSED: [&str; 4] = [
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    ];
    if target.otlp_endpoint.is_none() {
        return Vec::new();
    }
    PASSED
        .iter()
        .filter_map(|var| {
            let value = get(var).filter(|v| !v.trim().is_empty())?;
            Some(format!("{var}={}", value.trim()))
        })
        .collect()
}

async fn docker_loop(
    target: Target,
    image: String,
    mut cmds: mpsc::UnboundedReceiver<ProvisionCmd>,
    core: swarm_core::CoreHandle,
    cancel: CancellationToken,
) {
    let mut settings = docker::DockerSettings::new(target.url.clone(), target.token.clone());
    settings.image = image;
    settings.plan = target.plan.clone();
    settings.tls = target.tls.clone();
    // Containers of a coordinator that went away stop by themselves.
    settings.extra_args.extend(container_agent_args(&target));
    settings.extra_env = container_agent_env(&target, |v| std::env::var(v).ok());
    let (provisioner, unavailable) = match docker::DockerProvisioner::connect(settings).await {
        Ok(p) => (Some(p), String::new()),
        Err(e) => {
            tracing::error!("the docker provisioner is unavailable: {e}");
            (None, e.to_string())
        }
    };
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        tokio::select! {
            cmd = next(&mut cmds, &cancel) => match (cmd, provisioner.as_ref()) {
                (Some(ProvisionCmd::Start { role, agent_id, .. }), Some(p)) => {
                    match p.start_agent(&role, &agent_id).await {
                        Ok(id) => tracing::info!("started agent {agent_id} ({role}) as container {}", &id[..id.len().min(12)]),
                        Err(e) => failed(&core, &agent_id, format!("the docker provisioner could not start it ({role}): {e}")),
                    }
                }
                (Some(ProvisionCmd::Start { agent_id, .. }), None) => {
                    failed(&core, &agent_id, format!("the docker provisioner is unavailable: {unavailable}"));
                }
                (None, _) => break,
            },
            _ = tick.tick() => {
                if let Some(p) = provisioner.as_ref() {
                    if let Ok(gone) = p.reap().await {
                        for id in gone {
                            tracing::info!("removed the exited container of agent {id}");
                        }
                    }
                }
            }
        }
    }
    if let Some(p) = provisioner {
        match p.remove_all().await {
            Ok(n) if n > 0 => {
                tracing::info!("removed {}", swarm_text::count(n as u64, "agent container"))
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("cannot remove the agent containers: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A provisioning target with the defaults.
    fn target() -> Target {
        Target {
            url: "http://10.0.0.1:7420".into(),
            token: "t".into(),
            workdir: ".".into(),
            plan: "swarm".into(),
            orphan_timeout: std::time::Duration::from_secs(60),
            tls: swarm_client::TlsFiles::default(),
            placement: Default::default(),
            swarm_network: None,
            sandbox: Default::default(),
            otlp_endpoint: None,
        }
    }

    #[test]
    fn container_agents_get_the_sandbox_on_their_command_line() {
        let mut target = target();
        target.sandbox.mode = swarm_roles::sandbox::Mode::Off;
        assert!(container_agent_env(&target, |_| Some("grpc".into())).is_empty());
        let extra = container_agent_args(&target);
        let tls = swarm_client::TlsFiles::default();
        let (args, _) = container::agent_command(&target.url, "sre", Some("a-1"), &extra, &tls);
        let line = args.join(" ");
        assert!(
            line.ends_with(
                "--orphan-timeout 60 --sandbox off --sandbox-filesystem host --sandbox-network host"
            ),
            "{line}"
        );
    }

    #[test]
    fn container_agents_export_where_swarmd_does_with_its_protocol() {
        let mut target = target();
        target.otlp_endpoint = Some("http://collector:4317".into());
        let line = container_agent_args(&target).join(" ");
        assert!(
            line.ends_with("--otlp-endpoint http://collector:4317"),
            "{line}"
        );
        let env = container_agent_env(&target, |v| {
            (v == "OTEL_EXPORTER_OTLP_PROTOCOL").then(|| " grpc ".to_string())
        });
        assert_eq!(env, ["OTEL_EXPORTER_OTLP_PROTOCOL=grpc"]);
        let spec = swarm::spec::service_spec(
            &swarm::SwarmSettings {
                image: "swarm-agent:dev".into(),
                coordinator_url: target.url.clone(),
                agent_token: "t".into(),
                network: None,
                extra_args: container_agent_args(&target),
                extra_env: env,
                tls: swarm_client::TlsFiles::default(),
                placement: Default::default(),
            },
            "p",
            "sre",
            1,
        );
        let container = spec
            .task_template
            .and_then(|t| t.container_spec)
            .expect("a container spec");
        let args = container.args.unwrap_or_default().join(" ");
        assert!(
            args.contains("--otlp-endpoint http://collector:4317"),
            "{args}"
        );
        let env = container.env.unwrap_or_default();
        assert!(
            env.iter().any(|e| e == "OTEL_EXPORTER_OTLP_PROTOCOL=grpc"),
            "{env:?}"
        );
    }
}
