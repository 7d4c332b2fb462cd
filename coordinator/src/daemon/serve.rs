//! Serving: the three swarmd services plus gRPC health and reflection on
//! one listener, until a shutdown future resolves or the scheduler stops
//! by itself; in named phases — settings, binding, starting the core,
//! starting the workers, serving, shutting down — every background task
//! and thread started through the task registry ([`Tasks`]), which stops
//! them all in one call.

use std::future::Future;

use swarm_proto::v1 as pb;
use tokio::net::TcpListener;

use crate::daemon::config::Config;
use crate::daemon::tasks::{OnCancel, Tasks};
use crate::edge::auth::Tokens;
use crate::edge::grpc::{AgentSvc, ControlSvc, MemorySvc};
use swarm_core::Command;

/// Largest message the server accepts.
const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Room in a memory write for what travels beside its value (namespace,
/// key, tags), so a value over `max_value_bytes` reaches the check that
/// names that limit rather than the message limit.
const MEMORY_MESSAGE_SLACK: usize = 64 * 1024;

/// Largest memory request accepted: a value of `max_value_bytes`, an
/// expected value (compare-and-swap) as large, and what travels beside
/// them; never less than [`MAX_MESSAGE_BYTES`].
fn max_memory_message(max_value_bytes: usize) -> usize {
    max_value_bytes
        .saturating_mul(2)
        .saturating_add(MEMORY_MESSAGE_SLACK)
        .max(MAX_MESSAGE_BYTES)
}

pub use super::serve_error::ServeError;

/// What `serve` takes from the configuration, read once.
struct Settings {
    addr: std::net::SocketAddr,
    provisioning: crate::provision::Target,
    kind: crate::daemon::config::ProvisionerKind,
    image: String,
    backups: Option<crate::workers::backups::Periodic>,
    http_listen: crate::edge::http::HttpListen,
    tls: Option<crate::edge::tls::ServerTls>,
    shutdown_timeout: std::time::Duration,
    state_dir: std::path::PathBuf,
    roles: swarm_core::roles::RolesSource,
    max_plan_bytes: u64,
    /// Largest memory value (`max_value_bytes`).
    max_value_bytes: usize,
}

/// The core, started: its handle, and how serving learns that its loop
/// ended by itself.
struct Core {
    handle: swarm_core::CoreHandle,
    ended: tokio::sync::watch::Receiver<Option<swarm_core::LoopEnd>>,
}

/// Runs the daemon on `listener` until `shutdown` resolves (or the
/// scheduler stops by itself, when the store fails), then stops the
/// scheduler after its current turn and everything else within
/// `shutdown_timeout`.
///
/// # Errors
/// When a part cannot start, the server fails, or the store failed.
pub async fn serve(
    listener: TcpListener,
    cfg: Config,
    tokens: Tokens,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let settings = settings(&cfg, &listener, &tokens)?;
    // Checked before anything is opened: a bad protocol changes nothing.
    let traces = crate::workers::traces::export::configured(cfg.otlp_endpoint.as_deref())?;
    let poster = crate::workers::notify::poster(&cfg.notify)?;
    let http = crate::edge::http::bind(settings.http_listen)
        .await
        .map_err(ServeError::Http)?;
    let tasks = Tasks::new();
    let (core, receivers) = start_core(&cfg, &tokens, &tasks)?;
    let memory = start_workers(&settings, &cfg, &core.handle, receivers, &tasks)?;
    if let Some(exporter) = traces {
        let c = core.handle.clone();
        tasks.spawn("trace export", OnCancel::Wait, |t| {
            crate::workers::traces::run(c, exporter, t)
        });
    }
    if !cfg.notify.is_empty() {
        let web = crate::workers::notify::web_view(http.as_ref(), settings.tls.is_some());
        let (c, entries) = (core.handle.clone(), cfg.notify.clone());
        tasks.spawn("notify", OnCancel::Wait, |t| {
            crate::workers::notify::run(c, entries, poster, web, t)
        });
    }
    if let Some(l) = http {
        let (core, tokens) = (core.handle.clone(), tokens.clone());
        let web = crate::edge::http::HttpSettings {
            tls: settings.tls.clone(),
            roles: settings.roles.clone(),
            max_plan_bytes: settings.max_plan_bytes,
        };
        let paths = (cfg.core.memory_path(), cfg.core.state_dir());
        let http_tasks = tasks.clone();
        tasks.spawn("http", OnCancel::Abort, |_| async move {
            let pending = std::future::pending();
            crate::edge::http::serve(l, core, tokens, paths, web, http_tasks, pending).await;
        });
    }
    let ended = core.ended.clone();
    let deadline = serving(listener, &settings, &core, memory, tokens, &tasks, shutdown).await;
    shut_down(&core.handle, &tasks, deadline.0).await;
    let store_failed = match &*ended.borrow() {
        Some(swarm_core::LoopEnd::StoreFailed(why)) => Some(why.clone()),
        Some(swarm_core::LoopEnd::Stopped) | None => None,
    };
    tracing::info!("swarmd stopped");
    match (store_failed, deadline.1) {
        (Some(why), _) => Err(ServeError::Store(why)),
        (None, result) => result,
    }
}

/// Phase one: what the rest needs from the configuration.
fn settings(cfg: &Config, listener: &TcpListener, tokens: &Tokens) -> Result<Settings, ServeError> {
    let addr = listener.local_addr().map_err(ServeError::Address)?;
    let url = cfg.advertise_url.clone().unwrap_or_else(|| {
        let host = if addr.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            addr.ip().to_string()
        };
        let scheme = if cfg.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{host}:{}", addr.port())
    });
    Ok(Settings {
        addr,
        provisioning: crate::provision::Target {
            url,
            token: tokens.agent_token().to_string(),
            workdir: cfg.core.workdir.clone(),
            plan: "swarm".into(),
            orphan_timeout: cfg.orphan_timeout,
            tls: cfg.agent_tls.clone(),
            placement: cfg.placement.clone(),
            swarm_network: cfg.swarm_network.clone(),
            sandbox: cfg.sandbox.clone(),
            otlp_endpoint: cfg.otlp_endpoint.clone(),
        },
        kind: cfg.core.provisioner,
        image: cfg.docker_image.clone(),
        backups: cfg.backups.clone(),
        http_listen: cfg.http,
        tls: cfg.tls.clone(),
        shutdown_timeout: cfg.shutdown_timeout,
        state_dir: cfg.core.state_dir(),
        roles: swarm_core::roles::RolesSource::of(&cfg.core),
        max_plan_bytes: cfg.core.max_plan_bytes,
        max_value_bytes: cfg.max_value_bytes,
    })
}

