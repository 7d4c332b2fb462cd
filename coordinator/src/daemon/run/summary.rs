//! `swarmd run`'s end summary: every task with its state and attempts,
//! how many succeeded, the failures' output and the verdict.

use std::path::Path;

use swarm_core::model::TaskState;
use swarm_proto::v1 as pb;
use swarm_text::{count, printable};

use super::wire::{self, RunTask};
use super::Control;

/// Prints the summary of the run that took `secs`.
pub(crate) async fn print(client: &mut Control, workdir: &Path, secs: f64) -> anyhow::Result<()> {
    let mut pages = client
        .list_tasks(pb::ListTasksRequest::default())
        .await?
        .into_inner();
    let mut listed = Vec::new();
    while let Some(page) = pages.message().await? {
        listed.extend(page.tasks);
    }
    let tasks = wire::tasks(listed)?;
    print_tasks(&tasks, secs);
    super::failures::print(client, &tasks, workdir).await;
    // The verdict status and the reports give, in one line.
    if let Ok(s) = client.status(pb::StatusRequest {}).await {
        let s = s.into_inner();
        if let Some(verdict) = wire::verdict(&s.verdict)? {
            println!(
                "verdict: {} — {}",
                verdict.name().replace('_', " "),
                printable(&s.verdict_reason)
            );
        }
        // Where the work is, and how to look at it against the base.
        if !s.workspace.is_empty() {
            println!("repository: {}", printable(&s.workspace));
        }
    }
    Ok(())
}

/// The table of tasks and the count that succeeded.
fn print_tasks(tasks: &[RunTask], secs: f64) {
    let ok = tasks
        .iter()
        .filter(|t| matches!(t.state, TaskState::Succeeded | TaskState::Skipped))
        .count();
    // A task that left the plan with a revision is not counted.
    let counted = tasks
        .iter()
        .filter(|t| t.state != TaskState::Removed)
        .count();
    println!(
        "\n{:<8} {:<10} {:>8}  TITLE / REASON",
        "TASK", "STATE", "ATTEMPTS"
    );
    for t in tasks {
        let detail = if t.reason.is_empty() {
            t.title.clone()
        } else {
            format!("{} — {}", t.title, t.reason)
        };
        println!(
            "{:<8} {:<10} {:>8}  {}",
            printable(&t.id),
            t.state.name(),
            t.attempts,
            printable(&detail)
        );
    }
    println!(
        "\n{ok}/{} succeeded in {secs:.1}s",
        count(counted as u64, "task")
    );
}
