//! The order ready tasks are offered in: [`ReadyKey`] (priority, upward
//! rank, day, plan order) and, under the slack-aware order, every task on
//! the current critical path first.
//!
//! The slack-aware rule: priority orders the tasks that have slack; a task
//! with none (its upward rank reaches the longest remaining chain, the
//! *horizon*, so any delay to it delays the whole plan) goes before every
//! task that has some, whatever their priorities. Among themselves critical
//! tasks go longest chain first, then by key. `strict` keeps priority
//! first for every task.

use std::cmp::Reverse;
use std::fmt;
use std::str::FromStr;

/// Orders ready tasks: P0 first, then the longest remaining chain (upward
/// rank) first, then the earlier day, then the plan's own order. The
/// derived order compares the fields in the order they are declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReadyKey {
    /// 0 for P0: lower goes first.
    pub priority: u8,
    /// Upward rank in seconds, reversed so the longer chain goes first.
    pub rank: Reverse<u64>,
    /// Planned day (0 when the plan has no days).
    pub day: u32,
    /// The task's index in the plan.
    pub task: usize,
}

/// The ordering key of a ready task.
pub fn ready_key(priority_level: u8, rank_secs: u64, day: Option<u32>, index: usize) -> ReadyKey {
    ReadyKey {
        priority: priority_level,
        rank: Reverse(rank_secs),
        day: day.unwrap_or(0),
        task: index,
    }
}

/// A ready task keyed longest chain first: the order a second index of the
/// ready tasks keeps so the critical ones are found without a scan.
pub type RankKey = (Reverse<u64>, ReadyKey);

/// The rank-first key of a ready key.
pub fn rank_key(key: ReadyKey) -> RankKey {
    (key.rank, key)
}

/// How priority and the critical path combine (`priority` in the
/// coordinator's config, `--priority` of `swarmctl plan simulate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PriorityOrder {
    /// Tasks without slack first, then priority: the default.
    #[default]
    Slack,
    /// Priority first for every task, then the longest chain.
    Strict,
}

impl PriorityOrder {
    /// The names accepted, for error messages.
    pub const NAMES: &'static str = "slack or strict";
}

impl fmt::Display for PriorityOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PriorityOrder::Slack => "slack",
            PriorityOrder::Strict => "strict",
        })
    }
}

/// A priority order name that is neither `slack` nor `strict`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown priority order '{0}'; the orders are {names}", names = PriorityOrder::NAMES)]
pub struct UnknownOrder(pub String);

impl FromStr for PriorityOrder {
    type Err = UnknownOrder;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "slack" => Ok(PriorityOrder::Slack),
            "strict" => Ok(PriorityOrder::Strict),
            _ => Err(UnknownOrder(s.to_string())),
        }
    }
}

/// The order of one placement round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DispatchOrder {
    mode: PriorityOrder,
    /// Ranks at or above this have no slack.
    cutoff: u64,
}

impl DispatchOrder {
    /// The order when the longest remaining chain — the greatest upward
    /// rank of a ready task, or a running task's planned rest plus the
    /// longest chain after it — is `horizon` seconds.
    pub fn new(mode: PriorityOrder, horizon: u64) -> Self {
        DispatchOrder {
            mode,
            cutoff: horizon.max(1),
        }
    }

    /// Whether the ready task goes first because it has no slack.
    pub fn critical(&self, key: &ReadyKey) -> bool {
        self.mode == PriorityOrder::Slack && key.rank.0 >= self.cutoff
    }

    /// Sorts like the order: critical tasks, longest chain first, then
    /// the rest by key.
    pub fn sort_key(&self, key: &ReadyKey) -> (bool, Reverse<u64>, ReadyKey) {
        let critical = self.critical(key);
        (
            !critical,
            Reverse(if critical { key.rank.0 } else { 0 }),
            *key,
        )
    }

    /// The ready tasks in this order, from the same set indexed twice: by
    /// [`ReadyKey`] and by [`RankKey`]. Lazy: taking the first few costs
    /// a few steps, not a pass over every ready task.
    pub fn merge<'a>(
        self,
        by_key: impl Iterator<Item = &'a ReadyKey> + 'a,
        by_rank: impl Iterator<Item = &'a RankKey> + 'a,
    ) -> impl Iterator<Item = usize> + 'a {
        let first = by_rank
            .take_while(move |(_, k)| self.critical(k))
            .map(|(_, k)| k.task);
        let rest = by_key.filter(move |k| !self.critical(k)).map(|k| k.task);
        first.chain(rest)
    }
}
