//! The simulation engine: setting a run up, the event loop, and placing
//! ready tasks with the scheduling policy.

use std::cmp::Reverse;

use super::api_pools::{runners, ApiPools};
use super::pools::{check_total, matrix_pools};
use super::state::Sim;
use super::*;
use crate::analysis::{analyse, Analysis};
use crate::compile::{CompiledPlan, Need};
use crate::policy::{
    place, rank_key, AgentSlots, Candidate, Guide, HeldClaims, Placement, PriorityOrder, RoleDemand,
};

pub(super) fn run(
    plan: &CompiledPlan,
    staffing: &Staffing,
    prune: bool,
    order: PriorityOrder,
    guide: &Guide,
    pools: &ApiPools,
) -> Result<Simulation, SimulateError> {
    run_analysed(plan, staffing, prune, order, guide, &analyse(plan), pools)
}

/// [`run`] with the plan's analysis at hand (a search runs many).
pub(super) fn run_analysed(
    plan: &CompiledPlan,
    staffing: &Staffing,
    prune: bool,
    order: PriorityOrder,
    guide: &Guide,
    analysis: &Analysis,
    pools: &ApiPools,
) -> Result<Simulation, SimulateError> {
    for (i, t) in plan.tasks.iter().enumerate() {
        let count = u64::from(t.need.min_agents());
        if count > MAX_TASK_AGENTS {
            let id = plan.plan.tasks.get(i).map_or("?", |t| t.id.as_str());
            return Err(SimulateError::TooManyAgents {
                what: format!("task {id}"),
                count,
            });
        }
    }
    let mut sim = prepared(plan, staffing, order, guide, analysis, pools)?;
    sim.prune = sim.prune && prune;
    let stalled = sim.run();
    Ok(sim.finish(analysis.makespan, stalled))
}

/// A run set up as [`run_analysed`] sets it up, not yet started.
pub(super) fn prepared<'a>(
    plan: &'a CompiledPlan,
    staffing: &Staffing,
    order: PriorityOrder,
    guide: &Guide,
    analysis: &Analysis,
    pools: &ApiPools,
) -> Result<Sim<'a>, SimulateError> {
    let mut sim = Sim::new(plan, staffing, true, &analysis.rank, pools);
    sim.order = order;
    for (key, &g) in sim.keys.iter_mut().zip(&guide.place) {
        *key = key.guided(g);
    }
    sim.slack_pct = guide.slack_pct;
    sim.pools = match staffing {
        Staffing::Unlimited => Vec::new(),
        Staffing::Fixed(map) => {
            let mut target = vec![0u32; sim.roles.len()];
            for (role, &n) in map {
                target[sim.role_id(role)] = n;
            }
            check_total(&target, "the staffing")?;
            vec![(0, None, target)]
        }
        Staffing::Matrix => matrix_pools(plan, &sim.roles)?,
    };
    Ok(sim)
}

