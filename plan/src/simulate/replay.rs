//! Replaying a plan with the durations its tasks actually took
//! (`swarmctl plan simulate --actual`): each task runs for its actual
//! time while the policy knows only its planned one until it ends, as the
//! coordinator does at run time. The coordinator searches a new guide for
//! the rest of the plan when a task ends past its plan and at every
//! checkpoint; the replay does the same at those moments — at a
//! checkpoint once some task has ended off its plan (with every task on
//! plan the run is exactly the plain simulation's).

use super::engine::prepared;
use super::guide::{search_pooled, search_rest};
use super::state::Sim;
use super::{ApiPools, SimulateError, Simulation, Staffing};
use crate::analysis::analyse;
use crate::compile::CompiledPlan;
use crate::model::Priority;
use crate::policy::{rank_key, PriorityOrder};

/// Checkpoints fall every 4 working hours (09:00, 13:00, 17:00 of an
/// 8-hour day).
const CHECKPOINT_SECS: u64 = 4 * 3600;

/// A replayed run and what it re-planned.
#[derive(Debug, Clone, PartialEq)]
pub struct Replayed {
    /// The run.
    pub sim: Simulation,
    /// Tasks that took other than their planned time.
    pub off_plan: usize,
    /// Of them, those that took longer.
    pub overran: usize,
    /// Guide searches on the rest of the plan during the run.
    pub replans: usize,
}

/// When the replay searches a new guide, and what it has seen.
pub(super) struct Replans {
    /// The configured order and pools, for the searches.
    order: PriorityOrder,
    pools: ApiPools,
    /// A task ended off its plan since the last search.
    off_plan_since: bool,
    /// A task ended past its plan just now.
    overran_now: bool,
    /// The next checkpoint, plan seconds from the start.
    next_checkpoint: u64,
    off_plan: usize,
    overran: usize,
    replans: usize,
}

impl Replans {
    /// A task ended after `took` seconds of a planned `planned`.
    pub(super) fn ended(&mut self, took: u64, planned: u64) {
        if took != planned {
            self.off_plan_since = true;
            self.off_plan += 1;
        }
        if took > planned {
            self.overran_now = true;
            self.overran += 1;
        }
    }

    /// Whether to search a new guide at `t`.
    pub(super) fn due(&self, t: u64) -> bool {
        self.overran_now || (self.off_plan_since && t >= self.next_checkpoint)
    }

    /// The next moment the run must stop at for a search, after `t`.
    pub(super) fn next_stop(&self, t: u64) -> Option<u64> {
        (self.off_plan_since).then(|| self.next_checkpoint.max(t + 1))
    }
}

/// Replays `plan` where task `i` takes `actual[i]` seconds (one entry per
/// task). The first guide is searched on the planned durations, as the
/// coordinator does when a plan is loaded.
pub fn replay(
    plan: &CompiledPlan,
    staffing: &Staffing,
    order: PriorityOrder,
    pools: &ApiPools,
    actual: &[u64],
) -> Result<Replayed, SimulateError> {
    let (guide, _) = search_pooled(plan, staffing, order, pools)?;
    let analysis = analyse(plan);
    let mut sim = prepared(plan, staffing, order, &guide, &analysis, pools)?;
    sim.actual = actual.to_vec();
    sim.replay = Some(Replans {
        order,
        pools: pools.clone(),
        off_plan_since: false,
        overran_now: false,
        next_checkpoint: CHECKPOINT_SECS,
        off_plan: 0,
        overran: 0,
        replans: 0,
    });
    let stalled = sim.run();
    let r = sim
        .replay
        .take()
        .map_or((0, 0, 0), |r| (r.off_plan, r.overran, r.replans));
    Ok(Replayed {
        sim: sim.finish(analysis.makespan, stalled),
        off_plan: r.0,
        overran: r.1,
        replans: r.2,
    })
}

impl Sim<'_> {
    /// Searches a guide for the rest of the plan at `t` with the agents
    /// present, as the coordinator does, and places by it from now on.
    pub(super) fn replan(&mut self, t: u64) {
        let Some(r) = self.replay.as_mut() else {
            return;
        };
        r.overran_now = false;
        r.off_plan_since = false;
        while r.next_checkpoint <= t {
            r.next_checkpoint += CHECKPOINT_SECS;
        }
        r.replans += 1;
        let (order, pools) = (r.order, r.pools.clone());
        let plan = self.plan;
        let keep: Vec<usize> = (0..plan.tasks.len())
            .filter(|&i| self.runs[i].finish.is_none())
            .collect();
        let runs = &self.runs;
        let mut rest = plan.rest(&keep, |i| {
            let planned = plan.plan.tasks[i].duration.secs();
            runs[i]
                .start
                .map_or(planned, |s| planned.saturating_sub(t - s))
        });
        // Running tasks hold their agents already: they go first.
        for (task, &i) in rest.plan.tasks.iter_mut().zip(&keep) {
            if self.runs[i].start.is_some() {
                task.priority = Priority::P0;
            }
        }
        let staffing = Staffing::Fixed(
            (self.roles.iter().zip(&self.present))
                .filter(|(_, &n)| n > 0)
                .map(|(r, &n)| (r.clone(), n))
                .collect(),
        );
        let guide = search_rest(&rest, &keep, plan.tasks.len(), &staffing, order, &pools);
        self.slack_pct = guide.slack_pct;
        for i in 0..plan.tasks.len() {
            let key = self.keys[i].guided(guide.place(i));
            self.rekey(i, key);
        }
    }

    /// Gives task `i` a new ready key, in the queues too if it waits.
    fn rekey(&mut self, i: usize, key: crate::policy::ReadyKey) {
        let old = self.keys[i];
        self.keys[i] = key;
        let sig = &mut self.sigs[self.sig_of[i]];
        if old == key || !sig.queue.remove(&old) {
            return;
        }
        sig.queue.insert(key);
        sig.by_rank.remove(&rank_key(old));
        sig.by_rank.insert(rank_key(key));
        let secs = self.plan.plan.tasks[i].duration.secs();
        if let Some(same) = sig.by_secs.get_mut(&secs) {
            same.0.remove(&old);
            same.0.insert(key);
            same.1.remove(&rank_key(old));
            same.1.insert(rank_key(key));
        }
    }
}
