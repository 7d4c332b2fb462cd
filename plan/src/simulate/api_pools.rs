//! Pools of a rate-limited API in a simulated run, held exactly as the
//! coordinator's dispatch holds them (`core/src/pools/limits.rs`): a
//! task's pool is its plan's `**Pool**`, else its first role's profile
//! pool, else the default pool; each member that runs an attempt counts
//! once against it (every member of a `gang = all` task, the lead alone
//! of a `gang = lead` one). A round first leaves out the candidates whose
//! pool has no room for the agents they start with (at its concurrency,
//! or at its rate for the last minute), then drops the placements past a
//! pool's room, in order.
//!
//! Invariants: a pool's `running` is the sum of the charges of its
//! running tasks; `starts` holds one entry per member started in the
//! last minute (of wall-clock time, in plan seconds: 60 unless the plan
//! clock runs faster), oldest first.

use std::collections::{BTreeMap, VecDeque};

use crate::compile::{CompiledPlan, Need};
use crate::model::Gang;
use crate::policy::Placement;

/// The window of `per_minute`, seconds of plan time when plan time runs
/// as fast as the wall clock.
const MINUTE_SECS: u64 = 60;

/// One pool's limits; `None` is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolLimit {
    /// Members of the pool's attempts executing at once.
    pub concurrency: Option<u32>,
    /// Members of the pool's attempts started per minute.
    pub per_minute: Option<u32>,
}

/// Which pool each task draws on and the limits of the limited pools.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiPools {
    /// Names of the limited pools, indexed like `limits`.
    names: Vec<String>,
    limits: Vec<PoolLimit>,
    /// Per task, its limited pool (an index into `names`); `None` when
    /// its pool has no limit.
    of_task: Vec<Option<usize>>,
    /// A wall-clock minute in seconds of plan time (0: [`MINUTE_SECS`]).
    minute_secs: u64,
}

impl ApiPools {
    /// No pool limits anything.
    pub fn none() -> ApiPools {
        ApiPools::default()
    }

    /// Each task's pool by the coordinator's rule: the plan's `**Pool**`,
    /// else `profile_pool` of its first role, else `default_pool`. Pools
    /// with neither limit are left out.
    pub fn new(
        plan: &CompiledPlan,
        limits: &BTreeMap<String, PoolLimit>,
        profile_pool: impl Fn(&str) -> Option<String>,
        default_pool: &str,
    ) -> ApiPools {
        let limited: Vec<(&String, &PoolLimit)> = (limits.iter())
            .filter(|(_, l)| l.concurrency.is_some() || l.per_minute.is_some())
            .collect();
        let of_task = (plan.plan.tasks.iter().zip(&plan.tasks))
            .map(|(spec, compiled)| {
                let role = match &compiled.need {
                    Need::Roles(roles) => roles.first().map(String::as_str),
                    Need::Swarm { .. } | Need::Monitoring => None,
                };
                let name = (spec.pool.clone())
                    .or_else(|| role.and_then(&profile_pool))
                    .unwrap_or_else(|| default_pool.to_string());
                limited.iter().position(|(n, _)| **n == name)
            })
            .collect();
        ApiPools {
            names: limited.iter().map(|(n, _)| (*n).clone()).collect(),
            limits: limited.iter().map(|(_, l)| **l).collect(),
            of_task,
            minute_secs: MINUTE_SECS,
        }
    }

    /// The same pools where a wall-clock minute, the window of
    /// `per_minute`, lasts `secs` of plan time (a plan clock running
    /// faster than the wall clock); at least 1.
    pub fn with_minute(mut self, secs: u64) -> ApiPools {
        self.minute_secs = secs.max(1);
        self
    }

    fn minute(&self) -> u64 {
        if self.minute_secs == 0 {
            MINUTE_SECS
        } else {
            self.minute_secs
        }
    }

    /// Whether some task draws on a limited pool.
    pub fn in_play(&self) -> bool {
        self.of_task.iter().any(Option::is_some)
    }

