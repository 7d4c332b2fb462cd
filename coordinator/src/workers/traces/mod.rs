//! Trace export: follows the event log (the stored history first, then
//! the live feed, as every follower does), builds the current plan's
//! spans from it ([`spans`]) and sends each finished span to the OTLP
//! collector ([`export`]). Nothing here writes state: how far the export
//! got goes to the loop ([`TraceCmd::Exported`]), which keeps it in
//! `swarmd.db` beside the plan's trace id. After a restart the log is
//! read again from the start, so spans still open continue with their
//! real start times, and the spans finished after the last acknowledged
//! export are sent again, identical (at least once, never two versions).
//! Off (no endpoint), nothing of this runs.

pub mod export;
pub mod span;
pub mod spans;

use std::time::Duration;

use opentelemetry_sdk::trace::SpanExporter;
use swarm_core::command::{Command, Query};
use swarm_core::event::EventKind;
use swarm_core::trace::{TraceCmd, TraceId};
use swarm_core::{CoreError, CoreHandle};
use swarm_memory::state::{EventRow, TraceRow};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use spans::{AttemptInfo, Builder, Span};

/// Spans sent in one request at most.
const BATCH: usize = 512;
/// Events buffered between the event log and the builder.
const BUFFER: usize = 1024;
/// Longest a finished span waits for others to go with it.
const LINGER: Duration = Duration::from_secs(1);
/// Longest wait between two tries of a failed export.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The exporter's state: the plan it traces, the spans waiting to go,
/// and the last event they cover.
struct Tracer {
    core: CoreHandle,
    exporter: opentelemetry_otlp::SpanExporter,
    scope: opentelemetry::InstrumentationScope,
    builder: Option<Builder>,
    /// The current plan's trace, as the loop last said.
    target: Option<TraceRow>,
    /// Spans of events after this were not acknowledged before.
    exported_seq: u64,
    pending: Vec<Span>,
    /// The last event the pending spans (or a skipped replay) cover.
    last_seq: u64,
}

