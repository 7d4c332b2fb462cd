//! `swarmctl standup run|list|show`: checkpoints and their reports.

use serde_json::{json, Value};
use swarm_proto::v1 as pb;

use super::{clock, print_json, table, Result, Target};
use crate::cli::StandupCommand;

fn standup_json(s: &pb::Standup) -> Value {
    json!({"id": s.id, "kind": s.kind, "at_ms": s.at_ms, "plan_time": s.plan_time, "plan_day": s.plan_day, "report": s.report, "decisions": s.decisions})
}

pub(crate) async fn run(target: &Target, cmd: StandupCommand) -> Result<()> {
    let mut client = target.control().await?;
    match cmd {
        StandupCommand::Run { kind, json } => {
            let s = client
                .run_standup(pb::RunStandupRequest {
                    kind: kind.unwrap_or_default(),
                })
                .await?
                .into_inner();
            if json {
                print_json(&standup_json(&s));
            } else {
                print!("{}", s.report);
            }
        }
        StandupCommand::List { json } => {
            let all = client
                .list_standups(pb::ListStandupsRequest {})
                .await?
                .into_inner()
                .standups;
            if json {
                print_json(&Value::Array(all.iter().map(standup_json).collect()));
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
                print!(
                    "{}",
                    table(
                        &["#", "CHECKPOINT", "PLAN TIME", "AT", "DECISIONS", "VERDICT"],
                        &rows
                    )
                );
            }
        }
        StandupCommand::Show { n, json } => {
            let s = client
                .get_standup(pb::GetStandupRequest { id: n.unwrap_or(0) })
                .await?
                .into_inner();
            if json {
                print_json(&standup_json(&s));
            } else {
                print!("{}", s.report);
            }
        }
    }
    Ok(())
}
