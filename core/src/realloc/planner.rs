//! The reallocation planner: a pure function from a [`Snapshot`] of the
//! roles' demand, the day's allocation row and the agents present to the
//! [`Decision`]s a checkpoint takes, each with its typed reason. Nothing
//! here changes state; `apply` does.
//!
//! The rules, in order:
//! 1. each role's target is the most agents one of its tasks needs, or
//!    the day's planned count (at most what its ready work could use),
//!    clamped to the pool's bounds; a configured minimum holds even for a
//!    role with no work;
//! 2. idle agents that can play a starved role (most rank-weighted hours
//!    first) switch to it, taken from roles that have more than they need;
//! 3. the provisioner makes up what is still missing, unless it is `none`
//!    or backing off after failures (a shortfall);
//! 4. idle agents we provisioned, of roles with no work, are drained down
//!    to the pool's minimum (or the day's plan), never leaving fewer
//!    agents than a ready or soon-ready Full Swarm needs.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::ProvisionerKind;

/// Demand for one role.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct Demand {
    /// Rank-weighted hours: the upward rank of each task needing the role.
    pub(crate) weight_h: f64,
    /// Most agents of the role one task needs at once.
    pub(crate) peak: u32,
    /// Agents of the role all demanded tasks could use at once.
    pub(crate) slots: u32,
}

/// A connected agent, as the planner sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AgentSnap {
    /// Agent id.
    pub(crate) id: String,
    /// Every role it can play.
    pub(crate) roles: Vec<String>,
    /// The role it plays now.
    pub(crate) active_role: String,
    /// Runs nothing.
    pub(crate) idle: bool,
    /// Started by this coordinator's provisioner.
    pub(crate) ours: bool,
}

/// A role's provisioner failures, while it backs off.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Backoff {
    /// Failures in a row.
    pub(crate) count: u32,
    /// What the provisioner said the last time.
    pub(crate) last: String,
    /// When it is tried again, on the plan clock.
    pub(crate) retry: String,
}

/// Everything reallocation decides from.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    /// Demand per role (ready and soon-ready work).
    pub(crate) demand: BTreeMap<String, Demand>,
    /// Today's row of the allocation matrix; `None` when it has none.
    pub(crate) planned: Option<BTreeMap<String, u32>>,
    /// Connected agents, in the roster's order.
    pub(crate) agents: Vec<AgentSnap>,
    /// Agents asked of the provisioner that have not registered, per role.
    pub(crate) pending: BTreeMap<String, u32>,
    /// Configured pool bounds per role (`min`, `max`).
    pub(crate) scale: BTreeMap<String, (u32, u32)>,
    /// The bound of a role without its own: at most this many.
    pub(crate) default_max: u32,
    /// The provisioner.
    pub(crate) provisioner: ProvisionerKind,
    /// Roles whose provisioner failures hold off new starts.
    pub(crate) backoff: BTreeMap<String, Backoff>,
    /// The most agents of any role a ready or soon-ready Full Swarm (or
    /// monitoring task) needs at once.
    pub(crate) any_role_need: u32,
}

pub(crate) use super::decision::{Decision, Starved, Unstarted};

impl Snapshot {
    /// `role`'s pool bounds.
    fn bounds(&self, role: &str) -> (u32, u32) {
        self.scale
            .get(role)
            .copied()
            .unwrap_or((0, self.default_max))
    }

    /// The day's planned count of `role`, if the day has a row naming it.
    fn planned(&self, role: &str) -> Option<u32> {
        self.planned.as_ref().and_then(|row| row.get(role).copied())
    }
}

/// What a checkpoint does, in order: switches, then starts and
/// shortfalls, then drains.
pub(crate) fn plan(s: &Snapshot) -> Vec<Decision> {
    let mut w = Work::new(s);
    let mut out = w.switch(s);
    out.extend(w.provision(s));
    out.extend(w.drain(s));
    out
}

/// The planner's scratch: what each role has and should have, and the
/// agents as switched so far.
struct Work {
    present: BTreeMap<String, u32>,
    target: BTreeMap<String, u32>,
    /// Demand, with a zero entry for each role held at a configured
    /// minimum.
    demand: BTreeMap<String, Demand>,
    /// Roles with ready or soon-ready work (a minimum alone is not work).
    with_work: BTreeSet<String>,
    /// Starved roles, most rank-weighted hours first.
    starved: Vec<(String, Demand)>,
    agents: Vec<AgentSnap>,
}

impl Work {
    fn new(s: &Snapshot) -> Work {
        let mut present: BTreeMap<String, u32> = BTreeMap::new();
        for a in &s.agents {
            *present.entry(a.active_role.clone()).or_insert(0) += 1;
        }
        for (role, n) in &s.pending {
            *present.entry(role.clone()).or_insert(0) += n;
        }
        let mut target: BTreeMap<String, u32> = BTreeMap::new();
        for (r, d) in &s.demand {
            let want = d
                .peak
                .max(s.planned(r).unwrap_or(0).min(d.slots.max(d.peak)));
            let (min, max) = s.bounds(r);
            target.insert(r.clone(), want.clamp(min, max.max(min)));
        }
        let with_work: BTreeSet<String> = s.demand.keys().cloned().collect();
        let mut demand = s.demand.clone();
        for (r, &(min, _)) in &s.scale {
            if min > 0 && !target.contains_key(r) {
                target.insert(r.clone(), min);
                demand.entry(r.clone()).or_default();
            }
        }
        let have = |r: &str, m: &BTreeMap<String, u32>| m.get(r).copied().unwrap_or(0);
        let mut starved: Vec<(String, Demand)> = demand
            .iter()
            .filter(|(r, _)| have(r, &present) < have(r, &target))
            .map(|(r, d)| (r.clone(), *d))
            .collect();
        starved.sort_by(|a, b| b.1.weight_h.total_cmp(&a.1.weight_h));
        Work {
            present,
            target,
            demand,
            with_work,
            starved,
            agents: s.agents.clone(),
        }
    }

