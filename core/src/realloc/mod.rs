//! Reallocation at a checkpoint: per role, compare the demand (ready work
//! and work about to become ready, weighted by upward rank) with the day's
//! row of the allocation matrix and the agents present; switch idle
//! multi-role agents to starved roles; scale pools through the provisioner
//! within their bounds; drain surplus provisioned agents (never below what
//! a ready or soon-ready Full Swarm needs of any role). Every decision is
//! returned with its reason, for the report.

use std::collections::BTreeMap;

use super::command::ToAgent;
use super::effects::Turn;
use super::event::{Event, EventKind};
use super::model::TaskState;
use super::{CoreError, State};
use crate::config::ProvisionerKind;
use crate::jobs::ProvisionCmd;

/// Demand for one role.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Demand {
    /// Rank-weighted hours: the upward rank of each task needing the role.
    pub(crate) weight_h: f64,
    /// Most agents of the role one task needs at once.
    pub(crate) peak: u32,
    /// Agents of the role all demanded tasks could use at once.
    pub(crate) slots: u32,
}

impl State {
    /// Demand per role: ready tasks, and pending tasks whose unfinished
    /// dependencies are all running (they become ready soon).
    pub(crate) fn demand(&self) -> BTreeMap<String, Demand> {
        let mut out: BTreeMap<String, Demand> = BTreeMap::new();
        let Some(plan) = self.plan.as_ref() else {
            return out;
        };
        for i in 0..plan.tasks().len() {
            if !ready_or_soon(plan, i) {
                continue;
            }
            let rank_h = plan.analysis().rank[i] as f64 / 3600.0;
            let mut counts: BTreeMap<String, u32> = BTreeMap::new();
            for r in plan.compiled().tasks[i].need.role_slots() {
                if r != swarm_plan::ANY_ROLE {
                    *counts.entry(r).or_insert(0) += 1;
                }
            }
            for (r, n) in counts {
                let d = out.entry(r).or_default();
                d.weight_h += rank_h * f64::from(n);
                d.peak = d.peak.max(n);
                d.slots += n;
            }
        }
        out
    }

    /// The most agents of any role a ready or soon-ready Full Swarm (or
    /// monitoring task) needs at once: idle agents are not drained below
    /// it, whatever their roles.
    fn any_role_need(&self) -> u32 {
        let Some(plan) = self.plan.as_ref() else {
            return 0;
        };
        (0..plan.tasks().len())
            .filter(|&i| ready_or_soon(plan, i))
            .filter_map(|i| match &plan.compiled().tasks[i].need {
                swarm_plan::Need::Roles(_) => None,
                other => Some(other.min_agents()),
            })
            .max()
            .unwrap_or(0)
    }