/// Phase three: the store opened, the state recovered, the loop on its
/// thread ("scheduler"; it stops on `Command::Shutdown`, not on its token).
fn start_core(
    cfg: &Config,
    tokens: &Tokens,
    tasks: &Tasks,
) -> Result<(Core, swarm_core::Receivers), ServeError> {
    let (handle, lp, receivers) = swarm_core::start(cfg.core.clone(), tokens.grants())?;
    let (ended_tx, ended) = tokio::sync::watch::channel(None);
    tasks
        .spawn_thread("scheduler", move |_| {
            let end = lp.run();
            ended_tx.send_replace(Some(end));
        })
        .map_err(|e| ServeError::Thread("scheduler", e))?;
    Ok((Core { handle, ended }, receivers))
}

/// Phase four: the workers, each on its receiver, with a handle to the
/// core and its token; returns the shared memory's handle.
fn start_workers(
    s: &Settings,
    cfg: &Config,
    core: &swarm_core::CoreHandle,
    r: swarm_core::Receivers,
    tasks: &Tasks,
) -> Result<crate::workers::memory::MemoryHandle, ServeError> {
    use crate::workers::{backups, gates, guides, memory, merge, report, results};
    let settings = memory::Settings {
        memory_db: cfg.core.memory_path(),
        state_db: cfg.core.state_db_path(),
        max_value_bytes: cfg.max_value_bytes,
        retention: cfg.memory_journal,
    };
    let memory = memory::start(settings, core.clone(), tasks)?;
    let c = core.clone();
    tasks.spawn("reporter", OnCancel::Wait, |t| report::run(r.jobs, c, t));
    let c = core.clone();
    tasks.spawn("gate checker", OnCancel::Wait, |t| {
        gates::run(r.gates, c, t)
    });
    let c = core.clone();
    tasks.spawn("guide search", OnCancel::Wait, |t| {
        guides::run(r.guides, c, t)
    });
    let (c, dir) = (core.clone(), s.state_dir.clone());
    tasks.spawn("merge queue", OnCancel::Wait, |t| {
        merge::run(r.merges, c, dir, t)
    });
    let m = memory.clone();
    tasks.spawn("result copier", OnCancel::Wait, |t| {
        results::run(r.results, m, t)
    });
    if let Some(b) = s.backups.clone() {
        let dir = s.state_dir.clone();
        tasks.spawn("backups", OnCancel::Wait, |t| backups::run(b, dir, t));
    }
    let (kind, target, image, c) = (
        s.kind,
        s.provisioning.clone(),
        s.image.clone(),
        core.clone(),
    );
    tasks.spawn("provisioner", OnCancel::Wait, |t| {
        crate::provision::run(kind, target, image, r.provision, c, t)
    });
    Ok(memory)
}

