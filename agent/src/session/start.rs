//! Starting a session: what the agent sets up once before its first
//! Hello — the kill of what a previous process of this id left running,
//! the spawner, the signal handlers, the runtime directory and, under
//! mTLS, the tasks' socket — gathered into a [`Session`].

use std::path::PathBuf;

use tokio::sync::mpsc;

use super::machine::{Session, Signals};
use super::outbox::Outbox;
use super::{Exit, Settings};
use crate::exec::Host;
use crate::forward::Forwarder;
use crate::home::GroupRecords;
use crate::runtime::RuntimeDir;
use crate::work::{Context, Work, Workspaces};

/// Sets the agent up; an [`Exit::Broken`] says what could not be made.
pub(super) fn start(settings: Settings, groups: GroupRecords) -> Result<Session, Exit> {
    tracing::info!(
        "agent {} ({}) starting, coordinator {}",
        settings.id,
        settings.roles.join(", "),
        settings.coordinator
    );
    let workspaces = clear_leftovers(&settings, &groups);
    let signals = Signals::install()
        .map_err(|e| Exit::Broken(format!("cannot install signal handlers: {e}")))?;
    let runtime = RuntimeDir::create(settings.run_as)
        .map_err(|e| Exit::Broken(format!("cannot make the agent's runtime directory: {e}")))?;
    // How tasks reach the coordinator: under mTLS through a private
    // socket (the agent's key stays with the agent), over TLS with the CA.
    // The socket also serves sandboxed tasks without a network.
    let forwarder = if settings.tls.has_identity() || settings.sandbox.available() {
        let f = Forwarder::start(
            settings.endpoint.connect_lazy(),
            runtime.path(),
            settings.run_as,
        )
        .map_err(|e| Exit::Broken(format!("cannot open the tasks' socket: {e}")))?;
        Some(f)
    } else {
        None
    };
    let mtls = forwarder.as_ref().filter(|_| settings.tls.has_identity());
    let mut reach = vec![(
        "SWARM_COORDINATOR".to_string(),
        mtls.map_or_else(|| settings.coordinator.clone(), Forwarder::url),
    )];
    if let (None, Some(ca)) = (mtls, &settings.tls.ca) {
        reach.push(("SWARM_CA".to_string(), ca.display().to_string()));
    }
    let mut sandbox = settings.sandbox.clone();
    sandbox.grant(runtime.path());
    if let Some(f) = &forwarder {
        sandbox.set_unix_url(f.url());
    }
    // Spans are the agent's extra: an endpoint it cannot use is said,
    // and the agent runs without them.
    let spans = match &settings.otlp_endpoint {
        Some(url) => crate::spans::Spans::start(url, &settings.id).unwrap_or_else(|e| {
            tracing::warn!("{e}; the agent's own spans are off");
            crate::spans::Spans::off()
        }),
        None => crate::spans::Spans::off(),
    };
    let host = Host::guarded(guard_binary(), groups.clone(), settings.run_as, sandbox)
        .map_err(|e| Exit::Broken(format!("cannot start the spawner thread: {e}")))?
        .with_spans(spans);
    let sandbox = host.sandbox().clone();
    let (events_tx, events) = mpsc::unbounded_channel();
    let ctx = Context {
        reach,
        runtime: runtime.path().to_path_buf(),
        token: settings.token.clone(),
        agent_id: settings.id.clone(),
        workdir: settings.workdir.clone(),
        template: settings.template.clone(),
        local_profiles: settings.local_profiles.clone(),
        host,
        workspaces,
    };
    Ok(Session {
        work: Work::new(ctx, events_tx),
        outbox: Outbox::new(tokio::time::Instant::now()),
        events,
        signals,
        lease: None,
        settings,
        groups,
        sandbox,
        _runtime: runtime,
        _forwarder: forwarder,
    })
}

/// Kills the process groups and removes the worktrees a previous process
/// of this agent left behind; the agent's workspaces.
fn clear_leftovers(settings: &Settings, groups: &GroupRecords) -> Workspaces {
    for left in groups.kill_recorded() {
        if left.killed {
            tracing::warn!(
                "killed process group {} left running by a previous agent {} (attempt {})",
                left.pgid,
                settings.id,
                left.attempt
            );
        }
    }
    let workspaces = Workspaces::new(
        crate::home::agent_dir(&settings.workdir, &settings.id),
        &settings.id,
    )
    .owned_by(settings.run_as);
    for left in workspaces.sweep() {
        tracing::warn!(
            "removed worktree {} left by a previous agent {}",
            left.display(),
            settings.id
        );
    }
    workspaces
}

/// The binary task commands are started through (see
/// [`exec::guard`](crate::exec::guard)): this very executable, by its
/// `/proc` link where there is one, so replacing the file on disk while the
/// agent runs changes nothing.
fn guard_binary() -> PathBuf {
    let link = PathBuf::from("/proc/self/exe");
    if link.exists() {
        return link;
    }
    std::env::current_exe().unwrap_or(link)
}
