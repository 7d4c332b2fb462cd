//! Typed events. Every state change appends one row to the event log in
//! the turn's transaction; followers get it after the commit. The kind
//! names below are what the event log, `swarmctl events` and `--json`
//! show: they are stable, and [`EventKind::name`] is the only place that
//! spells them.

mod filter;

use std::str::FromStr;

pub use filter::{EventFamily, KindFilter};

use super::model::{parse_name, AttemptState, PlanState, TaskState, UnknownName};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// `coordinator.started`: the loop started (and recovered, if a plan
    /// was stored).
    CoordinatorStarted,
    /// `coordinator.stopping`: a signal; nothing is dispatched after it.
    CoordinatorStopping,
    /// `plan.loaded`.
    PlanLoaded,
    /// `plan.paused`: nothing new is dispatched until `plan.resumed`.
    PlanPaused,
    /// `plan.resumed`.
    PlanResumed,
    /// `plan.revised`: a new version of the plan applied while it runs
    /// (`swarmctl plan apply`); the message says what changed and why.
    PlanRevised,
    /// `plan.running`, `plan.succeeded`, `plan.failed` (settled), and
    /// `plan.cancelled` (an operator abandoned it; the message says who
    /// and why).
    Plan(PlanState),
    /// `task.<state>`: a task entered that state.
    Task(TaskState),
    /// `attempt.offered`: committed and sent to its agents.
    AttemptOffered,
    /// `attempt.started`: the lead's executor started.
    AttemptStarted,
    /// `attempt.<end>`: a live attempt ended.
    AttemptEnded(AttemptEnd),
    /// `attempt.rejected`: a result or a claim for an attempt that is not
    /// current was recorded and not applied.
    AttemptRejected,
    /// `agent.connected`: first session of an id.
    AgentConnected,
    /// `agent.reconnected`: a later session of a known id.
    AgentReconnected,
    /// `agent.disconnected`: the session broke; the lease still runs.
    AgentDisconnected,
    /// `agent.lost`: the lease expired.
    AgentLost,
    /// `agent.gone`: left after draining.
    AgentGone,
    /// `agent.draining`.
    AgentDraining,
    /// `agent.role_switched` at a checkpoint.
    AgentRoleSwitched,
    /// `agent.provisioned`: the provisioner was asked for an agent (it
    /// counts as started once it registers).
    AgentProvisioned,
    /// `agent.provision_failed`: the provisioner could not start it.
    AgentProvisionFailed,
    /// `checkpoint.started`: a checkpoint took its snapshot.
    CheckpointStarted,
    /// `gate.opened`: a day gate let its tasks through (its checks passed,
    /// or an operator approved the day).
    GateOpened,
    /// `checkpoint.reported`: its report was written and stored.
    CheckpointReported,
    /// `gate.waiting`: a closed gate's work before it is done and only an
    /// operator can open it now (it has no checks, or they failed):
    /// `swarmctl gate approve DAY`. Once per gate.
    GateWaiting,
    /// `task.waiting_operator`: a manual task's attempt was offered to an
    /// agent that leaves it to an operator (`swarmctl task done ID`).
    /// Once per attempt.
    TaskWaitingOperator,
    /// `memory.reconciled`: another tool changed memory.db and lost
    /// acknowledged writes, which were applied again.
    MemoryReconciled,
    /// `memory.rebuilt`: memory.db was unreadable, moved aside, rebuilt.
    MemoryRebuilt,
    /// `memory.unavailable`: memory.db cannot be used for now.
    MemoryUnavailable,
    /// `memory.available`: usable again.
    MemoryAvailable,
    /// `attempt.committed`: a succeeded attempt pushed its work to its
    /// branch (or changed nothing).
    AttemptCommitted,
    /// `task.merged`: its work is on the plan's integration branch.
    TaskMerged,
    /// `task.conflict`: its work conflicts with the integration branch.
    TaskConflict,
    /// `workspace.opened`: the plan's integration branch is ready.
    WorkspaceOpened,
    /// `workspace.failed`: the integration branch could not be opened or
    /// a merge could not be made.
    WorkspaceFailed,
    /// `budget.warning`: 80 % of a budget is spent.
    BudgetWarning,
    /// `budget.reached`: a budget is spent; no new attempt starts under it.
    BudgetReached,
    /// `budget.set`: an operator set a budget while the plan runs.
    BudgetSet,
}

