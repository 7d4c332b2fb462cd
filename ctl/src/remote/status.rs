//! `swarmctl plan load`, `status`, `pause`, `resume`.

use std::io::IsTerminal as _;

use serde_json::json;
use swarm_proto::v1 as pb;

use super::{print_json, Failure, Result, Target};
use crate::cli::PlanInput;
use crate::exit;

/// A plan validated here, ready to send: `plan load` checks a plan before
/// the daemon sees it, for the same FILE:LINE errors as `plan check`.
pub(crate) struct CheckedPlan {
    pub(crate) header: pb::LoadPlanHeader,
    pub(crate) text: String,
    /// What the plan's author may want to fix, one line each.
    pub(crate) warnings: Vec<String>,
}

/// Reads and validates the plan (and its role file) named by `input`.
pub(crate) fn check_plan(input: &PlanInput) -> Result<CheckedPlan> {
    check_plan_then(input, "the plan was not loaded")
}

/// [`check_plan`], an error ending with `then` (what did not happen).
pub(crate) fn check_plan_then(input: &PlanInput, then: &str) -> Result<CheckedPlan> {
    let catalogue = input
        .catalogue()
        .map_err(|e| Failure(exit::USAGE, e.to_string()))?;
    let roles_toml = input
        .roles_text()
        .map_err(|e| Failure(exit::USAGE, e.to_string()))?
        .unwrap_or_default();
    let text = input
        .plan_text()
        .map_err(|e| Failure(exit::USAGE, format!("{e}\n{then}")))?;
    let name = input.file.display().to_string();
    let format = swarm_plan::Format::from_path(&input.file);
    let compiled = swarm_plan::load_text(&text, &name, format, &catalogue)
        .map_err(|e| Failure(exit::USAGE, format!("{e}\n{then}")))?;
    Ok(CheckedPlan {
        header: pb::LoadPlanHeader {
            file_name: input.file.display().to_string(),
            toml: format == swarm_plan::Format::Toml,
            roles_toml,
            size: 0,
            apply: None,
        },
        text,
        warnings: compiled.warnings.iter().map(ToString::to_string).collect(),
    })
}

/// Loads a checked plan into the daemon and starts it; the text travels
/// in chunks, so its size is bounded by the daemon's `max_plan_bytes`, not
/// by a gRPC message.
pub(crate) async fn send_plan(target: &Target, plan: CheckedPlan) -> Result<pb::LoadPlanReply> {
    let mut client = target.control().await?;
    let chunks = swarm_client::plan_upload::chunks(plan.header, plan.text);
    Ok(client.load_plan(chunks).await?.into_inner())
}

/// `plan load --json`.
pub(crate) fn loaded_json(reply: &pb::LoadPlanReply) -> serde_json::Value {
    json!({"plan_id": reply.plan_id, "name": reply.name, "tasks": reply.tasks, "warnings": reply.warnings})
}

pub(crate) async fn load(target: &Target, input: &PlanInput, as_json: bool) -> Result<()> {
    let plan = check_plan(input)?;
    for w in &plan.warnings {
        eprintln!("{}", swarm_client::printable::printable_text(w));
    }
    let reply = send_plan(target, plan).await?;
    if as_json {
        print_json(&loaded_json(&reply));
    } else {
        crate::outln!(
            "loaded plan '{}' ({}) as plan {}; watch it with 'swarmctl status --watch'",
            reply.name,
            crate::plural::count(reply.tasks, "task"),
            reply.plan_id
        );
    }
    Ok(())
}

/// `status --json`.
pub(crate) fn status_json(s: &pb::StatusReply) -> serde_json::Value {
    let c = s.tasks.unwrap_or_default();
    json!({
        "plan": s.plan,
        "plan_id": s.plan_id,
        "state": s.state,
        "tasks": {
            "total": c.total, "pending": c.pending, "ready": c.ready, "running": c.running, "merging": c.merging,
            "succeeded": c.succeeded, "failed": c.failed, "blocked": c.blocked, "skipped": c.skipped, "cancelled": c.cancelled, "removed": c.removed,
        },
        "agents": s.agents,
        "loaded_at_ms": s.loaded_at_ms,
        "finished_at_ms": s.finished_at_ms,
        "unstaffed_roles": s.unstaffed_roles,
        "plan_time": s.plan_time,
        "plan_day": s.plan_day,
        "projected_completion": s.projected_completion,
        "shortfall": s.shortfall,
        "next_checkpoint": s.next_checkpoint,
        "memory": s.memory,
        "workspace": s.workspace,
        "verdict": s.verdict,
        "verdict_reason": s.verdict_reason,
        "gates": s.gates,
        "waiting_for_operator": s.waiting_for_operator,
        "spend": super::spend::spend_json(&s.spend.clone().unwrap_or_default()),
        "pools": s.pools,
        "budgets": s.budgets,
    })
}

