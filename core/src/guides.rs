//! The guide order of the rest of the plan: the simulator searches the
//! order ready tasks of equal priority go in ([`swarm_plan::simulate::guide`])
//! on what is left, with the agents present, and dispatch follows the best
//! one found. Asked for at every checkpoint, when a task ends past its
//! planned duration, and when the agents per role change (at most once a
//! second); the search runs outside the loop
//! ([`crate::guides`]), and plans too large to search keep the policy's
//! own order.

use std::collections::BTreeMap;

use swarm_plan::policy::Guide;
use swarm_plan::simulate::guide::searchable;
use swarm_plan::Priority;
use tokio::sync::mpsc;

use super::model::{PlanState, TaskState};
use super::remaining::residual;
use super::State;
use crate::jobs::GuideJob;

/// Fewest wall ms between two searches prompted by agents coming and
/// going.
const MIN_INTERVAL_MS: i64 = 1_000;

/// Where searches go, and what the last one asked was for.
pub(crate) struct Guides {
    tx: mpsc::UnboundedSender<GuideJob>,
    /// Agents per role it was asked with (empty: never asked).
    staffing: BTreeMap<String, u32>,
    /// When, wall ms.
    at: i64,
    /// A task ended past its planned duration since the last search.
    pub(crate) overran: bool,
}

impl Guides {
    /// A searcher's outlet and the receiving end the server hands it.
    pub(crate) fn new() -> (Guides, mpsc::UnboundedReceiver<GuideJob>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let guides = Guides {
            tx,
            staffing: BTreeMap::new(),
            at: 0,
            overran: false,
        };
        (guides, rx)
    }

    /// A new plan: nothing asked for it yet.
    pub(crate) fn reset(&mut self) {
        self.staffing.clear();
        self.at = 0;
        self.overran = false;
    }
}

impl State {
    /// Asks for a guide search if the agents per role changed since the
    /// last one (and a second has passed), or always when `force` (a
    /// checkpoint) or a task ended past its plan since the last search.
    pub(crate) fn refresh_guide(&mut self, now: i64, force: bool) {
        let force = force || self.guides.overran;
        let Some(plan) = self.plan.as_ref() else {
            return;
        };
        if plan.state() != PlanState::Running || !searchable(plan.unfinished()) {
            return;
        }
        let present = self.roster.connected_by_role();
        let changed = present != self.guides.staffing;
        let due = self.guides.at == 0 || now - self.guides.at >= MIN_INTERVAL_MS;
        if present.is_empty() || !(force || changed && due) {
            return;
        }
        let (mut rest, keep) = residual(plan, &self.attempts, now);
        // Running tasks hold their agents already: they go first.
        for (task, &i) in rest.plan.tasks.iter_mut().zip(&keep) {
            if plan.task(i).state == TaskState::Running {
                task.priority = Priority::P0;
            }
        }
        let job = GuideJob {
            plan: plan.id(),
            pools: self.api_pools(&rest),
            rest,
            keep,
            staffing: present.clone(),
            order: self.cfg.priority,
        };
        self.guides.staffing = present;
        self.guides.at = now.max(1);
        self.guides.overran = false;
        let _ = self.guides.tx.send(job);
    }

    /// The searcher found `guide` for plan `plan`: dispatch follows it.
    pub(crate) fn set_guide(&mut self, plan: i64, guide: Guide) {
        if let Some(p) = self.plan.as_mut() {
            if p.id() == plan && p.state() == PlanState::Running && *p.guide() != guide {
                p.set_guide(guide);
            }
        }
    }
}
