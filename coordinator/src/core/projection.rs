//! Projected completion: the plan simulator (the same placement policy the
//! loop uses) run on what is left — unfinished tasks, running ones with the
//! rest of their planned time — with the agents present now.

use std::collections::{BTreeMap, HashMap};

use swarm_memory::now_ms;
use swarm_plan::simulate::{simulate, Staffing};
use swarm_plan::{CompiledPlan, CompiledTask, PlanDuration};

use super::model::{ActivePlan, Attempt, TaskState};
use super::State;

/// Simulated plans larger than this are projected by their critical path
/// alone, to keep checkpoints cheap.
const MAX_SIMULATED_TASKS: usize = 20_000;

/// The plan that remains: unfinished tasks only, dependencies on finished
/// ones dropped, running tasks shortened by the plan time they have run.
fn residual(plan: &ActivePlan, attempts: &HashMap<u64, Attempt>, now: i64) -> CompiledPlan {
    let keep: Vec<usize> = (0..plan.tasks.len())
        .filter(|&i| !plan.tasks[i].state.is_final())
        .collect();
    let mut new_index = vec![usize::MAX; plan.tasks.len()];
    for (k, &i) in keep.iter().enumerate() {
        new_index[i] = k;
    }
    let whole = &plan.compiled.plan;
    let mut out = CompiledPlan {
        plan: swarm_plan::Plan {
            name: whole.name.clone(),
            properties: Default::default(),
            days: whole.days.clone(),
            tasks: Vec::new(),
            matrix: whole.matrix.clone(),
            checkpoints: Vec::new(),
        },
        tasks: Vec::new(),
        order: Vec::new(),
        matrix: plan.compiled.matrix.clone(),
        warnings: Vec::new(),
    };
    out.plan.tasks = keep
        .iter()
        .map(|&i| {
            let mut t = plan.compiled.plan.tasks[i].clone();
            if plan.tasks[i].state == TaskState::Running {
                let started = plan.tasks[i]
                    .current
                    .and_then(|a| attempts.get(&a))
                    .map_or(now, |a| a.started_at.unwrap_or(a.created_at));
                let ran = (plan.clock.scale(now - started) / 1000).max(0) as u64;
                t.duration = PlanDuration(t.duration.secs().saturating_sub(ran));
            }
            t
        })
        .collect();
    out.tasks = keep
        .iter()
        .map(|&i| {
            let old = &plan.compiled.tasks[i];
            let remap = |v: &[usize]| {
                v.iter()
                    .filter(|&&d| new_index[d] != usize::MAX)
                    .map(|&d| new_index[d])
                    .collect()
            };
            CompiledTask {
                need: old.need.clone(),
                deps: remap(&old.deps),
                dependents: remap(&old.dependents),
            }
        })
        .collect();
    out.order = plan
        .compiled
        .order
        .iter()
        .filter(|&&i| new_index[i] != usize::MAX)
        .map(|&i| new_index[i])
        .collect();
    out
}

impl State {
    /// Simulates the rest of the plan with the agents present; returns the
    /// working ms it takes, or why it cannot finish.
    pub(crate) fn simulate_rest(&self) -> Result<i64, String> {
        let Some(plan) = self.plan.as_ref() else {
            return Ok(0);
        };
        let now = now_ms();
        let left = plan.tasks.len() - plan.final_tasks;
        if left == 0 {
            return Ok(0);
        }
        if left > MAX_SIMULATED_TASKS {
            return Err(format!("{left} tasks are left; plans over {MAX_SIMULATED_TASKS} are projected by their critical path"));
        }
        let rest = residual(plan, &self.attempts, now);
        if rest.plan.tasks.is_empty() {
            return Ok(0);
        }
        let mut present: BTreeMap<String, u32> = BTreeMap::new();
        for a in self.agents.values().filter(|a| a.free_or_busy()) {
            *present.entry(a.active_role.clone()).or_insert(0) += 1;
        }
        if present.is_empty() {
            return Err("no agent is connected".into());
        }
        let sim = simulate(&rest, &Staffing::Fixed(present)).map_err(|e| e.to_string())?;
        if !sim.complete() {
            let stuck: Vec<String> = sim
                .unrunnable
                .iter()
                .take(3)
                .map(|s| {
                    let roles: Vec<String> = s
                        .missing
                        .iter()
                        .map(|(r, need, have)| format!("{need} {r} (have {have})"))
                        .collect();
                    format!("{} needs {}", rest.plan.tasks[s.task].id, roles.join(", "))
                })
                .collect();
            return Err(format!(
                "cannot finish with the agents present: {}",
                stuck.join("; ")
            ));
        }
        Ok(sim.makespan as i64 * 1000)
    }
}
