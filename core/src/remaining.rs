//! What remains of a plan at a given instant: the residual plan (unfinished
//! tasks, running ones shortened by what they ran), its simulation with
//! the agents present, its critical path, and the plan's planned end. The
//! projection, the guide search and the checkpoint reports read it.

use swarm_plan::policy::Guide;
use swarm_plan::simulate::{simulate_guided_pooled, Staffing};
use swarm_plan::CompiledPlan;

use super::active::ActivePlan;
use super::attempts::LiveAttempts;
use super::model::TaskState;
use super::State;

/// Simulated plans larger than this are projected by their critical path
/// alone, to keep checkpoints cheap.
const MAX_SIMULATED_TASKS: usize = 20_000;

/// When task `i`'s work began, wall ms: its live attempt's start (or
/// offer); `now` when it has none.
pub(crate) fn began_at(plan: &ActivePlan, attempts: &LiveAttempts, i: usize, now: i64) -> i64 {
    plan.task(i)
        .current
        .and_then(|a| attempts.get(a))
        .map_or(now, |a| a.began_at())
}

/// The plan that remains: unfinished tasks only, dependencies on finished
/// ones dropped, running tasks shortened by the plan time they have run
/// (merging ones to nothing);
/// and, per task of it, its index in the whole plan.
pub(super) fn residual(
    plan: &ActivePlan,
    attempts: &LiveAttempts,
    now: i64,
) -> (CompiledPlan, Vec<usize>) {
    let keep: Vec<usize> = (0..plan.len())
        .filter(|&i| !plan.task(i).state.is_final())
        .collect();
    let rest = plan.compiled().rest(&keep, |i| {
        let planned = plan.spec(i).duration.secs();
        match plan.task(i).state {
            // Its work is done; only its merge is left.
            TaskState::Merging => 0,
            TaskState::Running => {
                let started = began_at(plan, attempts, i, now);
                let ran = (plan.clock().scale(now - started) / 1000).max(0) as u64;
                planned.saturating_sub(ran)
            }
            _ => planned,
        }
    });
    (rest, keep)
}

impl State {
    /// Simulates the rest of the plan at `now` with the agents present;
    /// returns the working ms it takes, or why it cannot finish.
    pub(crate) fn simulate_rest(&self, now: i64) -> Result<i64, Unfinishable> {
        let Some(plan) = self.plan.as_ref() else {
            return Ok(0);
        };
        let left = plan.unfinished();
        if left == 0 {
            return Ok(0);
        }
        if left > MAX_SIMULATED_TASKS {
            return Err(Unfinishable::TooLarge { left });
        }
        let (rest, keep) = residual(plan, &self.attempts, now);
        if rest.plan.tasks.is_empty() {
            return Ok(0);
        }
        let present = self.roster.connected_by_role();
        if present.is_empty() {
            return Err(Unfinishable::NoAgents);
        }
        // The order dispatch follows: the configured priority order and
        // the plan's guide.
        let whole = plan.guide();
        let guide = Guide {
            place: keep.iter().map(|&i| whole.place(i)).collect(),
            slack_pct: whole.slack_pct,
        };
        let pools = self.api_pools(&rest);
        let staffing = Staffing::Fixed(present);
        let sim = simulate_guided_pooled(&rest, &staffing, self.cfg.priority, &guide, &pools)
            .map_err(|e| Unfinishable::Simulation(e.to_string()))?;
        if !sim.complete() {
            let stuck: Vec<String> = sim
                .unrunnable
                .iter()
                .take(3)
                .map(|s| {
                    let id = &rest.plan.tasks[s.task].id;
                    if let Some((pool, runs, most)) = &s.pool {
                        return format!(
                            "{id} runs {runs} members in pool {pool}, which allows {most} at once"
                        );
                    }
                    let roles: Vec<String> = s
                        .missing
                        .iter()
                        .map(|(r, need, have)| format!("{need} {r} (have {have})"))
                        .collect();
                    format!("{id} needs {}", roles.join(", "))
                })
                .collect();
            return Err(Unfinishable::Staffing(stuck.join("; ")));
        }
        Ok(sim.makespan as i64 * 1000)
    }
}

/// The longest chain of remaining planned work (done tasks count 0, running
/// ones what is left of their plan), in working ms, and its tasks.
pub(crate) fn remaining_critical_path(
    plan: &ActivePlan,
    attempts: &LiveAttempts,
    now: i64,
) -> (Vec<usize>, i64) {
    let n = plan.len();
    let left: Vec<i64> = (0..n)
        .map(|i| {
            let planned = plan.spec(i).duration.secs() as i64 * 1000;
            match plan.task(i).state {
                s if s.is_final() => 0,
                TaskState::Merging => 0,
                TaskState::Running => {
                    let started = began_at(plan, attempts, i, now);
                    (planned - plan.clock().scale(now - started)).max(0)
                }
                _ => planned,
            }
        })
        .collect();
    let mut finish = vec![0i64; n];
    let mut via = vec![usize::MAX; n];
    for &i in &plan.compiled().order {
        let (best, from) = plan.compiled().tasks[i]
            .deps
            .iter()
            .map(|&d| (finish[d], d))
            .max()
            .unwrap_or((0, usize::MAX));
        finish[i] = best + left[i];
        via[i] = from;
    }
    let Some((end, total)) = finish
        .iter()
        .copied()
        .enumerate()
        .max_by_key(|&(i, f)| (f, std::cmp::Reverse(i)))
    else {
        return (Vec::new(), 0);
    };
    let mut path = Vec::new();
    let mut at = end;
    while at != usize::MAX {
        if left[at] > 0 {
            path.push(at);
        }
        at = via[at];
    }
    path.reverse();
    (path, total)
}

/// When the plan's last day ends, on the plan clock.
pub(crate) fn planned_end(plan: &ActivePlan) -> i64 {
    let last_day = plan
        .compiled()
        .plan
        .days
        .iter()
        .map(|d| d.number)
        .max()
        .unwrap_or(1);
    let clock = plan.clock();
    clock.day_starts(last_day) + i64::from(clock.day_end - clock.day_start) * 60_000
}

/// Why the rest of a plan cannot be simulated to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unfinishable {
    /// Too many tasks left to simulate cheaply.
    TooLarge {
        /// Tasks not final.
        left: usize,
    },
    /// No agent is connected.
    NoAgents,
    /// Some task needs roles the agents present do not cover: which.
    Staffing(String),
    /// The simulator refused the plan.
    Simulation(String),
}

impl std::fmt::Display for Unfinishable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unfinishable::TooLarge { left } => write!(
                f,
                "{left} tasks are left; plans over {MAX_SIMULATED_TASKS} are projected by their critical path"
            ),
            Unfinishable::NoAgents => write!(f, "no agent is connected"),
            Unfinishable::Staffing(stuck) => {
                write!(f, "cannot finish with the agents present: {stuck}")
            }
            Unfinishable::Simulation(e) => write!(f, "{e}"),
        }
    }
}
