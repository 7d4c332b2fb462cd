//! The checkpoints of a plan's day, the next one due, and where the last
//! one left off.

/// A checkpoint of the plan's day: its name and minute of the day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointTime {
    /// "Daily Standup", "Mid-Day Check", ...
    pub name: String,
    /// Minutes after midnight on the plan clock.
    pub minute: u16,
}

/// The next checkpoint due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextCheckpoint {
    /// Plan time it is due at, ms.
    pub at: i64,
    /// Index into [`ActivePlan::checkpoints`].
    pub index: usize,
}

/// Where the last checkpoint left off, so the next report covers what
/// came after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointMark {
    /// Plan time of the last checkpoint, ms.
    pub plan_time: i64,
    /// The last event sequence number before it.
    pub event_seq: u64,
}

/// The seed's three checkpoints, for plans whose Coordination Protocol
/// names none.
pub(super) const DEFAULT_CHECKPOINTS: [(&str, u16); 3] = [
    ("Daily Standup", 540),
    ("Mid-Day Check", 780),
    ("End-of-Day Review", 1020),
];
