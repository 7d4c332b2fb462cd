//! Accounting of a simulation: busy and waiting time per role, agents
//! added and removed, and the result.

use std::collections::BTreeMap;

use super::api_pools::runners;
use super::state::*;
use super::*;
use crate::policy::ReadyKey;
use crate::ANY_ROLE;

impl<'a> Sim<'a> {
    /// Adds the time `dt` every waiting task spends to the roles it waits
    /// for: roles the pool lacks, else roles with too few free agents,
    /// else (queued behind a reservation) all its roles. A task waiting
    /// for its pool of a rate-limited API waits for no role.
    pub(super) fn account(&mut self, dt: u64) {
        if dt == 0 {
            return;
        }
        let total_pool: u64 = self.pool.iter().map(|&p| u64::from(p)).sum();
        let total_free: u64 = self.free.iter().map(|&f| u64::from(f)).sum();
        for &s in &self.live {
            let sig = &mut self.sigs[s];
            let n = (sig.queue.len() as u64).saturating_sub(self.pool_held[s]);
            let (any, total) = (self.any_id, sig.demand.total());
            let short = |have: &[u32], sum: u64| {
                let keys = sig.demand.keys(any);
                keys.enumerate()
                    .filter(|&(_, (r, c))| {
                        if r == any && sig.demand.any > 0 {
                            sum < total
                        } else {
                            have[r] < c
                        }
                    })
                    .map(|(k, (r, _))| (k, r))
                    .collect::<Vec<_>>()
            };
            let lacking = short(&self.pool, total_pool);
            if !lacking.is_empty() {
                for &(k, r) in &lacking {
                    sig.cum[k] += dt;
                    self.unstaffed[r] += dt * n;
                    self.waiting[r] += dt * n;
                }
                if let Some(all) = sig.cum.last_mut() {
                    *all += dt;
                }
                continue;
            }
            let mut busy = short(&self.free, total_free);
            if busy.is_empty() {
                busy = sig
                    .demand
                    .keys(any)
                    .enumerate()
                    .map(|(k, (r, _))| (k, r))
                    .collect();
            }
            for (_, r) in busy {
                self.waiting[r] += dt * n;
            }
        }
    }

    /// A new agent of the role, free, in the pool.
    pub(super) fn new_agent(&mut self, role: usize) {
        self.made[role] += 1;
        let name = format!("{}-{}", self.roles[role], self.made[role]);
        self.names.push(name);
        self.agents.push(Agent {
            role,
            busy: false,
            present: true,
            leaving: false,
            until: 0,
        });
        self.pool[role] += 1;
        self.present[role] += 1;
        self.free[role] += 1;
        self.peak[role] = self.peak[role].max(self.present[role]);
    }

    /// Makes the pool `target` agents per role, in a few passes over the
    /// agents. Surplus idle agents leave now and busy ones once their task
    /// is done; a shortfall is made up by agents about to leave or that
    /// left, then by new ones.
    pub(super) fn set_pool(&mut self, target: &[u32]) {
        let mut surplus: Vec<u32> = (self.pool.iter().zip(target))
            .map(|(&have, &want)| have.saturating_sub(want))
            .collect();
        let mut short: Vec<u32> = (self.pool.iter().zip(target))
            .map(|(&have, &want)| want.saturating_sub(have))
            .collect();
        for busy_pass in [false, true] {
            for a in self.agents.iter_mut() {
                if !a.present || a.leaving || a.busy != busy_pass || surplus[a.role] == 0 {
                    continue;
                }
                surplus[a.role] -= 1;
                self.pool[a.role] -= 1;
                if a.busy {
                    a.leaving = true;
                } else {
                    a.present = false;
                    self.present[a.role] -= 1;
                    self.free[a.role] -= 1;
                }
            }
        }
        for a in self.agents.iter_mut() {
            if short[a.role] == 0 || (a.present && !a.leaving) {
                continue;
            }
            short[a.role] -= 1;
            self.pool[a.role] += 1;
            if a.present {
                a.leaving = false;
            } else {
                a.present = true;
                self.present[a.role] += 1;
                self.free[a.role] += 1;
            }
            self.peak[a.role] = self.peak[a.role].max(self.present[a.role]);
        }
        for (role, n) in short.into_iter().enumerate() {
            for _ in 0..n {
                self.new_agent(role);
            }
        }
    }

    /// Unlimited staffing: agents for every task still waiting, up to
    /// [`MAX_AGENTS`] in all. False when none was added.
    pub(super) fn spawn_for_waiting(&mut self) -> bool {
        let mut wanted: Vec<(usize, u64)> = Vec::new();
        // A task its pool holds waits for the pool, not for agents.
        let mut held = vec![0u64; self.sigs.len()];
        for &task in self.api.held_tasks() {
            held[self.sig_of[task]] += 1;
        }
        for &s in &self.live {
            let sig = &self.sigs[s];
            let n = (sig.queue.len() as u64).saturating_sub(held[s]);
            let keys = sig.demand.keys(self.any_id);
            wanted.extend(keys.map(|(r, c)| (r, u64::from(c) * n)));
        }
        let room = MAX_AGENTS.saturating_sub(self.agents.len() as u64);
        let mut added = 0;
        for (role, n) in wanted {
            for _ in 0..n.min(room - added) {
                self.new_agent(role);
                added += 1;
            }
        }
        added > 0
    }

