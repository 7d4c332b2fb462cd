//! `swarmctl plan show` and the one-line summary of `plan check`: the plan
//! a person can take in at a glance. A day's windows are shown at their
//! times on the working day (from `--day-start`), each with its tasks or
//! its checklist.

use std::fmt::Write as _;

use swarm_plan::{Analysis, CompiledPlan, Day, DayLoad, DepRef, Need, Task};

use super::hours;
use crate::plural::count;
use swarm_client::printable::printable;

/// Longest title shown in the table before it is cut.
const TITLE_WIDTH: usize = 44;

/// `plan check`'s answer for a valid plan.
pub(crate) fn summary_line(plan: &CompiledPlan, analysis: &Analysis) -> String {
    format!(
        "ok: {} — {} over {}, critical path {} h ({})\n",
        plan.plan.name,
        count(plan.plan.tasks.len() as u64, "task"),
        count(plan.plan.days.len() as u64, "day"),
        hours(analysis.makespan),
        path_ids(plan, analysis).join(" → "),
    )
}

fn path_ids<'a>(plan: &'a CompiledPlan, analysis: &Analysis) -> Vec<&'a str> {
    analysis
        .critical_path
        .iter()
        .map(|&i| plan.plan.tasks[i].id.as_str())
        .collect()
}

/// The whole `plan show` output: a header, each day in turn, then the
/// planned hours per role and the checkpoints.
/// `day_start` is the working day's start, minutes after midnight.
pub(crate) fn render(compiled: &CompiledPlan, analysis: &Analysis, day_start: u16) -> String {
    let plan = &compiled.plan;
    let mut out = String::new();
    let _ = writeln!(out, "{}", plan.name);
    let agent_hours: u64 = analysis.role_secs.values().sum();
    let _ = writeln!(
        out,
        "{} · {} · {} agent-hours planned · critical path {} h",
        count(plan.tasks.len() as u64, "task"),
        count(plan.days.len() as u64, "day"),
        hours(agent_hours),
        hours(analysis.makespan)
    );
    let _ = writeln!(
        out,
        "critical path (marked *): {}",
        path_ids(compiled, analysis).join(" → ")
    );
    for day in shown_days(compiled) {
        render_day(&mut out, compiled, analysis, day, day_start);
    }
    out.push_str("\nplanned agent-hours per role: ");
    let roles: Vec<String> = analysis
        .role_secs
        .iter()
        .map(|(r, s)| format!("{r} {}", hours(*s)))
        .collect();
    out.push_str(&roles.join(", "));
    out.push('\n');
    if !plan.checkpoints.is_empty() {
        let cps: Vec<String> = plan
            .checkpoints
            .iter()
            .map(|c| format!("{} {}", c.time_label(), c.name))
            .collect();
        let _ = writeln!(out, "checkpoints: {}", cps.join(", "));
    }
    out
}

/// The days shown, in order: tasks outside any day first (`None`), the
/// plan's days, then days its tasks name without a heading.
fn shown_days(compiled: &CompiledPlan) -> Vec<Option<u32>> {
    let plan = &compiled.plan;
    let mut days: Vec<Option<u32>> = plan.days.iter().map(|d| Some(d.number)).collect();
    if plan.tasks.iter().any(|t| t.day.is_none()) {
        days.insert(0, None);
    }
    for t in &plan.tasks {
        if t.day.is_some() && !days.contains(&t.day) {
            days.push(t.day);
        }
    }
    days
}