impl Sim<'_> {
    /// The event loop; returns whether it stalled with tasks left.
    pub(super) fn run(&mut self) -> bool {
        for i in 0..self.plan.tasks.len() {
            if self.missing[i] == 0 {
                self.make_ready(i, 0);
            }
        }
        let mut t = 0u64;
        let mut next_boundary = 0;
        loop {
            while let Some(&Reverse((f, task))) = self.running.peek() {
                if f > t {
                    break;
                }
                self.running.pop();
                self.complete(task, f);
            }
            if self.replay.as_ref().is_some_and(|r| r.due(t)) {
                self.replan(t);
            }
            while let Some((at, _, target)) = self.pools.get(next_boundary) {
                if *at > t {
                    break;
                }
                self.set_pool(&target.clone());
                next_boundary += 1;
            }
            self.round(t);
            if self.api.in_play() {
                let (plan, sigs) = (self.plan, &self.sigs);
                let ready = (self.live.iter())
                    .flat_map(|&s| sigs[s].queue.iter().map(|k| k.task))
                    .map(|i| (i, runners(&plan.tasks[i].need, plan.plan.tasks[i].gang)));
                let held = self.api.count_held(t, ready);
                self.pool_held.iter_mut().for_each(|n| *n = 0);
                for task in held {
                    self.pool_held[self.sig_of[task]] += 1;
                }
            }
            if self.done == self.plan.tasks.len() {
                return false;
            }
            let next_finish = self.running.peek().map(|Reverse((f, _))| *f);
            let next_day = self.pools.get(next_boundary).map(|(at, _, _)| *at);
            let next_rate = self.api.next_release();
            let next_replan = self.replay.as_ref().and_then(|r| r.next_stop(t));
            let Some(next) = (next_finish.into_iter().chain(next_day).chain(next_rate))
                .chain(next_replan)
                .min()
            else {
                return true;
            };
            self.account(next.saturating_sub(t));
            self.api.account(next.saturating_sub(t));
            t = next;
        }
    }

    /// One placement round at time `t`; unlimited staffing adds agents
    /// for whatever could not start and places again.
    pub(super) fn round(&mut self, t: u64) {
        loop {
            let mut slots: Vec<AgentSlots> = self
                .agents
                .iter()
                .enumerate()
                .filter(|(_, a)| a.present && !a.leaving)
                .map(|(id, a)| AgentSlots {
                    id,
                    role: self.roles[a.role].clone(),
                    also: Vec::new(),
                    free: u32::from(!a.busy),
                    busy_secs: if a.busy { a.until.saturating_sub(t) } else { 0 },
                })
                .collect();
            let mut candidates = self.candidates(t);
            // A task whose pool has no room waits as if it were not ready.
            self.api.clear_held();
            let room = self.api.room(t);
            if self.api.in_play() {
                let (tasks, api) = (&self.plan.tasks, &mut self.api);
                let specs = &self.plan.plan.tasks;
                let mut taken = vec![0; room.len()];
                candidates.retain(|&(i, _, ready_in)| {
                    let n = runners(&tasks[i].need, specs[i].gang);
                    api.admits(i, n, &room, &mut taken, ready_in == 0)
                });
            }
            // Only a choice of agents (a swarm, a watch) reads the demand.
            let tasks = &self.plan.tasks;
            let choosy = candidates
                .iter()
                .any(|&(i, _, _)| !matches!(tasks[i].need, Need::Roles(_)));
            let demand = if choosy {
                self.demand()
            } else {
                RoleDemand::new()
            };
            let plan = self.plan;
            let offered = candidates.iter().map(|&(i, slack, ready_in)| Candidate {
                task: i,
                need: &plan.tasks[i].need,
                secs: plan.plan.tasks[i].duration.secs(),
                slack,
                ready_in,
                claims: &plan.plan.tasks[i].touches,
            });
            // What runs holds its claims until it ends.
            let mut held = HeldClaims::new();
            if plan.claims {
                for Reverse((_, task)) in self.running.iter() {
                    held.hold(&plan.plan.tasks[*task].touches);
                }
            }
            let decided = place(offered, &mut slots, &demand, &mut held);
            let specs = &plan.plan.tasks;
            let (kept, dropped) = (self.api).within(decided.placements, |i| specs[i].gang, room, t);
            let started = !kept.is_empty();
            for p in kept {
                self.start(p, t);
            }
            // The coordinator's next turn, moments later, places again
            // without the tasks whose pool is now full.
            if dropped > 0 && started {
                continue;
            }
            if !self.elastic || self.live.is_empty() || !self.spawn_for_waiting() {
                return;
            }
        }
    }

    pub(super) fn make_ready(&mut self, task: usize, t: u64) {
        let s = self.sig_of[task];
        self.runs[task].ready = Some(t);
        self.snap[task] = self.sigs[s].cum.clone();
        self.sigs[s].queue.insert(self.keys[task]);
        self.sigs[s].by_rank.insert(rank_key(self.keys[task]));
        let secs = self.plan.plan.tasks[task].duration.secs();
        let same = self.sigs[s].by_secs.entry(secs).or_default();
        same.0.insert(self.keys[task]);
        same.1.insert(rank_key(self.keys[task]));
        self.ready_demand
            .add(&self.plan.tasks[task].need, self.rank[task]);
        self.live.insert(s);
    }

    pub(super) fn start(&mut self, p: Placement, t: u64) {
        let task = p.task;
        let Some(&key) = self.keys.get(task) else {
            return;
        };
        let s = self.sig_of[task];
        self.sigs[s].queue.remove(&key);
        self.sigs[s].by_rank.remove(&rank_key(key));
        let secs = self.plan.plan.tasks[task].duration.secs();
        if let Some(same) = self.sigs[s].by_secs.get_mut(&secs) {
            same.0.remove(&key);
            same.1.remove(&rank_key(key));
            if same.0.is_empty() {
                self.sigs[s].by_secs.remove(&secs);
            }
        }
        self.ready_demand
            .remove(&self.plan.tasks[task].need, self.rank[task]);
        if self.sigs[s].queue.is_empty() {
            self.live.remove(&s);
        }
        self.settle_unstaffed(task);
        // The policy knows the planned duration; the task takes its
        // actual one (the same unless replayed with actual durations).
        let dur = self.plan.plan.tasks[task].duration.secs();
        let took = self.actual.get(task).copied().unwrap_or(dur);
        for (id, _) in p.agents {
            let Some(a) = self.agents.get_mut(id) else {
                continue;
            };
            a.busy = true;
            a.until = t.saturating_add(dur);
            self.free[a.role] -= 1;
            self.busy_secs[a.role] += took;
            self.runs[task].agents.push(id);
        }
        self.runs[task].start = Some(t);
        let end = t.saturating_add(dur);
        self.running.push(Reverse((t.saturating_add(took), task)));
        self.running_tail
            .insert((end.saturating_add(self.tail[task]), task));
    }

    /// Turns the unstaffed time counted for the task's demand since it
    /// became ready into its own figures.
    pub(super) fn settle_unstaffed(&mut self, task: usize) {
        let sig = &self.sigs[self.sig_of[task]];
        let before = &self.snap[task];
        let diff = |k: usize| {
            let now = sig.cum.get(k).copied().unwrap_or(0);
            now.saturating_sub(before.get(k).copied().unwrap_or(0))
        };
        let run = &mut self.runs[task];
        run.unstaffed_secs = diff(sig.cum.len() - 1);
        for (k, (r, _)) in sig.demand.keys(self.any_id).enumerate() {
            if diff(k) > 0 {
                run.unstaffed_roles.push(self.roles[r].clone());
            }
        }
    }

    pub(super) fn complete(&mut self, task: usize, t: u64) {
        self.api.release(task);
        for k in 0..self.runs[task].agents.len() {
            let a = &mut self.agents[self.runs[task].agents[k]];
            a.busy = false;
            if a.leaving {
                a.present = false;
                a.leaving = false;
                self.present[a.role] -= 1;
            } else {
                self.free[a.role] += 1;
            }
        }
        self.runs[task].finish = Some(t);
        if let (Some(r), Some(start)) = (self.replay.as_mut(), self.runs[task].start) {
            r.ended(t - start, self.plan.plan.tasks[task].duration.secs());
        }
        let tail = (self.runs[task].start)
            .map(|s| s.saturating_add(self.plan.plan.tasks[task].duration.secs()));
        if let Some(end) = tail {
            self.running_tail
                .remove(&(end.saturating_add(self.tail[task]), task));
        }
        self.done += 1;
        for k in 0..self.plan.tasks[task].dependents.len() {
            let d = self.plan.tasks[task].dependents[k];
            self.missing[d] -= 1;
            if self.missing[d] == 0 {
                self.make_ready(d, t);
            }
        }
    }
}