    pub(super) fn report(
        self,
        makespan: u64,
        critical_path: u64,
        unrunnable: Vec<Stuck>,
    ) -> Simulation {
        let mut roles = BTreeMap::new();
        for (r, name) in self.roles.iter().enumerate() {
            let (agents, busy_secs) = (self.peak[r], self.busy_secs[r]);
            if agents == 0 && busy_secs == 0 && self.waiting[r] == 0 {
                continue;
            }
            let capacity = u64::from(agents) * makespan;
            let utilisation = if capacity == 0 {
                0.0
            } else {
                busy_secs as f64 / capacity as f64
            };
            let role_use = RoleUse {
                agents,
                busy_secs,
                utilisation,
                waiting_secs: self.waiting[r],
                unstaffed_secs: self.unstaffed[r],
            };
            roles.insert(name.clone(), role_use);
        }
        let day_secs = BUSINESS_DAY_SECS;
        let days = makespan as f64 / day_secs.max(1) as f64;
        let blocked = (0..self.runs.len())
            .filter(|&i| self.runs[i].ready.is_none())
            .collect();
        Simulation {
            makespan,
            critical_path,
            day_secs,
            business_days: (days * 100.0).round() / 100.0,
            bottlenecks: bottlenecks(&roles),
            roles,
            pools: self.api.report(),
            agents: self.names,
            tasks: self.runs,
            unrunnable,
            blocked,
        }
    }

    pub(super) fn finish(mut self, critical_path: u64, stalled: bool) -> Simulation {
        let mut unrunnable = Vec::new();
        if stalled {
            let mut ready: Vec<ReadyKey> = self
                .live
                .iter()
                .flat_map(|&s| self.sigs[s].queue.iter().copied())
                .collect();
            ready.sort_unstable();
            for key in ready {
                self.settle_unstaffed(key.task);
                unrunnable.push(self.stuck(key.task));
            }
        }
        let makespan = self.runs.iter().filter_map(|r| r.finish).max().unwrap_or(0);
        self.report(makespan, critical_path, unrunnable)
    }

    pub(super) fn stuck(&self, task: usize) -> Stuck {
        let d = &self.sigs[self.sig_of[task]].demand;
        let total_pool: u64 = self.pool.iter().map(|&p| u64::from(p)).sum();
        let mut missing: Vec<(String, u32, u32)> = d
            .specific
            .iter()
            .filter(|&&(r, c)| self.pool[r] < c)
            .map(|&(r, c)| (self.roles[r].clone(), c, self.pool[r]))
            .collect();
        if d.any > 0 && total_pool < d.total() {
            let have = u32::try_from(total_pool).unwrap_or(u32::MAX);
            missing.push((ANY_ROLE.to_string(), d.any, have));
        }
        let staffed_days = (d.specific.iter())
            .filter(|_| self.pools.iter().any(|(_, day, _)| day.is_some()))
            .map(|&(r, c)| {
                let days = (self.pools.iter())
                    .filter(|(_, _, target)| target.get(r).is_some_and(|&n| n >= c))
                    .filter_map(|(_, day, _)| *day);
                (self.roles[r].clone(), days.collect())
            })
            .collect();
        let need = &self.plan.tasks[task].need;
        let runners = runners(need, self.plan.plan.tasks[task].gang);
        Stuck {
            task,
            missing,
            staffed_days,
            pool: (self.api.too_big(task, runners)).map(|(pool, most)| (pool, runners, most)),
        }
    }
}

/// The roles whose tasks waited longest, worst three first; when none
/// waited, the busiest roles at 75 % or more.
pub(super) fn bottlenecks(roles: &BTreeMap<String, RoleUse>) -> Vec<Bottleneck> {
    let mut list: Vec<Bottleneck> = roles
        .iter()
        .map(|(role, u)| Bottleneck {
            role: role.clone(),
            waiting_secs: u.waiting_secs,
            unstaffed_secs: u.unstaffed_secs,
            utilisation: u.utilisation,
        })
        .collect();
    let waited = list.iter().any(|b| b.waiting_secs > 0);
    list.retain(|b| {
        if waited {
            b.waiting_secs > 0
        } else {
            b.utilisation >= 0.75
        }
    });
    list.sort_by(|a, b| {
        (b.waiting_secs.cmp(&a.waiting_secs))
            .then(b.utilisation.total_cmp(&a.utilisation))
            .then(a.role.cmp(&b.role))
    });
    list.truncate(3);
    list
}
