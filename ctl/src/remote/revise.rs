//! `swarmctl plan apply|history|diff`: revisions of the running plan.
//! The revised file is checked here first (a plan that does not compile
//! stops with its FILE:LINE errors, exit 2, before anything is sent),
//! then sent in chunks like `plan load`, with how to apply it.

use serde_json::{json, Value};
use swarm_proto::v1 as pb;

use super::status::check_plan_then;
use super::{print_json, printable, table, Result, Target};
use crate::cli::PlanInput;

/// How to apply a revision (`plan apply`'s flags).
#[derive(Debug, Clone, Default)]
pub(crate) struct Apply {
    pub dry_run: bool,
    pub reason: String,
    pub rerun: Vec<String>,
    pub restart: Vec<String>,
}

/// Sends the revised plan `input` with `how`; the daemon's answer.
pub(crate) async fn send(
    target: &Target,
    input: &PlanInput,
    how: Apply,
) -> Result<(pb::ApplyPlanReply, Vec<String>)> {
    let mut plan = check_plan_then(
        input,
        "the revision was not applied; the plan runs as it was",
    )?;
    plan.header.apply = Some(pb::ApplyOptions {
        dry_run: how.dry_run,
        rerun: how.rerun,
        restart: how.restart,
        reason: how.reason,
    });
    let mut client = target.control().await?;
    let chunks = swarm_client::plan_upload::chunks(plan.header, plan.text);
    let reply = client.apply_plan(chunks).await?.into_inner();
    Ok((reply, plan.warnings))
}

/// `plan apply --json`.
pub(crate) fn applied_json(r: &pb::ApplyPlanReply) -> Value {
    json!({
        "plan": r.plan, "version": r.version, "applied": r.applied, "summary": r.summary,
        "changes": r.changes, "added": r.added, "removed": r.removed, "changed": r.changed,
        "stopped": r.stopped, "restarted": r.restarted, "rerun": r.rerun, "warnings": r.warnings,
    })
}

/// `swarmctl plan apply`.
pub(crate) async fn apply(
    target: &Target,
    input: &PlanInput,
    how: Apply,
    json: bool,
) -> Result<()> {
    let dry_run = how.dry_run;
    let (r, warnings) = send(target, input, how).await?;
    if json {
        print_json(&applied_json(&r));
        return Ok(());
    }
    for w in &warnings {
        eprintln!("{}", printable(w));
    }
    for line in &r.changes {
        crate::outln!("  {}", printable(line));
    }
    let what = format!("plan '{}': {}", printable(&r.plan), r.summary);
    if r.applied {
        crate::outln!("{what}; applied as version {}", r.version);
        for (label, ids) in [
            ("stopped (removed)", &r.stopped),
            ("restarted", &r.restarted),
            ("run again", &r.rerun),
        ] {
            if !ids.is_empty() {
                crate::outln!("{label}: {}", printable(&ids.join(", ")));
            }
        }
    } else if dry_run {
        crate::outln!(
            "{what}; a dry run: nothing was applied (it would be version {})",
            r.version
        );
    } else {
        crate::outln!("{what}; nothing to apply");
    }
    Ok(())
}

/// `12:03` on 2026-11-23 as `2026-11-23T12:03:04Z`.
pub(crate) fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = swarm_core::clock::civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// `plan history --json`: one object per version.
pub(crate) fn history_json(h: &pb::PlanHistoryReply) -> Value {
    Value::Array(
        (h.versions.iter())
            .map(|v| json!({"version": v.version, "at": utc(v.at), "actor": v.actor, "reason": v.reason, "summary": v.summary, "changes": v.changes}))
            .collect(),
    )
}

/// The running plan's versions.
pub(crate) async fn fetch_history(target: &Target) -> Result<pb::PlanHistoryReply> {
    let mut client = target.control().await?;
    Ok(client
        .plan_history(pb::PlanHistoryRequest {})
        .await?
        .into_inner())
}

/// `swarmctl plan history`.
pub(crate) async fn history(target: &Target, json: bool) -> Result<()> {
    let h = fetch_history(target).await?;
    if json {
        print_json(&history_json(&h));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = (h.versions.iter())
        .map(|v| {
            let or_dash = |s: &str| {
                if s.is_empty() {
                    "-".to_string()
                } else {
                    printable(s).into_owned()
                }
            };
            vec![
                v.version.to_string(),
                utc(v.at),
                or_dash(&v.actor),
                or_dash(&v.reason),
                v.summary.clone(),
            ]
        })
        .collect();
    crate::outln!("plan '{}'", printable(&h.plan));
    crate::out!(
        "{}",
        table(&["VERSION", "AT", "ACTOR", "REASON", "SUMMARY"], &rows)
    );
    Ok(())
}

/// What changed from version `from` to `to` (0: the defaults).
pub(crate) async fn fetch_diff(target: &Target, from: u32, to: u32) -> Result<pb::PlanDiffReply> {
    let mut client = target.control().await?;
    Ok(client
        .plan_diff(pb::PlanDiffRequest { from, to })
        .await?
        .into_inner())
}

/// `plan diff --json`.
pub(crate) fn diff_json(d: &pb::PlanDiffReply) -> Value {
    json!({"from": d.from, "to": d.to, "summary": d.summary, "changes": d.changes})
}

/// `swarmctl plan diff [V1] [V2]`.
pub(crate) async fn diff(
    target: &Target,
    v1: Option<u32>,
    v2: Option<u32>,
    json: bool,
) -> Result<()> {
    let d = fetch_diff(target, v1.unwrap_or(0), v2.unwrap_or(0)).await?;
    if json {
        print_json(&diff_json(&d));
        return Ok(());
    }
    crate::outln!("version {} → version {}: {}", d.from, d.to, d.summary);
    for line in &d.changes {
        crate::outln!("  {}", printable(line));
    }
    Ok(())
}
