//! What a round offers the policy: the ready tasks that can change its
//! outcome, in the dispatch order, and the role demand of ready and
//! soon-ready work.

use std::cmp::Reverse;

use super::state::Sim;
use crate::policy::{DispatchOrder, ReadyKey, RoleDemand};

impl Sim<'_> {
    /// The longest remaining chain at `t`: the greatest upward rank of a
    /// ready task, or a running task's planned rest plus the longest chain
    /// after it.
    fn horizon(&self, t: u64) -> u64 {
        let ready = (self.live.iter())
            .filter_map(|&s| self.sigs[s].by_rank.first().map(|(r, _, _)| r.0))
            .max()
            .unwrap_or(0);
        let running = (self.running_tail.last()).map_or(0, |&(end, _)| end.saturating_sub(t));
        ready.max(running)
    }

    /// Ready tasks that can change this round's outcome, in dispatch order,
    /// each with its slack (the horizon less its upward rank).
    ///
    /// Of one demand at most `k` can start, `k` being how many of it the
    /// free agents could staff at once. When `k` is 0 none starts and only
    /// the first in dispatch order can reserve anything. Otherwise, of one
    /// demand and one planned duration, once one cannot start (nor end
    /// before a reservation) none after it can, nor reserve anything more:
    /// the first `k + 1` in dispatch order decide, and the first `k + 1` by
    /// key and the first `k + 1` by rank hold them.
    pub(super) fn candidates(&self, t: u64) -> Vec<(usize, u64, u64)> {
        let horizon = self.horizon(t);
        let top = (self.live.iter())
            .filter_map(|&s| self.sigs[s].queue.first().map(|k| k.priority))
            .min()
            .unwrap_or(0);
        let order = DispatchOrder::new(self.order, horizon, top);
        let total_free: u64 = self.free.iter().map(|&f| u64::from(f)).sum();
        let total_pool: u64 = self.pool.iter().map(|&p| u64::from(p)).sum();
        let mut out: Vec<ReadyKey> = Vec::new();
        for &s in &self.live {
            let sig = &self.sigs[s];
            let d = &sig.demand;
            let staffable = d.total() > 0
                && d.total() <= total_pool
                && d.specific.iter().all(|&(r, c)| self.pool[r] >= c);
            if self.prune && !staffable {
                continue;
            }
            if !self.prune {
                out.extend(sig.queue.iter());
                continue;
            }
            let k = if d.monitoring {
                // One agent each; the leftovers join at the end of the round.
                total_free
            } else {
                d.specific
                    .iter()
                    .map(|&(r, c)| u64::from(self.free[r] / c.max(1)))
                    .chain([total_free / d.total().max(1)])
                    .min()
                    .unwrap_or(0)
            };
            if k == 0 {
                let first = (sig.queue.first().into_iter())
                    .chain(sig.by_rank.first().map(|(_, _, key)| key))
                    .min_by_key(|key| order.sort_key(key));
                out.extend(first);
                continue;
            }
            let take = usize::try_from(k + 1).unwrap_or(usize::MAX);
            let from = out.len();
            for (by_key, by_rank) in sig.by_secs.values() {
                out.extend(by_key.iter().take(take));
                out.extend(by_rank.iter().take(take).map(|(_, _, key)| key));
            }
            out[from..].sort_unstable();
            let mut kept = from;
            for i in from..out.len() {
                if i == from || out[i] != out[kept - 1] {
                    out[kept] = out[i];
                    kept += 1;
                }
            }
            out.truncate(kept);
        }
        out.sort_unstable_by_key(|k| order.sort_key(k));
        (order.with_soon_ready(out.into_iter(), self.soon_ready(t)))
            .map(|(k, ready_in)| {
                let slack = horizon.saturating_sub(k.rank.0.saturating_add(ready_in));
                let slack = slack.saturating_mul(self.slack_pct) / 100;
                (k.task, slack, ready_in)
            })
            .collect()
    }

    /// The soon-ready tasks (their last dependency is running and planned
    /// to end later), each with the seconds until it is ready; none under
    /// unlimited staffing, where nothing waits for an agent.
    fn soon_ready(&self, t: u64) -> Vec<(ReadyKey, u64)> {
        if self.elastic {
            return Vec::new();
        }
        let mut soon: Vec<(ReadyKey, u64)> = Vec::new();
        for &Reverse((end, r)) in self.running.iter() {
            if end <= t {
                continue;
            }
            for &d in &self.plan.tasks[r].dependents {
                if self.missing[d] == 1 {
                    soon.push((self.keys[d], end - t));
                }
            }
        }
        soon
    }

    /// The ready tasks' role demand plus that of the tasks that become
    /// ready when a running task ends (it is their last dependency left).
    pub(super) fn demand(&self) -> RoleDemand {
        let mut demand = self.ready_demand.clone();
        for r in self.running.iter() {
            for &d in &self.plan.tasks[r.0 .1].dependents {
                if self.missing[d] == 1 {
                    demand.add(&self.plan.tasks[d].need, self.rank[d]);
                }
            }
        }
        demand
    }
}
