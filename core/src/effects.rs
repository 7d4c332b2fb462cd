//! A turn in progress, and what it reveals once committed.
//!
//! Everything a turn changes goes into its transaction; everything it
//! would tell anyone — replies, assignments, acknowledgements, events, log
//! chunks, report jobs, provisioning commands — waits in [`Effects`] until
//! the commit, and is flushed only after it. That is the durability rule
//! (ARCHITECTURE.md) in one type.

use std::collections::{BTreeMap, VecDeque};

use rusqlite::Connection;
use swarm_memory::state::{append_event, attempt_number, EventRow};
use tokio::sync::broadcast;

use super::command::{AgentTx, LogEvent, Reply, ToAgent};
use super::error::CoreError;
use super::event::Event;

/// Events the follower feed holds, and so the most a turn keeps to
/// broadcast: the newest. A follower that misses older ones (a plan of a
/// million tasks makes a million `task.ready` in one turn) sees the gap in
/// sequence numbers and reads them from the store, as when it lags. The
/// feed's slots are allocated up front (about 200 bytes each).
pub(crate) const EVENT_FEED: usize = 8_192;

/// What a turn reveals after its commit.
#[derive(Default)]
pub(crate) struct Effects {
    replies: Vec<Box<dyn FnOnce() + Send>>,
    to_agents: Vec<(AgentTx, ToAgent)>,
    /// The newest [`EVENT_FEED`] events of the turn.
    events: VecDeque<EventRow>,
    /// Events committed but not kept for the feed, by kind: still counted.
    unfed: BTreeMap<String, u64>,
    logs: Vec<LogEvent>,
    jobs: Vec<crate::jobs::report::ReportJob>,
    provision: Vec<crate::jobs::ProvisionCmd>,
    gates: Vec<crate::jobs::GateJob>,
    results: Vec<crate::jobs::ResultJob>,
    merges: Vec<crate::jobs::MergeJob>,
    /// The loop stops after this turn.
    pub(crate) stop: bool,
}

/// The receiving ends the server hands to the reporter and the
/// provisioner.
pub struct Receivers {
    /// Checkpoint reports to render and write.
    pub jobs: tokio::sync::mpsc::UnboundedReceiver<crate::jobs::report::ReportJob>,
    /// Agents to start.
    pub provision: tokio::sync::mpsc::UnboundedReceiver<crate::jobs::ProvisionCmd>,
    /// Gates whose checks should run.
    pub gates: tokio::sync::mpsc::UnboundedReceiver<crate::jobs::GateJob>,
    /// Task results to copy into the shared memory.
    pub results: tokio::sync::mpsc::UnboundedReceiver<crate::jobs::ResultJob>,
    /// Guide orders to search.
    pub guides: tokio::sync::mpsc::UnboundedReceiver<crate::jobs::GuideJob>,
    /// Integration branches to open and attempts' work to merge.
    pub merges: tokio::sync::mpsc::UnboundedReceiver<crate::jobs::MergeJob>,
}

/// Where a turn's effects go after its commit.
pub(crate) struct Outlets {
    /// Event followers (`swarmctl events --follow`, `swarmd run`).
    pub(crate) events: broadcast::Sender<EventRow>,
    /// Log followers (`swarmctl task logs --follow`).
    pub(crate) logs: broadcast::Sender<LogEvent>,
    /// The reporter, which writes checkpoint reports.
    pub(crate) jobs: tokio::sync::mpsc::UnboundedSender<crate::jobs::report::ReportJob>,
    /// The provisioner, which starts and stops agents.
    pub(crate) provision: tokio::sync::mpsc::UnboundedSender<crate::jobs::ProvisionCmd>,
    /// The gate checker, which runs gates' Check commands.
    pub(crate) gates: tokio::sync::mpsc::UnboundedSender<crate::jobs::GateJob>,
    /// The copier of task results into the shared memory.
    pub(crate) results: tokio::sync::mpsc::UnboundedSender<crate::jobs::ResultJob>,
    /// The merge queue.
    pub(crate) merges: tokio::sync::mpsc::UnboundedSender<crate::jobs::MergeJob>,
    /// Counts committed events.
    pub(crate) metrics: std::sync::Arc<crate::metrics::Metrics>,
}

impl Effects {
    /// Delivers everything, in this order: agents, reporter, provisioner,
    /// followers, then the replies to whoever asked.
    pub(crate) fn flush(self, out: &Outlets) {
        for (tx, msg) in self.to_agents {
            let _ = tx.send(msg);
        }
        for job in self.jobs {
            let _ = out.jobs.send(job);
        }
        for cmd in self.provision {
            let _ = out.provision.send(cmd);
        }
        for job in self.gates {
            let _ = out.gates.send(job);
        }
        for job in self.results {
            let _ = out.results.send(job);
        }
        for job in self.merges {
            let _ = out.merges.send(job);
        }
        for (kind, n) in &self.unfed {
            for _ in 0..*n {
                out.metrics.count_event(kind);
            }
        }
        for e in self.events {
            out.metrics.count_event(&e.kind);
            let _ = out.events.send(e);
        }
        for l in self.logs {
            let _ = out.logs.send(l);
        }
        for r in self.replies {
            r();
        }
    }
}

