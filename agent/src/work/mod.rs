//! The attempts this agent holds: executor tasks for the ones it leads
//! (started by [`launch`]), held slots for the ones it joins as a gang
//! member, and results kept until the coordinator acknowledges them. An
//! attempt whose assignment names a repository runs in a worktree of the
//! agent's clone of it ([`workspace`]) and reports the commit it pushed.

mod launch;
pub mod workspace;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::exec::{Outcome, Stream};
use crate::usage::Usage;

pub use launch::Context;
pub use workspace::{Workspace, Workspaces};

/// One attempt of one task; `attempt` is the coordinator's fencing number,
/// unique across the whole coordinator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRef {
    /// The task's id, e.g. `d1.build`.
    pub task_id: String,
    /// The attempt's fencing number.
    pub attempt: u64,
}

/// An attempt the coordinator assigns to this agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// Which attempt of which task.
    pub attempt: AttemptRef,
    /// 1 for the task's first attempt, 2 for its first retry, ...
    pub attempt_no: u32,
    /// The role this agent plays in it.
    pub role: String,
    /// Whether this agent runs the executor; gang members only hold a slot.
    pub lead: bool,
    /// The task's title.
    pub title: String,
    /// Shell command to run, if any.
    pub run: Option<String>,
    /// Shell commands run after the main command succeeds.
    pub checks: Vec<String>,
    /// Container image to run the task in, if any.
    pub image: Option<String>,
    /// Limit on the whole attempt.
    pub timeout: Option<Duration>,
    /// The rendered task brief.
    pub brief: String,
    /// The task's own environment, sorted by name.
    pub env: Vec<(String, String)>,
    /// The profile of the role this agent plays, from the coordinator.
    pub profile: swarm_roles::Profile,
    /// The repository and branch to work in, if the task has one.
    pub workspace: Option<Workspace>,
}

/// How an attempt this agent led ended; kept until the coordinator
/// acknowledges it.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptResult {
    /// Which attempt of which task.
    pub attempt: AttemptRef,
    /// What the executor reported.
    pub outcome: Outcome,
    /// Output bytes shed on the way to the coordinator.
    pub output_dropped: u64,
    /// On success, what the task wrote to `$SWARM_RESULT`, if anything.
    pub result: Option<String>,
    /// On success in a workspace, the commit pushed on the attempt's
    /// branch; `None` when nothing changed (or there is no workspace).
    pub commit: Option<String>,
    /// What it spent, when the task said (result object, `$SWARM_USAGE`).
    pub usage: Option<Usage>,
}

/// What an executor task reports.
#[derive(Debug)]
pub enum ExecEvent {
    /// The executor started.
    Started(AttemptRef),
    /// A chunk of the attempt's output.
    Log(AttemptRef, Stream, Vec<u8>),
    /// The executor finished with this outcome and, on success, what the
    /// task wrote to `$SWARM_RESULT` (or its result object said), the
    /// commit of its work, and what it spent.
    Done(
        AttemptRef,
        Outcome,
        Option<String>,
        Option<String>,
        Option<Usage>,
    ),
}

struct Held {
    task_id: String,
    cancel: CancellationToken,
    /// The executor task, for a lead.
    executor: Option<JoinHandle<()>>,
}

/// A result waiting for its acknowledgement.
struct Unacked {
    result: AttemptResult,
    /// When it was last sent; `None` if never.
    sent: Option<Instant>,
}