    /// Reallocates agents at a checkpoint; returns every decision with its
    /// reason.
    pub(crate) fn reallocate(&mut self, t: &mut Turn<'_>) -> Result<Vec<String>, CoreError> {
        let mut decisions = Vec::new();
        let Some(plan) = self.plan.as_ref() else {
            return Ok(decisions);
        };
        let now = t.now;
        let day = plan.clock().plan_day(plan.clock().plan_at(now));
        let row = plan
            .compiled()
            .matrix
            .iter()
            .find(|a| a.day == day)
            .cloned();
        let demand = self.demand();
        let roster = &self.roster;
        self.provisioning.settle(now, |id| roster.contains(id));
        let mut present = self.roster.connected_by_role();
        for role in self.provisioning.pending_roles() {
            *present.entry(role.to_string()).or_insert(0) += 1;
        }
        let planned = |r: &str| row.as_ref().and_then(|a| a.roles.get(r).copied());
        // What each role should have now.
        let mut target: BTreeMap<String, u32> = BTreeMap::new();
        for (r, d) in &demand {
            let want = d.peak.max(planned(r).unwrap_or(0).min(d.slots.max(d.peak)));
            let (min, max) = self.cfg.bounds(r);
            target.insert(r.clone(), want.clamp(min, max.max(min)));
        }
        // A configured minimum holds even for a role with nothing to do.
        // Roles with work (a configured minimum alone is not work: such a
        // pool is drained down to its minimum).
        let with_work: std::collections::BTreeSet<String> = demand.keys().cloned().collect();
        let mut demand = demand;
        for (r, &(min, _)) in &self.cfg.scale {
            if min > 0 && !target.contains_key(r) {
                target.insert(r.clone(), min);
                demand.entry(r.clone()).or_default();
            }
        }
        let mut starved: Vec<(String, Demand)> = demand
            .iter()
            .filter(|(r, _)| {
                present.get(*r).copied().unwrap_or(0) < target.get(*r).copied().unwrap_or(0)
            })
            .map(|(r, d)| (r.clone(), *d))
            .collect();
        starved.sort_by(|a, b| b.1.weight_h.total_cmp(&a.1.weight_h));
        let surplus = |role: &str,
                       present: &BTreeMap<String, u32>,
                       target: &BTreeMap<String, u32>| {
            let keep = target
                .get(role)
                .copied()
                .unwrap_or(0)
                .max(
                    planned(role)
                        .unwrap_or(0)
                        .min(if demand.contains_key(role) {
                            u32::MAX
                        } else {
                            0
                        }),
                );
            present.get(role).copied().unwrap_or(0) > keep
        };
        // 1. Idle agents that can play a starved role switch to it.
        for (role, d) in &starved {
            loop {
                let have = present.get(role).copied().unwrap_or(0);
                if have >= target.get(role).copied().unwrap_or(0) {
                    break;
                }
                let candidate = self
                    .roster
                    .connected()
                    .filter(|a| {
                        a.busy.is_empty() && a.active_role != *role && a.roles.contains(role)
                    })
                    .find(|a| surplus(&a.active_role, &present, &target))
                    .map(|a| (a.id.clone(), a.active_role.clone()));
                let Some((id, from)) = candidate else { break };
                let tx = self.roster.switch_role(&id, role);
                t.send(tx, ToAgent::SetRole(role.clone()));
                *present.entry(from.clone()).or_insert(1) -= 1;
                *present.entry(role.clone()).or_insert(0) += 1;
                let why = format!(
                    "switched agent {id} from {from} to {role}: {role} has {have} of the {} agent(s) its ready work needs ({:.1} rank-weighted hours), {from} had more than it needs",
                    target.get(role).copied().unwrap_or(0),
                    d.weight_h
                );
                self.record_agent(t, &id, EventKind::AgentRoleSwitched, why.clone())?;
                decisions.push(why);
            }
        }
        // 2. The provisioner makes up what is still missing.
        let mut shortfall = Vec::new();
        for (role, d) in &starved {
            let have = present.get(role).copied().unwrap_or(0);
            let want = target.get(role).copied().unwrap_or(0);
            if have >= want {
                continue;
            }
            let missing = want - have;
            match self.cfg.provisioner {
                ProvisionerKind::None => {
                    shortfall.push(format!("{role}: {missing} more agent(s)"));
                    decisions.push(format!(
                        "shortfall: {role} needs {missing} more agent(s) for its ready work ({:.1} rank-weighted hours); the provisioner is 'none', so none was started",
                        d.weight_h
                    ));
                }
                kind @ (ProvisionerKind::Process
                | ProvisionerKind::Docker
                | ProvisionerKind::Swarm) => {
                    let through = match kind {
                        ProvisionerKind::Docker => "docker",
                        ProvisionerKind::Swarm => "swarm",
                        ProvisionerKind::Process | ProvisionerKind::None => "process",
                    };
                    if let Some(f) = self.provisioning.backing_off(role, now) {
                        let when = self
                            .plan
                            .as_ref()
                            .map(|p| p.clock().label(p.clock().plan_at(f.retry_at)))
                            .unwrap_or_default();
                        shortfall.push(format!(
                            "{role}: {missing} more agent(s); the {through} provisioner failed {} time(s) in a row (last: {}); next try after {when}",
                            f.count, f.last
                        ));
                        decisions.push(format!(
                            "shortfall: {role} needs {missing} more agent(s), but starting one failed {} time(s) in a row (last: {}); not trying again before {when}",
                            f.count, f.last
                        ));
                        continue;
                    }
                    let plan_name = self
                        .plan
                        .as_ref()
                        .map(|p| p.name().to_string())
                        .unwrap_or_default();
                    for _ in 0..missing {
                        let id = self.provisioning.ask(kind, role, now);
                        t.provision(ProvisionCmd::Start {
                            role: role.clone(),
                            agent_id: id.clone(),
                            plan: plan_name.clone(),
                        });
                        let why = if kind == ProvisionerKind::Swarm {
                            format!("asked the swarm provisioner for one more {role} agent (request {id}) in service {}: {role} had {have} of {want} agent(s) its ready work needs; it counts as started once an agent of that service registers", crate::jobs::provision::service_name(&plan_name, role))
                        } else {
                            format!("asked the {through} provisioner for agent {id} ({role}): {role} had {have} of {want} agent(s) its ready work needs; it counts as started once it registers")
                        };
                        t.emit(
                            Event::new(EventKind::AgentProvisioned)
                                .agent(id)
                                .message(why.clone()),
                        )?;
                        decisions.push(why);
                    }
                    *present.entry(role.clone()).or_insert(0) += missing;
                }
            }
        }
        self.provisioning.set_shortfall(shortfall);
        // 3. Idle provisioned agents of roles with nothing to do are drained.
        let idle_surplus: Vec<(String, String)> = self
            .roster
            .connected()
            .filter(|a| {
                a.busy.is_empty()
                    && self.provisioning.is_ours(&a.id)
                    && !with_work.contains(&a.active_role)
            })
            .map(|a| (a.id.clone(), a.active_role.clone()))
            .collect();
        let any_need = self.any_role_need();
        let mut connected = self.roster.connected().count() as u32;
        for (id, role) in idle_surplus {
            let (min, _) = self.cfg.bounds(&role);
            let have = present.get(&role).copied().unwrap_or(0);
            if have <= min.max(planned(&role).unwrap_or(0)) || connected <= any_need {
                continue;
            }
            connected -= 1;
            *present.entry(role.clone()).or_insert(1) -= 1;
            let why = format!("drained agent {id} ({role}): no {role} work is ready or coming, and the pool is above its minimum");
            self.drain(t, &id, why.clone())?;
            decisions.push(why);
        }
        Ok(decisions)
    }
}