/// How a live attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttemptEnd {
    /// The run and its checks passed (or an operator marked it done).
    Succeeded,
    /// It failed (or an operator failed it); the exit code when a process
    /// ran.
    Failed {
        /// Exit code of the process, if one ran.
        exit_code: Option<i32>,
    },
    /// It ran past its timeout.
    TimedOut,
    /// An operator stopped it.
    Cancelled,
    /// Its agent was lost, left, reconnected without it, or handed it
    /// back; not the task's fault.
    Lost,
    /// A rate- or usage-limited API turned it away: re-queued without
    /// using a retry, its pool paused.
    RateLimited,
}

impl AttemptEnd {
    /// The attempt state it leaves the attempt in.
    pub fn state(self) -> AttemptState {
        match self {
            AttemptEnd::Succeeded => AttemptState::Succeeded,
            AttemptEnd::Failed { .. } => AttemptState::Failed,
            AttemptEnd::TimedOut => AttemptState::TimedOut,
            AttemptEnd::Cancelled => AttemptState::Cancelled,
            AttemptEnd::Lost => AttemptState::Lost,
            AttemptEnd::RateLimited => AttemptState::RateLimited,
        }
    }

    /// The attempt state stored in `swarm_attempts.state`.
    pub fn state_name(self) -> &'static str {
        self.state().name()
    }

    /// The exit code to record, if any.
    pub fn exit_code(self) -> Option<i32> {
        match self {
            AttemptEnd::Failed { exit_code } => exit_code,
            AttemptEnd::Succeeded
            | AttemptEnd::TimedOut
            | AttemptEnd::Cancelled
            | AttemptEnd::Lost
            | AttemptEnd::RateLimited => None,
        }
    }
}

impl EventKind {
    /// Every kind the loop writes, each name once (a plan pauses through
    /// [`EventKind::PlanPaused`], never through a settled state), for
    /// [`EventKind::parse`] and the README's list.
    pub const ALL: [EventKind; 55] = [
        EventKind::CoordinatorStarted,
        EventKind::CoordinatorStopping,
        EventKind::PlanLoaded,
        EventKind::PlanPaused,
        EventKind::PlanResumed,
        EventKind::Plan(PlanState::Running),
        EventKind::Plan(PlanState::Succeeded),
        EventKind::Plan(PlanState::Failed),
        EventKind::Plan(PlanState::Cancelled),
        EventKind::PlanRevised,
        EventKind::Task(TaskState::Pending),
        EventKind::Task(TaskState::Ready),
        EventKind::Task(TaskState::Running),
        EventKind::Task(TaskState::Merging),
        EventKind::Task(TaskState::Succeeded),
        EventKind::Task(TaskState::Failed),
        EventKind::Task(TaskState::Blocked),
        EventKind::Task(TaskState::Skipped),
        EventKind::Task(TaskState::Cancelled),
        EventKind::Task(TaskState::Removed),
        EventKind::AttemptOffered,
        EventKind::AttemptStarted,
        EventKind::AttemptEnded(AttemptEnd::Succeeded),
        EventKind::AttemptEnded(AttemptEnd::Failed { exit_code: None }),
        EventKind::AttemptEnded(AttemptEnd::TimedOut),
        EventKind::AttemptEnded(AttemptEnd::Cancelled),
        EventKind::AttemptEnded(AttemptEnd::Lost),
        EventKind::AttemptEnded(AttemptEnd::RateLimited),
        EventKind::AttemptRejected,
        EventKind::AgentConnected,
        EventKind::AgentReconnected,
        EventKind::AgentDisconnected,
        EventKind::AgentLost,
        EventKind::AgentGone,
        EventKind::AgentDraining,
        EventKind::AgentRoleSwitched,
        EventKind::AgentProvisioned,
        EventKind::AgentProvisionFailed,
        EventKind::CheckpointStarted,
        EventKind::CheckpointReported,
        EventKind::GateOpened,
        EventKind::MemoryReconciled,
        EventKind::MemoryRebuilt,
        EventKind::MemoryUnavailable,
        EventKind::MemoryAvailable,
        EventKind::AttemptCommitted,
        EventKind::TaskMerged,
        EventKind::TaskConflict,
        EventKind::WorkspaceOpened,
        EventKind::WorkspaceFailed,
        EventKind::BudgetWarning,
        EventKind::BudgetReached,
        EventKind::BudgetSet,
        EventKind::GateWaiting,
        EventKind::TaskWaitingOperator,
    ];

