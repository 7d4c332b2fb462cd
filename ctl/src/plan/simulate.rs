//! `swarmctl plan simulate`: what-if runs of a plan file on simulated
//! agents (unlimited, a fixed number per role, or the plan's allocation
//! matrix day by day), printed as a report or, with `--json`, as one
//! object whose field names are a public interface: add, never rename.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{json, Value};
use swarm_plan::policy::PriorityOrder;
use swarm_plan::simulate::{Stuck, MAX_AGENTS};
use swarm_plan::{simulate_ordered, Catalogue, CompiledPlan, Need, Simulation, Staffing};

use super::hours;
use crate::exit;

/// Most tasks listed per section of the human report.
const LIST_MAX: usize = 20;

/// The valid form of `--agents`, for error messages.
const AGENTS_FORM: &str = "write it like --agents devops=2,security=1 (a role as the plan or the role catalogue names it, '=', a count of 1 or more; pieces separated by commas)";

/// Runs the simulation command and returns the exit code: 2 for bad
/// input; 5 when the answer is that some task can never be staffed.
pub(crate) fn run(
    plan: &CompiledPlan,
    agents: Option<&str>,
    matrix: bool,
    priority: PriorityOrder,
    json: bool,
) -> u8 {
    let staffing = match (agents, matrix) {
        (Some(spec), _) => match parse_agents(spec, plan) {
            Ok(map) => Staffing::Fixed(map),
            Err(why) => {
                eprintln!("swarmctl: --agents: {why}");
                return exit::USAGE;
            }
        },
        (None, true) => Staffing::Matrix,
        (None, false) => Staffing::Unlimited,
    };
    let sim = match simulate_ordered(plan, &staffing, priority) {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("swarmctl: cannot simulate: {e}");
            return exit::USAGE;
        }
    };
    let text = if json {
        let mut v = to_json(plan, &sim, &staffing);
        v["priority"] = json!(priority.to_string());
        format!("{:#}\n", v)
    } else {
        render(plan, &sim, &staffing)
    };
    let code = super::print(&text);
    if code != exit::OK {
        return code;
    }
    if sim.complete() {
        exit::OK
    } else {
        let ids: Vec<&str> = sim.unrunnable.iter().map(|s| id(plan, s.task)).collect();
        eprintln!(
            "swarmctl: the plan cannot finish with these agents: {} task{} can never be staffed: {} (exit {})",
            ids.len(),
            if ids.len() == 1 { "" } else { "s" },
            ids.join(", "),
            exit::CANNOT_FINISH
        );
        exit::CANNOT_FINISH
    }
}

/// `devops=2,Security Auditor=1` as agents per canonical role. Roles are
/// any phrase of the built-in catalogue, or a role the plan itself uses.
fn parse_agents(spec: &str, plan: &CompiledPlan) -> Result<BTreeMap<String, u32>, String> {
    let catalogue = Catalogue::builtin();
    let mut out: BTreeMap<String, u32> = BTreeMap::new();
    let mut written: BTreeMap<String, String> = BTreeMap::new();
    for piece in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((phrase, count)) = piece.split_once('=') else {
            return Err(format!("'{piece}' is not ROLE=N; {AGENTS_FORM}"));
        };
        let (phrase, count) = (phrase.trim(), count.trim());
        let role = match catalogue.resolve(phrase) {
            Ok(role) => role.to_string(),
            Err(_) if plan_roles(plan).contains(&phrase.to_lowercase()) => phrase.to_lowercase(),
            Err(unknown) => {
                let known: Vec<&str> = catalogue.roles().iter().map(|r| r.name.as_str()).collect();
                return Err(format!(
                    "'{piece}': {unknown}; the known roles are {}",
                    known.join(", ")
                ));
            }
        };
        let n: u32 = match count.parse::<u64>() {
            Ok(0) => {
                return Err(format!(
                    "'{piece}' gives no agents; a count is 1 or more (leave a role out to give it none)"
                ))
            }
            Ok(n) if n <= MAX_AGENTS => n as u32,
            _ => {
                return Err(format!(
                    "'{piece}': the count must be a whole number from 1 to {MAX_AGENTS}; {AGENTS_FORM}"
                ))
            }
        };
        if let Some(first) = written.insert(role.clone(), piece.to_string()) {
            return Err(format!(
                "{role} is given twice ('{first}' and '{piece}'); give each role once"
            ));
        }
        out.insert(role, n);
    }
    if out.is_empty() {
        return Err(format!("no agents given; {AGENTS_FORM}"));
    }
    Ok(out)
}

/// Every canonical role the plan's tasks and matrix name.
fn plan_roles(plan: &CompiledPlan) -> Vec<String> {
    let mut roles: Vec<String> = plan
        .tasks
        .iter()
        .flat_map(|t| match &t.need {
            Need::Roles(r) => r.clone(),
            _ => Vec::new(),
        })
        .chain(plan.matrix.iter().flat_map(|a| a.roles.keys().cloned()))
        .collect();
    roles.sort();
    roles.dedup();
    roles
}