/// Whether task `i` is ready, or pending with every unfinished
/// dependency running (it becomes ready soon).
fn ready_or_soon(plan: &super::active::ActivePlan, i: usize) -> bool {
    let t = &plan.tasks()[i];
    t.state == TaskState::Ready
        || (t.state == TaskState::Pending
            && plan.compiled().tasks[i].deps.iter().all(|&d| {
                let dep = plan.task(d).state;
                dep == TaskState::Running || dep.is_done()
            }))
}

impl State {
    /// The provisioner could not start `agent_id`: a shortfall with its
    /// reason, an `agent.provision_failed` event, and the role backs off
    /// before the next try. A notice about an agent that registered (and
    /// exited later) changes nothing.
    pub(crate) fn provision_failed(
        &mut self,
        t: &mut Turn<'_>,
        agent_id: &str,
        reason: &str,
    ) -> Result<(), CoreError> {
        let Some((role, f)) = self.provisioning.failed(agent_id, reason, t.now) else {
            return Ok(());
        };
        let when = self
            .plan
            .as_ref()
            .map(|p| p.clock().label(p.clock().plan_at(f.retry_at)))
            .unwrap_or_default();
        t.emit(
            Event::new(EventKind::AgentProvisionFailed)
                .agent(agent_id)
                .message(format!(
                    "agent {agent_id} ({role}) could not start: {reason}; failure {} in a row, next try after {when}",
                    f.count
                )),
        )
    }
}
