//! `swarmctl standup run|list|show`: checkpoints and their reports.

use serde_json::{json, Value};
use swarm_proto::v1 as pb;

use super::{clock, print_json, table, Result, Target};
use crate::cli::StandupCommand;

/// `standup run|show --json`.
pub(crate) fn standup_json(s: &pb::Standup) -> Value {
    json!({"id": s.id, "kind": s.kind, "at_ms": s.at_ms, "plan_time": s.plan_time, "plan_day": s.plan_day, "report": s.report, "decisions": s.decisions})
}

/// Runs a checkpoint now (`kind`, default: the next one due) and returns
/// its report.
pub(crate) async fn run_now(target: &Target, kind: Option<String>) -> Result<pb::Standup> {
    let mut client = target.control().await?;
    let request = pb::RunStandupRequest {
        kind: kind.unwrap_or_default(),
    };
    Ok(client.run_standup(request).await?.into_inner())
}

/// Checkpoint `n` (default: the latest).
pub(crate) async fn fetch(target: &Target, n: Option<u64>) -> Result<pb::Standup> {
    let mut client = target.control().await?;
    let request = pb::GetStandupRequest { id: n.unwrap_or(0) };
    Ok(client.get_standup(request).await?.into_inner())
}

pub(crate) async fn run(target: &Target, cmd: StandupCommand) -> Result<()> {
    match cmd {
        StandupCommand::Run { kind, json } => {
            let s = run_now(target, kind).await?;
            if json {
                print_json(&standup_json(&s));
            } else {
                crate::out!("{}", s.report);
            }
        }
        StandupCommand::List { json } => {
            let all = target
                .control()
                .await?
                .list_standups(pb::ListStandupsRequest {})
                .await?
                .into_inner()
                .standups;
            if json {
                print_json(&Value::Array(all.iter().map(standup_json).collect()));
            } else if all.is_empty() {
                crate::outln!("no standups yet");
            } else {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|s| {
                        let verdict = s
                            .report
                            .lines()
                            .find(|l| l.starts_with("**"))
                            .unwrap_or("")
                            .replace("**", "");
                        vec![
                            s.id.to_string(),
                            s.kind.clone(),
                            s.plan_time.clone(),
                            clock(s.at_ms),
                            s.decisions.len().to_string(),
                            verdict,
                        ]
                    })
                    .collect();
                crate::out!(
                    "{}",
                    table(
                        &["#", "CHECKPOINT", "PLAN TIME", "AT", "DECISIONS", "VERDICT"],
                        &rows
                    )
                );
            }
        }
        StandupCommand::Show { n, json } => {
            let s = fetch(target, n).await?;
            if json {
                print_json(&standup_json(&s));
            } else {
                crate::out!("{}", s.report);
            }
        }
    }
    Ok(())
}
