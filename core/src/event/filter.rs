//! Which events a follower wants: a kind, a family of kinds, or those that
//! end an attempt, parsed once where the filter enters the process.

use std::str::FromStr;

use super::EventKind;
use crate::model::{parse_name, UnknownName};

/// The family of an event kind: the part of its name before the dot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventFamily {
    /// `coordinator.*`.
    Coordinator,
    /// `plan.*`.
    Plan,
    /// `task.*`.
    Task,
    /// `attempt.*`.
    Attempt,
    /// `agent.*`.
    Agent,
    /// `checkpoint.*`.
    Checkpoint,
    /// `gate.*`.
    Gate,
    /// `memory.*`.
    Memory,
    /// `workspace.*`.
    Workspace,
    /// `budget.*`.
    Budget,
}

impl EventFamily {
    /// Every family.
    pub const ALL: [EventFamily; 10] = [
        EventFamily::Coordinator,
        EventFamily::Plan,
        EventFamily::Task,
        EventFamily::Attempt,
        EventFamily::Agent,
        EventFamily::Checkpoint,
        EventFamily::Gate,
        EventFamily::Memory,
        EventFamily::Workspace,
        EventFamily::Budget,
    ];

    /// The family's name, the prefix of its kinds' names.
    pub fn name(self) -> &'static str {
        match self {
            EventFamily::Coordinator => "coordinator",
            EventFamily::Plan => "plan",
            EventFamily::Task => "task",
            EventFamily::Attempt => "attempt",
            EventFamily::Agent => "agent",
            EventFamily::Checkpoint => "checkpoint",
            EventFamily::Gate => "gate",
            EventFamily::Memory => "memory",
            EventFamily::Workspace => "workspace",
            EventFamily::Budget => "budget",
        }
    }
}

impl EventKind {
    /// The family it belongs to.
    pub fn family(self) -> EventFamily {
        match self {
            EventKind::CoordinatorStarted | EventKind::CoordinatorStopping => {
                EventFamily::Coordinator
            }
            EventKind::PlanLoaded
            | EventKind::PlanPaused
            | EventKind::PlanResumed
            | EventKind::PlanRevised
            | EventKind::Plan(_) => EventFamily::Plan,
            EventKind::Task(_)
            | EventKind::TaskMerged
            | EventKind::TaskConflict
            | EventKind::TaskWaitingOperator => EventFamily::Task,
            EventKind::AttemptOffered
            | EventKind::AttemptStarted
            | EventKind::AttemptEnded(_)
            | EventKind::AttemptRejected
            | EventKind::AttemptCommitted => EventFamily::Attempt,
            EventKind::AgentConnected
            | EventKind::AgentReconnected
            | EventKind::AgentDisconnected
            | EventKind::AgentLost
            | EventKind::AgentGone
            | EventKind::AgentDraining
            | EventKind::AgentRoleSwitched
            | EventKind::AgentProvisioned
            | EventKind::AgentProvisionFailed => EventFamily::Agent,
            EventKind::CheckpointStarted | EventKind::CheckpointReported => EventFamily::Checkpoint,
            EventKind::GateOpened | EventKind::GateWaiting => EventFamily::Gate,
            EventKind::MemoryReconciled
            | EventKind::MemoryRebuilt
            | EventKind::MemoryUnavailable
            | EventKind::MemoryAvailable => EventFamily::Memory,
            EventKind::WorkspaceOpened | EventKind::WorkspaceFailed => EventFamily::Workspace,
            EventKind::BudgetWarning | EventKind::BudgetReached | EventKind::BudgetSet => {
                EventFamily::Budget
            }
        }
    }
}

/// Which events a follower wants: one kind, a family of kinds, or those
/// that end an attempt. Parsed once where the filter enters the process;
/// an event's stored kind is compared with the names the kinds make, never
/// read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindFilter {
    /// Exactly this kind (`task.failed`).
    Kind(EventKind),
    /// Every kind of this family (`task`).
    Family(EventFamily),
    /// The kinds that end an attempt (`attempt.succeeded`, …).
    EndsAttempt,
}

impl KindFilter {
    /// Whether an event whose stored kind is `name` passes.
    pub fn passes(self, name: &str) -> bool {
        let of = |k: &EventKind| k.name() == name;
        match self {
            KindFilter::Kind(kind) => kind.name() == name,
            KindFilter::Family(family) => EventKind::ALL
                .iter()
                .filter(|k| k.family() == family)
                .any(of),
            KindFilter::EndsAttempt => EventKind::ALL.iter().filter(|k| k.ends_attempt()).any(of),
        }
    }
}

impl FromStr for KindFilter {
    type Err = UnknownName;

    /// A kind (`task.failed`) or a family (`task`).
    fn from_str(value: &str) -> Result<KindFilter, UnknownName> {
        if let Ok(kind) = value.parse() {
            return Ok(KindFilter::Kind(kind));
        }
        parse_name("event family", &EventFamily::ALL, EventFamily::name, value)
            .map(KindFilter::Family)
            .map_err(|mut e| {
                e.what = "event kind or family";
                e.valid.extend(EventKind::ALL.iter().map(|k| k.name()));
                e
            })
    }
}
