//! The agent's session with the coordinator.
//!
//! One loop owns the connection, the agent's [`Work`] and its
//! [`Outbox`](outbox). Before the first Hello it kills the process groups a
//! previous process of this id left running (see [`crate::home`]). It
//! connects (capped exponential backoff with jitter while the coordinator
//! is away), says Hello listing the attempts it still holds, and then
//! serves: assignments start executors, heartbeats keep the lease, executor
//! events go out as Started/Log/Result through the outbox, which never
//! drops control messages and sheds output only under pressure, visibly.
//! Executors keep running while the connection is down; results are kept
//! until acknowledged and sent again every [`RESEND_AFTER`] and after each
//! Welcome, so neither a lost message nor a coordinator restart loses one.
//!
//! How a run ends is an [`Exit`]: drained (SIGTERM or a Drain from the
//! coordinator: no new work, running attempts finish within the drain
//! timeout or are handed back), refused for good by the coordinator, the id
//! in use by a live agent, or orphaned (no coordinator for the orphan
//! timeout: the attempts are stopped and nothing is reported).

mod connect;
mod outbox;
mod serve;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use swarm_proto::v1 as pb;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::exec::{Host, KILL_GRACE};
use crate::home::GroupRecords;
use crate::work::{Context, Work};
use connect::{Backoff, Conn, OpenError};
use outbox::Outbox;

/// How the agent was started: its flags, checked and resolved by
/// [`cli`](crate::cli).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Coordinator URL, `http(s)://` and no trailing slash.
    pub coordinator: String,
    /// The checked URL and TLS material, ready to connect.
    pub endpoint: swarm_client::Coordinator,
    /// `--ca`, `--cert`, `--key` (absolute paths).
    pub tls: swarm_client::TlsFiles,
    /// Role profiles from this host's agent definitions (`--agents-dir`).
    pub local_profiles: swarm_roles::Catalogue,
    /// The agent token, presented on every call and passed to tasks as
    /// `SWARM_TOKEN`.
    pub token: String,
    /// The id it registers as; a reconnect with the same id resumes its
    /// attempts.
    pub id: String,
    /// Roles it can play; the first is active until the coordinator
    /// switches it.
    pub roles: Vec<String>,
    /// Attempts it runs at once (1..=1024).
    pub slots: u32,
    /// This machine's host name, shown in `swarmctl agents`.
    pub host: String,
    /// `--label KEY=VALUE` pairs, sent in the Hello.
    pub labels: BTreeMap<String, String>,
    /// Working directory of task processes (canonical).
    pub workdir: PathBuf,
    /// The `--exec` command template for tasks without a run command.
    pub template: Option<String>,
    /// After a drain starts, how long running attempts may take before
    /// they are stopped and handed back.
    pub drain_timeout: Duration,
    /// Exit after the coordinator has been unreachable (no session open)
    /// this long; `None` retries forever.
    pub orphan_timeout: Option<Duration>,
    /// Run task processes as this (uid, gid) (`--run-as`).
    pub run_as: Option<(u32, u32)>,
    /// The sandbox task processes run in, the agent's secrets hidden.
    pub sandbox: crate::exec::Sandbox,
}

/// How a run of the agent ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// It drained and stopped.
    Drained,
    /// The coordinator refused it for good (token, id, roles, version):
    /// the coordinator's reason.
    Refused(String),
    /// A live agent already uses its id: the reason.
    IdInUse(String),
    /// The coordinator was unreachable for the orphan timeout; the
    /// attempts were stopped.
    Orphaned(Duration),
    /// It could not run at all: why.
    Broken(String),
}

impl Exit {
    /// The process exit code `swarm-agent --help` documents.
    pub fn code(&self) -> u8 {
        match self {
            Exit::Drained => 0,
            Exit::Broken(_) => 1,
            Exit::Refused(_) => 2,
            Exit::IdInUse(_) => 3,
            Exit::Orphaned(_) => 4,
        }
    }
}

/// How often unacknowledged results are sent again.
pub const RESEND_AFTER: Duration = Duration::from_secs(3);

/// How long stopped attempts' processes get to end (SIGTERM, then SIGKILL
/// after [`KILL_GRACE`]) before the agent exits anyway.
const STOP_LIMIT: Duration = KILL_GRACE.saturating_add(Duration::from_secs(3));

