//! The ready queue as the placement policy reads it: the ready tasks
//! indexed by [`ReadyKey`] and longest chain first, their rank-weighted
//! role demand, and the running tasks (for the horizon, the soon-ready
//! demand and the agents' planned ends).
//!
//! Invariants, kept by [`ActivePlan::set_state`] and `finish_restore`
//! (the only callers of the changing methods): `by_key` and `by_rank`
//! hold the same tasks, exactly those `Ready`; `demand` is what they add
//! up to; `running` holds exactly the tasks `Running`.

use std::collections::BTreeSet;

use swarm_plan::policy::{
    rank_key, DispatchOrder, Guide, PriorityOrder, RankKey, ReadyKey, RoleDemand,
};
use swarm_plan::Need;

use super::ActivePlan;
use crate::model::TaskState;

/// Ready and running tasks. See the module doc for its invariants.
#[derive(Debug, Default)]
pub(super) struct ReadyQueue {
    by_key: BTreeSet<ReadyKey>,
    by_rank: BTreeSet<RankKey>,
    demand: RoleDemand,
    running: BTreeSet<usize>,
    /// Keys inserted since [`ReadyQueue::begin_batch`], not indexed yet.
    batch: Option<Vec<ReadyKey>>,
}

impl ReadyQueue {
    pub(super) fn insert(&mut self, key: ReadyKey, need: &Need) {
        if let Some(batch) = &mut self.batch {
            batch.push(key);
            self.demand.add(need, key.rank.0);
        } else if self.by_key.insert(key) {
            self.by_rank.insert(rank_key(key));
            self.demand.add(need, key.rank.0);
        }
    }

    pub(super) fn remove(&mut self, key: ReadyKey, need: &Need) {
        self.end_batch();
        if self.by_key.remove(&key) {
            self.by_rank.remove(&rank_key(key));
            self.demand.remove(need, key.rank.0);
        }
    }

    /// Task `i` moves from state `old` to `new`: keeps `running`.
    pub(super) fn track(&mut self, i: usize, old: TaskState, new: TaskState) {
        if old == TaskState::Running {
            self.running.remove(&i);
        }
        if new == TaskState::Running {
            self.running.insert(i);
        }
    }

    /// Collects the keys inserted from now on and indexes them all at once
    /// at [`ReadyQueue::end_batch`] (or the next removal): B-trees built in
    /// bulk have full nodes, where keys inserted one by one in ascending
    /// order (a plan's tasks readied at its load, in plan order) leave every
    /// node about half full, about 70 MB more for a million ready tasks.
    /// Each key inserted in a batch must be new (a task becomes ready once).
    pub(super) fn begin_batch(&mut self) {
        self.batch.get_or_insert_with(Vec::new);
    }

    /// Indexes the keys of the batch, if one is open, and closes it.
    pub(super) fn end_batch(&mut self) {
        let Some(keys) = self.batch.take() else {
            return;
        };
        let mut by_rank: BTreeSet<RankKey> = keys.iter().map(|&k| rank_key(k)).collect();
        let mut by_key: BTreeSet<ReadyKey> = keys.into_iter().collect();
        self.by_rank.append(&mut by_rank);
        self.by_key.append(&mut by_key);
    }

    pub(super) fn clear(&mut self) {
        *self = ReadyQueue::default();
    }

    pub(super) fn is_empty(&self) -> bool {
        debug_assert!(self.batch.is_none(), "the ready queue is read mid-batch");
        self.by_key.is_empty()
    }

    pub(super) fn tasks(&self) -> impl Iterator<Item = usize> + '_ {
        debug_assert!(self.batch.is_none(), "the ready queue is read mid-batch");
        self.by_key.iter().map(|k| k.task)
    }
}

impl ActivePlan {
    /// The guide dispatch follows.
    pub fn guide(&self) -> &Guide {
        &self.guide
    }

    /// Dispatches by this guide from now on: the ready tasks are keyed
    /// again.
    pub fn set_guide(&mut self, guide: Guide) {
        let ready: Vec<usize> = self.ready.tasks().collect();
        for &i in &ready {
            let key = self.key(i);
            self.ready.remove(key, &self.compiled.tasks[i].need);
        }
        self.guide = guide;
        for &i in &ready {
            let key = self.key(i);
            self.ready.insert(key, &self.compiled.tasks[i].need);
        }
    }

    /// Planned seconds of running task `i` still to go at wall time `now`
    /// (0 once overdue), on the plan clock, counting the second it is in:
    /// always less than its planned duration, so a task backfilled before
    /// a reservation is shorter than the one it waits behind, and a chain
    /// of backfills, however early real tasks end, reaches the
    /// reservation.
    pub fn planned_rest(&self, i: usize, now: i64) -> u64 {
        let planned = self.compiled.plan.tasks[i].duration.secs();
        let since = self.tasks[i].updated_at;
        let elapsed_ms = (self.clock.plan_at(now) - self.clock.plan_at(since)).max(0);
        planned.saturating_sub((elapsed_ms / 1000) as u64 + 1)
    }

    /// The ready tasks in dispatch order under `mode` at wall time `now`,
    /// each with its slack in seconds (as much of it as the guide
    /// spends) and 0, merged with the first [`SOON_READY`] soon-ready
    /// tasks (the last dependency running, not overdue) with the seconds
    /// until that is planned to end; and the rank-weighted role demand of
    /// the ready and soon-ready tasks. Lazy over the ready tasks: taking
    /// the first few costs a few steps.
    pub fn dispatch_order(
        &self,
        mode: PriorityOrder,
        now: i64,
    ) -> (impl Iterator<Item = (usize, u64, u64)> + '_, RoleDemand) {
        let q = &self.ready;
        let rank = &self.analysis.rank;
        let tail = |i: usize| {
            (self.compiled.tasks[i].dependents.iter())
                .map(|&d| rank[d])
                .max()
                .unwrap_or(0)
        };
        let running = (q.running.iter())
            .map(|&i| self.planned_rest(i, now).saturating_add(tail(i)))
            .max()
            .unwrap_or(0);
        let ready = q.by_rank.first().map_or(0, |(r, _, _)| r.0);
        let horizon = running.max(ready);
        let top = q.by_key.first().map_or(0, |k| k.priority);
        let order = DispatchOrder::new(mode, horizon, top);
        let mut demand = q.demand.clone();
        let mut soon: Vec<(ReadyKey, u64)> = Vec::new();
        for &r in &q.running {
            let rest = self.planned_rest(r, now);
            for &d in &self.compiled.tasks[r].dependents {
                if self.tasks[d].deps_left == 1 {
                    demand.add(&self.compiled.tasks[d].need, rank[d]);
                    if rest > 0 && self.tasks[d].state == TaskState::Pending {
                        soon.push((self.key(d), rest));
                    }
                }
            }
        }
        let ready = order.merge(&q.by_key, &q.by_rank).map(|i| self.key(i));
        let guide = &self.guide;
        let tasks = (order.with_soon_ready(ready, soon)).map(move |(k, ready_in)| {
            let slack = horizon.saturating_sub(rank[k.task].saturating_add(ready_in));
            (k.task, guide.slack(slack), ready_in)
        });
        (tasks, demand)
    }
}
