//! Pool limits (`[pool.NAME] concurrency, per_minute`) at dispatch: a
//! task's pool is its plan's `**Pool**`, else its role profile's `pool`,
//! else the config's `default_pool`; each member of an attempt that runs the task counts
//! once against it. Candidates whose pool has no room (paused, at its
//! concurrency, or at its rate for the last minute) are left out, and a
//! round's placements past a pool's room are dropped before anything is
//! committed, so no pool ever runs more than its concurrency nor starts
//! more than its rate. A spent budget holds tasks the same way
//! (`budget.rs`).

use std::collections::{HashMap, VecDeque};

use swarm_plan::simulate::{ApiPools, PoolLimit};
use swarm_plan::{Gang, Need};

use crate::attempts::Member;
use crate::State;

/// The window of `per_minute`, ms.
const MINUTE_MS: i64 = 60_000;

/// What may start, decided once per dispatch.
pub(crate) struct Gate {
    /// Members each limited pool may still start.
    room: HashMap<String, u32>,
    /// The spent budgets that hold tasks.
    budgets: crate::budget::BudgetHold,
}

/// When each pool's recent starts happened (one entry per member that
/// runs), oldest first, pruned to the last minute.
#[derive(Debug, Default)]
pub(crate) struct Starts {
    by_pool: HashMap<String, VecDeque<i64>>,
}

impl Starts {
    /// Starts of `pool` within the minute before `now`.
    fn within(&mut self, pool: &str, now: i64) -> u32 {
        let Some(q) = self.by_pool.get_mut(pool) else {
            return 0;
        };
        while q.front().is_some_and(|&at| at <= now - MINUTE_MS) {
            q.pop_front();
        }
        q.len() as u32
    }

    /// `n` starts of `pool` at `now`.
    fn record(&mut self, pool: &str, now: i64, n: u32) {
        let q = self.by_pool.entry(pool.to_string()).or_default();
        q.extend(std::iter::repeat_n(now, n as usize));
    }
}

impl State {
    /// The pool task `task` draws on: the plan's, else its (first)
    /// role's profile's, else the config's default.
    pub(crate) fn pool_of(&self, task: usize) -> &str {
        let Some(plan) = self.plan.as_ref() else {
            return &self.cfg.default_pool;
        };
        if let Some(pool) = plan.spec(task).pool.as_deref() {
            return pool;
        }
        let role = match &plan.compiled().tasks[task].need {
            Need::Roles(roles) => roles.first().map(String::as_str),
            Need::Swarm { .. } | Need::Monitoring => None,
        };
        role.and_then(|r| self.profiles.pool_of(r))
            .unwrap_or(&self.cfg.default_pool)
    }

    /// The pools of `rest` (a residual of the plan, its tasks' own
    /// `**Pool**` kept) for a simulation: by the same rule as
    /// [`State::pool_of`], with the configured limits.
    pub(crate) fn api_pools(&self, rest: &swarm_plan::CompiledPlan) -> ApiPools {
        let limits = (self.cfg.pools.iter())
            .map(|(name, l)| {
                let limit = PoolLimit {
                    concurrency: l.concurrency,
                    per_minute: l.per_minute,
                };
                (name.clone(), limit)
            })
            .collect();
        let profile = |role: &str| self.profiles.pool_of(role).map(str::to_string);
        let pools = ApiPools::new(rest, &limits, profile, &self.cfg.default_pool);
        // `per_minute` counts wall-clock minutes; the simulation runs on
        // plan time.
        match self.plan.as_ref() {
            Some(plan) => pools.with_minute((plan.clock().scale(MINUTE_MS) / 1000).max(1) as u64),
            None => pools,
        }
    }

    /// How many members of task `task`'s attempt would run it (at least).
    fn runners_of(&self, task: usize) -> u32 {
        let Some(plan) = self.plan.as_ref() else {
            return 1;
        };
        match (&plan.compiled().tasks[task].need, plan.spec(task).gang) {
            (Need::Roles(roles), Gang::All) => roles.len().max(1) as u32,
            (Need::Swarm { min, .. }, Gang::All) => (*min).max(1),
            (Need::Roles(_) | Need::Swarm { .. } | Need::Monitoring, _) => 1,
        }
    }

    /// What may start at `now`, decided once per dispatch: each limited
    /// pool's room and the budgets that hold tasks.
    pub(crate) fn start_gate(&mut self, now: i64) -> Gate {
        Gate {
            room: self.pool_room(now),
            budgets: self.budget_hold(now),
        }
    }

    /// Members each limited pool may still start at `now`.
    fn pool_room(&mut self, now: i64) -> HashMap<String, u32> {
        let mut executing: HashMap<String, u32> = HashMap::new();
        for a in self.attempts.iter() {
            *executing
                .entry(self.pool_of(a.task).to_string())
                .or_default() += a.runners() as u32;
        }
        let mut room = HashMap::new();
        for (name, limits) in &self.cfg.pools {
            let mut left = u32::MAX;
            if let Some(c) = limits.concurrency {
                left = left.min(c.saturating_sub(executing.get(name).copied().unwrap_or(0)));
            }
            if let Some(r) = limits.per_minute {
                left = left.min(r.saturating_sub(self.pools.starts.within(name, now)));
            }
            room.insert(name.clone(), left);
        }
        room
    }

    /// Whether task `task` may be placed: no spent budget holds it, and
    /// its pool is not paused and has room for its runners.
    pub(crate) fn may_start(&self, task: usize, now: i64, gate: &Gate) -> bool {
        let pool = self.pool_of(task);
        !gate
            .budgets
            .holds(self.plan.as_ref().map(|p| &p.compiled().tasks[task].need))
            && !self.pool_paused(task, now)
            && (gate.room.get(pool)).is_none_or(|&left| left >= self.runners_of(task))
    }

    /// The placements of a round that fit their pools' room, in order;
    /// their starts are counted.
    pub(crate) fn within_pools(
        &mut self,
        placements: Vec<(usize, Vec<Member>)>,
        gate: Gate,
        now: i64,
    ) -> Vec<(usize, Vec<Member>)> {
        let mut room = gate.room;
        let mut kept = Vec::with_capacity(placements.len());
        for (task, members) in placements {
            let runs = match self.plan.as_ref().map(|p| p.spec(task).gang) {
                Some(Gang::Lead) => 1,
                _ => members.len() as u32,
            };
            let pool = self.pool_of(task).to_string();
            if let Some(left) = room.get_mut(&pool) {
                if *left < runs {
                    continue;
                }
                *left -= runs;
            }
            self.pools.starts.record(&pool, now, runs);
            kept.push((task, members));
        }
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_count_for_a_minute() {
        let mut s = Starts::default();
        s.record("api", 0, 2);
        s.record("api", 30_000, 1);
        assert_eq!(s.within("api", 59_999), 3);
        assert_eq!(s.within("api", 60_000), 1);
        assert_eq!(s.within("api", 90_000), 0);
        assert_eq!(s.within("other", 0), 0);
    }
}
