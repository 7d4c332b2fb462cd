//! Revisions: the diff names what changed field by field, and the
//! arrangement keeps every running position.

use super::*;
use crate::{load_text, Catalogue, Format};

/// `(id, agent, hours, dependencies or "")` tasks in one day.
fn plan(tasks: &[(&str, &str, u32, &str)]) -> CompiledPlan {
    let mut text = "# Test\n\n### Day 1: One\n\n".to_string();
    for (id, agent, hours, deps) in tasks {
        let deps = if deps.is_empty() { "None" } else { deps };
        text.push_str(&format!(
            "**Task {id}**: T{id}\n- **Agent**: {agent}\n- **Priority**: P1\n- **Duration**: {hours} hours\n- **Dependencies**: {deps}\n- **Run**: `echo {id}`\n\n"
        ));
    }
    load_text(&text, "test.md", Format::Markdown, &Catalogue::builtin())
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn ids(p: &CompiledPlan) -> Vec<&str> {
    p.plan.tasks.iter().map(|t| t.id.as_str()).collect()
}

#[test]
fn the_diff_names_added_removed_and_changed_fields() {
    let old = plan(&[
        ("1.1", "SRE", 1, ""),
        ("1.2", "SRE", 2, "Task 1.1"),
        ("1.3", "SRE", 1, ""),
    ]);
    let new = plan(&[
        ("1.1", "SRE", 1, ""),
        ("1.2", "Security", 3, "Task 1.1, Task 1.4"),
        ("1.4", "SRE", 1, ""),
    ]);
    let d = diff(&old, &|_| true, &new);
    assert_eq!(d.added.len(), 1);
    assert_eq!(d.added[0].0, "1.4");
    assert_eq!(d.removed, [("1.3".to_string(), "T1.3".to_string())]);
    assert_eq!(d.changed.len(), 1);
    let fields: Vec<&str> = d.changed[0].fields.iter().map(|f| f.field).collect();
    assert_eq!(fields, ["roles", "duration", "dependencies"]);
    let lines = d.lines();
    assert!(
        lines.contains(&"~ task 1.2 duration: 2 hours → 3 hours".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"~ task 1.2 dependencies: 1.1 → 1.1, 1.4".to_string()),
        "{lines:?}"
    );
    assert!(lines.contains(&"- task 1.3: T1.3".to_string()), "{lines:?}");
    assert_eq!(d.summary(), "1 added, 1 removed, 1 changed");
}

#[test]
fn the_same_plan_is_no_change_and_removed_tasks_are_not_compared() {
    let old = plan(&[("1.1", "SRE", 1, ""), ("1.2", "SRE", 1, "")]);
    assert!(diff(&old, &|_| true, &old).is_empty());
    let new = plan(&[("1.1", "SRE", 1, "")]);
    // 1.2 left the plan in an earlier revision: nothing to remove now.
    assert!(diff(&old, &|i| i == 0, &new).is_empty());
    assert_eq!(diff(&old, &|i| i == 0, &new).summary(), "no change");
}

#[test]
fn arranging_keeps_positions_stubs_removed_tasks_and_appends_new_ones() {
    let old = plan(&[
        ("1.1", "SRE", 1, ""),
        ("1.2", "SRE", 2, "Task 1.1"),
        ("1.3", "SRE", 1, ""),
    ]);
    // The new version lists tasks in another order, drops 1.1, adds two.
    let new = plan(&[
        ("1.5", "SRE", 1, ""),
        ("1.3", "SRE", 1, ""),
        ("1.4", "SRE", 1, "Task 1.5"),
        ("1.2", "SRE", 2, "Task 1.4"),
    ]);
    let old_ids = ids(&old);
    let a = arrange(
        &old_ids,
        &mut |i| (old.plan.tasks[i].clone(), old.tasks[i].need.clone()),
        new,
    );
    assert_eq!(ids(&a.plan), ["1.1", "1.2", "1.3", "1.5", "1.4"]);
    assert_eq!(
        (a.removed.as_slice(), a.added.as_slice()),
        (&[0][..], &[3, 4][..])
    );
    // 1.2 waits for 1.4 at its new position; the stub has no edges and
    // no duration.
    assert_eq!(a.plan.tasks[1].deps, [4]);
    assert_eq!(a.plan.tasks[4].deps, [3]);
    assert_eq!(a.plan.tasks[3].dependents, [4]);
    assert!(a.plan.tasks[0].deps.is_empty() && a.plan.tasks[0].dependents.is_empty());
    assert_eq!(a.plan.plan.tasks[0].duration.secs(), 0);
    // The order still puts every task after its dependencies.
    let at = |i: usize| a.plan.order.iter().position(|&k| k == i).expect("ordered");
    assert_eq!(a.plan.order.len(), 5);
    assert!(at(3) < at(4) && at(4) < at(1));
}

#[test]
fn windows_and_the_allocation_matrix_are_compared_too() {
    let text = |sprint: u32, sre: u32| {
        format!(
            "# Test\n\n### Day 1: One\n\n**Morning Sprint ({sprint} hours)**\n\n\
             **Task 1.1**: T\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n\n\
             ## Appendix: Agent Allocation Matrix\n\n| Day | Phase | Agents Required | Specializations |\n|---|---|---|---|\n\
             | 1 | A | {sre} | SRE ({sre}) |\n"
        )
    };
    let load = |t: String| {
        load_text(&t, "test.md", Format::Markdown, &Catalogue::builtin())
            .unwrap_or_else(|e| panic!("{e}\n{t}"))
    };
    let d = diff(&load(text(4, 1)), &|_| true, &load(text(3, 2)));
    assert!(d.changed.is_empty(), "{d:?}");
    assert_eq!(
        d.lines(),
        [
            "~ window Day 1 Morning Sprint: 4 hours, opening 0 hours into the day → 3 hours, opening 0 hours into the day",
            "~ matrix day 1: sre 1 → sre 2",
        ]
    );
    assert_eq!(d.summary(), "2 plan-level changes");
}
