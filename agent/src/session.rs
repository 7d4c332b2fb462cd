//! The agent's session with the coordinator.
//!
//! One loop owns the connection and the agent's [`Work`]. It connects (with
//! exponential backoff while the coordinator is away), says Hello listing
//! the attempts it still holds, and then serves: assignments start
//! executors, heartbeats keep the lease, executor events go out as
//! Started/Log/Result. Executors keep running while the connection is down;
//! results are kept until acknowledged and re-sent after a reconnect, so a
//! coordinator restart loses nothing. SIGTERM (or a Drain from the
//! coordinator) drains: no new work, running attempts finish within the
//! drain timeout or are handed back, then the agent exits.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use swarm_client::Bearer;
use swarm_proto::v1 as pb;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use tonic::Streaming;

use crate::convert;
use crate::work::{Context, ExecEvent, Work};

/// How the agent was started: its flags, checked and resolved by
/// [`cli`](crate::cli).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Coordinator URL, `http(s)://` and no trailing slash.
    pub coordinator: String,
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
}

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// An open session.
struct Conn {
    out: mpsc::Sender<pb::AgentMessage>,
    inbound: Streaming<pb::CoordinatorMessage>,
}

impl Conn {
    fn send(&self, body: pb::agent_message::Body) {
        let _ = self.out.try_send(pb::AgentMessage { body: Some(body) });
    }
}

/// Runs the agent until it has drained.
pub async fn run(settings: Settings) {
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let ctx = Context {
        coordinator: settings.coordinator.clone(),
        token: settings.token.clone(),
        agent_id: settings.id.clone(),
        workdir: settings.workdir.clone(),
        template: settings.template.clone(),
    };
    let mut work = Work::new(ctx, events_tx);
    let (Ok(mut term), Ok(mut int)) = (
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()),
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers");
        return;
    };
    let mut conn: Option<Conn> = None;
    let mut backoff = BACKOFF_MIN;
    let mut next_connect = Instant::now();
    let mut heartbeat = tokio::time::interval(Duration::from_secs(2));
    let mut draining: Option<Instant> = None;
    let mut signals = 0;
    tracing::info!(
        "agent {} ({}) starting, coordinator {}",
        settings.id,
        settings.roles.join(", "),
        settings.coordinator
    );
    loop {
        if draining.is_some() && work.is_idle() {
            tracing::info!("drained; exiting");
            close(conn).await;
            return;
        }
        if conn.is_none() && Instant::now() >= next_connect {
            match open(&settings, &work, draining.is_some()).await {
                Ok((c, welcome)) => {
                    backoff = BACKOFF_MIN;
                    let every = Duration::from_millis(u64::from(welcome.heartbeat_ms.max(100)));
                    heartbeat = tokio::time::interval(every);
                    welcomed(&c, &mut work, &welcome);
                    tracing::info!(
                        "session open as {} (role {}), resumed {}",
                        welcome.agent_id,
                        welcome.active_role,
                        welcome.resume.len()
                    );
                    conn = Some(c);
                }
                Err(e) => {
                    tracing::warn!(
                        "cannot reach the coordinator: {e}; retrying in {} ms",
                        backoff.as_millis()
                    );
                    next_connect = Instant::now() + backoff;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
        let drain_deadline =
            draining.unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400));
        tokio::select! {
            msg = next_message(&mut conn) => match msg {
                Some(m) => {
                    if let Some(c) = conn.as_ref() {
                        if handle(c, &mut work, m, &mut draining, settings.drain_timeout) {
                            c.send(pb::agent_message::Body::Draining(pb::Draining {}));
                        }
                    }
                }
                None => {
                    tracing::warn!("session closed by the coordinator; reconnecting");
                    conn = None;
                    next_connect = Instant::now() + backoff;
                }
            },
            Some(ev) = events.recv() => on_event(conn.as_ref(), &mut work, ev),
            _ = heartbeat.tick(), if conn.is_some() => {
                if let Some(c) = conn.as_ref() {
                    c.send(pb::agent_message::Body::Heartbeat(pb::Heartbeat {}));
                }
            }
            _ = tokio::time::sleep_until(next_connect), if conn.is_none() => {}
            _ = tokio::time::sleep_until(drain_deadline), if draining.is_some() => {
                tracing::warn!("drain timeout: handing back {} attempt(s)", work.held());
                for r in work.release_all() {
                    if let Some(c) = conn.as_ref() {
                        c.send(pb::agent_message::Body::Release(pb::Release { attempt: Some(convert::attempt_to(&r)), reason: "drain timeout".into() }));
                    }
                }
                close(conn).await;
                return;
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
            if let Some(c) = conn.as_ref() {
                c.send(pb::agent_message::Body::Draining(pb::Draining {}));
            }
        } else if signals > 1 {
            std::process::exit(130);
        }
    }
}

/// Ends the session cleanly: what is queued (Draining, results, releases)
/// is sent, then the stream is closed, and the coordinator's side ends too.
async fn close(conn: Option<Conn>) {
    let Some(Conn { out, mut inbound }) = conn else {
        return;
    };
    drop(out);
    let _ = tokio::time::timeout(Duration::from_secs(3), async move {
        while let Ok(Some(_)) = inbound.message().await {}
    })
    .await;
}

async fn next_message(conn: &mut Option<Conn>) -> Option<pb::CoordinatorMessage> {
    match conn {
        Some(c) => c.inbound.message().await.ok().flatten(),
        None => std::future::pending().await,
    }
}

/// Connects, sends Hello, waits for the Welcome.
async fn open(s: &Settings, work: &Work, draining: bool) -> anyhow::Result<(Conn, pb::Welcome)> {
    let channel = tokio::time::timeout(
        Duration::from_secs(5),
        Channel::from_shared(s.coordinator.clone())?.connect(),
    )
    .await??;
    let mut client = pb::agent_service_client::AgentServiceClient::with_interceptor(
        channel,
        Bearer::new(&s.token)?,
    );
    let (out, rx) = mpsc::channel(4096);
    let hello = convert::hello(s, &work.listed(), instance());
    out.send(pb::AgentMessage {
        body: Some(pb::agent_message::Body::Hello(hello)),
    })
    .await?;
    if draining {
        out.send(pb::AgentMessage {
            body: Some(pb::agent_message::Body::Draining(pb::Draining {})),
        })
        .await?;
    }
    let mut inbound = client.session(ReceiverStream::new(rx)).await?.into_inner();
    let first = tokio::time::timeout(Duration::from_secs(10), inbound.message()).await??;
    match first.and_then(|m| m.body) {
        Some(pb::coordinator_message::Body::Welcome(w)) => Ok((Conn { out, inbound }, w)),
        _ => anyhow::bail!("the coordinator did not answer the Hello with a Welcome"),
    }
}

/// This process's instance, the same in every Hello it sends: the PID and
/// the start time, so a restarted agent (same id, new process) differs.
fn instance() -> &'static str {
    static INSTANCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    INSTANCE.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!("{:x}-{nanos:x}", std::process::id())
    })
}

