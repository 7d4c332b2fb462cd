//! The JSON form of `swarmctl plan check --json`. Its field names are a
//! public interface that scripts read: add fields, never rename them.

use serde_json::{json, Map, Value};
use swarm_plan::{
    Agents, Analysis, CompiledPlan, Criterion, Day, DayLoad, DepRef, LoadError, Need, Plan, Task,
};

use super::Failure;

fn hours(secs: u64) -> f64 {
    secs as f64 / 3600.0
}

/// The summary of a valid plan.
pub(crate) fn summary(compiled: &CompiledPlan, analysis: &Analysis) -> Value {
    let plan = &compiled.plan;
    let tasks: Vec<Value> = (0..plan.tasks.len())
        .map(|i| task_json(compiled, analysis, i))
        .collect();
    let role_hours: Map<String, Value> = analysis
        .role_secs
        .iter()
        .map(|(role, secs)| (role.clone(), json!(hours(*secs))))
        .collect();
    let days: Vec<Value> = plan.days.iter().map(|d| day_json(plan, d)).collect();
    let day_load: Vec<Value> = analysis.days.iter().map(day_load_json).collect();
    json!({
        "name": plan.name,
        "properties": plan.properties,
        "tasks": tasks,
        "critical_path": {
            "tasks": analysis.critical_path.iter().map(|&i| plan.tasks[i].id.as_str()).collect::<Vec<_>>(),
            "hours": hours(analysis.makespan),
        },
        "role_hours": role_hours,
        "days": days,
        "day_load": day_load,
        "checkpoints": plan.checkpoints.iter().map(|c| json!({"name": c.name, "time": c.time_label()})).collect::<Vec<_>>(),
        "warnings": compiled.warnings.iter().map(diagnostic).collect::<Vec<_>>(),
    })
}

/// Task `i` as written, as compiled (roles, dependencies) and as analysed
/// (rank, start window, slack).
fn task_json(compiled: &CompiledPlan, analysis: &Analysis, i: usize) -> Value {
    let plan = &compiled.plan;
    let task = &plan.tasks[i];
    let ct = &compiled.tasks[i];
    json!({
        "id": task.id,
        "title": task.title,
        "day": task.day,
        "window": window_name(plan, task),
        "roles": ct.need.role_slots(),
        "agents": agents(&ct.need, &task.agents),
        "priority": task.priority.to_string(),
        "duration_hours": hours(task.duration.secs()),
        "depends_on": ct.deps.iter().map(|&d| plan.tasks[d].id.as_str()).collect::<Vec<_>>(),
        "depends_as_written": task.depends.as_ref().map(|refs| refs.iter().map(DepRef::to_string).collect::<Vec<_>>()),
        "rank_hours": hours(analysis.rank[i]),
        "earliest_start_hours": hours(analysis.earliest_start[i]),
        "latest_start_hours": hours(analysis.latest_start[i]),
        "slack_hours": hours(analysis.slack(i)),
        "critical": analysis.is_critical(i),
        "run": task.run,
        "checks": task.checks,
        "image": task.image,
        "timeout_seconds": task.timeout.map(|t| t.secs()),
        "retries": task.retries,
    })
}

/// A day with its exit criteria and its windows, each with its tasks.
fn day_json(plan: &Plan, d: &Day) -> Value {
    json!({
        "number": d.number,
        "title": d.title,
        "hours": d.duration.map(|x| x.hours()),
        "exit_criteria": d.exit_criteria.iter().map(criterion).collect::<Vec<_>>(),
        "windows": d.windows.iter().enumerate().map(|(w, window)| json!({
            "name": window.name,
            "offset_hours": window.offset.hours(),
            "hours": window.duration.hours(),
            "tasks": plan.tasks.iter().filter(|t| t.day == Some(d.number) && t.window == Some(w)).map(|t| t.id.as_str()).collect::<Vec<_>>(),
            "checklist": window.checklist.iter().map(criterion).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// A day's load per role: demand, peak and planned agents, capacity.
fn day_load_json(d: &DayLoad) -> Value {
    json!({
        "day": d.day,
        "hours": d.length.hours(),
        "roles": d.roles.iter().map(|r| json!({
            "role": r.role,
            "demand_hours": hours(r.demand_secs),
            "peak_agents": r.peak_agents,
            "planned_agents": r.planned_agents,
            "capacity_hours": r.capacity_secs(d.length).map(hours),
        })).collect::<Vec<_>>(),
    })
}

fn criterion(c: &Criterion) -> Value {
    json!({"text": c.text, "done": c.done, "check": c.check})
}

/// The name of the window a task sits in, if any.
fn window_name<'a>(plan: &'a Plan, task: &Task) -> Option<&'a str> {
    let day = plan.days.iter().find(|d| Some(d.number) == task.day)?;
    Some(day.windows.get(task.window?)?.name.as_str())
}

fn agents(need: &Need, written: &Agents) -> Value {
    match need {
        Need::Roles(_) => {
            json!({"kind": "roles", "min": need.min_agents(), "written": swarm_plan::markdown::agents_phrase(written)})
        }
        Need::Swarm { min, max } => json!({"kind": "swarm", "min": min, "max": max}),
        Need::Monitoring => json!({"kind": "monitoring", "min": 1}),
    }
}

fn diagnostic(d: &swarm_plan::Diagnostic) -> Value {
    json!({
        "file": d.file,
        "line": d.line,
        "severity": match d.severity { swarm_plan::Severity::Error => "error", swarm_plan::Severity::Warning => "warning" },
        "message": d.message,
    })
}

/// Why the plan could not be checked, for `--json`.
pub(crate) fn failure(failure: &Failure) -> Value {
    match failure {
        Failure::Plan(LoadError::Invalid(errors)) => {
            json!({"errors": errors.0.iter().map(diagnostic).collect::<Vec<_>>()})
        }
        Failure::Plan(e) => json!({"errors": [{"message": e.to_string()}]}),
        Failure::Roles(e) => json!({"errors": [{"message": e.to_string()}]}),
        Failure::Read(e) => json!({"errors": [{"message": e.to_string()}]}),
    }
}