fn id(plan: &CompiledPlan, task: usize) -> &str {
    plan.plan.tasks.get(task).map_or("?", |t| t.id.as_str())
}

fn staffing_line(staffing: &Staffing) -> String {
    match staffing {
        Staffing::Unlimited => {
            "unlimited (each role gets as many agents as it ever needs at once; full-swarm tasks get agents of role 'any')".to_string()
        }
        Staffing::Fixed(map) => map
            .iter()
            .map(|(r, n)| format!("{r}={n}"))
            .collect::<Vec<_>>()
            .join(", "),
        Staffing::Matrix => {
            "the allocation matrix, day by day (agents leave only when idle)".to_string()
        }
    }
}

fn percent(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// The human report.
fn render(plan: &CompiledPlan, sim: &Simulation, staffing: &Staffing) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Simulation of {}", plan.plan.name);
    let _ = writeln!(out, "staffing: {}", staffing_line(staffing));
    let versus = if sim.makespan > sim.critical_path {
        format!(
            "{} h longer than the critical path of {} h",
            hours(sim.makespan - sim.critical_path),
            hours(sim.critical_path)
        )
    } else {
        format!("the critical path is {} h", hours(sim.critical_path))
    };
    let _ = writeln!(
        out,
        "makespan: {} h = {:.2} business days of {} h; {versus}{}",
        hours(sim.makespan),
        sim.business_days,
        hours(sim.day_secs),
        if sim.complete() {
            ""
        } else {
            " (incomplete: some tasks never ran)"
        }
    );
    let _ = writeln!(
        out,
        "\n{:<16} {:>6} {:>8} {:>12} {:>9}",
        "role", "agents", "busy h", "utilisation", "waited h"
    );
    for (role, u) in &sim.roles {
        let _ = writeln!(
            out,
            "{:<16} {:>6} {:>8} {:>12} {:>9}",
            role,
            u.agents,
            hours(u.busy_secs),
            percent(u.utilisation),
            hours(u.waiting_secs)
        );
    }
    out.push_str("\nbottlenecks:");
    if sim.bottlenecks.is_empty() {
        out.push_str(
            " none: no task waited for an agent and no role was busy 75% of the time or more\n",
        );
    } else {
        out.push('\n');
    }
    for b in &sim.bottlenecks {
        let why = if b.waiting_secs == 0 {
            format!("busy {} of the time", percent(b.utilisation))
        } else if b.unstaffed_secs == b.waiting_secs {
            format!(
                "ready tasks waited {} h task-time while the pool had too few {} agents at all",
                hours(b.waiting_secs),
                b.role
            )
        } else {
            let lacking = match b.unstaffed_secs {
                0 => String::new(),
                secs => format!(", {} h of it with too few in the pool", hours(secs)),
            };
            format!(
                "ready tasks waited {} h task-time for a free agent{lacking}; utilisation {}",
                hours(b.waiting_secs),
                percent(b.utilisation)
            )
        };
        let name = if b.role == swarm_plan::ANY_ROLE {
            "any (full-swarm tasks)"
        } else {
            &b.role
        };
        let _ = writeln!(out, "  {name}: {why}");
    }
    let late: Vec<usize> = (0..sim.tasks.len())
        .filter(|&i| sim.tasks[i].unstaffed_secs > 0 && sim.tasks[i].start.is_some())
        .collect();
    if !late.is_empty() {
        out.push_str("\nwaited for a role the pool lacked (then ran once it was staffed):\n");
    }
    if late.len() > LIST_MAX {
        let _ = writeln!(
            out,
            "  ({} tasks; the {LIST_MAX} that waited longest)",
            late.len()
        );
    }
    let mut late = late;
    late.sort_by_key(|&i| std::cmp::Reverse(sim.tasks[i].unstaffed_secs));
    late.truncate(LIST_MAX);
    late.sort_unstable();
    for i in late {
        let t = &sim.tasks[i];
        let _ = writeln!(
            out,
            "  {}: ready at {} h, started at {} h; {} h without enough {}",
            id(plan, i),
            hours(t.ready.unwrap_or(0)),
            hours(t.start.unwrap_or(0)),
            hours(t.unstaffed_secs),
            t.unstaffed_roles.join(" + ")
        );
    }
    if !sim.complete() {
        out.push_str("\ncannot run:\n");
        for s in sim.unrunnable.iter().take(LIST_MAX) {
            let _ = writeln!(out, "  {}: {}", id(plan, s.task), why_stuck(plan, s));
        }
        if sim.unrunnable.len() > LIST_MAX {
            let _ = writeln!(out, "  … and {} more", sim.unrunnable.len() - LIST_MAX);
        }
        if !sim.blocked.is_empty() {
            let ids: Vec<&str> = sim
                .blocked
                .iter()
                .take(LIST_MAX)
                .map(|&i| id(plan, i))
                .collect();
            let more = sim.blocked.len().saturating_sub(LIST_MAX);
            let _ = writeln!(
                out,
                "  and {} task{} waiting for them: {}{}",
                sim.blocked.len(),
                if sim.blocked.len() == 1 { "" } else { "s" },
                ids.join(", "),
                if more > 0 {
                    format!(", … ({more} more)")
                } else {
                    String::new()
                }
            );
        }
    }
    out
}

