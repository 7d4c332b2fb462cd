//! The plan that remains once some tasks are done: what the coordinator
//! and the simulator search a new guide on mid-run.

use super::{CompiledPlan, CompiledTask};
use crate::model::{Plan, PlanDuration};

impl CompiledPlan {
    /// The tasks `keep` (indexes into this plan, ascending), with their
    /// dependencies on the other tasks dropped and the durations `secs`
    /// gives (a running task's planned rest); task `k` of the result is
    /// task `keep[k]` of this plan.
    pub fn rest(&self, keep: &[usize], secs: impl Fn(usize) -> u64) -> CompiledPlan {
        let mut new_index = vec![usize::MAX; self.tasks.len()];
        for (k, &i) in keep.iter().enumerate() {
            new_index[i] = k;
        }
        let remap = |v: &[usize]| -> Vec<usize> {
            v.iter()
                .filter(|&&d| new_index[d] != usize::MAX)
                .map(|&d| new_index[d])
                .collect()
        };
        let whole = &self.plan;
        let tasks = keep
            .iter()
            .map(|&i| {
                let mut t = whole.tasks[i].clone();
                t.duration = PlanDuration(secs(i));
                t
            })
            .collect();
        CompiledPlan {
            plan: Plan {
                name: whole.name.clone(),
                properties: Default::default(),
                days: whole.days.clone(),
                tasks,
                matrix: whole.matrix.clone(),
                checkpoints: Vec::new(),
            },
            tasks: keep
                .iter()
                .map(|&i| CompiledTask {
                    need: self.tasks[i].need.clone(),
                    deps: remap(&self.tasks[i].deps),
                    dependents: remap(&self.tasks[i].dependents),
                })
                .collect(),
            order: remap(&self.order),
            matrix: self.matrix.clone(),
            warnings: Vec::new(),
            claims: self.claims,
        }
    }
}