    /// The limited pool task `task` draws on, by name.
    pub fn pool_of(&self, task: usize) -> Option<&str> {
        let id = self.of_task.get(task).copied().flatten()?;
        self.names.get(id).map(String::as_str)
    }

    /// The limited pools, by name.
    pub fn limits(&self) -> impl Iterator<Item = (&str, PoolLimit)> {
        self.names
            .iter()
            .map(String::as_str)
            .zip(self.limits.iter().copied())
    }
}

/// One pool over a simulated run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolUse {
    /// Its limits.
    pub limit: PoolLimit,
    /// Most members of its attempts executing at once.
    pub peak: u32,
    /// Members started in all.
    pub starts: u64,
    /// Task-seconds ready tasks waited for its room.
    pub waiting_secs: u64,
}

/// A simulated run's pools: what runs and what started lately.
#[derive(Debug, Default)]
pub(super) struct PoolState {
    pools: ApiPools,
    running: Vec<u32>,
    starts: Vec<VecDeque<u64>>,
    /// What each running task counts against its pool.
    charge: Vec<u32>,
    /// Per pool, how many ready tasks its room holds since the last
    /// round.
    held: Vec<u64>,
    /// The ready tasks the round in progress leaves to their pool's room
    /// (unlimited staffing makes no agent for them).
    held_tasks: Vec<usize>,
    /// Per pool, what the run did.
    uses: Vec<PoolUse>,
}

impl PoolState {
    pub(super) fn new(pools: &ApiPools, tasks: usize) -> PoolState {
        let n = pools.names.len();
        PoolState {
            pools: pools.clone(),
            running: vec![0; n],
            starts: vec![VecDeque::new(); n],
            charge: vec![0; tasks],
            held: vec![0; n],
            held_tasks: Vec::new(),
            uses: (pools.limits.iter())
                .map(|&limit| PoolUse {
                    limit,
                    ..PoolUse::default()
                })
                .collect(),
        }
    }

    pub(super) fn in_play(&self) -> bool {
        self.pools.in_play()
    }

    fn pool(&self, task: usize) -> Option<usize> {
        self.pools.of_task.get(task).copied().flatten()
    }

    /// Members each pool may still start at `t`.
    pub(super) fn room(&mut self, t: u64) -> Vec<u32> {
        let mut room = Vec::with_capacity(self.running.len());
        let minute = self.pools.minute();
        for (p, limit) in self.pools.limits.iter().enumerate() {
            let q = &mut self.starts[p];
            while q.front().is_some_and(|&at| at + minute <= t) {
                q.pop_front();
            }
            let mut left = u32::MAX;
            if let Some(c) = limit.concurrency {
                left = left.min(c.saturating_sub(self.running[p]));
            }
            if let Some(r) = limit.per_minute {
                left = left.min(r.saturating_sub(q.len() as u32));
            }
            room.push(left);
        }
        room
    }

    /// Whether task `task` (starting with `runners` members) fits `room`,
    /// each candidate on its own as dispatch decides; a ready one that
    /// does not is counted as held by its pool. `taken` tallies the
    /// members of the admitted ones: a ready task past its pool's room
    /// that way is admitted but noted among the held tasks, for which
    /// unlimited staffing makes no agent.
    pub(super) fn admits(
        &mut self,
        task: usize,
        runners: u32,
        room: &[u32],
        taken: &mut [u32],
        ready: bool,
    ) -> bool {
        let Some(p) = self.pool(task) else {
            return true;
        };
        let fits = room[p] >= runners;
        if ready {
            taken[p] = taken[p].saturating_add(runners);
            if taken[p] > room[p] {
                self.held_tasks.push(task);
            }
        }
        fits
    }

