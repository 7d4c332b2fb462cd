//! Renders a plan as markdown in the seed's shape, so that [`super::parse`]
//! reads back the same plan.

use std::fmt::Write as _;

use crate::model::{Agents, Checkpoint, Criterion, Day, MatrixRow, Plan, Task};

/// The plan as a markdown document, section by section in the seed's
/// order: title and properties, tasks without a day, the days, tasks of
/// days without a heading, the coordination protocol, the matrix.
pub fn write(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}", plan.name);
    for (key, value) in &plan.properties {
        let _ = writeln!(out, "**{key}**: {value}");
    }
    let undated: Vec<&Task> = plan.tasks.iter().filter(|t| t.day.is_none()).collect();
    if !undated.is_empty() {
        out.push_str("\n## Tasks\n");
        for task in undated {
            write_task(&mut out, task);
        }
    }
    if !plan.days.is_empty() {
        out.push_str("\n## Detailed Daily Breakdown\n");
    }
    for day in &plan.days {
        write_day(&mut out, plan, day);
    }
    // Tasks filed under a day with no heading cannot be placed under one.
    for task in plan.tasks.iter().filter(|t| {
        t.day
            .is_some_and(|d| !plan.days.iter().any(|x| x.number == d))
    }) {
        let _ = writeln!(out, "\n### Day {}:", task.day.unwrap_or_default());
        write_task(&mut out, task);
    }
    write_protocol(&mut out, &plan.checkpoints);
    write_matrix(&mut out, &plan.matrix);
    out
}

/// A day's heading, its tasks before and in each window, and its exit
/// criteria.
fn write_day(out: &mut String, plan: &Plan, day: &Day) {
    let _ = write!(out, "\n### Day {}: {}", day.number, day.title);
    if let Some(d) = day.duration {
        let _ = write!(out, " ({d})");
    }
    out.push('\n');
    let in_day = |t: &&Task| t.day == Some(day.number);
    // Tasks before the first window (or naming a window the day lacks).
    for task in plan
        .tasks
        .iter()
        .filter(in_day)
        .filter(|t| t.window.is_none_or(|w| w >= day.windows.len()))
    {
        write_task(out, task);
    }
    for (w, window) in day.windows.iter().enumerate() {
        let _ = writeln!(out, "\n**{} ({})**", window.name, window.duration);
        write_checklist(out, &window.checklist);
        for task in plan
            .tasks
            .iter()
            .filter(in_day)
            .filter(|t| t.window == Some(w))
        {
            write_task(out, task);
        }
    }
    if !day.exit_criteria.is_empty() {
        let _ = writeln!(out, "\n**Day {} Exit Criteria**:", day.number);
        write_checklist(out, &day.exit_criteria);
    }
}

/// The Coordination Protocol section: a heading per checkpoint with its
/// time, its agenda as bullets. Nothing without checkpoints.
fn write_protocol(out: &mut String, checkpoints: &[Checkpoint]) {
    if checkpoints.is_empty() {
        return;
    }
    out.push_str("\n## Coordination Protocol\n");
    for cp in checkpoints {
        let _ = writeln!(out, "\n### {} ({})", cp.name, cp.time_label());
        for item in &cp.agenda {
            let _ = writeln!(out, "- {item}");
        }
    }
}

/// The allocation matrix appendix as a table. Nothing without rows.
fn write_matrix(out: &mut String, matrix: &[MatrixRow]) {
    if matrix.is_empty() {
        return;
    }
    out.push_str("\n## Appendix: Agent Allocation Matrix\n\n");
    out.push_str("| Day | Phase | Agents Required | Specializations |\n");
    out.push_str("|-----|-------|-----------------|-----------------|\n");
    for row in matrix {
        let spec = match &row.swarm {
            Some(text) => text.clone(),
            None => row
                .roles
                .iter()
                .map(|(role, n)| format!("{role} ({n})"))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {spec} |",
            row.day, row.phase, row.agents_required
        );
    }
}

