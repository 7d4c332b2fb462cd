//! The loop's in-memory state: the active plan's tasks, live attempts and
//! agents. Mirrored durably in the `swarm_*` tables; rebuilt from them on
//! restart.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use swarm_plan::policy::ReadyKey;
use swarm_plan::{Analysis, CompiledPlan};

use super::command::AgentTx;

/// Task states (ARCHITECTURE.md "States").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskState {
    /// A dependency is not done.
    Pending,
    /// Can run.
    Ready,
    /// One live attempt.
    Running,
    /// Done.
    Succeeded,
    /// Retry budget spent (or failed by an operator).
    Failed,
    /// A dependency failed or was cancelled.
    Blocked,
    /// Skipped by an operator; counts as done.
    Skipped,
    /// Cancelled by an operator.
    Cancelled,
}

impl TaskState {
    /// The name used in the store and on the wire.
    pub fn name(self) -> &'static str {
        match self {
            TaskState::Pending => "pending",
            TaskState::Ready => "ready",
            TaskState::Running => "running",
            TaskState::Succeeded => "succeeded",
            TaskState::Failed => "failed",
            TaskState::Blocked => "blocked",
            TaskState::Skipped => "skipped",
            TaskState::Cancelled => "cancelled",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<TaskState> {
        Some(match name {
            "pending" => TaskState::Pending,
            "ready" => TaskState::Ready,
            "running" => TaskState::Running,
            "succeeded" => TaskState::Succeeded,
            "failed" => TaskState::Failed,
            "blocked" => TaskState::Blocked,
            "skipped" => TaskState::Skipped,
            "cancelled" => TaskState::Cancelled,
            _ => return None,
        })
    }

    /// Position in per-state counters.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Counts as done for dependents.
    pub fn is_done(self) -> bool {
        matches!(self, TaskState::Succeeded | TaskState::Skipped)
    }

    /// Will never run again without an operator.
    pub fn is_dead(self) -> bool {
        matches!(
            self,
            TaskState::Failed | TaskState::Blocked | TaskState::Cancelled
        )
    }

    /// Terminal for the plan's completion.
    pub fn is_final(self) -> bool {
        self.is_done() || self.is_dead()
    }
}

/// A task's runtime state.
#[derive(Debug, Clone)]
pub struct TaskRt {
    /// State.
    pub state: TaskState,
    /// Attempts made.
    pub attempts: u32,
    /// Failed attempts (retry budget).
    pub failures: u32,
    /// Attempts lost with their agent.
    pub losses: u32,
    /// Retry backoff: not before this, ms.
    pub not_before: Option<i64>,
    /// Why failed/blocked/skipped/cancelled.
    pub reason: Option<String>,
    /// The live attempt.
    pub current: Option<u64>,
    /// Agents of the last attempt.
    pub last_agents: Vec<String>,
    /// Dependencies not done yet.
    pub deps_left: u32,
    /// Last change, ms.
    pub updated_at: i64,
}

/// Plan-level state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanState {
    /// Tasks are dispatched.
    Running,
    /// Nothing new is dispatched.
    Paused,
    /// Every task succeeded or was skipped.
    Succeeded,
    /// Everything left is failed, blocked or cancelled.
    Failed,
}

