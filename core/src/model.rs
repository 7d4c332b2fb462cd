//! The states of tasks, plans, attempts and agents, and their stored
//! names (ARCHITECTURE.md "States"). Each state's `name` is the only place
//! that spells it; its `FromStr` the only place that reads it back, with an
//! [`UnknownName`] that names the bad value and the valid ones.

use std::str::FromStr;

/// A name that stands for none of a type's values: a stored row or a
/// received message that no longer parses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{value}'; valid: {}", valid.join(", "))]
pub struct UnknownName {
    /// What was being read (`task state`, `verdict`, …).
    pub what: &'static str,
    /// The value that was given.
    pub value: String,
    /// Every valid name.
    pub valid: Vec<&'static str>,
}

/// The value of `all` whose `name` is `value`.
///
/// # Errors
/// [`UnknownName`] naming `what`, `value` and every valid name.
pub fn parse_name<T: Copy>(
    what: &'static str,
    all: &[T],
    name: impl Fn(T) -> &'static str,
    value: &str,
) -> Result<T, UnknownName> {
    all.iter()
        .copied()
        .find(|&v| name(v) == value)
        .ok_or_else(|| UnknownName {
            what,
            value: value.to_string(),
            valid: all.iter().map(|&v| name(v)).collect(),
        })
}

/// How the reason of a task an operator marked done begins (`marked done
/// by an operator: …`): such a task has no result, whatever ran of it.
pub const MARKED_DONE: &str = "marked done";

/// Task states (ARCHITECTURE.md "States").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskState {
    /// A dependency is not done.
    Pending,
    /// Can run.
    Ready,
    /// One live attempt.
    Running,
    /// Its attempt succeeded; its work waits in the merge queue.
    Merging,
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
    /// Left the plan with a revision (`swarmctl plan apply`): kept in its
    /// history, never counted in the plan's outcome.
    Removed,
}

impl TaskState {
    /// The name used in the store and on the wire.
    pub fn name(self) -> &'static str {
        match self {
            TaskState::Pending => "pending",
            TaskState::Ready => "ready",
            TaskState::Running => "running",
            TaskState::Merging => "merging",
            TaskState::Succeeded => "succeeded",
            TaskState::Failed => "failed",
            TaskState::Blocked => "blocked",
            TaskState::Skipped => "skipped",
            TaskState::Cancelled => "cancelled",
            TaskState::Removed => "removed",
        }
    }

    /// Every state, in the order of the task's life.
    pub const ALL: [TaskState; 10] = [
        TaskState::Pending,
        TaskState::Ready,
        TaskState::Running,
        TaskState::Merging,
        TaskState::Succeeded,
        TaskState::Failed,
        TaskState::Blocked,
        TaskState::Skipped,
        TaskState::Cancelled,
        TaskState::Removed,
    ];

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
        self.is_done() || self.is_dead() || self == TaskState::Removed
    }
}

/// Plan-level state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlanState {
    /// Tasks are dispatched.
    Running,
    /// Nothing new is dispatched.
    Paused,
    /// Every task succeeded or was skipped.
    Succeeded,
    /// Everything left is failed, blocked or cancelled.
    Failed,
    /// An operator abandoned it (`swarmctl plan cancel`): every task it
    /// had not finished was cancelled.
    Cancelled,
}

impl PlanState {
    /// Stored/wire name.
    pub fn name(self) -> &'static str {
        match self {
            PlanState::Running => "running",
            PlanState::Paused => "paused",
            PlanState::Succeeded => "succeeded",
            PlanState::Failed => "failed",
            PlanState::Cancelled => "cancelled",
        }
    }

    /// Every plan state.
    pub const ALL: [PlanState; 5] = [
        PlanState::Running,
        PlanState::Paused,
        PlanState::Succeeded,
        PlanState::Failed,
        PlanState::Cancelled,
    ];

    /// Whether the plan is over: nothing of it runs again unless an
    /// operator retries a task of a succeeded or failed plan; a cancelled
    /// plan stays over. Another plan can be loaded only then.
    pub fn has_ended(self) -> bool {
        match self {
            PlanState::Running | PlanState::Paused => false,
            PlanState::Succeeded | PlanState::Failed | PlanState::Cancelled => true,
        }
    }

    /// How a sentence says the plan is in this state: `is running`,
    /// `has succeeded`, `was cancelled`.
    pub fn phrase(self) -> &'static str {
        match self {
            PlanState::Running => "is running",
            PlanState::Paused => "is paused",
            PlanState::Succeeded => "has succeeded",
            PlanState::Failed => "has failed",
            PlanState::Cancelled => "was cancelled",
        }
    }
}

/// What `status` says the daemon is doing: no plan yet, or its plan's
/// state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StatusState {
    /// No plan was ever loaded.
    #[default]
    Idle,
    /// The latest plan, in this state.
    Plan(PlanState),
}

impl StatusState {
    /// Every status state.
    pub const ALL: [StatusState; 6] = [
        StatusState::Idle,
        StatusState::Plan(PlanState::Running),
        StatusState::Plan(PlanState::Paused),
        StatusState::Plan(PlanState::Succeeded),
        StatusState::Plan(PlanState::Failed),
        StatusState::Plan(PlanState::Cancelled),
    ];

    /// The name `status` gives.
    pub fn name(self) -> &'static str {
        match self {
            StatusState::Idle => "idle",
            StatusState::Plan(state) => state.name(),
        }
    }
}

/// Attempt states: live (offered, running) or how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttemptState {
    /// Assigned, executor not started yet.
    Offered,
    /// Executor running.
    Running,
    /// The run and its checks passed.
    Succeeded,
    /// It failed.
    Failed,
    /// It ran past its timeout.
    TimedOut,
    /// An operator stopped it.
    Cancelled,
    /// Its agent was lost or handed it back.
    Lost,
    /// A rate-limited API turned it away.
    RateLimited,
}

impl AttemptState {
    /// Every attempt state.
    pub const ALL: [AttemptState; 8] = [
        AttemptState::Offered,
        AttemptState::Running,
        AttemptState::Succeeded,
        AttemptState::Failed,
        AttemptState::TimedOut,
        AttemptState::Cancelled,
        AttemptState::Lost,
        AttemptState::RateLimited,
    ];

    /// The name stored in `swarm_attempts.state` and sent on the wire.
    pub fn name(self) -> &'static str {
        match self {
            AttemptState::Offered => "offered",
            AttemptState::Running => "running",
            AttemptState::Succeeded => "succeeded",
            AttemptState::Failed => "failed",
            AttemptState::TimedOut => "timed_out",
            AttemptState::Cancelled => "cancelled",
            AttemptState::Lost => "lost",
            AttemptState::RateLimited => "rate_limited",
        }
    }
}

/// Agent states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// Every agent state.
    pub const ALL: [AgentState; 5] = [
        AgentState::Connected,
        AgentState::Disconnected,
        AgentState::Draining,
        AgentState::Lost,
        AgentState::Gone,
    ];

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

/// `FromStr` for a state type with `ALL` and `name`, reading it as
/// `what`.
macro_rules! from_name {
    ($($t:ty => $what:literal),* $(,)?) => {$(
        impl FromStr for $t {
            type Err = UnknownName;

            fn from_str(value: &str) -> Result<Self, UnknownName> {
                parse_name($what, &<$t>::ALL, <$t>::name, value)
            }
        }

        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    )*};
}

from_name! {
    TaskState => "task state",
    PlanState => "plan state",
    StatusState => "status state",
    AttemptState => "attempt state",
    AgentState => "agent state",
}
