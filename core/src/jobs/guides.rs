//! A guide search for the guide searcher: the rest of a plan and the
//! agents present; the search itself runs off the loop, on a blocking
//! thread.

use std::collections::BTreeMap;

use swarm_plan::policy::{Guide, PriorityOrder};
use swarm_plan::simulate::guide::search_rest;
use swarm_plan::simulate::{ApiPools, Staffing};
use swarm_plan::CompiledPlan;

/// The rest of a plan to search a guide for.
#[derive(Debug, Clone)]
pub struct GuideJob {
    /// The plan (its database id).
    pub plan: i64,
    /// Its unfinished tasks.
    pub rest: CompiledPlan,
    /// Per task of `rest`, its index in the whole plan.
    pub keep: Vec<usize>,
    /// The agents present, per role.
    pub staffing: BTreeMap<String, u32>,
    /// The configured priority order.
    pub order: PriorityOrder,
    /// The pools of a rate-limited API `rest`'s tasks draw on.
    pub pools: ApiPools,
}

impl GuideJob {
    /// The search, on this thread: the guide for the whole plan (places
    /// of finished tasks 0), or the default for the policy's own order.
    pub fn search(self) -> Guide {
        let total = self.keep.iter().max().map_or(0, |&m| m + 1);
        let staffing = Staffing::Fixed(self.staffing);
        search_rest(
            &self.rest,
            &self.keep,
            total,
            &staffing,
            self.order,
            &self.pools,
        )
    }
}
