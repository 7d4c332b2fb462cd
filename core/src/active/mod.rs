//! The plan part of the loop's state: the active plan, the runtime state of
//! each of its tasks, the ready queue, the retry backoffs and the
//! checkpoint schedule.
//!
//! Invariants, kept by the methods below (the only code that changes these
//! fields):
//! - a task is in `ready` exactly when its state is `Ready`;
//! - a task is in `delayed` exactly when it has a `not_before`;
//! - `by_state`, `final_tasks` and `done_tasks` count the tasks' states;
//! - `deps_left` is the number of its dependencies not succeeded or
//!   skipped;
//! - under the calendar pace a task that never ran does not become ready
//!   before its planned day opens, or, when it sits in one of its day's
//!   windows, before that window opens: it waits in `delayed` instead.

mod build;
mod gates;
mod queue;
mod restore;
mod revise;
mod schedule;

pub use gates::Gate;
pub use schedule::{CheckpointMark, CheckpointTime, NextCheckpoint};

use std::collections::BTreeSet;

use swarm_memory::state::TaskRow;
use swarm_plan::policy::ReadyKey;
use swarm_plan::{Analysis, CompiledPlan};

use super::model::{PlanState, TaskState};
use crate::clock::PlanClock;

/// A task's runtime state. Read through [`ActivePlan::task`]; changed only
/// by [`ActivePlan`]'s methods.
#[derive(Debug, Clone)]
pub struct TaskRt {
    /// Where the task is in its life.
    pub state: TaskState,
    /// Attempts made (the last one's per-task number).
    pub attempts: u32,
    /// Failed attempts, counted against the retry budget.
    pub failures: u32,
    /// Attempts lost with their agent, capped separately (`max_losses`).
    pub losses: u32,
    /// Retry backoff or calendar wait: not before this wall time, ms.
    pub not_before: Option<i64>,
    /// Why it is failed, blocked, skipped, cancelled or waiting.
    pub reason: Option<String>,
    /// Fencing number of the live attempt.
    pub current: Option<u64>,
    /// Agents of the last attempt, lead first.
    pub last_agents: Vec<String>,
    /// Dependencies not succeeded or skipped yet.
    pub deps_left: u32,
    /// Last change, wall ms.
    pub updated_at: i64,
}

/// A task waiting for a wall time (retry backoff, calendar pace). Ordered
/// by time first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Delayed {
    until: i64,
    task: usize,
}

/// The plan being executed.
pub struct ActivePlan {
    id: i64,
    compiled: CompiledPlan,
    analysis: Analysis,
    state: PlanState,
    tasks: Vec<TaskRt>,
    /// Ready tasks (and running ones), indexed for the dispatch order.
    ready: queue::ReadyQueue,
    /// The guide dispatch follows (the default: none yet).
    guide: swarm_plan::policy::Guide,
    delayed: BTreeSet<Delayed>,
    loaded_at: i64,
    finished_at: Option<i64>,
    /// Task indexes sorted by task id, for [`ActivePlan::index_of`]: four
    /// bytes a task where a map from a copy of each id took about ninety
    /// (a million-task plan keeps it resident).
    by_id: Vec<u32>,
    /// Retries allowed per task.
    retries: Vec<u32>,
    /// Tasks in a final state, so completion is O(1) per turn.
    final_tasks: usize,
    /// Tasks succeeded or skipped.
    done_tasks: usize,
    /// Tasks per state, indexed by [`TaskState::index`].
    by_state: [u32; 10],
    clock: PlanClock,
    /// Whether tasks wait for their planned day (`--pace calendar`).
    calendar: bool,
    /// Day gates (`--gates`), and the tasks they hold back.
    gates: Vec<Gate>,
    held: BTreeSet<usize>,
    checkpoints: Vec<CheckpointTime>,
    next_checkpoint: Option<NextCheckpoint>,
    last_checkpoint: CheckpointMark,
    /// Why an operator cancelled it, once cancelled.
    cancelled_why: Option<String>,
    /// Its version: 1 as loaded, one more with each revision.
    version: u32,
}

impl ActivePlan {
    pub fn id(&self) -> i64 {
        self.id
    }

    /// The compiled plan: specs, dependencies, needs, matrix.
    pub fn compiled(&self) -> &CompiledPlan {
        &self.compiled
    }

    /// The plan's name.
    pub fn name(&self) -> &str {
        &self.compiled.plan.name
    }