    fn have(&self, role: &str) -> u32 {
        self.present.get(role).copied().unwrap_or(0)
    }

    fn want(&self, role: &str) -> u32 {
        self.target.get(role).copied().unwrap_or(0)
    }

    /// Whether `role` has more agents than it needs, so one may go.
    fn surplus(&self, s: &Snapshot, role: &str) -> bool {
        let planned = if self.demand.contains_key(role) {
            s.planned(role).unwrap_or(0)
        } else {
            0
        };
        self.have(role) > self.want(role).max(planned)
    }

    /// Rule 2: idle agents switch to starved roles they can play.
    fn switch(&mut self, s: &Snapshot) -> Vec<Decision> {
        let mut out = Vec::new();
        for (role, d) in self.starved.clone() {
            while self.have(&role) < self.want(&role) {
                let Some(i) = self.agents.iter().position(|a| {
                    a.idle
                        && a.active_role != role
                        && a.roles.contains(&role)
                        && self.surplus(s, &a.active_role)
                }) else {
                    break;
                };
                let from = std::mem::replace(&mut self.agents[i].active_role, role.clone());
                let why = Starved {
                    have: self.have(&role),
                    want: self.want(&role),
                    weight_h: d.weight_h,
                };
                *self.present.entry(from.clone()).or_insert(1) -= 1;
                *self.present.entry(role.clone()).or_insert(0) += 1;
                out.push(Decision::Switch {
                    agent: self.agents[i].id.clone(),
                    from,
                    to: role.clone(),
                    why,
                });
            }
        }
        out
    }

    /// Rule 3: the provisioner makes up what is still missing.
    fn provision(&mut self, s: &Snapshot) -> Vec<Decision> {
        let mut out = Vec::new();
        for (role, d) in self.starved.clone() {
            let (have, want) = (self.have(&role), self.want(&role));
            if have >= want {
                continue;
            }
            let missing = want - have;
            let shortfall = |why| Decision::Shortfall {
                role: role.clone(),
                missing,
                weight_h: d.weight_h,
                why,
            };
            match (s.provisioner, s.backoff.get(&role)) {
                (ProvisionerKind::None, _) => out.push(shortfall(Unstarted::NoProvisioner)),
                (_, Some(b)) => out.push(shortfall(Unstarted::BackingOff(b.clone()))),
                (
                    kind @ (ProvisionerKind::Process
                    | ProvisionerKind::Docker
                    | ProvisionerKind::Swarm),
                    None,
                ) => {
                    out.push(Decision::Start {
                        role: role.clone(),
                        count: missing,
                        kind,
                        why: Starved {
                            have,
                            want,
                            weight_h: d.weight_h,
                        },
                    });
                    *self.present.entry(role.clone()).or_insert(0) += missing;
                }
            }
        }
        out.extend(self.provision_swarm(s));
        out
    }

    /// Rule 3, for a Full Swarm: when fewer agents of all roles together
    /// are present or coming than a ready or soon-ready swarm needs, the
    /// provisioner makes up the rest, of the role most agents play (else
    /// the role with the most demand), since any role will do.
    fn provision_swarm(&mut self, s: &Snapshot) -> Option<Decision> {
        let have: u32 = self.present.values().sum();
        if have >= s.any_role_need {
            return None;
        }
        let role = (self.present.iter())
            .filter(|(r, n)| **n > 0 && r.as_str() != swarm_plan::ANY_ROLE)
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(r, _)| r.clone())
            .or_else(|| {
                (self.demand.iter())
                    .filter(|(r, _)| r.as_str() != swarm_plan::ANY_ROLE)
                    .max_by(|a, b| a.1.weight_h.total_cmp(&b.1.weight_h))
                    .map(|(r, _)| r.clone())
            })?;
        let missing = s.any_role_need - have;
        let decision = match (s.provisioner, s.backoff.get(&role)) {
            (ProvisionerKind::None, _) => Decision::Shortfall {
                role,
                missing,
                weight_h: 0.0,
                why: Unstarted::NoProvisioner,
            },
            (_, Some(b)) => Decision::Shortfall {
                role,
                missing,
                weight_h: 0.0,
                why: Unstarted::BackingOff(b.clone()),
            },
            (kind, None) => {
                *self.present.entry(role.clone()).or_insert(0) += missing;
                Decision::StartForSwarm {
                    role,
                    count: missing,
                    kind,
                    have,
                    want: s.any_role_need,
                }
            }
        };
        Some(decision)
    }

    /// Rule 4: idle agents we provisioned, of roles with no work, drain.
    fn drain(&mut self, s: &Snapshot) -> Vec<Decision> {
        let mut out = Vec::new();
        let mut connected = self.agents.len() as u32;
        let idle_surplus: Vec<(String, String)> = self
            .agents
            .iter()
            .filter(|a| a.idle && a.ours && !self.with_work.contains(&a.active_role))
            .map(|a| (a.id.clone(), a.active_role.clone()))
            .collect();
        for (agent, role) in idle_surplus {
            let (min, _) = s.bounds(&role);
            let floor = min.max(s.planned(&role).unwrap_or(0));
            if self.have(&role) <= floor || connected <= s.any_role_need {
                continue;
            }
            connected -= 1;
            *self.present.entry(role.clone()).or_insert(1) -= 1;
            out.push(Decision::Drain { agent, role });
        }
        out
    }
}