/// Runs the agent until it drains, is refused or is orphaned. `groups` is
/// where its process groups are recorded; the caller holds the agent's
/// lock on them.
pub async fn run(settings: Settings, groups: GroupRecords) -> Exit {
    tracing::info!(
        "agent {} ({}) starting, coordinator {}",
        settings.id,
        settings.roles.join(", "),
        settings.coordinator
    );
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
    let (Ok(mut term), Ok(mut int)) = (
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()),
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()),
    ) else {
        return Exit::Broken("cannot install signal handlers".into());
    };
    // How tasks reach the coordinator: under mTLS through a private
    // socket (the agent's key stays with the agent), over TLS with the CA.
    let runtime = match crate::runtime::RuntimeDir::create(settings.run_as) {
        Ok(dir) => dir,
        Err(e) => return Exit::Broken(format!("cannot make the agent's runtime directory: {e}")),
    };
    // The socket also serves sandboxed tasks without a network.
    let forwarder = if settings.tls.has_identity() || settings.sandbox.available() {
        match crate::forward::Forwarder::start(
            settings.endpoint.connect_lazy(),
            runtime.path(),
            settings.run_as,
        ) {
            Ok(f) => Some(f),
            Err(e) => return Exit::Broken(format!("cannot open the tasks' socket: {e}")),
        }
    } else {
        None
    };
    let mtls = forwarder.as_ref().filter(|_| settings.tls.has_identity());
    let mut reach = vec![(
        "SWARM_COORDINATOR".to_string(),
        mtls.map_or_else(|| settings.coordinator.clone(), |f| f.url()),
    )];
    if let (None, Some(ca)) = (mtls, &settings.tls.ca) {
        reach.push(("SWARM_CA".to_string(), ca.display().to_string()));
    }
    let mut sandbox = settings.sandbox.clone();
    sandbox.grant(runtime.path());
    if let Some(f) = &forwarder {
        sandbox.set_unix_url(f.url());
    }
    let host = match Host::guarded(guard_binary(), groups.clone(), settings.run_as, sandbox) {
        Ok(host) => host,
        Err(e) => return Exit::Broken(format!("cannot start the spawner thread: {e}")),
    };
    let sandbox = host.sandbox().clone();
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let ctx = Context {
        reach,
        runtime: runtime.path().to_path_buf(),
        token: settings.token.clone(),
        agent_id: settings.id.clone(),
        workdir: settings.workdir.clone(),
        template: settings.template.clone(),
        local_profiles: settings.local_profiles.clone(),
        host,
    };
    let mut work = Work::new(ctx, events_tx);
    let mut outbox = Outbox::new(Instant::now());
    let mut conn: Option<Conn> = None;
    let mut backoff = Backoff::new();
    let mut next_connect = Instant::now();
    let mut unreachable_since = Instant::now();
    let mut heartbeat = tokio::time::interval(Duration::from_secs(2));
    let mut resend = tokio::time::interval(RESEND_AFTER / 3);
    let mut draining: Option<Instant> = None;
    let mut signals = 0;
    loop {
        if draining.is_some() && work.is_idle() {
            tracing::info!("drained; exiting");
            serve::close(conn, &mut outbox).await;
            return Exit::Drained;
        }
        let orphan_at = settings
            .orphan_timeout
            .filter(|_| conn.is_none())
            .map(|t| unreachable_since + t);
        if let Some(at) = orphan_at.filter(|at| Instant::now() >= *at) {
            let limit = at - unreachable_since;
            tracing::error!(
                "the coordinator has been unreachable for {limit:?} (--orphan-timeout); \
                 stopping {} attempt(s) and exiting",
                work.held()
            );
            work.abandon_all();
            work.stopped(STOP_LIMIT).await;
            groups.kill_recorded();
            return Exit::Orphaned(limit);
        }
        if conn.is_none() && Instant::now() >= next_connect {
            match connect::open(&settings, &work.listed(), draining.is_some()).await {
                Ok((c, welcome)) => {
                    backoff.reset();
                    let every = Duration::from_millis(u64::from(welcome.heartbeat_ms.max(100)));
                    heartbeat = tokio::time::interval(every);
                    outbox.open();
                    serve::welcomed(&mut outbox, &mut work, &welcome);
                    sandbox.set_state_dir(&welcome.state_dir);
                    tracing::info!(
                        "session open as {} (role {}), resumed {}",
                        welcome.agent_id,
                        welcome.active_role,
                        welcome.resume.len()
                    );
                    conn = Some(c);
                }
                Err(OpenError::Refused { message, .. }) => return Exit::Refused(message),
                Err(OpenError::IdInUse(message)) => return Exit::IdInUse(message),
                Err(OpenError::Transient(e)) => {
                    let wait = backoff.next(connect::unit_random());
                    tracing::warn!(
                        "cannot reach the coordinator: {e}; retrying in {} ms{}",
                        wait.as_millis(),
                        plaintext_hint(&settings.coordinator, &e.to_string())
                    );
                    next_connect = Instant::now() + wait;
                }
            }
        }
        let drain_deadline =
            draining.unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400));
        let connected = conn.is_some();
        let (out, inbound) = match conn.as_mut() {
            Some(c) => (Some(c.out.clone()), Some(&mut c.inbound)),
            None => (None, None),
        };
        tokio::select! {
            msg = serve::next_message(inbound) => match msg {
                Some(m) => {
                    if serve::handle(&mut outbox, &mut work, m, &mut draining, settings.drain_timeout) {
                        outbox.control(pb::agent_message::Body::Draining(pb::Draining {}));
                    }
                }
                None => {
                    let wait = backoff.next(connect::unit_random());
                    tracing::warn!("session closed by the coordinator; reconnecting in {} ms", wait.as_millis());
                    conn = None;
                    outbox.close();
                    unreachable_since = Instant::now();
                    next_connect = Instant::now() + wait;
                }
            },
            Some(permit) = serve::reserve(out), if outbox.has_next() => {
                if let Some(m) = outbox.pop() {
                    permit.send(m);
                }
            }
            Some(ev) = events.recv() => serve::on_event(&mut outbox, &mut work, ev),
            _ = heartbeat.tick(), if connected => {
                outbox.control(pb::agent_message::Body::Heartbeat(pb::Heartbeat {}));
            }
            _ = resend.tick(), if connected => serve::send_due_results(&mut outbox, &mut work),
            _ = tokio::time::sleep_until(next_connect), if !connected => {}
            _ = serve::sleep_until_opt(orphan_at) => {}
            _ = tokio::time::sleep_until(drain_deadline), if draining.is_some() => {
                tracing::warn!("drain timeout: handing back {} attempt(s)", work.held());
                for r in work.release_all() {
                    outbox.control(pb::agent_message::Body::Release(pb::Release {
                        attempt: Some(crate::convert::attempt_to(&r)),
                        reason: "drain timeout".into(),
                    }));
                }
                serve::close(conn, &mut outbox).await;
                work.stopped(STOP_LIMIT).await;
                return Exit::Drained;
            }
            _ = term.recv() => signals += 1,
            _ = int.recv() => signals += 1,
        }
        if signals > 0 && draining.is_none() {
            tracing::info!(
                "draining: no new work; {} attempt(s) to finish (a second signal exits at once)",
                work.held()
            );
            draining = Some(Instant::now() + settings.drain_timeout);
            outbox.control(pb::agent_message::Body::Draining(pb::Draining {}));
        } else if signals > 1 {
            std::process::exit(130);
        }
    }
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

/// A TLS listener closes a plaintext HTTP/2 connection without a word: an
/// `http://` URL whose connection is closed at once gets a hint.
fn plaintext_hint(url: &str, error: &str) -> &'static str {
    let closed = ["connection closed", "frame with invalid size"];
    if url.starts_with("http://") && closed.iter().any(|c| error.contains(c)) {
        " (if swarmd serves TLS, connect with https:// and --ca)"
    } else {
        ""
    }
}

#[cfg(test)]
mod hint_tests {
    #[test]
    fn a_closed_plaintext_connection_hints_at_tls() {
        let e = "h2 protocol error: connection error detected: frame with invalid size";
        assert!(super::plaintext_hint("http://h:7420", e).contains("https://"));
        assert_eq!(super::plaintext_hint("https://h:7420", e), "");
        assert_eq!(
            super::plaintext_hint("http://h:7420", "connection refused"),
            ""
        );
    }
}