/// The plan's state, and for a failed plan what ended it: a plan fails
/// when a task is failed, cancelled or blocked for good, and "failed"
/// alone reads as if a task had failed.
fn state_words(state: &str, c: &pb::TaskCounts) -> String {
    if state != "failed" {
        return state.to_string();
    }
    let why: Vec<String> = [
        (c.failed, "failed"),
        (c.cancelled, "cancelled"),
        (c.blocked, "blocked"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if why.is_empty() {
        return state.to_string();
    }
    format!("failed ({})", why.join(", "))
}

fn status_text(s: &pb::StatusReply) -> String {
    if s.state == "idle" {
        return format!(
            "no plan loaded · {} connected\nload one with: swarmctl plan load FILE\n",
            crate::plural::count(s.agents, "agent")
        );
    }
    let c = s.tasks.unwrap_or_default();
    let done = c.succeeded + c.skipped;
    // Tasks whose work waits to be merged, only in a repository.
    let merging = if c.merging > 0 || !s.workspace.is_empty() {
        format!("{} merging, ", c.merging)
    } else {
        String::new()
    };
    // Tasks a revision took out of the plan are not in its total.
    let removed = if c.removed > 0 {
        format!(" ({} removed from the plan)", c.removed)
    } else {
        String::new()
    };
    let mut out = format!(
        "plan: {} (#{})\nstate: {} · {done}/{} done · {} connected\ntasks: {} running, {merging}{} ready, {} pending, {} succeeded, {} failed, {} blocked, {} skipped, {} cancelled{removed}\n",
        s.plan, s.plan_id, state_words(&s.state, &c), c.total, crate::plural::count(s.agents, "agent"), c.running, c.ready, c.pending, c.succeeded, c.failed, c.blocked, c.skipped, c.cancelled
    );
    if !s.verdict.is_empty() {
        out.push_str(&format!(
            "verdict: {} — {}\n",
            s.verdict.replace('_', " "),
            s.verdict_reason
        ));
    }
    if !s.plan_time.is_empty() {
        out.push_str(&format!(
            "plan clock: {} · projected completion: {}\n",
            s.plan_time, s.projected_completion
        ));
    }
    if !s.next_checkpoint.is_empty() {
        out.push_str(&format!("next checkpoint: {}\n", s.next_checkpoint));
    }
    if let Some(line) = super::spend::status_line(&s.spend.clone().unwrap_or_default()) {
        out.push_str(&line);
        out.push('\n');
    }
    for line in &s.pools {
        out.push_str(&format!("{line}\n"));
    }
    for line in &s.budgets {
        out.push_str(&format!("budget: {line}\n"));
    }
    for gate in &s.gates {
        out.push_str(&format!("gate: {gate}\n"));
    }
    if !s.memory.is_empty() {
        out.push_str(&format!("memory: {}\n", s.memory));
    }
    if !s.workspace.is_empty() {
        out.push_str(&format!("repository: {}\n", s.workspace));
    }
    if !s.shortfall.is_empty() {
        out.push_str(&format!("agents missing: {}\n", s.shortfall.join(", ")));
    }
    for id in &s.waiting_for_operator {
        out.push_str(&format!(
            "task {id} is waiting for an operator: swarmctl task done {id}\n"
        ));
    }
    if !s.unstaffed_roles.is_empty() {
        out.push_str(&format!(
            "waiting for roles no agent plays: {}\n",
            s.unstaffed_roles.join(", ")
        ));
    }
    out
}

/// The run at a glance.
pub(crate) async fn fetch_status(client: &mut super::Control) -> Result<pb::StatusReply> {
    Ok(client.status(pb::StatusRequest {}).await?.into_inner())
}

pub(crate) async fn status(target: &Target, as_json: bool, watch: bool) -> Result<()> {
    let mut client = target.control().await?;
    // On a terminal each snapshot replaces the last, with a bar of tasks
    // done beneath; into a pipe or a file they follow one another, a blank
    // line apart, with no escape codes.
    let terminal = std::io::stdout().is_terminal();
    let progress = swarm_client::progress::Progress::with(watch && terminal && !as_json);
    let mut first = true;
    loop {
        let s = fetch_status(&mut client).await?;
        if as_json {
            print_json(&status_json(&s));
        } else if progress.is_bar() {
            progress.page(|| {
                // Clear the screen (the one escape swarmctl sends itself).
                crate::out::bytes(b"\x1b[2J\x1b[H");
                crate::out!("{}", status_text(&s));
            });
            let c = s.tasks.unwrap_or_default();
            progress.show(swarm_client::progress::Tally {
                done: u64::from(c.succeeded + c.skipped),
                total: u64::from(c.total),
                running: u64::from(c.running),
                failed: u64::from(c.failed),
            });
        } else {
            if watch && !first {
                crate::outln!();
            }
            crate::out!("{}", status_text(&s));
        }
        first = false;
        if !watch {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

pub(crate) async fn pause(target: &Target, paused: bool, as_json: bool) -> Result<()> {
    let mut client = target.control().await?;
    let state = if paused {
        client.pause(pb::PauseRequest {}).await?.into_inner().state
    } else {
        client
            .resume(pb::ResumeRequest {})
            .await?
            .into_inner()
            .state
    };
    if as_json {
        print_json(&json!({ "state": state }));
    } else {
        crate::outln!("plan is {state}");
    }
    Ok(())
}

/// `plan cancel` answered by swarmd.
pub(crate) async fn cancel_plan(target: &Target, reason: String) -> Result<pb::CancelPlanReply> {
    let mut client = target.control().await?;
    Ok(client
        .cancel_plan(pb::CancelPlanRequest { reason })
        .await?
        .into_inner())
}

/// `plan cancel --json`.
pub(crate) fn cancelled_json(reply: &pb::CancelPlanReply) -> serde_json::Value {
    json!({"name": reply.name, "cancelled": reply.cancelled, "state": reply.state})
}

/// `swarmctl plan cancel [--reason TEXT]`.
pub(crate) async fn cancel(target: &Target, reason: String, as_json: bool) -> Result<()> {
    let reply = cancel_plan(target, reason).await?;
    if as_json {
        print_json(&cancelled_json(&reply));
    } else {
        crate::outln!(
            "cancelled plan '{}' ({} it had not finished); load another with 'swarmctl plan load FILE'",
            reply.name,
            crate::plural::count(reply.cancelled, "task")
        );
    }
    Ok(())
}

pub(crate) async fn approve_gate(target: &Target, day: u32, as_json: bool) -> Result<()> {
    let mut client = target.control().await?;
    let opened = client
        .approve_gate(pb::ApproveGateRequest { day })
        .await?
        .into_inner()
        .opened;
    if as_json {
        print_json(&json!({ "day": day, "opened": opened }));
    } else if opened.is_empty() {
        crate::outln!("day {day} has no closed gate");
    } else {
        crate::outln!("opened: {}", opened.join(", "));
    }
    Ok(())
}

pub(crate) async fn backup(target: &Target, dir: &std::path::Path, as_json: bool) -> Result<()> {
    let mut client = target.control().await?;
    // Relative to where swarmctl runs, when the daemon shares the host.
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let manifest = client
        .backup(pb::BackupRequest {
            dir: dir.display().to_string(),
        })
        .await?
        .into_inner()
        .manifest;
    if as_json {
        crate::outln!("{manifest}");
    } else {
        crate::outln!("backed up into {} on the coordinator's host", dir.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(state: &str, tasks: pb::TaskCounts) -> pb::StatusReply {
        pb::StatusReply {
            plan: "p".into(),
            plan_id: 1,
            state: state.into(),
            tasks: Some(tasks),
            ..Default::default()
        }
    }

    #[test]
    fn a_failed_plan_says_what_ended_it() {
        let only_cancelled = pb::TaskCounts {
            total: 3,
            succeeded: 2,
            cancelled: 1,
            ..Default::default()
        };
        let text = status_text(&reply("failed", only_cancelled));
        assert!(
            text.contains("state: failed (1 cancelled) · 2/3 done"),
            "{text}"
        );
        let mixed = pb::TaskCounts {
            total: 4,
            succeeded: 1,
            failed: 1,
            blocked: 2,
            ..Default::default()
        };
        let text = status_text(&reply("failed", mixed));
        assert!(
            text.contains("state: failed (1 failed, 2 blocked) ·"),
            "{text}"
        );
        let running = pb::TaskCounts {
            total: 2,
            running: 1,
            cancelled: 1,
            ..Default::default()
        };
        let text = status_text(&reply("running", running));
        assert!(text.contains("state: running · 0/2 done"), "{text}");
    }
}