/// The agent's attempts.
pub struct Work {
    ctx: Context,
    held: HashMap<u64, Held>,
    /// Attempts being handed back (drain timeout): no result, a Release.
    releasing: HashSet<u64>,
    /// Results not yet acknowledged, by attempt.
    unacked: HashMap<u64, Unacked>,
    /// Executors stopping attempts handed back or abandoned.
    stopping: Vec<JoinHandle<()>>,
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
            stopping: Vec::new(),
            events,
        }
    }

    /// Attempts to list in a Hello: held, and finished but unacknowledged.
    pub fn listed(&self) -> Vec<AttemptRef> {
        let mut v: Vec<AttemptRef> = self
            .held
            .iter()
            .map(|(&attempt, h)| AttemptRef {
                task_id: h.task_id.clone(),
                attempt,
            })
            .chain(self.unacked.values().map(|u| u.result.attempt.clone()))
            .collect();
        v.sort_by_key(|r| r.attempt);
        v.dedup_by_key(|r| r.attempt);
        v
    }

    /// Nothing held and nothing waiting for an acknowledgement.
    pub fn is_idle(&self) -> bool {
        self.held.is_empty() && self.unacked.is_empty()
    }

    /// How many attempts it holds, led or joined.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Takes on an assignment: the lead starts the executor, a gang member
    /// holds a slot until the coordinator says the attempt is over.
    pub fn assign(&mut self, a: Assignment) {
        let r = a.attempt.clone();
        let cancel = CancellationToken::new();
        self.held.insert(
            r.attempt,
            Held {
                task_id: r.task_id.clone(),
                cancel: cancel.clone(),
                executor: None,
            },
        );
        if !a.lead {
            return;
        }
        let executor = self.ctx.launch(&a, cancel, self.events.clone());
        if let Some(h) = self.held.get_mut(&r.attempt) {
            h.executor = Some(executor);
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
    /// released. [`Work::stopped`] waits for their processes to end.
    pub fn release_all(&mut self) -> Vec<AttemptRef> {
        let mut out = Vec::new();
        for (attempt, h) in self.held.drain() {
            h.cancel.cancel();
            self.stopping.extend(h.executor);
            self.releasing.insert(attempt);
            out.push(AttemptRef {
                task_id: h.task_id,
                attempt,
            });
        }
        out
    }

    /// An executor ended: the result to send, or None when the coordinator
    /// already ended the attempt or it is being handed back. The result is
    /// kept until [`Work::acknowledged`].
    pub fn finished(
        &mut self,
        r: AttemptRef,
        outcome: Outcome,
        result: Option<String>,
        commit: Option<String>,
        usage: Option<Usage>,
    ) -> Option<AttemptResult> {
        if self.releasing.remove(&r.attempt) || self.held.remove(&r.attempt).is_none() {
            return None;
        }
        let result = AttemptResult {
            attempt: r,
            outcome,
            output_dropped: 0,
            result,
            commit,
            usage,
        };
        self.unacked.insert(
            result.attempt.attempt,
            Unacked {
                result: result.clone(),
                sent: None,
            },
        );
        Some(result)
    }

    /// The coordinator acknowledged (or rejected) the result of `attempt`.
    pub fn acknowledged(&mut self, attempt: u64) {
        self.unacked.remove(&attempt);
    }

    /// After a Welcome: results of attempts the coordinator did not resume
    /// are dropped (it no longer expects them); the others are due at once.
    pub fn keep_results_of(&mut self, resumed: &[u64]) {
        self.unacked.retain(|attempt, _| resumed.contains(attempt));
        for u in self.unacked.values_mut() {
            u.sent = None;
        }
    }

    /// Results never sent, or sent `every` ago or longer without an
    /// acknowledgement; each is marked sent at `now`.
    pub fn results_due(&mut self, now: Instant, every: Duration) -> Vec<AttemptResult> {
        let mut due: Vec<AttemptResult> = Vec::new();
        for u in self.unacked.values_mut() {
            if u.sent
                .is_none_or(|at| now.saturating_duration_since(at) >= every)
            {
                u.sent = Some(now);
                due.push(u.result.clone());
            }
        }
        due.sort_by_key(|r| r.attempt.attempt);
        due
    }

    /// Whether an attempt this agent leads still runs (and has not been
    /// told to stop): something a cut-off would have to stop.
    pub fn runs_any(&self) -> bool {
        self.held
            .values()
            .any(|h| h.executor.is_some() && !h.cancel.is_cancelled())
    }

    /// Stops the processes of every attempt this agent leads that still
    /// runs, the agent having had no word from the coordinator for too
    /// long (see `session::lease`). Unlike [`Work::abandon_all`] the
    /// attempts stay held: each executor ends as cancelled, and that result
    /// is reported if the coordinator still expects it after the next
    /// Welcome (it then counts the attempt as lost). Returns the attempts
    /// stopped now.
    pub fn cut_off(&mut self) -> Vec<AttemptRef> {
        let mut stopped: Vec<AttemptRef> = self
            .held
            .iter()
            .filter(|(_, h)| h.executor.is_some() && !h.cancel.is_cancelled())
            .map(|(&attempt, h)| {
                h.cancel.cancel();
                AttemptRef {
                    task_id: h.task_id.clone(),
                    attempt,
                }
            })
            .collect();
        stopped.sort_by_key(|r| r.attempt);
        stopped
    }

    /// Stops every attempt for good, the agent having nobody to report to.
    /// Nothing is reported; [`Work::stopped`] waits for their processes.
    pub fn abandon_all(&mut self) {
        for (_, h) in self.held.drain() {
            h.cancel.cancel();
            self.stopping.extend(h.executor);
        }
        self.unacked.clear();
    }

    /// Waits up to `limit` for the executors of attempts handed back or
    /// abandoned to stop their processes (SIGTERM, then SIGKILL).
    pub async fn stopped(&mut self, limit: Duration) {
        let executors = std::mem::take(&mut self.stopping);
        let _ = tokio::time::timeout(limit, futures_util::future::join_all(executors)).await;
    }

    /// Whether an attempt is held.
    pub fn holds(&self, attempt: u64) -> bool {
        self.held.contains_key(&attempt)
    }
}

#[cfg(test)]
mod tests;