    /// The placements that fit their pools' room, in order, charged and
    /// counted as started at `t`, and how many were dropped (they count
    /// as held).
    pub(super) fn within(
        &mut self,
        placements: Vec<Placement>,
        gangs: impl Fn(usize) -> Gang,
        mut room: Vec<u32>,
        t: u64,
    ) -> (Vec<Placement>, usize) {
        let mut kept = Vec::with_capacity(placements.len());
        let mut dropped = 0;
        for p in placements {
            let runs = match gangs(p.task) {
                Gang::Lead => 1,
                Gang::All => p.agents.len() as u32,
            };
            if let Some(id) = self.pool(p.task) {
                if room[id] < runs {
                    dropped += 1;
                    if !self.held_tasks.contains(&p.task) {
                        self.held_tasks.push(p.task);
                    }
                    continue;
                }
                room[id] -= runs;
                self.running[id] += runs;
                self.charge[p.task] = runs;
                self.starts[id].extend(std::iter::repeat_n(t, runs as usize));
                let u = &mut self.uses[id];
                u.peak = u.peak.max(self.running[id]);
                u.starts += u64::from(runs);
            }
            kept.push(p);
        }
        (kept, dropped)
    }

    /// A new round: nothing held yet.
    pub(super) fn clear_held(&mut self) {
        self.held_tasks.clear();
    }

    /// After a round at `t`: per pool, how many of these ready tasks
    /// (task, members it starts with) its room holds until the next
    /// event.
    /// Returns those tasks.
    pub(super) fn count_held(
        &mut self,
        t: u64,
        ready: impl Iterator<Item = (usize, u32)>,
    ) -> Vec<usize> {
        let room = self.room(t);
        self.held.iter_mut().for_each(|h| *h = 0);
        let mut tasks = Vec::new();
        for (task, runners) in ready {
            if let Some(p) = self.pool(task).filter(|&p| room[p] < runners) {
                self.held[p] += 1;
                tasks.push(task);
            }
        }
        tasks
    }

    /// The ready tasks the last round held back.
    pub(super) fn held_tasks(&self) -> &[usize] {
        &self.held_tasks
    }

    /// Task `task` ended: its members leave its pool.
    pub(super) fn release(&mut self, task: usize) {
        if let Some(p) = self.pool(task) {
            self.running[p] -= std::mem::take(&mut self.charge[task]);
        }
    }

    /// Time `dt` passed with the tasks [`Self::count_held`] found held.
    pub(super) fn account(&mut self, dt: u64) {
        for (u, &n) in self.uses.iter_mut().zip(&self.held) {
            u.waiting_secs += dt * n;
        }
    }

    /// When a start leaves a rate window next, if some pool's window
    /// holds any: a task its rate held may start then.
    pub(super) fn next_release(&self) -> Option<u64> {
        (self.pools.limits.iter().zip(&self.starts))
            .filter(|(l, _)| l.per_minute.is_some())
            .filter_map(|(_, q)| q.front().map(|&at| at + self.pools.minute()))
            .min()
    }

    /// Whether task `task` could never start: it runs with more members
    /// than its pool's concurrency or rate allows at once.
    pub(super) fn too_big(&self, task: usize, runners: u32) -> Option<(String, u32)> {
        let p = self.pool(task)?;
        let limit = self.pools.limits[p];
        let most = limit
            .concurrency
            .unwrap_or(u32::MAX)
            .min(limit.per_minute.unwrap_or(u32::MAX));
        (runners > most).then(|| (self.pools.names[p].clone(), most))
    }

    /// Each pool's figures, by name.
    pub(super) fn report(self) -> BTreeMap<String, PoolUse> {
        self.pools.names.into_iter().zip(self.uses).collect()
    }
}

/// How many members of a task's attempt start it, at least: every member
/// of a `gang = all` task, the lead alone of a `gang = lead` one.
pub(super) fn runners(need: &Need, gang: Gang) -> u32 {
    match (need, gang) {
        (Need::Roles(roles), Gang::All) => roles.len().max(1) as u32,
        (Need::Swarm { min, .. }, Gang::All) => (*min).max(1),
        (Need::Roles(_) | Need::Swarm { .. } | Need::Monitoring, _) => 1,
    }
}
