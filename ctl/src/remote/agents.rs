//! `swarmctl agents` and `swarmctl agent drain`.

use serde_json::{json, Value};
use swarm_proto::v1 as pb;

use super::{clock, print_json, table, Result, Target};
use crate::cli::AgentCommand;

pub(crate) async fn list(target: &Target, as_json: bool) -> Result<()> {
    let mut client = target.control().await?;
    let agents = client
        .list_agents(pb::ListAgentsRequest {})
        .await?
        .into_inner()
        .agents;
    if as_json {
        let v: Vec<Value> = agents
            .iter()
            .map(|a| {
                json!({
                    "id": a.id, "roles": a.roles, "active_role": a.active_role, "slots": a.slots, "busy": a.busy,
                    "host": a.host, "state": a.state, "last_seen_ms": a.last_seen_ms, "labels": a.labels,
                    "sandbox": a.sandbox,
                    "running": a.running.iter().map(|r| json!({"task_id": r.task_id, "fence": r.attempt})).collect::<Vec<_>>(),
                })
            })
            .collect();
        print_json(&Value::Array(v));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = agents
        .iter()
        .map(|a| {
            vec![
                a.id.clone(),
                a.state.clone(),
                a.active_role.clone(),
                a.roles.join(","),
                format!("{}/{}", a.busy, a.slots),
                a.running
                    .iter()
                    .map(|r| r.task_id.clone())
                    .collect::<Vec<_>>()
                    .join(","),
                a.host.clone(),
                if a.sandbox.is_empty() {
                    "-".to_string()
                } else {
                    a.sandbox.clone()
                },
                clock(a.last_seen_ms),
            ]
        })
        .collect();
    crate::out!(
        "{}",
        table(
            &[
                "ID",
                "STATE",
                "ROLE",
                "CAN PLAY",
                "BUSY",
                "RUNNING",
                "HOST",
                "SANDBOX",
                "LAST SEEN"
            ],
            &rows
        )
    );
    Ok(())
}

pub(crate) async fn agent(target: &Target, cmd: AgentCommand) -> Result<()> {
    let AgentCommand::Drain { id, json } = cmd;
    let mut client = target.control().await?;
    let state = client
        .drain_agent(pb::DrainAgentRequest { id: id.clone() })
        .await?
        .into_inner()
        .state;
    if json {
        print_json(&json!({"id": id, "state": state}));
    } else {
        crate::outln!("agent {id} is {state}: it finishes its work, takes no more, and exits");
    }
    Ok(())
}
