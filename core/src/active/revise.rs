//! A revision of the running plan (`swarmctl plan apply`): its arranged
//! plan replaces the compiled one, every position keeping its runtime
//! state (see `swarm_plan::revise`), new positions pending; then what
//! derives from the definitions is computed again: the analysis, the id
//! index, retries, checkpoint times, gates, the ready queue and the
//! counters. Which states change is decided by the caller
//! (`crate::revise`), through [`ActivePlan::set_state`].

use swarm_plan::CompiledPlan;

use super::build::{checkpoint_times, ids_sorted, pending_task};
use super::ActivePlan;
use crate::model::TaskState;

impl ActivePlan {
    /// The version of the plan that runs (1: as loaded).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Restores the version after a restart.
    pub fn restore_version(&mut self, version: u32) {
        self.version = version.max(1);
    }

    /// Task ids by position.
    pub fn ids(&self) -> Vec<&str> {
        self.compiled
            .plan
            .tasks
            .iter()
            .map(|t| t.id.as_str())
            .collect()
    }

    /// Counts again the dependencies of task `i` not done (after a
    /// revision moved some of them).
    pub fn recount_deps(&mut self, i: usize) {
        let deps = &self.compiled.tasks[i].deps;
        let left = deps
            .iter()
            .filter(|&&d| !self.tasks[d].state.is_done())
            .count();
        self.tasks[i].deps_left = left as u32;
    }

    /// Whether task `i` left the plan with a revision.
    pub fn is_removed(&self, i: usize) -> bool {
        self.tasks[i].state == TaskState::Removed
    }

    /// Runs `compiled` (arranged on this plan's positions, possibly with
    /// more) as version `version` from `now`.
    pub fn revise(&mut self, compiled: CompiledPlan, version: u32, default_retries: u32, now: i64) {
        for t in compiled.tasks.iter().skip(self.tasks.len()) {
            self.tasks.push(pending_task(t, now));
            self.by_state[TaskState::Pending.index()] += 1;
        }
        self.version = version;
        self.analysis = swarm_plan::analyse(&compiled);
        self.by_id = ids_sorted(&compiled);
        self.retries = (compiled.plan.tasks.iter())
            .map(|t| t.retries.unwrap_or(default_retries))
            .collect();
        let checkpoints = checkpoint_times(&compiled);
        self.compiled = compiled;
        if checkpoints != self.checkpoints {
            self.checkpoints = checkpoints;
            self.next_checkpoint = self.schedule_after(self.last_checkpoint.plan_time);
        }
        self.guide = Default::default();
        if !self.gates.is_empty() {
            let old = std::mem::take(&mut self.gates);
            self.enable_gates();
            for g in &mut self.gates {
                if let Some(was) = old.iter().find(|o| o.label() == g.label()) {
                    g.open = was.open;
                    g.last = was.last.clone();
                }
            }
        }
        self.held.clear();
        self.finish_restore();
        self.hold_again();
    }
}