/// Exports the plan's spans until `cancel` fires (what is pending is
/// sent first, one try) or the scheduler stops.
pub async fn run(
    core: CoreHandle,
    exporter: opentelemetry_otlp::SpanExporter,
    cancel: CancellationToken,
) {
    // The current plan's log from its first event: what came before
    // belongs to plans that are not traced any more.
    let target = current_trace(&core).await;
    let since = target.as_ref().map_or(0, |r| r.first_seq.saturating_sub(1));
    let start = match core
        .ask(|reply| Query::Events { since, reply }.into())
        .await
    {
        Ok(start) => start,
        Err(e) => return tracing::warn!("trace export stopped: {e}"),
    };
    let (tx, mut rx) = mpsc::channel(BUFFER);
    let relay_core = core.clone();
    let relay = tokio::spawn(async move {
        let tx: mpsc::Sender<Result<EventRow, std::convert::Infallible>> = tx;
        swarm_core::follow::relay(&relay_core, start, Some(since), true, &tx, |e| {
            Some(e.clone())
        })
        .await
    });
    let mut t = Tracer {
        core: core.clone(),
        exporter,
        scope: export::scope(),
        target,
        builder: None,
        exported_seq: 0,
        pending: Vec::new(),
        last_seq: 0,
    };
    // Spans wait up to LINGER for company: one request (and one mark in
    // the store) a second at most while a plan runs, not one a turn.
    let mut due: Option<tokio::time::Instant> = None;
    loop {
        let linger = async {
            match due {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let next = tokio::select! {
            biased;
            () = cancel.cancelled() => None,
            () = linger => {
                t.flush(&cancel).await;
                due = None;
                continue;
            }
            e = rx.recv() => e,
        };
        let Some(Ok(e)) = next else {
            break;
        };
        if !t.take(&e, &cancel).await {
            break;
        }
        if t.pending.len() >= BATCH {
            t.flush(&cancel).await;
            due = None;
        } else if !t.pending.is_empty() && due.is_none() {
            due = Some(tokio::time::Instant::now() + LINGER);
        }
    }
    // Stopping: what the feed already holds is taken, and everything
    // pending gets one try (the rest goes after the next start).
    while let Ok(Ok(e)) = rx.try_recv() {
        if !t.take(&e, &cancel).await {
            break;
        }
    }
    relay.abort();
    t.flush(&cancel).await;
}

impl Tracer {
    /// Takes one event: the current plan's go to its builder; a plan
    /// loaded later starts a new trace (the last one's spans sent first).
    /// False when the scheduler stopped: a span built without the stored
    /// details of its attempt would differ from the one a restart builds.
    async fn take(&mut self, e: &EventRow, cancel: &CancellationToken) -> bool {
        let Some(plan_id) = e.plan_id else {
            return true;
        };
        if self.builder.as_ref().map(Builder::plan_id) != Some(plan_id) {
            if self.target.as_ref().map(|r| r.plan_id) != Some(plan_id) {
                if e.kind != EventKind::PlanLoaded.name() {
                    return true;
                }
                self.target = current_trace(&self.core).await;
            }
            let Some(row) = self.target.clone().filter(|r| r.plan_id == plan_id) else {
                return true;
            };
            let Some(trace) = TraceId::parse(&row.trace_id) else {
                tracing::warn!(
                    "plan {plan_id} has trace id '{}', not 32 hex digits; not traced",
                    row.trace_id
                );
                return true;
            };
            self.flush(cancel).await;
            self.pending.clear();
            self.exported_seq = row.exported_seq;
            self.builder = Some(Builder::new(plan_id, trace, e.at));
        }
        let fresh = e.seq > self.exported_seq;
        let fence = self.builder.as_ref().and_then(|b| b.ends_open_attempt(e));
        let info = match fence {
            // Spans already exported are built again, not sent again.
            Some(fence) if fresh => match attempt_info(&self.core, e, fence).await {
                Ok(info) => info,
                Err(()) => return false,
            },
            _ => None,
        };
        let Some(builder) = self.builder.as_mut() else {
            return true;
        };
        let done = builder.push(e, info.as_ref());
        if fresh {
            self.pending.extend(done);
            self.last_seq = e.seq;
        }
        true
    }

    /// Sends what is pending, trying again with backoff until it goes
    /// (the event log waits meanwhile) or `cancel` fires; then tells the
    /// loop how far the export got.
    async fn flush(&mut self, cancel: &CancellationToken) {
        let Some(builder) = self.builder.as_ref() else {
            return;
        };
        if self.pending.is_empty() {
            return;
        }
        let (plan_id, trace) = (builder.plan_id(), builder.trace());
        let mut backoff = Duration::from_millis(250);
        while !self.pending.is_empty() {
            let n = self.pending.len().min(BATCH);
            let batch = self.pending[..n]
                .iter()
                .map(|s| export::span_data(&trace, s, &self.scope))
                .collect();
            match self.exporter.export(batch).await {
                Ok(()) => {
                    self.pending.drain(..n);
                    backoff = Duration::from_millis(250);
                }
                Err(e) => {
                    tracing::warn!("cannot export {n} spans of plan {plan_id}: {e}; trying again in {backoff:?}");
                    tokio::select! {
                        () = cancel.cancelled() => return,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
        if self.last_seq > self.exported_seq {
            self.exported_seq = self.last_seq;
            self.core.tell(Command::Trace(TraceCmd::Exported {
                plan_id,
                seq: self.last_seq,
            }));
        }
    }
}

/// The current plan's trace (`None`: no plan, or the loop stopped).
async fn current_trace(core: &CoreHandle) -> Option<TraceRow> {
    core.ask(|reply| Command::Trace(TraceCmd::Get(reply)))
        .await
        .ok()
        .flatten()
}

/// The stored details of attempt `fence` of the task `e` concerns
/// (`None`: the plan no longer has it); `Err` when the scheduler stopped.
async fn attempt_info(
    core: &CoreHandle,
    e: &EventRow,
    fence: u64,
) -> Result<Option<AttemptInfo>, ()> {
    let Some(task) = e.task_id.clone() else {
        return Ok(None);
    };
    let detail = match core.ask(|reply| Query::GetTask(task, reply).into()).await {
        Ok(detail) => detail,
        Err(CoreError::Stopped | CoreError::Fatal(_)) => return Err(()),
        Err(_) => return Ok(None),
    };
    let a = detail.attempts.into_iter().find(|a| a.attempt == fence);
    Ok(a.map(|a| AttemptInfo {
        agents: a.agents,
        roles: a.roles,
        exit_code: a.exit_code,
        message: a.message,
        output_dropped: a.output_dropped,
        usage: a.usage,
    }))
}
