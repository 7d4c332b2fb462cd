//! Simulated agents: the real session protocol, a no-op executor. On each
//! assignment an agent records the dispatch latency, reports Started and a
//! successful Result at once.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use swarm_client::Bearer;
use swarm_proto::v1 as pb;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;

/// When tasks became ready, and the latencies measured.
#[derive(Default)]
pub(crate) struct Clock {
    /// When the plan was loaded: every task without a dependency is ready.
    pub(crate) loaded: Mutex<Option<Instant>>,
    /// Chain shape: when each task's result was sent (its successor is
    /// then ready), by task number.
    pub(crate) results: Mutex<HashMap<u64, Instant>>,
    /// Whether tasks depend on the previous one.
    pub(crate) chain: bool,
    /// Dispatch latencies, ms.
    pub(crate) samples: Mutex<Vec<f64>>,
    /// Results sent so far, by every simulated agent.
    pub(crate) done: std::sync::atomic::AtomicUsize,
}

impl Clock {
    fn ready_at(&self, task: u64) -> Option<Instant> {
        let loaded = *self.loaded.lock().ok()?;
        if self.chain && task > 1 {
            return self.results.lock().ok()?.get(&(task - 1)).copied();
        }
        loaded
    }
}

/// Connects one simulated agent and serves until the stream ends.
pub(crate) async fn run(
    url: String,
    token: String,
    id: String,
    role: String,
    slots: u32,
    clock: Arc<Clock>,
) -> anyhow::Result<()> {
    let hello = pb::Hello {
        agent_id: id,
        roles: vec![role],
        slots,
        host: "bench".into(),
        ..Default::default()
    };
    let (tx, mut inbound) = open(&url, &token, hello).await?;
    // Slots free since these instants (earliest first).
    let mut free: BinaryHeap<Reverse<Instant>> = BinaryHeap::new();
    let beat_tx = tx.clone();
    let mut beat: Option<tokio::task::JoinHandle<()>> = None;
    while let Some(msg) = inbound.message().await? {
        match msg.body {
            Some(pb::coordinator_message::Body::Welcome(w)) => {
                let every = Duration::from_millis(u64::from(w.heartbeat_ms.max(100)));
                beat = Some(heartbeat(beat_tx.clone(), every));
            }
            Some(pb::coordinator_message::Body::Assign(a)) => {
                serve(a, &tx, &clock, &mut free, slots).await?;
            }
            _ => {}
        }
    }
    if let Some(b) = beat {
        b.abort();
    }
    Ok(())
}

/// An open session: what the agent sends on, what the coordinator sends.
type Session = (
    mpsc::Sender<pb::AgentMessage>,
    tonic::Streaming<pb::CoordinatorMessage>,
);

/// How often an agent tries to open its session before giving up.
const ATTEMPTS: u32 = 10;

/// Connects and opens the session with `hello`, retrying as a real agent
/// would: ten thousand agents connecting at once overflow the listener's
/// accept queue, and a connection refused or reset then is the storm's,
/// not the coordinator's failure.
async fn open(url: &str, token: &str, hello: pb::Hello) -> anyhow::Result<Session> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match try_open(url, token, hello.clone()).await {
            Ok(opened) => return Ok(opened),
            Err(e) if attempt >= ATTEMPTS => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await,
        }
    }
}

async fn try_open(url: &str, token: &str, hello: pb::Hello) -> anyhow::Result<Session> {
    let channel = Channel::from_shared(url.to_string())?.connect().await?;
    let mut client = pb::agent_service_client::AgentServiceClient::with_interceptor(
        channel,
        Bearer::new(token)?,
    );
    let (tx, rx) = mpsc::channel::<pb::AgentMessage>(4096);
    tx.send(message(pb::agent_message::Body::Hello(hello)))
        .await?;
    let inbound = client.session(ReceiverStream::new(rx)).await?.into_inner();
    Ok((tx, inbound))
}

fn message(body: pb::agent_message::Body) -> pb::AgentMessage {
    pb::AgentMessage { body: Some(body) }
}

/// Sends a heartbeat this often until the session's channel closes.
fn heartbeat(tx: mpsc::Sender<pb::AgentMessage>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(every);
        loop {
            every.tick().await;
            if tx
                .send(message(pb::agent_message::Body::Heartbeat(
                    pb::Heartbeat {},
                )))
                .await
                .is_err()
            {
                return;
            }
        }
    })
}

/// One assignment: records its dispatch latency (from when the task was
/// ready and a slot free, whichever was later), reports Started and a
/// successful Result at once, and frees its slot. `free` holds the
/// instants the agent's slots became free, earliest first.
async fn serve(
    a: pb::Assign,
    tx: &mpsc::Sender<pb::AgentMessage>,
    clock: &Clock,
    free: &mut BinaryHeap<Reverse<Instant>>,
    slots: u32,
) -> anyhow::Result<()> {
    let now = Instant::now();
    let r = a.attempt.unwrap_or_default();
    let n: u64 = r.task_id.parse().unwrap_or(0);
    if free.len() < slots as usize {
        let loaded = clock.loaded.lock().ok().and_then(|l| *l).unwrap_or(now);
        while free.len() < slots as usize {
            free.push(Reverse(loaded));
        }
    }
    let slot_free = free.pop().map_or(now, |Reverse(t)| t);
    if let Some(ready) = clock.ready_at(n) {
        let could_start = ready.max(slot_free);
        let ms = now.saturating_duration_since(could_start).as_secs_f64() * 1000.0;
        if let Ok(mut s) = clock.samples.lock() {
            s.push(ms);
        }
    }
    tx.send(message(pb::agent_message::Body::Started(pb::Started {
        attempt: Some(r.clone()),
    })))
    .await?;
    tx.send(message(pb::agent_message::Body::Result(pb::TaskResult {
        output_dropped: 0,
        not_started: false,
        attempt: Some(r),
        outcome: pb::Outcome::Succeeded as i32,
        exit_code: Some(0),
        message: String::new(),
        result: None,
        commit: String::new(),
        usage: None,
        rate_limit: None,
    })))
    .await?;
    let sent = Instant::now();
    if clock.chain {
        if let Ok(mut m) = clock.results.lock() {
            m.insert(n, sent);
        }
    }
    free.push(Reverse(sent));
    clock
        .done
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(())
}
