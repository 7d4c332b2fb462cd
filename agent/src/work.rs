//! The attempts this agent holds: executor tasks for the ones it leads,
//! held slots for the ones it joins as a gang member, and results kept
//! until the coordinator acknowledges them.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use swarm_proto::v1 as pb;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::exec::{self, ExecSpec, Outcome, Stream};

/// What an executor task reports.
#[derive(Debug)]
pub enum ExecEvent {
    /// The executor started.
    Started(pb::AttemptRef),
    /// Output.
    Log(pb::AttemptRef, Stream, Vec<u8>),
    /// It ended.
    Done(pb::AttemptRef, Outcome),
}

struct Held {
    task_id: String,
    cancel: CancellationToken,
}

/// Fixed facts an attempt's environment is built from.
pub struct Context {
    /// Coordinator URL (SWARM_COORDINATOR).
    pub coordinator: String,
    /// Agent token (SWARM_TOKEN).
    pub token: String,
    /// Agent id (SWARM_AGENT_ID).
    pub agent_id: String,
    /// Working directory of task processes.
    pub workdir: PathBuf,
    /// Command template.
    pub template: Option<String>,
}

/// The agent's attempts.
pub struct Work {
    ctx: Context,
    held: HashMap<u64, Held>,
    /// Attempts being handed back (drain timeout): no result, a Release.
    releasing: HashSet<u64>,
    /// Results sent and not yet acknowledged, by attempt.
    pub unacked: HashMap<u64, pb::TaskResult>,
    events: mpsc::UnboundedSender<ExecEvent>,
}

impl Work {
    /// No attempts yet.
    pub fn new(ctx: Context, events: mpsc::UnboundedSender<ExecEvent>) -> Self {
        Work {
            ctx,
            held: HashMap::new(),
            releasing: HashSet::new(),
            unacked: HashMap::new(),
            events,
        }
    }

    /// Attempts to list in a Hello: held, and finished but unacknowledged.
    pub fn listed(&self) -> Vec<pb::AttemptRef> {
        let mut v: Vec<pb::AttemptRef> = self
            .held
            .iter()
            .map(|(&attempt, h)| pb::AttemptRef {
                task_id: h.task_id.clone(),
                attempt,
            })
            .chain(self.unacked.values().filter_map(|r| r.attempt.clone()))
            .collect();
        v.sort_by_key(|r| r.attempt);
        v.dedup_by_key(|r| r.attempt);
        v
    }

    /// Nothing held and nothing waiting for an acknowledgement.
    pub fn is_idle(&self) -> bool {
        self.held.is_empty() && self.unacked.is_empty()
    }

    /// Attempts held.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Takes on an assignment: the lead starts the executor, a gang member
    /// holds a slot until the coordinator says the attempt is over.
    pub fn assign(&mut self, a: pb::Assign) {
        let r = a.attempt.clone().unwrap_or_default();
        let cancel = CancellationToken::new();
        self.held.insert(
            r.attempt,
            Held {
                task_id: r.task_id.clone(),
                cancel: cancel.clone(),
            },
        );
        if !a.lead {
            return;
        }
        let spec = self.spec(&a);
        let events = self.events.clone();
        tokio::spawn(async move {
            let _ = events.send(ExecEvent::Started(r.clone()));
            let (log_tx, mut log_rx) = mpsc::channel::<exec::LogChunk>(64);
            let fwd_events = events.clone();
            let fwd_ref = r.clone();
            let forward = tokio::spawn(async move {
                while let Some(chunk) = log_rx.recv().await {
                    let _ =
                        fwd_events.send(ExecEvent::Log(fwd_ref.clone(), chunk.stream, chunk.data));
                }
            });
            let outcome = exec::execute(spec, log_tx, cancel).await;
            let _ = forward.await;
            let _ = events.send(ExecEvent::Done(r, outcome));
        });
    }

    fn spec(&self, a: &pb::Assign) -> ExecSpec {
        let r = a.attempt.clone().unwrap_or_default();
        let s = a.spec.clone().unwrap_or_default();
        let mut env: Vec<(String, String)> = s.env.into_iter().collect();
        env.sort();
        env.extend([
            ("SWARM_TASK_ID".to_string(), r.task_id.clone()),
            ("SWARM_ROLE".to_string(), a.role.clone()),
            ("SWARM_ATTEMPT".to_string(), a.attempt_no.to_string()),
            ("SWARM_ATTEMPT_ID".to_string(), r.attempt.to_string()),
            (
                "SWARM_COORDINATOR".to_string(),
                self.ctx.coordinator.clone(),
            ),
            ("SWARM_TOKEN".to_string(), self.ctx.token.clone()),
            ("SWARM_AGENT_ID".to_string(), self.ctx.agent_id.clone()),
        ]);
        ExecSpec {
            task_id: r.task_id,
            attempt: r.attempt,
            attempt_no: a.attempt_no,
            role: a.role.clone(),
            title: s.title,
            run: Some(s.run).filter(|x| !x.trim().is_empty()),
            checks: s.checks,
            image: Some(s.image).filter(|x| !x.trim().is_empty()),
            timeout: (s.timeout_ms > 0).then(|| Duration::from_millis(s.timeout_ms)),
            brief: s.brief,
            env,
            workdir: self.ctx.workdir.clone(),
            template: self.ctx.template.clone(),
        }
    }

    /// The coordinator ended an attempt: stop it, report nothing.
    pub fn cancel(&mut self, attempt: u64) {
        if let Some(h) = self.held.remove(&attempt) {
            h.cancel.cancel();
        }
        self.unacked.remove(&attempt);
    }

    /// Stops every held attempt to hand it back; returns them, to be
    /// released.
    pub fn release_all(&mut self) -> Vec<pb::AttemptRef> {
        let mut out = Vec::new();
        for (attempt, h) in self.held.drain() {
            h.cancel.cancel();
            self.releasing.insert(attempt);
            out.push(pb::AttemptRef {
                task_id: h.task_id,
                attempt,
            });
        }
        out
    }

    /// An executor ended: the result to send, or None when the coordinator
    /// already ended the attempt or it is being handed back.
    pub fn finished(&mut self, r: pb::AttemptRef, outcome: Outcome) -> Option<pb::TaskResult> {
        if self.releasing.remove(&r.attempt) || self.held.remove(&r.attempt).is_none() {
            return None;
        }
        let (code, exit_code, message) = match outcome {
            Outcome::Succeeded => (pb::Outcome::Succeeded, Some(0), String::new()),
            Outcome::Failed { exit_code, message } => (pb::Outcome::Failed, exit_code, message),
            Outcome::TimedOut { message } => (pb::Outcome::TimedOut, None, message),
            Outcome::Cancelled => (pb::Outcome::Cancelled, None, "cancelled".to_string()),
        };
        let result = pb::TaskResult {
            attempt: Some(r.clone()),
            outcome: code as i32,
            exit_code,
            message,
        };
        self.unacked.insert(r.attempt, result.clone());
        Some(result)
    }

    /// Whether an attempt is held.
    pub fn holds(&self, attempt: u64) -> bool {
        self.held.contains_key(&attempt)
    }
}