/// Applies a Welcome: abandoned attempts stop, unacknowledged results of
/// resumed attempts are sent again.
fn welcomed(c: &Conn, work: &mut Work, w: &pb::Welcome) {
    for r in &w.abandon {
        work.cancel(r.attempt);
    }
    let resumed: Vec<u64> = w.resume.iter().map(|r| r.attempt).collect();
    work.unacked.retain(|attempt, _| resumed.contains(attempt));
    for result in work.unacked.values() {
        c.send(pb::agent_message::Body::Result(convert::result_to(result)));
    }
}

/// Handles one coordinator message; returns true when it starts draining.
fn handle(
    c: &Conn,
    work: &mut Work,
    m: pb::CoordinatorMessage,
    draining: &mut Option<Instant>,
    drain_timeout: Duration,
) -> bool {
    use pb::coordinator_message::Body;
    match m.body {
        Some(Body::Assign(a)) => {
            let a = convert::assignment_from(a);
            let r = &a.attempt;
            if draining.is_some() {
                c.send(pb::agent_message::Body::Release(pb::Release {
                    attempt: Some(convert::attempt_to(r)),
                    reason: "the agent is draining".into(),
                }));
            } else if !work.holds(r.attempt) {
                tracing::info!(
                    "task {} attempt {} ({}{})",
                    r.task_id,
                    r.attempt,
                    a.role,
                    if a.lead { ", lead" } else { "" }
                );
                work.assign(a);
            }
        }
        Some(Body::Cancel(cancel)) => {
            if let Some(r) = cancel.attempt {
                tracing::info!(
                    "task {} attempt {} ended by the coordinator: {}",
                    r.task_id,
                    r.attempt,
                    cancel.reason
                );
                work.cancel(r.attempt);
            }
        }
        Some(Body::Ack(ack)) => {
            if let Some(r) = ack.attempt {
                if !ack.accepted {
                    tracing::warn!(
                        "result of task {} attempt {} was rejected: {}",
                        r.task_id,
                        r.attempt,
                        ack.reason
                    );
                }
                work.unacked.remove(&r.attempt);
            }
        }
        Some(Body::SetRole(role)) => tracing::info!("now playing role {}", role.role),
        Some(Body::Drain(d)) => {
            if draining.is_none() {
                tracing::info!("asked to drain: {}", d.reason);
                *draining = Some(Instant::now() + drain_timeout);
                return true;
            }
        }
        Some(Body::Goodbye(g)) => {
            tracing::info!(
                "the coordinator is going away ({}); attempts keep running, reconnecting later",
                g.reason
            );
        }
        Some(Body::Welcome(_)) | None => {}
    }
    false
}

fn on_event(conn: Option<&Conn>, work: &mut Work, ev: ExecEvent) {
    use pb::agent_message::Body;
    match ev {
        ExecEvent::Started(r) => {
            if let Some(c) = conn {
                c.send(Body::Started(pb::Started {
                    attempt: Some(convert::attempt_to(&r)),
                }));
            }
        }
        ExecEvent::Log(r, stream, data) => {
            if let Some(c) = conn {
                c.send(Body::Log(pb::LogChunk {
                    attempt: Some(convert::attempt_to(&r)),
                    stream: convert::stream_to(stream),
                    data,
                }));
            }
        }
        ExecEvent::Done(r, outcome) => {
            if let Some(result) = work.finished(r, outcome) {
                let wire = convert::result_to(&result);
                tracing::info!(
                    "task {} attempt {} ended: {}",
                    result.attempt.task_id,
                    result.attempt.attempt,
                    wire.message
                );
                if let Some(c) = conn {
                    c.send(Body::Result(wire));
                }
            }
        }
    }
}