fn why_stuck(plan: &CompiledPlan, s: &Stuck) -> String {
    if s.missing.is_empty() {
        return "needs no agent, so the scheduler never places it; give it an Agent".to_string();
    }
    let lacks: Vec<String> = s
        .missing
        .iter()
        .map(|(role, needed, have)| format!("{have} of {needed} {role}"))
        .collect();
    let needs = plan
        .tasks
        .get(s.task)
        .map_or(String::new(), |t| match &t.need {
            Need::Roles(roles) => roles.join(" + "),
            Need::Swarm { min, .. } => format!("{min} agents of any role"),
            Need::Monitoring => "one agent".to_string(),
        });
    let mut why = format!(
        "needs {needs} at once; the last pool has {}",
        lacks.join(" and ")
    );
    if !s.staffed_days.is_empty() {
        let days: Vec<String> = s
            .staffed_days
            .iter()
            .map(|(role, days)| match days.as_slice() {
                [] => format!("no day staffs {role}"),
                d => format!(
                    "{role} is staffed on day{} {}",
                    if d.len() == 1 { "" } else { "s" },
                    d.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
                ),
            })
            .collect();
        let mut together: Vec<u32> = s
            .staffed_days
            .first()
            .map(|(_, d)| d.clone())
            .unwrap_or_default();
        together.retain(|day| s.staffed_days.iter().all(|(_, d)| d.contains(day)));
        let when = match together.as_slice() {
            [] if s.staffed_days.len() > 1 => ": no day's pool has them together".to_string(),
            [] => String::new(),
            d => format!(
                ": the pool had them only on day{} {}, before it was ready or while they were busy",
                if d.len() == 1 { "" } else { "s" },
                d.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
            ),
        };
        let _ = write!(why, "; {}{when}", days.join("; "));
    }
    why
}

fn h(secs: u64) -> f64 {
    (secs as f64 / 3600.0 * 100.0).round() / 100.0
}

/// The `--json` object.
fn to_json(plan: &CompiledPlan, sim: &Simulation, staffing: &Staffing) -> Value {
    let roles: serde_json::Map<String, Value> = sim
        .roles
        .iter()
        .map(|(role, u)| {
            let v = json!({
                "agents": u.agents,
                "busy_hours": h(u.busy_secs),
                "utilisation": (u.utilisation * 10_000.0).round() / 10_000.0,
                "waiting_hours": h(u.waiting_secs),
                "unstaffed_hours": h(u.unstaffed_secs),
            });
            (role.clone(), v)
        })
        .collect();
    let tasks: Vec<Value> = sim
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            json!({
                "id": id(plan, i),
                "ready_hours": t.ready.map(h),
                "start_hours": t.start.map(h),
                "finish_hours": t.finish.map(h),
                "agents": t.agents.iter().map(|&a| sim.agents.get(a).map_or("?", String::as_str)).collect::<Vec<_>>(),
                "unstaffed_hours": h(t.unstaffed_secs),
                "unstaffed_roles": t.unstaffed_roles,
            })
        })
        .collect();
    json!({
        "plan": plan.plan.name,
        "staffing": match staffing {
            Staffing::Unlimited => json!("unlimited"),
            Staffing::Fixed(map) => json!(map),
            Staffing::Matrix => json!("matrix"),
        },
        "complete": sim.complete(),
        "makespan_hours": h(sim.makespan),
        "business_days": sim.business_days,
        "day_hours": h(sim.day_secs),
        "critical_path_hours": h(sim.critical_path),
        "roles": roles,
        "bottlenecks": sim.bottlenecks.iter().map(|b| json!({
            "role": b.role,
            "waiting_hours": h(b.waiting_secs),
            "unstaffed_hours": h(b.unstaffed_secs),
            "utilisation": (b.utilisation * 10_000.0).round() / 10_000.0,
        })).collect::<Vec<_>>(),
        "tasks": tasks,
        "unrunnable": sim.unrunnable.iter().map(|s| json!({
            "id": id(plan, s.task),
            "missing": s.missing.iter().map(|(role, needed, available)| json!({
                "role": role, "needed": needed, "available": available,
            })).collect::<Vec<_>>(),
            "staffed_days": s.staffed_days.iter().cloned().collect::<BTreeMap<_, _>>(),
        })).collect::<Vec<_>>(),
        "blocked": sim.blocked.iter().map(|&i| id(plan, i)).collect::<Vec<_>>(),
    })
}
