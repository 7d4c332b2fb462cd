//! Checkpoint reports: the reporter task runs each day's exit-criteria
//! checks (outside the scheduler loop, so a slow check never stalls
//! dispatch), renders the report in markdown, appends it to
//! `docs/plans/DAILY_PROGRESS_REPORT.md` under the working directory, and
//! hands it back to the loop to be recorded.

use std::fmt::Write as _;
use std::time::Duration;
use swarm_core::jobs::{CriterionJob, ReportJob};
use swarm_core::model::PlanState;

use swarm_memory::state::CheckpointRow;
use tokio::sync::mpsc;

use swarm_core::command::CheckpointCmd;
use swarm_core::CoreHandle;

/// Longest an exit-criterion check may run.
const CHECK_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs report jobs until the channel closes or `cancel` fires (the
/// report being written is finished first).
pub async fn run(
    mut jobs: mpsc::UnboundedReceiver<ReportJob>,
    core: CoreHandle,
    cancel: tokio_util::sync::CancellationToken,
) {
    while let Some(mut job) = super::next(&mut jobs, &cancel).await {
        let mut met = Vec::new();
        for c in &job.criteria {
            met.push(evaluate(c, &job.workdir).await);
        }
        let report = render(&job, &met);
        let path = job.workdir.join(&job.report_path);
        if let Err(e) = append(&path, &report) {
            tracing::warn!("cannot append the report to {}: {e}", path.display());
        }
        let row = CheckpointRow {
            id: 0,
            plan_id: job.plan_id,
            kind: job.kind.clone(),
            at: job.at,
            plan_time: job.plan_time,
            plan_day: job.plan_day,
            report,
            decisions: serde_json::to_string(&job.decisions).unwrap_or_else(|_| "[]".into()),
        };
        core.tell(CheckpointCmd::Store(Box::new(row), job.reply.take()));
    }
}

/// (met, how we know). A criterion's check runs only once the work it
/// checks is done: before that a passing check would claim what that work
/// has not delivered yet.
pub(crate) async fn evaluate(c: &CriterionJob, workdir: &std::path::Path) -> (bool, String) {
    if c.check.is_some() && !c.tasks_done {
        return (
            false,
            "not checked yet: the work it checks has not finished".into(),
        );
    }
    let Some(cmd) = &c.check else {
        return (
            c.tasks_done,
            if c.tasks_done {
                "the day's tasks are done".into()
            } else {
                "the day's tasks are not all done".into()
            },
        );
    };
    let run = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .current_dir(workdir)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(CHECK_TIMEOUT, run).await {
        Ok(Ok(out)) if out.status.success() => (true, format!("check `{cmd}` passed")),
        Ok(Ok(out)) => (
            false,
            format!(
                "check `{cmd}` failed (exit {})",
                out.status
                    .code()
                    .map_or("by a signal".into(), |c| c.to_string())
            ),
        ),
        Ok(Err(e)) => (false, format!("check `{cmd}` could not run: {e}")),
        Err(_) => (
            false,
            format!(
                "check `{cmd}` timed out after {} s",
                CHECK_TIMEOUT.as_secs()
            ),
        ),
    }
}

fn append(path: &std::path::Path, report: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let fresh = !path.exists();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    if fresh {
        f.write_all(
            b"# Daily Progress Report\n\nWritten by swarmd at every checkpoint; newest last.\n",
        )?;
    }
    f.write_all(b"\n")?;
    f.write_all(report.as_bytes())?;
    f.sync_all()
}

/// The report in markdown. Titles, reasons and check commands come from
/// the plan and the tasks: their control characters are escaped, so the
/// report (in its file, or shown by `standup show`) cannot rewrite the
/// terminal that shows it.
pub fn render(job: &ReportJob, met: &[(bool, String)]) -> String {
    let mut out = String::new();
    heading(&mut out, job);
    section(
        &mut out,
        "Finished since the last checkpoint",
        &job.finished,
        job.finished_total,
        "swarmctl tasks --state succeeded",
    );
    if let Some(merged) = &job.merged {
        let title = "Merged into the integration branch since the last checkpoint";
        section(
            &mut out,
            title,
            merged,
            merged.len(),
            "swarmctl task diff ID",
        );
    }
    in_progress(&mut out, job);
    section(
        &mut out,
        "Blockers",
        &job.blockers,
        job.blockers.len(),
        "swarmctl tasks",
    );
    criteria_and_path(&mut out, job, met);
    allocation(&mut out, job);
    spend(&mut out, &job.spend);
    if !job.plan_changes.is_empty() {
        let n = job.plan_changes.len();
        section(
            &mut out,
            "Plan changes",
            &job.plan_changes,
            n,
            "swarmctl plan history",
        );
    }
    if job.actions_total > 0 {
        section(
            &mut out,
            "Operator actions since the last checkpoint",
            &job.actions,
            job.actions_total,
            "swarmctl events",
        );
    }
    section(
        &mut out,
        "Reallocation decisions",
        &job.decisions,
        job.decisions.len(),
        "swarmctl standup show",
    );
    swarm_text::printable_text(&out).into_owned()
}

/// The heading, the verdict, the plan's counts and the day's checklists.
fn heading(out: &mut String, job: &ReportJob) {
    let c = &job.counts;
    let done = c.succeeded + c.skipped;
    let _ = writeln!(out, "## {} — {}\n", job.kind, job.plan_time_label);
    let when = match job.state {
        PlanState::Succeeded | PlanState::Failed | PlanState::Cancelled => "Finished",
        PlanState::Running | PlanState::Paused => "Projected completion",
    };
    let _ = writeln!(
        out,
        "**{}**: {}. {when} {} (plan ends {}).\n",
        job.verdict.label(),
        job.verdict_reason,
        job.projected,
        job.planned_end
    );
    let _ = writeln!(
        out,
        "Plan *{}* {} · {done}/{} done · {} running · {} ready · {} waiting · {} failed · {} blocked\n",
        job.plan_name,
        job.state.phrase(),
        swarm_text::count(c.total, "task"),
        c.running,
        c.ready,
        c.pending,
        c.failed,
        c.blocked
    );
    for list in &job.checklists {
        let _ = writeln!(out, "### Checklist: {}\n", list.window);
        for (done, text) in &list.items {
            let _ = writeln!(out, "- [{}] {text}", if *done { 'x' } else { ' ' });
        }
        out.push('\n');
    }
}

/// The running tasks, flagged past 1.5× their plan.
fn in_progress(out: &mut String, job: &ReportJob) {
    let _ = writeln!(out, "### In progress\n");
    if job.in_progress.is_empty() {
        let _ = writeln!(out, "- nothing\n");
    } else {
        let _ = writeln!(
            out,
            "| Task | Agents | Elapsed | Planned |\n|---|---|---|---|"
        );
        for p in job.in_progress.iter().take(MAX_ROWS) {
            let flag = if p.planned_h > 0.0 && p.elapsed_h > 1.5 * p.planned_h {
                " ⚠"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "| {} | {} | {:.1} h{flag} | {} h |",
                p.task,
                p.agents.join(", "),
                p.elapsed_h,
                p.planned_h
            );
        }
        more(out, job.in_progress.len(), "swarmctl tasks --state running");
        out.push('\n');
    }
}

/// The day's exit criteria and the critical path left.
fn criteria_and_path(out: &mut String, job: &ReportJob, met: &[(bool, String)]) {
    let _ = writeln!(out, "### Day {} exit criteria\n", job.criteria_day);
    if job.criteria.is_empty() {
        let _ = writeln!(out, "- none listed\n");
    } else {
        for (c, (ok, why)) in job.criteria.iter().zip(met) {
            let _ = writeln!(
                out,
                "- [{}] {} — {why}",
                if *ok { 'x' } else { ' ' },
                c.text
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "### Critical path remaining\n");
    if job.remaining_path.is_empty() {
        let _ = writeln!(out, "- nothing left\n");
    } else {
        let _ = writeln!(
            out,
            "{} — {:.1} h of planned work; projected completion {} (plan ends {})\n",
            path_text(&job.remaining_path),
            job.remaining_hours,
            job.projected,
            job.planned_end
        );
    }
}

/// The agents by role: planned, present, demand.
fn allocation(out: &mut String, job: &ReportJob) {
    let _ = writeln!(out, "### Agents by role\n\n| Role | Planned today | Present | Demand (rank-weighted h) |\n|---|---|---|---|");
    for r in &job.allocation {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.1} |",
            r.role,
            r.planned.map_or("-".into(), |p| p.to_string()),
            r.present,
            r.demand_h
        );
    }
    out.push('\n');
}

/// What the plan spent: in all, then by role and by plan day; nothing
/// while no attempt said what it spent.
fn spend(out: &mut String, s: &swarm_core::views::SpendView) {
    if s.total.reports == 0 {
        return;
    }
    let tokens = |t: &swarm_core::views::Tally| {
        t.input_tokens + t.output_tokens + t.cache_creation_tokens + t.cache_read_tokens
    };
    let _ = writeln!(
        out,
        "### Spend

${:.2} in all, ${:.2} today, ${:.2} per plan hour; {} tokens.
",
        s.total.cost_usd,
        s.today.cost_usd,
        s.usd_per_plan_hour,
        tokens(&s.total)
    );
    for (what, lines) in [("Role", &s.by_role), ("Day", &s.by_day)] {
        let _ = writeln!(out, "| {what} | Cost (USD) | Tokens |\n|---|---|---|");
        for l in lines {
            let _ = writeln!(
                out,
                "| {} | {:.2} | {} |",
                l.name,
                l.tally.cost_usd,
                tokens(&l.tally)
            );
        }
        out.push('\n');
    }
}

/// The most lines a list of a report shows; the rest is a count and the
/// command that lists them all (a 50,000-task plan's standup stays a page).
const MAX_ROWS: usize = 50;

/// The critical path's ids, the first and last few of a long one.
fn path_text(path: &[String]) -> String {
    const HEAD: usize = 15;
    const TAIL: usize = 5;
    if path.len() <= HEAD + TAIL + 1 {
        return path.join(" → ");
    }
    format!(
        "{} → … ({} more) … → {}",
        path[..HEAD].join(" → "),
        path.len() - HEAD - TAIL,
        path[path.len() - TAIL..].join(" → ")
    )
}

/// "… and N more" with the command that lists them, when a list was cut.
fn more(out: &mut String, total: usize, command: &str) {
    if total > MAX_ROWS {
        let _ = writeln!(out, "- … and {} more: `{command}`", total - MAX_ROWS);
    }
}

/// A titled list of `items` (of `total`, when the list came cut).
fn section(out: &mut String, title: &str, items: &[String], total: usize, command: &str) {
    let _ = writeln!(out, "### {title}\n");
    if items.is_empty() {
        let _ = writeln!(out, "- none\n");
        return;
    }
    for i in items.iter().take(MAX_ROWS) {
        let _ = writeln!(out, "- {i}");
    }
    more(out, total.max(items.len()), command);
    out.push('\n');
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
