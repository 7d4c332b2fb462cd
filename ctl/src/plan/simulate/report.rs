//! The human report of `swarmctl plan simulate`: the makespan against the
//! critical path, per-role use, the bottlenecks and why, the tasks that
//! waited for a role the pool lacked, and what can never run and why.

use std::fmt::Write as _;

use swarm_plan::simulate::{Bottleneck, Stuck};
use swarm_plan::{CompiledPlan, Need, Simulation, Staffing};

use super::id;
use crate::plan::hours;

/// Most tasks listed per section of the human report.
const LIST_MAX: usize = 20;

/// The human report: a summary, the roles, the bottlenecks, the tasks
/// that waited for a role the pool lacked, and what cannot run.
pub(super) fn render(plan: &CompiledPlan, sim: &Simulation, staffing: &Staffing) -> String {
    let mut out = String::new();
    write_summary(&mut out, plan, sim, staffing);
    write_roles(&mut out, sim);
    write_pools(&mut out, sim);
    write_bottlenecks(&mut out, sim);
    write_late(&mut out, plan, sim);
    if !sim.complete() {
        write_cannot_run(&mut out, plan, sim);
    }
    out
}

/// The plan, the staffing, and the makespan against the critical path.
fn write_summary(out: &mut String, plan: &CompiledPlan, sim: &Simulation, staffing: &Staffing) {
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
}

/// One row per role: agents, busy hours, utilisation, hours waited.
fn write_roles(out: &mut String, sim: &Simulation) {
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
}

/// One row per pool of a rate-limited API given (`--pool`): its limits,
/// the most members it ran at once, its starts, the hours tasks waited
/// for its room.
fn write_pools(out: &mut String, sim: &Simulation) {
    if sim.pools.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{:<16} {:>11} {:>10} {:>8} {:>6} {:>9}",
        "pool", "concurrency", "per minute", "at once", "starts", "waited h"
    );
    let limit = |n: Option<u32>| n.map_or("-".to_string(), |n| n.to_string());
    for (name, u) in &sim.pools {
        let _ = writeln!(
            out,
            "{:<16} {:>11} {:>10} {:>8} {:>6} {:>9}",
            name,
            limit(u.limit.concurrency),
            limit(u.limit.per_minute),
            u.peak,
            u.starts,
            hours(u.waiting_secs)
        );
    }
}

/// The roles that held the run back, worst first, each with why; then
/// the pools whose room ready tasks waited for.
fn write_bottlenecks(out: &mut String, sim: &Simulation) {
    out.push_str("\nbottlenecks:");
    let pools: Vec<_> = (sim.pools.iter())
        .filter(|(_, u)| u.waiting_secs > 0)
        .collect();
    if sim.bottlenecks.is_empty() && pools.is_empty() {
        out.push_str(
            " none: no task waited for an agent and no role was busy 75% of the time or more\n",
        );
    } else {
        out.push('\n');
    }
    for b in &sim.bottlenecks {
        let name = if b.role == swarm_plan::ANY_ROLE {
            "any (full-swarm tasks)"
        } else {
            &b.role
        };
        let _ = writeln!(out, "  {name}: {}", why_bottleneck(b));
    }
    for (name, u) in pools {
        let _ = writeln!(
            out,
            "  pool {name}: ready tasks waited {} h task-time for its room",
            hours(u.waiting_secs)
        );
    }
}

/// Whether a bottleneck was busy, short of free agents, or short in the
/// pool itself.
fn why_bottleneck(b: &Bottleneck) -> String {
    if b.waiting_secs == 0 {
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
    }
}

/// The tasks that waited for a role the pool lacked and then ran: the
/// [`LIST_MAX`] that waited longest, in plan order.
fn write_late(out: &mut String, plan: &CompiledPlan, sim: &Simulation) {
    let late: Vec<usize> = (0..sim.tasks.len())
        .filter(|&i| sim.tasks[i].unstaffed_secs > 0 && sim.tasks[i].start.is_some())
        .collect();
    if !late.is_empty() {
        out.push_str("\nwaited for a role the pool lacked (then ran once it was staffed):\n");
    }
    if late.len() > LIST_MAX {
        let _ = writeln!(
            out,
            "  ({}; the {LIST_MAX} that waited longest)",
            crate::plural::count(late.len() as u64, "task")
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
}

/// The tasks no agent could take, with why, and those waiting for them.
fn write_cannot_run(out: &mut String, plan: &CompiledPlan, sim: &Simulation) {
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

fn why_stuck(plan: &CompiledPlan, s: &Stuck) -> String {
    if let Some((pool, runs, most)) = &s.pool {
        return format!(
            "starts {} in pool {pool}, which starts at most {most} at once (its concurrency or per-minute rate)",
            crate::plural::count(u64::from(*runs), "member")
        );
    }
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
            Need::Swarm { min, .. } => {
                format!("{} of any role", crate::plural::count(*min as u64, "agent"))
            }
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
