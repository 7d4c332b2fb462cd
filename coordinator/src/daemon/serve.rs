//! Serving: the three swarmd services plus gRPC health and reflection on
//! one listener, until a shutdown future resolves.

use std::future::Future;

use swarm_proto::v1 as pb;
use tokio::net::TcpListener;

use crate::daemon::config::Config;
use crate::edge::auth::Tokens;
use crate::edge::grpc::{AgentSvc, ControlSvc, MemorySvc};
use swarm_core::Command;

/// Largest message the server accepts.
const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Why the daemon could not serve.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The listener has no local address.
    #[error("cannot read the listener's address: {0}")]
    Address(#[source] std::io::Error),
    /// The scheduler could not start (store, recovery, thread).
    #[error(transparent)]
    Core(#[from] swarm_core::CoreError),
    /// The reflection service could not be built.
    #[error("cannot build the gRPC reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The TLS files cannot be used.
    #[error(transparent)]
    Tls(#[from] crate::edge::tls::TlsError),
    /// The HTTP listener could not be bound.
    #[error("{0}")]
    Http(std::io::Error),
    /// The gRPC server failed.
    #[error("the gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Runs the daemon on `listener` until `shutdown` resolves, then stops the
/// scheduler after its current turn.
pub async fn serve(
    listener: TcpListener,
    cfg: Config,
    tokens: Tokens,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
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
    let provisioning = crate::provision::Target {
        url,
        token: tokens.agent_token().to_string(),
        workdir: cfg.core.workdir.clone(),
        plan: "swarm".into(),
        orphan_timeout: cfg.orphan_timeout,
        tls: cfg.agent_tls.clone(),
        placement: cfg.placement.clone(),
        swarm_network: cfg.swarm_network.clone(),
    };
    let (backups, backup_state) = (cfg.backups.clone(), cfg.core.state_dir());
    let roles_source = swarm_core::roles::RolesSource::of(&cfg.core);
    let (http_listen, http_paths) = (cfg.http, (cfg.core.memory_path(), cfg.core.state_dir()));
    let http_tls = cfg.tls.clone();
    let tls_mode = cfg.tls.as_ref().map(|t| t.client_ca.is_some());
    let server = match &cfg.tls {
        Some(tls) => tls.builder()?,
        None => tonic::transport::Server::builder(),
    };
    // Dead connections (an agent's host gone without a FIN) are dropped
    // in seconds; leases decide what happens to their work.
    let mut server = server
        .http2_keepalive_interval(Some(swarm_client::connect::KEEPALIVE_EVERY))
        .http2_keepalive_timeout(Some(swarm_client::connect::KEEPALIVE_TIMEOUT))
        .tcp_keepalive(Some(swarm_client::connect::KEEPALIVE_EVERY));
    let (kind, image) = (cfg.core.provisioner, cfg.docker_image.clone());
    let lease_ttl = cfg.core.lease_ttl;
    let shutdown_timeout = cfg.shutdown_timeout;
    let state_dir = cfg.core.state_dir();
    let max_plan_bytes = cfg.core.max_plan_bytes;
    let memory_settings = crate::workers::memory::Settings {
        memory_db: cfg.core.memory_path(),
        state_db: cfg.core.state_db_path(),
        max_value_bytes: cfg.max_value_bytes,
        retention: cfg.memory_journal,
    };
    let (core, thread, receivers) = swarm_core::start(cfg.core.clone(), tokens.grants())?;
    let (memory_handle, memory_thread) =
        crate::workers::memory::start(memory_settings, core.clone())?;
    let backup_task = backups.map(|b| tokio::spawn(crate::workers::backups::run(b, backup_state)));
    let http_listener = crate::edge::http::bind(http_listen)
        .await
        .map_err(ServeError::Http)?;
    let http_task = http_listener.map(|l| {
        tokio::spawn(crate::edge::http::serve(
            l,
            core.clone(),
            tokens.clone(),
            http_paths,
            http_tls,
            std::future::pending(),
        ))
    });
    let report_task = tokio::spawn(crate::workers::report::run(receivers.jobs, core.clone()));
    let gate_task = tokio::spawn(crate::workers::gates::run(receivers.gates, core.clone()));
    let guide_task = tokio::spawn(crate::workers::guides::run(receivers.guides, core.clone()));
    let results_task = tokio::spawn(crate::workers::results::run(
        receivers.results,
        memory_handle.clone(),
    ));
    let provisioner = tokio::spawn(crate::provision::run(
        kind,
        provisioning,
        image,
        receivers.provision,
        core.clone(),
    ));
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
        lease_ttl,
    ))
    .max_decoding_message_size(MAX_MESSAGE_BYTES);
    let control = pb::control_service_server::ControlServiceServer::new(
        ControlSvc::new(core.clone(), tokens.clone(), state_dir)
            .with_roles(roles_source)
            .with_max_plan_bytes(max_plan_bytes),
    )
    .max_decoding_message_size(16 * 1024 * 1024);
    let memory =
        pb::memory_service_server::MemoryServiceServer::new(MemorySvc::new(memory_handle, tokens))
            .max_decoding_message_size(MAX_MESSAGE_BYTES);
    match &tls_mode {
        None => tracing::info!("swarmd listening on {addr} (plaintext)"),
        Some(false) => tracing::info!("swarmd listening on {addr} (TLS)"),
        Some(true) => {
            tracing::info!("swarmd listening on {addr} (TLS, client certificates required)")
        }
    }
    // On the signal the scheduler stops at once: it dispatches nothing
    // more, tells every agent it is going away and closes their sessions
    // and the follow streams, so the server's graceful stop has nothing
    // left to wait for. The whole stop is bounded by shutdown_timeout.
    let (began_tx, began_rx) = tokio::sync::oneshot::channel();
    let stopper = core.clone();
    let graceful = async move {
        shutdown.await;
        let _ = began_tx.send(tokio::time::Instant::now());
        stopper.tell(Command::Shutdown);
    };
    let mut serving = Box::pin(
        server
            .add_service(health)
            .add_service(reflection)
            .add_service(agent)
            .add_service(control)
            .add_service(memory)
            .serve_with_incoming_shutdown(
                tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
                graceful,
            ),
    );
    let mut began_rx = began_rx;
    let mut deadline = None;
    let result = loop {
        tokio::select! {
            r = &mut serving => break r,
            Ok(at) = &mut began_rx, if deadline.is_none() => deadline = Some(at + shutdown_timeout),
            _ = sleep_until_opt(deadline) => {
                tracing::warn!(
                    "connections did not close within {} ms; stopping anyway",
                    shutdown_timeout.as_millis()
                );
                break Ok(());
            }
        }
    };
    // The services go with the server: the memory worker's last handle.
    drop(serving);
    let deadline = deadline.unwrap_or_else(|| tokio::time::Instant::now() + shutdown_timeout);
    // Stops the loop too when the server ended on its own.
    core.tell(Command::Shutdown);
    let joined = tokio::task::spawn_blocking(move || {
        let _ = thread.join();
        // The server and its memory service are gone: the worker ends.
        let _ = memory_thread.join();
    });
    let _ = tokio::time::timeout_at(deadline, joined).await;
    // The loop's channels are closed now: the provisioner stops what it
    // started (within what is left of the timeout), the reporter finishes.
    let _ = tokio::time::timeout_at(deadline, provisioner).await;
    report_task.abort();
    if let Some(t) = http_task {
        t.abort();
    }
    if let Some(t) = backup_task {
        t.abort();
    }
    gate_task.abort();
    guide_task.abort();
    results_task.abort();
    tracing::info!("swarmd stopped");
    Ok(result?)
}

/// Sleeps until `at`, or for ever when there is no deadline yet.
async fn sleep_until_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
