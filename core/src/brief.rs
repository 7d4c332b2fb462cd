//! The task brief an agent works from, and what a manual task (no run
//! command, no image) tells the operator who must mark it.

use swarm_plan::Task;

use super::attempts::Member;

/// What an operator is told to run when a task waits for one.
pub(crate) fn operator_hint(task: &str) -> String {
    format!("waiting for an operator: swarmctl task done {task}")
}

/// A task without a run command or image: an agent's command template
/// works on it, or an operator marks it done.
pub(crate) fn is_manual(task: &Task) -> bool {
    task.run.is_none() && task.image.is_none()
}

/// The task brief an agent (a person, a script, an AI CLI) works from.
pub(crate) fn brief(
    task: &Task,
    members: &[Member],
    plan: &str,
    waits_for_operator: bool,
) -> String {
    let mut out = format!("# Task {}: {}\n\nPlan: {plan}\n", task.id, task.title);
    let roles: Vec<&str> = members.iter().map(|m| m.role.as_str()).collect();
    out.push_str(&format!(
        "Roles: {}\nPriority: {}\nPlanned duration: {}\n",
        roles.join(" + "),
        task.priority,
        task.duration
    ));
    for (name, items) in [
        ("Deliverables", &task.deliverables),
        ("Success criteria", &task.success_criteria),
    ] {
        if !items.is_empty() {
            out.push_str(&format!("\n## {name}\n"));
            for item in items {
                out.push_str(&format!("- {item}\n"));
            }
        }
    }
    if let Some(b) = &task.blocking {
        out.push_str(&format!("\nBlocking: {b}\n"));
    }
    if waits_for_operator {
        out.push_str(&format!(
            "\nNo command runs this task: do the work, then mark it done.\n{}\n",
            operator_hint(&task.id)
        ));
    }
    out
}