/// `- [x] text`, with ` — **Check**: \`cmd\`` when the item has one.
fn write_checklist(out: &mut String, items: &[Criterion]) {
    for c in items {
        let mark = if c.done { 'x' } else { ' ' };
        let _ = write!(out, "- [{mark}] {}", c.text);
        if let Some(check) = &c.check {
            let _ = write!(out, " — **Check**: {}", inline_code(check));
        }
        out.push('\n');
    }
}

fn write_task(out: &mut String, task: &Task) {
    let _ = writeln!(out, "\n**Task {}**: {}", task.id, task.title);
    let _ = writeln!(out, "- **Agent**: {}", agents_phrase(&task.agents));
    let _ = writeln!(out, "- **Priority**: {}", task.priority);
    let _ = writeln!(out, "- **Duration**: {}", task.duration);
    write_list(out, "Deliverables", &task.deliverables);
    write_list(out, "Success Criteria", &task.success_criteria);
    if let Some(deps) = &task.depends {
        let text = if deps.is_empty() {
            "None".to_string()
        } else {
            deps.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(out, "- **Dependencies**: {text}");
    }
    if let Some(b) = &task.blocking {
        let _ = writeln!(out, "- **Blocking**: {b}");
    }
    if let Some(run) = &task.run {
        write_code_field(out, "Run", run);
    }
    for check in &task.checks {
        write_code_field(out, "Check", check);
    }
    if let Some(image) = &task.image {
        let _ = writeln!(out, "- **Image**: {image}");
    }
    if let Some(t) = task.timeout {
        let _ = writeln!(out, "- **Timeout**: {t}");
    }
    if let Some(r) = task.retries {
        let _ = writeln!(out, "- **Retries**: {r}");
    }
    if task.gang != crate::model::Gang::All {
        let _ = writeln!(out, "- **Gang**: {}", task.gang.name());
    }
    if task.workspace != crate::claims::Workspace::Repo {
        let _ = writeln!(out, "- **Workspace**: {}", task.workspace.name());
    }
    if let Some(pool) = &task.pool {
        let _ = writeln!(out, "- **Pool**: {pool}");
    }
    if !task.touches.is_empty() {
        let _ = writeln!(out, "- **Touches**: {}", task.touches.join(", "));
    }
    for note in &task.notes {
        let _ = writeln!(out, "- **{}**: {}", note.field, note.value);
        for line in &note.body {
            let _ = writeln!(out, "{line}");
        }
    }
}

/// How an agent requirement is written in a plan.
pub fn agents_phrase(agents: &Agents) -> String {
    match agents {
        Agents::Roles(phrases) => phrases.join(" + "),
        Agents::Swarm {
            min,
            max: Some(max),
        } => format!("Full Swarm ({min}-{max} agents)"),
        Agents::Swarm { min, max: None } => format!("Full Swarm ({min} agents)"),
        Agents::Monitoring => "Full Swarm (monitoring mode)".to_string(),
    }
}

fn write_list(out: &mut String, name: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "- **{name}**:");
    for item in items {
        let depth = (item.len() - item.trim_start_matches(' ').len()) / 2;
        let _ = writeln!(out, "{}- {}", "  ".repeat(depth + 1), item.trim_start());
    }
}

/// A Run or Check field: inline code for one line, a fenced block for more.
fn write_code_field(out: &mut String, name: &str, code: &str) {
    if !code.contains('\n') {
        let _ = writeln!(out, "- **{name}**: {}", inline_code(code));
        return;
    }
    let longest = longest_run(code, '`');
    let fence = "`".repeat(longest.max(2) + 1);
    let _ = writeln!(out, "- **{name}**:\n  {fence}sh");
    for line in code.lines() {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "  {line}");
        }
    }
    let _ = writeln!(out, "  {fence}");
}

/// Inline code that survives any backticks inside it.
fn inline_code(code: &str) -> String {
    match longest_run(code, '`') {
        0 => format!("`{code}`"),
        n => {
            let ticks = "`".repeat(n + 1);
            format!("{ticks} {code} {ticks}")
        }
    }
}

fn longest_run(text: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for x in text.chars() {
        run = if x == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}