    /// The name in the event log.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::CoordinatorStarted => "coordinator.started",
            EventKind::CoordinatorStopping => "coordinator.stopping",
            EventKind::PlanLoaded => "plan.loaded",
            EventKind::PlanPaused => "plan.paused",
            EventKind::PlanResumed => "plan.resumed",
            EventKind::PlanRevised => "plan.revised",
            EventKind::Plan(state) => match state {
                PlanState::Running => "plan.running",
                PlanState::Paused => "plan.paused",
                PlanState::Succeeded => "plan.succeeded",
                PlanState::Failed => "plan.failed",
                PlanState::Cancelled => "plan.cancelled",
            },
            EventKind::Task(state) => match state {
                TaskState::Pending => "task.pending",
                TaskState::Ready => "task.ready",
                TaskState::Running => "task.running",
                TaskState::Merging => "task.merging",
                TaskState::Succeeded => "task.succeeded",
                TaskState::Failed => "task.failed",
                TaskState::Blocked => "task.blocked",
                TaskState::Skipped => "task.skipped",
                TaskState::Cancelled => "task.cancelled",
                TaskState::Removed => "task.removed",
            },
            EventKind::AttemptOffered => "attempt.offered",
            EventKind::AttemptStarted => "attempt.started",
            EventKind::AttemptEnded(end) => match end {
                AttemptEnd::Succeeded => "attempt.succeeded",
                AttemptEnd::Failed { .. } => "attempt.failed",
                AttemptEnd::TimedOut => "attempt.timed_out",
                AttemptEnd::Cancelled => "attempt.cancelled",
                AttemptEnd::Lost => "attempt.lost",
                AttemptEnd::RateLimited => "attempt.rate_limited",
            },
            EventKind::AttemptRejected => "attempt.rejected",
            EventKind::AgentConnected => "agent.connected",
            EventKind::AgentReconnected => "agent.reconnected",
            EventKind::AgentDisconnected => "agent.disconnected",
            EventKind::AgentLost => "agent.lost",
            EventKind::AgentGone => "agent.gone",
            EventKind::AgentDraining => "agent.draining",
            EventKind::AgentRoleSwitched => "agent.role_switched",
            EventKind::AgentProvisioned => "agent.provisioned",
            EventKind::AgentProvisionFailed => "agent.provision_failed",
            EventKind::CheckpointStarted => "checkpoint.started",
            EventKind::GateOpened => "gate.opened",
            EventKind::CheckpointReported => "checkpoint.reported",
            EventKind::MemoryReconciled => "memory.reconciled",
            EventKind::MemoryRebuilt => "memory.rebuilt",
            EventKind::MemoryUnavailable => "memory.unavailable",
            EventKind::MemoryAvailable => "memory.available",
            EventKind::AttemptCommitted => "attempt.committed",
            EventKind::TaskMerged => "task.merged",
            EventKind::TaskConflict => "task.conflict",
            EventKind::WorkspaceOpened => "workspace.opened",
            EventKind::WorkspaceFailed => "workspace.failed",
            EventKind::BudgetWarning => "budget.warning",
            EventKind::BudgetReached => "budget.reached",
            EventKind::BudgetSet => "budget.set",
            EventKind::GateWaiting => "gate.waiting",
            EventKind::TaskWaitingOperator => "task.waiting_operator",
        }
    }

    /// Whether this event ends an attempt (no more output will come).
    pub fn ends_attempt(self) -> bool {
        matches!(self, EventKind::AttemptEnded(_))
    }
}

impl FromStr for EventKind {
    type Err = UnknownName;

    /// The kind a stored or received name stands for.
    fn from_str(name: &str) -> Result<EventKind, UnknownName> {
        parse_name("event kind", &EventKind::ALL, EventKind::name, name)
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One event, before it gets its sequence number and time.
#[derive(Debug, Clone)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// The task it concerns.
    pub task: Option<String>,
    /// The attempt (fencing number) it concerns.
    pub attempt: Option<u64>,
    /// That attempt's number within its task, when the emitter knows it
    /// (else it is looked up when the event is written).
    pub number: Option<u32>,
    /// The agent it concerns.
    pub agent: Option<String>,
    /// Detail for people.
    pub message: String,
}

impl Event {
    /// An event of `kind` about nothing in particular.
    pub fn new(kind: EventKind) -> Event {
        Event {
            kind,
            task: None,
            attempt: None,
            number: None,
            agent: None,
            message: String::new(),
        }
    }

    /// About this task.
    pub fn task(mut self, id: impl Into<String>) -> Event {
        self.task = Some(id.into());
        self
    }

    /// About this attempt.
    pub fn attempt(mut self, attempt: u64) -> Event {
        self.attempt = Some(attempt);
        self
    }

    /// About the attempt with this number within its task.
    pub fn number(mut self, number: u32) -> Event {
        self.number = Some(number);
        self
    }

    /// About this agent.
    pub fn agent(mut self, id: impl Into<String>) -> Event {
        self.agent = Some(id.into());
        self
    }

    /// With this message.
    pub fn message(mut self, message: impl Into<String>) -> Event {
        self.message = message.into();
        self
    }
}

#[cfg(test)]
mod tests;
