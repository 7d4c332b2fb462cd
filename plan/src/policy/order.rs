//! The order ready tasks are offered in: [`ReadyKey`] (priority, guide,
//! upward rank, day, plan order) and, under the slack-aware order, every
//! task on the current critical path at the highest priority ready.
//!
//! The slack-aware rule: priority orders the tasks that have slack; a task
//! with none (its upward rank reaches the longest remaining chain, the
//! *horizon*, so any delay to it delays the whole plan) is not held back
//! behind a higher priority: it goes at the highest priority of a ready
//! task, where the plan's guide places it among that priority's tasks,
//! before those with slack at the same place. `strict` keeps every task at
//! its own priority.

use std::cmp::Reverse;
use std::collections::BTreeSet;
use std::fmt;
use std::ops::Bound;

use super::SOON_READY;
use std::str::FromStr;

/// Orders ready tasks: P0 first, then the longest remaining chain (upward
/// rank) first, then the earlier day, then the plan's own order. The
/// derived order compares the fields in the order they are declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReadyKey {
    /// 0 for P0: lower goes first.
    pub priority: u8,
    /// The task's place in the plan's guide order (see
    /// [`crate::simulate::guide`]): lower goes first; 0 for every task of a
    /// plan without one.
    pub guide: u32,
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
        guide: 0,
        rank: Reverse(rank_secs),
        day: day.unwrap_or(0),
        task: index,
    }
}

impl ReadyKey {
    /// The same key with the task's place in a guide order.
    pub fn guided(self, guide: u32) -> ReadyKey {
        ReadyKey { guide, ..self }
    }
}

/// A ready task keyed longest chain first, then by guide: the order a
/// second index of the ready tasks keeps so the critical ones are found
/// without a scan, in the order they go in.
pub type RankKey = (Reverse<u64>, u32, ReadyKey);

/// The rank-first key of a ready key.
pub fn rank_key(key: ReadyKey) -> RankKey {
    (key.rank, key.guide, key)
}

/// A plan's guide (see [`crate::simulate::guide`]): each task's place
/// among ready tasks of equal priority, and how much of its slack a
/// blocked task may spend before its reservation starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guide {
    /// One place per task, lower first; empty for none.
    pub place: Vec<u32>,
    /// Percent of its slack a reservation is delayed by: 100 by default.
    pub slack_pct: u64,
}

impl Default for Guide {
    fn default() -> Self {
        Guide {
            place: Vec::new(),
            slack_pct: 100,
        }
    }
}

impl Guide {
    /// Task `i`'s place (0 without a guide).
    pub fn place(&self, i: usize) -> u32 {
        self.place.get(i).copied().unwrap_or(0)
    }

    /// The part of `secs` of slack a reservation spends.
    pub fn slack(&self, secs: u64) -> u64 {
        if self.slack_pct == 100 {
            secs
        } else {
            secs.saturating_mul(self.slack_pct) / 100
        }
    }
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
    /// The highest priority (lowest level) of a ready task: a task
    /// without slack goes at this priority.
    top: u8,
}

/// Where a ready task goes in a round: its priority (raised to the top
/// one when it has no slack), its guide, critical before not, then its
/// key's rank, priority, day and plan order.
pub type SortKey = (u8, u32, bool, Reverse<u64>, u8, u32, usize);

impl DispatchOrder {
    /// The order when the longest remaining chain — the greatest upward
    /// rank of a ready task, or a running task's planned rest plus the
    /// longest chain after it — is `horizon` seconds, and the highest
    /// priority of a ready task is `top` (0 for P0).
    pub fn new(mode: PriorityOrder, horizon: u64, top: u8) -> Self {
        DispatchOrder {
            mode,
            cutoff: horizon.max(1),
            top,
        }
    }

    /// Whether the ready task goes at the top priority because it has no
    /// slack.
    pub fn critical(&self, key: &ReadyKey) -> bool {
        self.mode == PriorityOrder::Slack && key.rank.0 >= self.cutoff
    }

    /// Sorts like the order: tasks without slack at the top priority,
    /// then by guide, those without slack first, then the longest chain.
    pub fn sort_key(&self, key: &ReadyKey) -> SortKey {
        let critical = self.critical(key);
        (
            if critical { self.top } else { key.priority },
            key.guide,
            !critical,
            key.rank,
            key.priority,
            key.day,
            key.task,
        )
    }

    /// The ready tasks in this order, from the same set indexed twice: by
    /// [`ReadyKey`] and by [`RankKey`]. Lazy: taking the first few costs
    /// a few steps, not a pass over every ready task. Tasks without slack
    /// all have the longest rank, so they head the rank index in guide
    /// order; the others come in key order, found by skipping each
    /// (priority, guide) group's tasks without slack (which head it); the
    /// two merge.
    pub fn merge<'a>(
        self,
        by_key: &'a BTreeSet<ReadyKey>,
        by_rank: &'a BTreeSet<RankKey>,
    ) -> impl Iterator<Item = usize> + 'a {
        let first = (by_rank.iter())
            .take_while(move |(_, _, k)| self.critical(k))
            .map(|(_, _, k)| k);
        let mut from: Bound<ReadyKey> = Bound::Unbounded;
        let rest = std::iter::from_fn(move || loop {
            let k = *by_key.range((from, Bound::Unbounded)).next()?;
            if !self.critical(&k) {
                from = Bound::Excluded(k);
                return Some(k);
            }
            // Past the group's tasks without slack: ranks below the cutoff.
            from = Bound::Included(ReadyKey {
                priority: k.priority,
                guide: k.guide,
                rank: Reverse(self.cutoff - 1),
                day: 0,
                task: 0,
            });
        });
        let first = first.copied();
        merged(first, rest, move |k| self.sort_key(k)).map(|k| k.task)
    }

    /// The ready tasks (in this order) with the first [`SOON_READY`]
    /// soon-ready ones merged in, each with the seconds until it is ready
    /// (0 for the ready ones). Lazy over `ready`.
    pub fn with_soon_ready(
        self,
        ready: impl Iterator<Item = ReadyKey>,
        mut soon: Vec<(ReadyKey, u64)>,
    ) -> impl Iterator<Item = (ReadyKey, u64)> {
        if soon.len() > SOON_READY {
            soon.select_nth_unstable_by_key(SOON_READY, |(k, _)| self.sort_key(k));
            soon.truncate(SOON_READY);
        }
        soon.sort_unstable_by_key(|(k, _)| self.sort_key(k));
        let ready = ready.map(|k| (k, 0));
        merged(soon.into_iter(), ready, move |(k, _)| self.sort_key(k))
    }
}

/// Two streams, each in order of `key`, merged into one; `a` first on a
/// tie.
fn merged<T>(
    a: impl Iterator<Item = T>,
    b: impl Iterator<Item = T>,
    key: impl Fn(&T) -> SortKey,
) -> impl Iterator<Item = T> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    std::iter::from_fn(move || {
        let take_a = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => key(x) <= key(y),
            (x, _) => x.is_some(),
        };
        if take_a {
            a.next()
        } else {
            b.next()
        }
    })
}
