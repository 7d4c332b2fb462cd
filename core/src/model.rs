//! The states of tasks, plans, attempts and agents, and their stored
//! names (ARCHITECTURE.md "States").

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

/// Attempt states that are live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptState {
    /// Assigned, executor not started yet.
    Offered,
    /// Executor running.
    Running,
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