/// The gRPC server with its services: agents, control, memory, health
/// and reflection.
async fn router(
    s: &Settings,
    core: &swarm_core::CoreHandle,
    memory: crate::workers::memory::MemoryHandle,
    tokens: Tokens,
    tasks: &Tasks,
) -> Result<tonic::transport::server::Router, ServeError> {
    let mut server = match &s.tls {
        Some(tls) => tls.builder()?,
        None => tonic::transport::Server::builder(),
    };
    // No HTTP/2 keepalive: its timer wakes every connection's task each
    // interval (ten thousand idle agents: a thousand wakes a second) only
    // to find the agent's heartbeats arrived meanwhile. The kernel's TCP
    // keepalive (`daemon::incoming`) drops a silent connection instead, at no
    // cost to the process; leases decide what happens to its work.
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_serving::<pb::agent_service_server::AgentServiceServer<AgentSvc>>()
        .await;
    reporter
        .set_serving::<pb::control_service_server::ControlServiceServer<ControlSvc>>()
        .await;
    reporter
        .set_serving::<pb::memory_service_server::MemoryServiceServer<MemorySvc>>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(swarm_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let agent = pb::agent_service_server::AgentServiceServer::new(AgentSvc::new(
        core.clone(),
        tokens.clone(),
        tasks.clone(),
    ))
    .max_decoding_message_size(MAX_MESSAGE_BYTES);
    let control = pb::control_service_server::ControlServiceServer::new(
        ControlSvc::new(
            core.clone(),
            tokens.clone(),
            s.state_dir.clone(),
            tasks.clone(),
        )
        .with_roles(s.roles.clone())
        .with_max_plan_bytes(s.max_plan_bytes),
    )
    .max_decoding_message_size(16 * 1024 * 1024);
    let memory =
        pb::memory_service_server::MemoryServiceServer::new(MemorySvc::new(memory, tokens))
            .max_decoding_message_size(max_memory_message(s.max_value_bytes));
    Ok(server
        .add_service(health)
        .add_service(reflection)
        .add_service(agent)
        .add_service(control)
        .add_service(memory))
}

/// Phase five: serves until `shutdown` resolves or the scheduler ends by
/// itself. On either, the scheduler stops at once: it dispatches nothing
/// more, tells every agent it is going away and closes their sessions and
/// the follow streams, so the server's graceful stop has nothing left to
/// wait for. Returns the shutdown deadline (`shutdown_timeout` from then)
/// and how serving ended.
async fn serving(
    listener: TcpListener,
    s: &Settings,
    core: &Core,
    memory: crate::workers::memory::MemoryHandle,
    tokens: Tokens,
    tasks: &Tasks,
    shutdown: impl Future<Output = ()> + Send,
) -> (tokio::time::Instant, Result<(), ServeError>) {
    let router = match router(s, &core.handle, memory, tokens, tasks).await {
        Ok(r) => r,
        Err(e) => return (tokio::time::Instant::now() + s.shutdown_timeout, Err(e)),
    };
    let addr = s.addr;
    match s.tls.as_ref().map(|t| t.client_ca.is_some()) {
        None => tracing::info!("swarmd listening on {addr} (plaintext)"),
        Some(false) => tracing::info!("swarmd listening on {addr} (TLS)"),
        Some(true) => {
            tracing::info!("swarmd listening on {addr} (TLS, client certificates required)")
        }
    }
    let (began_tx, mut began_rx) = tokio::sync::oneshot::channel();
    let (stopper, mut ended) = (core.handle.clone(), core.ended.clone());
    let graceful = async move {
        tokio::select! {
            () = shutdown => {}
            _ = ended.wait_for(Option::is_some) => {}
        }
        let _ = began_tx.send(tokio::time::Instant::now());
        stopper.tell(Command::Shutdown);
    };
    let incoming = super::incoming::accepted(listener);
    let mut serving = Box::pin(router.serve_with_incoming_shutdown(incoming, graceful));
    let mut deadline = None;
    let timeout = s.shutdown_timeout;
    let result = loop {
        tokio::select! {
            r = &mut serving => break r.map_err(ServeError::from),
            Ok(at) = &mut began_rx, if deadline.is_none() => deadline = Some(at + timeout),
            () = sleep_until_opt(deadline) => {
                tracing::warn!(
                    "connections did not close within {} ms; stopping anyway",
                    timeout.as_millis()
                );
                break Ok(());
            }
        }
    };
    let deadline = deadline.unwrap_or_else(|| tokio::time::Instant::now() + timeout);
    (deadline, result)
}

/// Phase six: the scheduler told to stop (when the server ended on its
/// own), then every registered task and thread cancelled and waited for
/// until the deadline; whatever held it up is logged by name.
async fn shut_down(core: &swarm_core::CoreHandle, tasks: &Tasks, deadline: tokio::time::Instant) {
    core.tell(Command::Shutdown);
    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
    tasks.shutdown(left).await;
}

/// Sleeps until `at`, or for ever when there is no deadline yet.
async fn sleep_until_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