impl PlanState {
    /// Stored/wire name.
    pub fn name(self) -> &'static str {
        match self {
            PlanState::Running => "running",
            PlanState::Paused => "paused",
            PlanState::Succeeded => "succeeded",
            PlanState::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<PlanState> {
        Some(match name {
            "running" => PlanState::Running,
            "paused" => PlanState::Paused,
            "succeeded" => PlanState::Succeeded,
            "failed" => PlanState::Failed,
            _ => return None,
        })
    }
}

/// The plan being executed.
pub struct ActivePlan {
    /// Store id.
    pub id: i64,
    /// The compiled plan.
    pub compiled: CompiledPlan,
    /// Its analysis (ranks for ordering).
    pub analysis: Analysis,
    /// Plan state.
    pub state: PlanState,
    /// Per task, indexed like the plan.
    pub tasks: Vec<TaskRt>,
    /// Ready tasks in dispatch order.
    pub ready: BTreeSet<ReadyKey>,
    /// Tasks waiting out a retry backoff: (not_before ms, index).
    pub delayed: BTreeSet<(i64, usize)>,
    /// Loaded at, ms.
    pub loaded_at: i64,
    /// Finished at, ms.
    pub finished_at: Option<i64>,
    /// Task id to index.
    pub index: std::collections::HashMap<String, usize>,
    /// Retries allowed per task.
    pub retries: Vec<u32>,
    /// Tasks in a final state (kept so completion is O(1) per turn).
    pub final_tasks: usize,
    /// Tasks succeeded or skipped.
    pub done_tasks: usize,
    /// Tasks per state, indexed by [`TaskState::index`].
    pub by_state: [u32; 8],
    /// The plan clock.
    pub clock: crate::clock::PlanClock,
    /// Checkpoints: (name, minute of day).
    pub checkpoints: Vec<(String, u16)>,
    /// The next automatic checkpoint: (plan time, index).
    pub next_checkpoint: Option<(i64, usize)>,
    /// The last checkpoint's plan time and the last event before it.
    pub last_checkpoint: (i64, u64),
}

impl ActivePlan {
    /// Changes a task's state, keeping the completion counters.
    pub fn transition(&mut self, i: usize, state: TaskState) {
        let old = self.tasks[i].state;
        self.final_tasks =
            self.final_tasks + usize::from(state.is_final()) - usize::from(old.is_final());
        self.done_tasks =
            self.done_tasks + usize::from(state.is_done()) - usize::from(old.is_done());
        self.by_state[old.index()] -= 1;
        self.by_state[state.index()] += 1;
        self.tasks[i].state = state;
    }

    /// Recounts the completion counters from scratch (after recovery).
    pub fn recount(&mut self) {
        self.final_tasks = self.tasks.iter().filter(|t| t.state.is_final()).count();
        self.done_tasks = self.tasks.iter().filter(|t| t.state.is_done()).count();
        self.by_state = [0; 8];
        for t in &self.tasks {
            self.by_state[t.state.index()] += 1;
        }
    }

    /// The ordering key of a task.
    pub fn key(&self, i: usize) -> ReadyKey {
        let t = &self.compiled.plan.tasks[i];
        swarm_plan::policy::ready_key(t.priority.level(), self.analysis.rank[i], t.day, i)
    }
}

/// Attempt states that are live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptState {
    /// Assigned, executor not started yet.
    Offered,
    /// Executor running.
    Running,
}

/// A live attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// Fencing number.
    pub id: u64,
    /// Task index.
    pub task: usize,
    /// 1-based number.
    pub number: u32,
    /// (agent id, role), lead first.
    pub agents: Vec<(String, String)>,
    /// State.
    pub state: AttemptState,
    /// Created, ms.
    pub created_at: i64,
    /// Started, ms.
    pub started_at: Option<i64>,
    /// Next log chunk number.
    pub log_seq: u64,
}

/// Agent states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentState {
    /// In session.
    Connected,
    /// Session broke; the lease still runs.
    Disconnected,
    /// Finishing its work, taking no more.
    Draining,
    /// Missed its lease.
    Lost,
    /// Left after draining.
    Gone,
}

impl AgentState {
    /// Stored/wire name.
    pub fn name(self) -> &'static str {
        match self {
            AgentState::Connected => "connected",
            AgentState::Disconnected => "disconnected",
            AgentState::Draining => "draining",
            AgentState::Lost => "lost",
            AgentState::Gone => "gone",
        }
    }
}

/// An agent.
pub struct Agent {
    /// Id.
    pub id: String,
    /// Roles it can play.
    pub roles: Vec<String>,
    /// Role it plays.
    pub active_role: String,
    /// Capacity.
    pub slots: u32,
    /// Live attempts it is part of.
    pub busy: HashSet<u64>,
    /// Host.
    pub host: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// State.
    pub state: AgentState,
    /// Current session number.
    pub session: u64,
    /// Outbound channel of the current session.
    pub tx: Option<AgentTx>,
    /// Last sign of life, ms.
    pub last_seen: i64,
    /// First seen, ms.
    pub registered_at: i64,
}

impl Agent {
    /// Free slots, if it takes work.
    pub fn free(&self) -> u32 {
        if self.state == AgentState::Connected {
            self.slots.saturating_sub(self.busy.len() as u32)
        } else {
            0
        }
    }
}