/// One turn: its transaction, its instant, and what it will reveal. Every
/// transition of the loop takes it; nothing in the loop reads the wall
/// clock but through [`Turn::now`].
pub(crate) struct Turn<'a> {
    /// The turn's transaction.
    pub(crate) db: &'a Connection,
    /// The instant of the turn, wall ms.
    pub(crate) now: i64,
    /// The plan the events belong to.
    pub(crate) plan_id: Option<i64>,
    /// What the turn reveals after its commit; owned by the caller, which
    /// flushes it after the commit, or drops it only once a failure is
    /// recorded (see `State::turn`).
    pub(crate) fx: &'a mut Effects,
    /// The operator whose command the turn is handling, and the task it
    /// acts on: the events of the action name them (see [`Turn::acting`]).
    actor: Option<(String, Option<String>)>,
}

impl<'a> Turn<'a> {
    /// A turn at `now` writing in `db`, collecting its effects in `fx`.
    pub(crate) fn new(
        db: &'a Connection,
        now: i64,
        plan_id: Option<i64>,
        fx: &'a mut Effects,
    ) -> Turn<'a> {
        Turn {
            db,
            now,
            plan_id,
            fx,
            actor: None,
        }
    }

    /// Events emitted from now on (until `None`) are by `actor`: those of
    /// the action itself, which are about no task or about `task`, the one
    /// it acts on. What follows from it (the tasks a load makes ready, the
    /// dependents a task's end releases) is the loop's doing and names
    /// nobody.
    pub(crate) fn acting(&mut self, actor: Option<(&crate::actor::Actor, Option<&str>)>) {
        self.actor = actor.map(|(a, task)| (a.to_string(), task.map(str::to_string)));
    }

    /// The actor of an event about `task` emitted now.
    fn actor_for(&self, task: Option<&str>) -> Option<String> {
        let (actor, acted_on) = self.actor.as_ref()?;
        (task.is_none() || task == acted_on.as_deref()).then(|| actor.clone())
    }

    /// Appends `event` to the log in the turn's transaction; it is
    /// broadcast after the commit, with its attempt's number within the
    /// task (as the store gives it back to later readers).
    pub(crate) fn emit(&mut self, event: Event) -> Result<(), CoreError> {
        let number = match (event.number, event.attempt) {
            (Some(n), _) => Some(n),
            (None, Some(fence)) => attempt_number(self.db, fence)?,
            (None, None) => None,
        };
        let actor = self.actor_for(event.task.as_deref());
        let mut row = EventRow {
            seq: 0,
            at: self.now,
            kind: event.kind.name().to_string(),
            plan_id: self.plan_id,
            task_id: event.task,
            attempt: event.attempt,
            number,
            agent_id: event.agent,
            message: event.message,
            actor,
        };
        row.seq = append_event(self.db, &row)?;
        if self.fx.events.len() == EVENT_FEED {
            if let Some(old) = self.fx.events.pop_front() {
                *self.fx.unfed.entry(old.kind).or_default() += 1;
            }
        }
        self.fx.events.push_back(row);
        Ok(())
    }

    /// Sends `value` on `reply` after the commit.
    pub(crate) fn reply<T: Send + 'static>(
        &mut self,
        reply: Reply<T>,
        value: Result<T, CoreError>,
    ) {
        self.fx.replies.push(Box::new(move || {
            let _ = reply.send(value);
        }));
    }

    /// Sends `msg` to an agent after the commit (if it has a session).
    pub(crate) fn send(&mut self, tx: Option<AgentTx>, msg: ToAgent) {
        if let Some(tx) = tx {
            self.fx.to_agents.push((tx, msg));
        }
    }

    /// Passes a log chunk to followers after the commit.
    pub(crate) fn log(&mut self, chunk: LogEvent) {
        self.fx.logs.push(chunk);
    }

    /// Hands a report job to the reporter after the commit.
    pub(crate) fn report(&mut self, job: crate::jobs::report::ReportJob) {
        self.fx.jobs.push(job);
    }

    /// Hands a gate's checks to the gate checker after the commit.
    pub(crate) fn check_gate(&mut self, job: crate::jobs::GateJob) {
        self.fx.gates.push(job);
    }

    /// Hands a task's result to the shared-memory copier after the commit.
    pub(crate) fn share_result(&mut self, job: crate::jobs::ResultJob) {
        self.fx.results.push(job);
    }

    /// Hands work to the merge queue after the commit.
    pub(crate) fn merge(&mut self, job: crate::jobs::MergeJob) {
        self.fx.merges.push(job);
    }

    /// Hands a command to the provisioner after the commit.
    pub(crate) fn provision(&mut self, cmd: crate::jobs::ProvisionCmd) {
        self.fx.provision.push(cmd);
    }
}