/// One day: its heading and windows, its tasks' table, its exit criteria
/// and its load.
fn render_day(
    out: &mut String,
    compiled: &CompiledPlan,
    analysis: &Analysis,
    day: Option<u32>,
    day_start: u16,
) {
    let plan = &compiled.plan;
    out.push('\n');
    match day.and_then(|n| plan.days.iter().find(|d| d.number == n)) {
        Some(d) => {
            let _ = write!(out, "Day {}: {}", d.number, printable(&d.title));
            if let Some(len) = d.duration {
                let _ = write!(out, " ({} h)", hours(len.secs()));
            }
            out.push('\n');
            render_windows(out, plan, d, day_start);
        }
        None => {
            let _ = writeln!(
                out,
                "{}",
                day.map_or("Tasks outside any day".to_string(), |n| format!("Day {n}"))
            );
        }
    }
    let rows: Vec<usize> = (0..plan.tasks.len())
        .filter(|&i| plan.tasks[i].day == day)
        .collect();
    render_table(out, compiled, analysis, &rows);
    if let Some(d) = day.and_then(|n| plan.days.iter().find(|d| d.number == n)) {
        if !d.exit_criteria.is_empty() {
            let _ = writeln!(
                out,
                "  exit criteria: {}",
                d.exit_criteria
                    .iter()
                    .map(|c| c.text.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
    }
    if let Some(load) = day.and_then(|n| analysis.days.iter().find(|l| l.day == n)) {
        render_load(out, load);
    }
}

fn render_table(out: &mut String, compiled: &CompiledPlan, analysis: &Analysis, rows: &[usize]) {
    let plan = &compiled.plan;
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|&i| {
            let task = &plan.tasks[i];
            [
                format!(
                    "{}{}",
                    if analysis.is_critical(i) { "* " } else { "  " },
                    task.id
                ),
                // Escaped before it is measured, so the columns line up.
                clip(&printable(&task.title), TITLE_WIDTH),
                need_label(&compiled.tasks[i].need),
                task.priority.to_string(),
                hours(task.duration.secs()),
                depends(plan, task, &compiled.tasks[i].deps),
                hours(analysis.slack(i)),
            ]
        })
        .collect();
    let header = [
        "  ID",
        "TITLE",
        "ROLES",
        "PRI",
        "HOURS",
        "DEPENDS ON",
        "SLACK",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |out: &mut String, row: &[&str]| {
        out.push_str("  ");
        for (k, (cell, w)) in row.iter().zip(&widths).enumerate() {
            if k + 1 == row.len() {
                out.push_str(cell);
            } else {
                let pad = w - cell.chars().count();
                let _ = write!(out, "{cell}{}  ", " ".repeat(pad));
            }
        }
        out.push('\n');
    };
    line(out, &header);
    for row in &cells {
        let refs: Vec<&str> = row.iter().map(String::as_str).collect();
        line(out, &refs);
    }
}

/// `09:00–13:00  Morning Sprint: 1.1, 1.2` per window; a checklist's
/// items below its window.
fn render_windows(out: &mut String, plan: &swarm_plan::Plan, day: &Day, day_start: u16) {
    for (w, window) in day.windows.iter().enumerate() {
        let tasks: Vec<&str> = plan
            .tasks
            .iter()
            .filter(|t| t.day == Some(day.number) && t.window == Some(w))
            .map(|t| t.id.as_str())
            .collect();
        let opens = window.offset.secs() / 60;
        let closes = opens + window.duration.secs() / 60;
        let _ = write!(
            out,
            "  {}–{}  {}",
            clock(day_start, opens),
            clock(day_start, closes),
            window.name
        );
        match (tasks.is_empty(), window.checklist.is_empty()) {
            (false, _) => {
                let _ = writeln!(out, ": {}", tasks.join(", "));
            }
            (true, true) => out.push_str(": no tasks\n"),
            (true, false) => {
                let _ = writeln!(out, ": checklist of {}", window.checklist.len());
            }
        }
        for item in &window.checklist {
            let mark = if item.done { 'x' } else { ' ' };
            let _ = writeln!(out, "                [{mark}] {}", item.text);
        }
    }
}

/// `HH:MM`, `minutes` after a day starting at `day_start`; past midnight
/// the hours keep counting (`25:00`).
fn clock(day_start: u16, minutes: u64) -> String {
    let at = u64::from(day_start).saturating_add(minutes);
    format!("{:02}:{:02}", at / 60, at % 60)
}

/// Dependencies as written, which is shorter than the expanded list; for
/// a task without a Dependencies field, where its implicit ones are.
fn depends(plan: &swarm_plan::Plan, task: &Task, deps: &[usize]) -> String {
    let expanded = deps.len();
    let same_day = deps.iter().all(|&d| plan.tasks[d].day == task.day);
    match &task.depends {
        Some(refs) if refs.is_empty() => "none".to_string(),
        Some(refs) => refs
            .iter()
            .map(|r| match r {
                DepRef::Task { id, .. } => id.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", "),
        None if expanded == 0 => "none".to_string(),
        None if same_day => format!("earlier window ({expanded})"),
        None => format!("previous day ({expanded})"),
    }
}

fn render_load(out: &mut String, load: &DayLoad) {
    let mut parts = Vec::new();
    let mut short = Vec::new();
    for r in &load.roles {
        let demand = hours(r.demand_secs);
        match r.planned_agents {
            Some(0) if r.demand_secs > 0 => short.push(format!(
                "{} needs {demand} h but has no agent planned",
                r.role
            )),
            Some(planned) if planned < r.peak_agents => {
                short.push(format!(
                    "{} has {} planned but one task needs {}",
                    r.role,
                    count(u64::from(planned), "agent"),
                    r.peak_agents
                ));
                parts.push(format!(
                    "{} {demand}/{} h",
                    r.role,
                    hours(r.capacity_secs(load.length).unwrap_or(0))
                ));
            }
            Some(_) => parts.push(format!(
                "{} {demand}/{} h",
                r.role,
                hours(r.capacity_secs(load.length).unwrap_or(0))
            )),
            None => parts.push(format!("{} {demand} h", r.role)),
        }
    }
    if !parts.is_empty() {
        let _ = writeln!(out, "  load (work/planned capacity): {}", parts.join(", "));
    }
    for s in short {
        let _ = writeln!(out, "  ! {s}");
    }
}

fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut s: String = text.chars().take(width - 1).collect();
    s.push('…');
    s
}

/// `devops+security`, `swarm of 8-10`, `every agent`.
pub(crate) fn need_label(need: &Need) -> String {
    match need {
        Need::Roles(roles) => roles.join("+"),
        Need::Swarm {
            min,
            max: Some(max),
        } => format!("swarm of {min}-{max}"),
        Need::Swarm { min, max: None } => format!("swarm of {min}+"),
        Need::Monitoring => "every agent".to_string(),
    }
}
