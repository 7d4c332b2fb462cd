//! `swarmctl plan graph`: the task DAG as Graphviz dot or a Mermaid
//! flowchart, one cluster per day, the critical path in red.

use std::fmt::Write as _;

use swarm_plan::{Analysis, CompiledPlan};

use super::hours;
use crate::cli::GraphFormat;

/// Renders the graph in the asked format.
pub(crate) fn render(plan: &CompiledPlan, analysis: &Analysis, format: GraphFormat) -> String {
    match format {
        GraphFormat::Dot => dot(plan, analysis),
        GraphFormat::Mermaid => mermaid(plan, analysis),
    }
}

/// Longest title in a node label, in characters, the ellipsis included.
const MAX_TITLE: usize = 40;

/// Node label: id, title (shortened with "…") and the needs, with quotes
/// made safe.
fn label(plan: &CompiledPlan, i: usize, line_break: &str) -> String {
    let task = &plan.plan.tasks[i];
    let title = shorten(&task.title, MAX_TITLE);
    format!(
        "{} {}{line_break}{} · {} · {} h",
        task.id,
        title,
        super::show::need_label(&plan.tasks[i].need),
        task.priority,
        hours(task.duration.secs())
    )
    .replace('"', "'")
}

/// `text` if it has at most `max` characters, else its first `max - 1`
/// (trailing spaces dropped) and "…", so a reader sees it was cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", kept.trim_end())
}

fn groups(plan: &CompiledPlan) -> Vec<(Option<u32>, Vec<usize>)> {
    let mut out: Vec<(Option<u32>, Vec<usize>)> = Vec::new();
    for (i, task) in plan.plan.tasks.iter().enumerate() {
        match out.iter_mut().find(|(d, _)| *d == task.day) {
            Some((_, v)) => v.push(i),
            None => out.push((task.day, vec![i])),
        }
    }
    out
}

fn on_path(analysis: &Analysis, from: usize, to: usize) -> bool {
    analysis
        .critical_path
        .windows(2)
        .any(|w| w[0] == from && w[1] == to)
}

fn dot(plan: &CompiledPlan, analysis: &Analysis) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph plan {{");
    let _ = writeln!(
        out,
        "  label=\"{} (critical path {} h in red)\";",
        plan.plan.name.replace('"', "'"),
        hours(analysis.makespan)
    );
    let _ = writeln!(
        out,
        "  rankdir=LR;\n  node [shape=box, style=rounded, fontsize=10];"
    );
    for (day, tasks) in groups(plan) {
        let title = day
            .and_then(|n| plan.plan.days.iter().find(|d| d.number == n))
            .map(|d| format!("Day {}: {}", d.number, d.title).replace('"', "'"));
        let _ = writeln!(
            out,
            "  subgraph cluster_{} {{",
            day.map_or("none".to_string(), |d| d.to_string())
        );
        let _ = writeln!(out, "    label=\"{}\";", title.unwrap_or_default());
        for i in tasks {
            let style = if analysis.is_critical(i) {
                ", color=red, penwidth=2, style=\"rounded,bold\""
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "    \"{}\" [label=\"{}\"{style}];",
                plan.plan.tasks[i].id,
                label(plan, i, "\\n")
            );
        }
        let _ = writeln!(out, "  }}");
    }
    for (i, task) in plan.tasks.iter().enumerate() {
        for &d in &task.deps {
            let style = if on_path(analysis, d, i) {
                " [color=red, penwidth=2]"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  \"{}\" -> \"{}\"{style};",
                plan.plan.tasks[d].id, plan.plan.tasks[i].id
            );
        }
    }
    out.push_str("}\n");
    out
}

fn mermaid(plan: &CompiledPlan, analysis: &Analysis) -> String {
    let node = |i: usize| format!("t{}", plan.plan.tasks[i].id.replace('.', "_"));
    let mut out = String::from("flowchart LR\n");
    for (day, tasks) in groups(plan) {
        let title = day
            .and_then(|n| plan.plan.days.iter().find(|d| d.number == n))
            .map(|d| format!("Day {}: {}", d.number, d.title))
            .unwrap_or_else(|| "Tasks".to_string())
            .replace('"', "'");
        let _ = writeln!(
            out,
            "  subgraph day{}[\"{title}\"]",
            day.map_or("none".to_string(), |d| d.to_string())
        );
        for i in tasks {
            let _ = writeln!(out, "    {}[\"{}\"]", node(i), label(plan, i, "<br/>"));
        }
        let _ = writeln!(out, "  end");
    }
    let mut critical_links = Vec::new();
    let mut link = 0usize;
    for (i, task) in plan.tasks.iter().enumerate() {
        for &d in &task.deps {
            let _ = writeln!(out, "  {} --> {}", node(d), node(i));
            if on_path(analysis, d, i) {
                critical_links.push(link.to_string());
            }
            link += 1;
        }
    }
    out.push_str("  classDef critical fill:#fdd,stroke:#c00,stroke-width:2px\n");
    let crit: Vec<String> = analysis.critical_path.iter().map(|&i| node(i)).collect();
    if !crit.is_empty() {
        let _ = writeln!(out, "  class {} critical", crit.join(","));
    }
    if !critical_links.is_empty() {
        let _ = writeln!(
            out,
            "  linkStyle {} stroke:#c00,stroke-width:3px",
            critical_links.join(",")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::shorten;

    #[test]
    fn long_titles_end_in_an_ellipsis() {
        assert_eq!(shorten("Backup Review", 40), "Backup Review");
        let exact = "x".repeat(40);
        assert_eq!(shorten(&exact, 40), exact);
        let cut = shorten("Backup Scripts Review & Validation (CRITICAL)", 40);
        assert_eq!(cut, "Backup Scripts Review & Validation (CRI…");
        assert_eq!(cut.chars().count(), 40);
        assert_eq!(
            shorten("abcd efgh", 6),
            "abcd…",
            "no space before the ellipsis"
        );
    }
}
