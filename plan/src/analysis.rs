//! Analysis of a compiled plan: upward rank, the critical path by CPM
//! (earliest and latest start, slack), planned agent-hours per role, and
//! each day's load against the allocation matrix. All in O(tasks + edges).

use std::collections::BTreeMap;

use crate::compile::CompiledPlan;
use crate::model::PlanDuration;

/// Working time of a day whose heading gives none.
pub const DEFAULT_DAY: PlanDuration = PlanDuration(8 * 3600);

/// What the analysis found. Vectors are indexed like the plan's tasks;
/// times are seconds of plan time from the start, with unlimited agents.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// Longest chain of planned time from the task to the end of the plan,
    /// the task included: the scheduler's tie-breaker after priority.
    pub rank: Vec<u64>,
    /// Earliest start with unlimited agents, seconds from the plan's start.
    pub earliest_start: Vec<u64>,
    /// Latest start that does not delay the plan.
    pub latest_start: Vec<u64>,
    /// Length of the whole plan with unlimited agents.
    pub makespan: u64,
    /// The critical path, first task first.
    pub critical_path: Vec<usize>,
    /// Planned agent-seconds per canonical role (`any` for swarm tasks).
    pub role_secs: BTreeMap<String, u64>,
    /// Per day of the plan, in day order.
    pub days: Vec<DayLoad>,
}

impl Analysis {
    /// Slack of a task: how long it can slip without delaying the plan.
    pub fn slack(&self, task: usize) -> u64 {
        self.latest_start[task] - self.earliest_start[task]
    }

    /// Whether the task is on the critical path.
    pub fn is_critical(&self, task: usize) -> bool {
        self.critical_path.contains(&task)
    }
}

/// One day's planned work against its allocation.
#[derive(Debug, Clone, PartialEq)]
pub struct DayLoad {
    /// The plan day, from 1.
    pub day: u32,
    /// Working time of the day.
    pub length: PlanDuration,
    /// Per canonical role, every role that has work or an allocation.
    pub roles: Vec<RoleLoad>,
}

/// One role's planned work on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleLoad {
    /// Canonical role.
    pub role: String,
    /// Agent-seconds of planned work.
    pub demand_secs: u64,
    /// Most agents of this role one task of the day needs at once.
    pub peak_agents: u32,
    /// Agents the allocation matrix plans (None when the day has no row or
    /// the row activates the full swarm).
    pub planned_agents: Option<u32>,
}

impl RoleLoad {
    /// Planned agent-seconds available: agents times the day's length.
    pub fn capacity_secs(&self, length: PlanDuration) -> Option<u64> {
        self.planned_agents.map(|a| u64::from(a) * length.secs())
    }
}

/// Analyses a compiled plan.
pub fn analyse(compiled: &CompiledPlan) -> Analysis {
    let n = compiled.tasks.len();
    let dur: Vec<u64> = compiled
        .plan
        .tasks
        .iter()
        .map(|t| t.duration.secs())
        .collect();
    let mut earliest_start = vec![0u64; n];
    for &i in &compiled.order {
        earliest_start[i] = compiled.tasks[i]
            .deps
            .iter()
            .map(|&d| earliest_start[d] + dur[d])
            .max()
            .unwrap_or(0);
    }
    let makespan = (0..n)
        .map(|i| earliest_start[i] + dur[i])
        .max()
        .unwrap_or(0);
    let mut rank = vec![0u64; n];
    let mut latest_start = vec![0u64; n];
    for &i in compiled.order.iter().rev() {
        let after = &compiled.tasks[i].dependents;
        rank[i] = dur[i] + after.iter().map(|&s| rank[s]).max().unwrap_or(0);
        let latest_finish = after
            .iter()
            .map(|&s| latest_start[s])
            .min()
            .unwrap_or(makespan);
        latest_start[i] = latest_finish - dur[i];
    }
    let critical_path = critical_path(compiled, &earliest_start, &dur);
    Analysis {
        role_secs: role_secs(compiled, &dur),
        days: day_loads(compiled, &dur),
        rank,
        earliest_start,
        latest_start,
        makespan,
        critical_path,
    }
}

/// From the task that finishes last, walk back through the dependency that
/// finishes exactly when the task starts.
fn critical_path(compiled: &CompiledPlan, es: &[u64], dur: &[u64]) -> Vec<usize> {
    let finish = |i: usize| es[i] + dur[i];
    let Some(mut at) = compiled
        .order
        .iter()
        .copied()
        .max_by_key(|&i| (finish(i), std::cmp::Reverse(i)))
    else {
        return Vec::new();
    };
    let mut path = vec![at];
    while let Some(&prev) = compiled.tasks[at]
        .deps
        .iter()
        .find(|&&d| finish(d) == es[at])
    {
        path.push(prev);
        at = prev;
    }
    path.reverse();
    path
}

fn role_secs(compiled: &CompiledPlan, dur: &[u64]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (i, task) in compiled.tasks.iter().enumerate() {
        for role in task.need.role_slots() {
            *out.entry(role).or_insert(0) += dur[i];
        }
    }
    out
}

fn day_loads(compiled: &CompiledPlan, dur: &[u64]) -> Vec<DayLoad> {
    let mut days: BTreeMap<u32, BTreeMap<String, RoleLoad>> = BTreeMap::new();
    for (i, task) in compiled.plan.tasks.iter().enumerate() {
        let Some(day) = task.day else { continue };
        let roles = days.entry(day).or_default();
        let slots = compiled.tasks[i].need.role_slots();
        let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
        for role in &slots {
            *counts.entry(role).or_insert(0) += 1;
        }
        for (role, count) in counts {
            let load = roles.entry(role.to_string()).or_insert_with(|| RoleLoad {
                role: role.to_string(),
                demand_secs: 0,
                peak_agents: 0,
                planned_agents: None,
            });
            load.demand_secs += dur[i] * u64::from(count);
            load.peak_agents = load.peak_agents.max(count);
        }
    }
    for row in &compiled.matrix {
        let roles = days.entry(row.day).or_default();
        if row.swarm {
            continue;
        }
        for load in roles.values_mut() {
            load.planned_agents.get_or_insert(0);
        }
        for (role, &count) in &row.roles {
            let load = roles.entry(role.clone()).or_insert_with(|| RoleLoad {
                role: role.clone(),
                demand_secs: 0,
                peak_agents: 0,
                planned_agents: Some(0),
            });
            load.planned_agents = Some(load.planned_agents.unwrap_or(0) + count);
        }
    }
    days.into_iter()
        .map(|(day, roles)| DayLoad {
            day,
            length: compiled
                .plan
                .days
                .iter()
                .find(|d| d.number == day)
                .and_then(|d| d.duration)
                .unwrap_or(DEFAULT_DAY),
            roles: roles.into_values().collect(),
        })
        .collect()
}