    /// Task `i` as the plan wrote it.
    pub fn spec(&self, i: usize) -> &swarm_plan::Task {
        &self.compiled.plan.tasks[i]
    }

    /// Task `i`'s id.
    pub fn task_id(&self, i: usize) -> &str {
        &self.compiled.plan.tasks[i].id
    }

    /// Ranks and critical path.
    pub fn analysis(&self) -> &Analysis {
        &self.analysis
    }

    /// Running, paused, succeeded or failed.
    pub fn state(&self) -> PlanState {
        self.state
    }

    /// Task `i`'s runtime state.
    pub fn task(&self, i: usize) -> &TaskRt {
        &self.tasks[i]
    }

    /// Every task's runtime state, in plan order.
    pub fn tasks(&self) -> &[TaskRt] {
        &self.tasks
    }

    /// Number of tasks.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// The index of a task id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        let tasks = &self.compiled.plan.tasks;
        self.by_id
            .binary_search_by(|&i| tasks[i as usize].id.as_str().cmp(id))
            .ok()
            .map(|at| self.by_id[at] as usize)
    }

    /// Retries task `i` may use.
    pub fn retries(&self, i: usize) -> u32 {
        self.retries[i]
    }

    /// The plan clock.
    pub fn clock(&self) -> &PlanClock {
        &self.clock
    }

    /// Loaded at, wall ms.
    pub fn loaded_at(&self) -> i64 {
        self.loaded_at
    }

    /// Finished at, wall ms, once succeeded or failed.
    pub fn finished_at(&self) -> Option<i64> {
        self.finished_at
    }

    /// Tasks in `state`.
    pub fn count(&self, state: TaskState) -> u32 {
        self.by_state[state.index()]
    }

    /// Tasks not in a final state.
    pub fn unfinished(&self) -> usize {
        self.tasks.len() - self.final_tasks
    }

    /// Ready tasks by priority, rank, day and id (see
    /// [`ActivePlan::dispatch_order`] for the order they are placed in).
    pub fn ready(&self) -> impl Iterator<Item = usize> + '_ {
        self.ready.tasks()
    }

    /// Tasks readied from now on are indexed at once (denser) at the batch's end.
    pub fn begin_ready_batch(&mut self) {
        self.ready.begin_batch();
    }

    /// Indexes the tasks readied since the batch began.
    pub fn end_ready_batch(&mut self) {
        self.ready.end_batch();
    }

    /// Whether any task is ready.
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// When the first delayed task is due, wall ms.
    pub fn next_delayed(&self) -> Option<i64> {
        self.delayed.first().map(|d| d.until)
    }

    /// The ordering key of task `i`.
    fn key(&self, i: usize) -> ReadyKey {
        let t = &self.compiled.plan.tasks[i];
        swarm_plan::policy::ready_key(t.priority.level(), self.analysis.rank[i], t.day, i)
            .guided(self.guide.place(i))
    }

    /// Moves task `i` to `state` with `reason`, keeping the ready queue, the
    /// backoffs and the counters. Under the calendar pace a task that never
    /// ran and whose day (or window of the day) has not opened waits for it
    /// instead of becoming ready: the state it actually took is returned.
    pub fn set_state(
        &mut self,
        i: usize,
        state: TaskState,
        reason: Option<String>,
        now: i64,
    ) -> TaskState {
        let mut reason = reason;
        let old = self.tasks[i].state;
        if old == TaskState::Ready {
            let key = self.key(i);
            self.ready.remove(key, &self.compiled.tasks[i].need);
        }
        self.clear_delay(i);
        let mut state = state;
        if state == TaskState::Ready && self.calendar && self.tasks[i].attempts == 0 {
            let plan = &self.compiled.plan;
            if let Some(day) = plan.tasks[i].day {
                let offset = plan.tasks[i]
                    .window
                    .and_then(|w| plan.days.iter().find(|d| d.number == day)?.windows.get(w))
                    .map_or(0, |w| w.offset.secs());
                let opens = self.clock.wall_at(self.clock.window_opens(day, offset));
                if opens > now {
                    state = TaskState::Pending;
                    self.delay(i, opens);
                }
            }
        }
        if state == TaskState::Ready {
            if let Some(why) = self.hold(i) {
                (state, reason) = (TaskState::Pending, Some(why));
            }
        }
        self.final_tasks =
            self.final_tasks + usize::from(state.is_final()) - usize::from(old.is_final());
        self.done_tasks =
            self.done_tasks + usize::from(state.is_done()) - usize::from(old.is_done());
        self.by_state[old.index()] -= 1;
        self.by_state[state.index()] += 1;
        let t = &mut self.tasks[i];
        t.state = state;
        t.reason = reason;
        t.updated_at = now;
        if state == TaskState::Ready {
            let key = self.key(i);
            self.ready.insert(key, &self.compiled.tasks[i].need);
        }
        self.ready.track(i, old, state);
        state
    }

    /// Task `i` waits until `until` (wall ms) before it may become ready.
    pub fn delay(&mut self, i: usize, until: i64) {
        self.clear_delay(i);
        self.tasks[i].not_before = Some(until);
        self.delayed.insert(Delayed { until, task: i });
    }

    fn clear_delay(&mut self, i: usize) {
        if let Some(until) = self.tasks[i].not_before.take() {
            self.delayed.remove(&Delayed { until, task: i });
        }
    }

    /// Ends the waits due by `now`; returns the tasks that may become ready
    /// (pending, every dependency done).
    pub fn take_due(&mut self, now: i64) -> Vec<usize> {
        let due: Vec<usize> = self
            .delayed
            .iter()
            .take_while(|d| d.until <= now)
            .map(|d| d.task)
            .collect();
        due.into_iter()
            .filter(|&i| {
                self.clear_delay(i);
                self.tasks[i].state == TaskState::Pending && self.tasks[i].deps_left == 0
            })
            .collect()
    }

    /// One dependency of task `i` is done; returns whether `i` may become
    /// ready now.
    pub fn dependency_done(&mut self, i: usize) -> bool {
        let t = &mut self.tasks[i];
        t.deps_left = t.deps_left.saturating_sub(1);
        t.deps_left == 0 && t.state == TaskState::Pending
    }

    /// A new attempt of task `i` with fencing number `attempt` on `agents`
    /// (lead first); returns its per-task number.
    pub fn begin_attempt(&mut self, i: usize, attempt: u64, agents: Vec<String>) -> u32 {
        let t = &mut self.tasks[i];
        t.attempts += 1;
        t.current = Some(attempt);
        t.last_agents = agents;
        t.attempts
    }

    /// Task `i` has no live attempt any more.
    pub fn end_attempt(&mut self, i: usize) {
        self.tasks[i].current = None;
    }

    /// Counts a failed attempt of task `i`; returns the failures so far.
    pub fn count_failure(&mut self, i: usize) -> u32 {
        self.tasks[i].failures += 1;
        self.tasks[i].failures
    }

    /// Counts an attempt of task `i` lost with its agent; returns the
    /// losses so far.
    pub fn count_loss(&mut self, i: usize) -> u32 {
        self.tasks[i].losses += 1;
        self.tasks[i].losses
    }

    /// An operator retries task `i`: its budgets start over.
    pub fn reset_budgets(&mut self, i: usize) {
        self.tasks[i].failures = 0;
        self.tasks[i].losses = 0;
    }

    /// Whether every task is final, and if so whether all are done.
    pub fn completion(&self) -> Option<bool> {
        // A task that left the plan with a revision counts for neither.
        let counted = self.tasks.len() - self.count(TaskState::Removed) as usize;
        (self.final_tasks == self.tasks.len()).then_some(self.done_tasks == counted)
    }

    /// Moves the plan to `state`; a final state records when.
    pub fn set_plan_state(&mut self, state: PlanState, now: i64) {
        self.state = state;
        self.finished_at = state.has_ended().then_some(now);
    }

    /// Why an operator cancelled the plan (`cancelled by an operator: …`),
    /// once it is cancelled.
    pub fn cancelled_why(&self) -> Option<&str> {
        self.cancelled_why.as_deref()
    }

    /// An operator cancelled the plan, saying `why`.
    pub fn set_cancelled(&mut self, why: String, now: i64) {
        self.set_plan_state(PlanState::Cancelled, now);
        self.cancelled_why = Some(why);
    }

    /// The row that mirrors task `i` in the store.
    pub fn task_row(&self, i: usize) -> TaskRow {
        let t = &self.tasks[i];
        TaskRow {
            idx: i as u32,
            id: self.compiled.plan.tasks[i].id.clone(),
            state: t.state.name().to_string(),
            attempts: t.attempts,
            failures: t.failures,
            losses: t.losses,
            not_before: t.not_before,
            reason: t.reason.clone(),
            updated_at: t.updated_at,
        }
    }
}
