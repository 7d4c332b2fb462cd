//! `swarmctl memory put|get|list|delete`: the shared memory, from the shell
//! or from inside a task (which gets SWARM_COORDINATOR and SWARM_TOKEN).

use std::io::Read;

use serde_json::{json, Value};
use swarm_proto::v1 as pb;

use super::{print_json, table, Failure, Result, Target};
use crate::cli::MemoryCommand;
use crate::exit;

fn entry_json(e: &pb::MemoryEntry) -> Value {
    json!({
        "namespace": e.namespace, "key": e.key, "value": e.value, "tags": e.tags,
        "created_at_ms": e.created_at_ms, "updated_at_ms": e.updated_at_ms,
        "expires_at_ms": (e.expires_at_ms > 0).then_some(e.expires_at_ms),
        "access_count": e.access_count, "owner_id": e.owner_id, "provenance": e.provenance,
    })
}

pub(crate) async fn run(target: &Target, cmd: MemoryCommand) -> Result<()> {
    let mut client = target.memory().await?;
    match cmd {
        MemoryCommand::Put {
            key,
            value,
            ns,
            ttl,
            if_absent,
            expect,
            tags,
            json,
        } => {
            let value = if value == "-" {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s).map_err(|e| {
                    Failure(exit::USAGE, format!("cannot read standard input: {e}"))
                })?;
                s
            } else {
                value
            };
            let mut req = tonic::Request::new(pb::MemoryPutRequest {
                namespace: ns.namespace.clone(),
                key: key.clone(),
                value,
                ttl_seconds: ttl.unwrap_or(0),
                expect_absent: if_absent,
                expect_value: expect,
                tags,
            });
            if let Ok(owner) =
                std::env::var("SWARM_AGENT_ID").or_else(|_| std::env::var("SWARM_TASK_ID"))
            {
                if let Ok(v) = owner.parse() {
                    req.metadata_mut().insert("x-swarm-owner", v);
                }
            }
            let created = client.put(req).await?.into_inner().created;
            if json {
                print_json(&json!({"namespace": ns.namespace, "key": key, "created": created}));
            } else {
                println!(
                    "{} {}/{}",
                    if created { "created" } else { "updated" },
                    super::printable(&ns.namespace),
                    super::printable(&key)
                );
            }
        }
        MemoryCommand::Get { key, ns, json } => {
            let e = client
                .get(pb::MemoryGetRequest {
                    namespace: ns.namespace,
                    key,
                })
                .await?
                .into_inner();
            if json {
                print_json(&entry_json(&e));
            } else {
                println!("{}", e.value);
            }
        }
        MemoryCommand::List {
            namespace,
            prefix,
            json,
        } => {
            let entries = client
                .list(pb::MemoryListRequest {
                    namespace: namespace.unwrap_or_default(),
                    prefix: prefix.unwrap_or_default(),
                    limit: 0,
                })
                .await?
                .into_inner()
                .entries;
            if json {
                print_json(&Value::Array(entries.iter().map(entry_json).collect()));
            } else {
                let rows: Vec<Vec<String>> = entries
                    .iter()
                    .map(|e| {
                        let mut v: String = e.value.chars().take(60).collect();
                        if v.len() < e.value.len() {
                            v.push('…');
                        }
                        vec![e.namespace.clone(), e.key.clone(), v.replace('\n', " ")]
                    })
                    .collect();
                print!("{}", table(&["NAMESPACE", "KEY", "VALUE"], &rows));
            }
        }
        MemoryCommand::Delete { key, ns, json } => {
            let deleted = client
                .delete(pb::MemoryDeleteRequest {
                    namespace: ns.namespace.clone(),
                    key: key.clone(),
                })
                .await?
                .into_inner()
                .deleted;
            if json {
                print_json(&json!({"namespace": ns.namespace, "key": key, "deleted": deleted}));
            } else if deleted {
                println!(
                    "deleted {}/{}",
                    super::printable(&ns.namespace),
                    super::printable(&key)
                );
            } else {
                return Err(Failure(
                    exit::NOT_FOUND,
                    format!("no entry '{key}' in namespace '{}'", ns.namespace),
                ));
            }
        }
    }
    Ok(())
}

/// `swarmctl task result ID`: the task's entry in `swarm:results`.
pub(crate) async fn task_result(target: &Target, id: String, json: bool) -> Result<()> {
    let entry = target
        .memory()
        .await?
        .get(pb::MemoryGetRequest {
            namespace: "swarm:results".to_string(),
            key: id.clone(),
        })
        .await
        .map_err(|s| match s.code() {
            tonic::Code::NotFound => Failure(
                crate::exit::NOT_FOUND,
                format!("no result recorded for task {id}: it has not succeeded, or wrote and printed nothing"),
            ),
            _ => Failure::from(s),
        })?
        .into_inner();
    if json {
        print_json(&entry_json(&entry));
    } else {
        print!("{}", entry.value);
        if !entry.value.ends_with('\n') {
            println!();
        }
    }
    Ok(())
}
