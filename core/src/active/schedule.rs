//! The checkpoints of a plan's day, the next one due, and where the last
//! one left off.

use super::ActivePlan;

impl ActivePlan {
    /// The plan's checkpoints of a day.
    pub fn checkpoints(&self) -> &[CheckpointTime] {
        &self.checkpoints
    }

    /// The next checkpoint due.
    pub fn next_checkpoint(&self) -> Option<NextCheckpoint> {
        self.next_checkpoint
    }

    /// The first checkpoint after `plan_time`.
    pub(super) fn schedule_after(&self, plan_time: i64) -> Option<NextCheckpoint> {
        let times: Vec<u16> = self.checkpoints.iter().map(|c| c.minute).collect();
        self.clock
            .next_checkpoint(plan_time, &times)
            .map(|(at, index)| NextCheckpoint { at, index })
    }

    /// A checkpoint ran at `plan_time` after event `event_seq`: schedules
    /// the next one and returns where the previous one left off.
    pub fn mark_checkpoint(&mut self, plan_time: i64, event_seq: u64) -> CheckpointMark {
        let since = self.last_checkpoint;
        self.last_checkpoint = CheckpointMark {
            plan_time,
            event_seq,
        };
        self.next_checkpoint = self.schedule_after(plan_time.max(since.plan_time));
        since
    }
}

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
