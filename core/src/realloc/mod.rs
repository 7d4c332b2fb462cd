//! Reallocation at a checkpoint: per role, compare the demand (ready work
//! and work about to become ready, weighted by upward rank) with the day's
//! row of the allocation matrix and the agents present; switch idle
//! multi-role agents to starved roles; scale pools through the provisioner
//! within their bounds; drain surplus provisioned agents (never below what
//! a ready or soon-ready Full Swarm needs of any role). Every decision is
//! returned with its reason, for the report.

mod apply;
mod decision;
mod planner;
mod prose;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use super::effects::Turn;
use super::event::{Event, EventKind};
use super::model::TaskState;
use super::{CoreError, State};
pub(crate) use planner::Demand;
use planner::{AgentSnap, Backoff, Snapshot};

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

    /// Reallocates agents at a checkpoint: takes a snapshot, plans, and
    /// applies the plan; returns every decision's sentence.
    pub(crate) fn reallocate(&mut self, t: &mut Turn<'_>) -> Result<Vec<String>, CoreError> {
        if self.plan.is_none() {
            return Ok(Vec::new());
        }
        let roster = &self.roster;
        self.provisioning.settle(t.now, |id| roster.contains(id));
        let snapshot = self.realloc_snapshot(t.now);
        let decisions = planner::plan(&snapshot);
        self.apply_realloc(t, decisions)
    }

    /// What reallocation decides from, at `now`.
    fn realloc_snapshot(&self, now: i64) -> Snapshot {
        let mut pending: BTreeMap<String, u32> = BTreeMap::new();
        for role in self.provisioning.pending_roles() {
            *pending.entry(role.to_string()).or_insert(0) += 1;
        }
        let planned = self.plan.as_ref().and_then(|plan| {
            let day = plan.clock().plan_day(plan.clock().plan_at(now));
            let row = plan.compiled().matrix.iter().find(|a| a.day == day)?;
            Some(row.roles.iter().map(|(r, &n)| (r.clone(), n)).collect())
        });
        let demand = self.demand();
        let backoff = demand
            .keys()
            .chain(self.cfg.scale.keys())
            .filter_map(|role| {
                let f = self.provisioning.backing_off(role, now)?;
                let retry = self
                    .plan
                    .as_ref()
                    .map(|p| p.clock().label(p.clock().plan_at(f.retry_at)))
                    .unwrap_or_default();
                let b = Backoff {
                    count: f.count,
                    last: f.last.clone(),
                    retry,
                };
                Some((role.clone(), b))
            })
            .collect();
        Snapshot {
            demand,
            planned,
            agents: self
                .roster
                .connected()
                .map(|a| AgentSnap {
                    id: a.id.clone(),
                    roles: a.roles.clone(),
                    active_role: a.active_role.clone(),
                    idle: a.busy.is_empty(),
                    ours: self.provisioning.is_ours(&a.id),
                })
                .collect(),
            pending,
            scale: self.cfg.scale.clone(),
            default_max: self.cfg.default_max_agents,
            provisioner: self.cfg.provisioner,
            backoff,
            any_role_need: self.any_role_need(),
        }
    }
}

/// Whether task `i` is ready, or pending with every unfinished
/// dependency running or merging (it becomes ready soon).
fn ready_or_soon(plan: &super::active::ActivePlan, i: usize) -> bool {
    let t = &plan.tasks()[i];
    t.state == TaskState::Ready
        || (t.state == TaskState::Pending
            && plan.compiled().tasks[i].deps.iter().all(|&d| {
                let dep = plan.task(d).state;
                matches!(dep, TaskState::Running | TaskState::Merging) || dep.is_done()
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
