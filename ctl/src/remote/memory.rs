//! `swarmctl memory put|get|list|delete`: the shared memory, from the shell
//! or from inside a task (which gets SWARM_COORDINATOR and SWARM_TOKEN).

use serde_json::{json, Value};
use swarm_proto::v1 as pb;

use super::{print_json, table, Failure, Result, Target};
use crate::cli::MemoryCommand;
use crate::exit;

/// `memory get --json`: one entry, whole.
pub(crate) fn entry_json(e: &pb::MemoryEntry) -> Value {
    json!({
        "namespace": e.namespace, "key": e.key, "value": e.value, "tags": e.tags,
        "created_at_ms": e.created_at_ms, "updated_at_ms": e.updated_at_ms,
        "expires_at_ms": (e.expires_at_ms > 0).then_some(e.expires_at_ms),
        "access_count": e.access_count, "owner_id": e.owner_id, "provenance": e.provenance,
    })
}

/// `memory list --json`.
pub(crate) fn entries_json(entries: &[pb::MemoryEntry]) -> Value {
    Value::Array(entries.iter().map(entry_json).collect())
}

/// What `memory put` stores, its value already read.
pub(crate) struct Put {
    pub(crate) namespace: String,
    pub(crate) key: String,
    pub(crate) value: String,
    /// Expire after this many seconds.
    pub(crate) ttl: Option<u64>,
    /// Compare-and-swap: only if the key holds no value.
    pub(crate) if_absent: bool,
    /// Compare-and-swap: only if the key holds exactly this value.
    pub(crate) expect: Option<String>,
    pub(crate) tags: Vec<String>,
}

/// Stores a value; true when it created the key. Inside a task the entry's
/// owner is the task (or agent) that wrote it.
pub(crate) async fn put(target: &Target, p: Put) -> Result<bool> {
    if p.if_absent && p.expect.is_some() {
        return Err(Failure(
            exit::USAGE,
            "if-absent and expect cannot be used together".into(),
        ));
    }
    let what = format!(
        "the value for key '{}' in namespace '{}' is {} bytes",
        p.key,
        p.namespace,
        p.value.len()
    );
    let mut req = tonic::Request::new(pb::MemoryPutRequest {
        namespace: p.namespace,
        key: p.key,
        value: p.value,
        ttl_seconds: p.ttl.unwrap_or(0),
        expect_absent: p.if_absent,
        expect_value: p.expect,
        tags: p.tags,
    });
    if let Ok(owner) = std::env::var("SWARM_AGENT_ID").or_else(|_| std::env::var("SWARM_TASK_ID")) {
        if let Ok(v) = owner.parse() {
            req.metadata_mut().insert("x-swarm-owner", v);
        }
    }
    match target.memory().await?.put(req).await {
        Ok(reply) => Ok(reply.into_inner().created),
        Err(status) => Err(match swarm_client::oversize::Oversize::of(&status) {
            Some(o) => too_large(&what, o),
            None => status.into(),
        }),
    }
}

/// A write too large to send: what it was, and the limits in words.
fn too_large(what: &str, o: swarm_client::oversize::Oversize) -> Failure {
    Failure(
        exit::USAGE,
        format!(
            "{what}, more than swarmd takes in one request (at most {} bytes); values may be at most its max_value_bytes",
            o.limit
        ),
    )
}

/// `memory put --json`.
pub(crate) fn put_json(namespace: &str, key: &str, created: bool) -> Value {
    json!({"namespace": namespace, "key": key, "created": created})
}

/// One live entry; NOT_FOUND when there is none.
pub(crate) async fn get(
    target: &Target,
    namespace: String,
    key: String,
) -> Result<pb::MemoryEntry> {
    let mut client = target.memory().await?;
    Ok(client
        .get(pb::MemoryGetRequest { namespace, key })
        .await?
        .into_inner())
}

/// Live entries, of one namespace and under one key prefix when given.
pub(crate) async fn list(
    target: &Target,
    namespace: Option<String>,
    prefix: Option<String>,
) -> Result<Vec<pb::MemoryEntry>> {
    let mut client = target.memory().await?;
    let listed = client
        .list(pb::MemoryListRequest {
            namespace: namespace.unwrap_or_default(),
            prefix: prefix.unwrap_or_default(),
            limit: 0,
        })
        .await;
    match listed {
        Ok(reply) => Ok(reply.into_inner().entries),
        Err(status) => Err(match swarm_client::oversize::Oversize::of(&status) {
            Some(o) => Failure(
                exit::FAILED,
                format!(
                    "the entries that match are {} bytes in all, more than one reply may carry (at most {} bytes); list fewer with --namespace or --prefix",
                    o.found, o.limit
                ),
            ),
            None => status.into(),
        }),
    }
}

/// `swarmctl memory …`: one subcommand, printed as a line or table, or
/// as JSON with `--json`.
pub(crate) async fn run(target: &Target, cmd: MemoryCommand) -> Result<()> {
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
            let put_args = Put {
                namespace: ns.namespace,
                key,
                value: value_or_stdin(value)?,
                ttl,
                if_absent,
                expect,
                tags,
            };
            run_put(target, put_args, json).await
        }
        MemoryCommand::Get { key, ns, json } => run_get(target, ns.namespace, key, json).await,
        MemoryCommand::List {
            namespace,
            prefix,
            json,
        } => run_list(target, namespace, prefix, json).await,
        MemoryCommand::Delete { key, ns, json } => {
            run_delete(target, ns.namespace, key, json).await
        }
    }
}

/// The most `memory put KEY -` reads from standard input: the largest
/// value any swarmd accepts (its `max_value_bytes` is at most 64 MiB).
pub(crate) const MAX_VALUE_BYTES: u64 = 64 * 1024 * 1024;

/// The value as given, or standard input for `-` (read up to
/// [`MAX_VALUE_BYTES`]).
fn value_or_stdin(value: String) -> Result<String> {
    if value != "-" {
        return Ok(value);
    }
    let bytes = swarm_client::read::read_stream_capped(
        std::io::stdin().lock(),
        "standard input",
        MAX_VALUE_BYTES,
        "a memory value, the most max_value_bytes allows",
    )
    .map_err(|e| Failure(exit::USAGE, e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| {
        Failure(
            exit::USAGE,
            format!("standard input is not UTF-8 text: {e}"),
        )
    })
}

/// `memory put`: says whether it created or updated the key.
async fn run_put(target: &Target, put_args: Put, json: bool) -> Result<()> {
    let (namespace, key) = (put_args.namespace.clone(), put_args.key.clone());
    let created = put(target, put_args).await?;
    if json {
        print_json(&put_json(&namespace, &key, created));
    } else {
        crate::outln!(
            "{} {}/{}",
            if created { "created" } else { "updated" },
            super::printable(&namespace),
            super::printable(&key)
        );
    }
    Ok(())
}

/// `memory get`: the value alone, or the whole entry as JSON.
async fn run_get(target: &Target, namespace: String, key: String, json: bool) -> Result<()> {
    let e = get(target, namespace, key).await?;
    if json {
        print_json(&entry_json(&e));
    } else {
        // The value is data: exact, as `memory get --json` holds it.
        crate::out::bytes(e.value.as_bytes());
        crate::out::bytes(b"\n");
    }
    Ok(())
}

/// `memory list`: a table with each value cut to 60 characters on one
/// line, or every entry as JSON.
async fn run_list(
    target: &Target,
    namespace: Option<String>,
    prefix: Option<String>,
    json: bool,
) -> Result<()> {
    let entries = list(target, namespace, prefix).await?;
    if json {
        print_json(&entries_json(&entries));
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
        crate::out!("{}", table(&["NAMESPACE", "KEY", "VALUE"], &rows));
    }
    Ok(())
}

/// `memory delete`: NOT_FOUND when there was no such entry (with `--json`,
/// `deleted: false` instead).
async fn run_delete(target: &Target, namespace: String, key: String, json: bool) -> Result<()> {
    let deleted = target
        .memory()
        .await?
        .delete(pb::MemoryDeleteRequest {
            namespace: namespace.clone(),
            key: key.clone(),
        })
        .await?
        .into_inner()
        .deleted;
    if json {
        print_json(&json!({"namespace": namespace, "key": key, "deleted": deleted}));
    } else if deleted {
        crate::outln!(
            "deleted {}/{}",
            super::printable(&namespace),
            super::printable(&key)
        );
    } else {
        return Err(Failure(
            exit::NOT_FOUND,
            format!("no entry '{key}' in namespace '{namespace}'"),
        ));
    }
    Ok(())
}

/// Where swarmd keeps each succeeded task's result: this namespace of the
/// shared memory, the task id as key.
const RESULTS_NAMESPACE: &str = "swarm:results";

/// A task's result: its entry in `swarm:results`; NOT_FOUND, saying why
/// it has none (from the task's state, when the token may read it), when
/// it has none.
pub(crate) async fn fetch_result(target: &Target, id: String) -> Result<pb::MemoryEntry> {
    match get(target, RESULTS_NAMESPACE.to_string(), id.clone()).await {
        Err(Failure(exit::NOT_FOUND, _)) => {
            let task = super::tasks::fetch_task(target, id.clone())
                .await
                .ok()
                .and_then(|d| d.task);
            Err(Failure(exit::NOT_FOUND, no_result(&id, task.as_ref())))
        }
        found => found,
    }
}

/// Why task `id` (`task`, when it could be read) has no result.
fn no_result(id: &str, task: Option<&pb::TaskSummary>) -> String {
    let Some(t) = task else {
        return format!(
            "no result recorded for task {id}: it has not succeeded, or wrote and printed nothing"
        );
    };
    match t.state.as_str() {
        "succeeded" if t.reason.starts_with(swarm_core::model::MARKED_DONE) => {
            format!("task {id} has no result: it was {}", t.reason)
        }
        "succeeded" => format!(
            "task {id} succeeded but wrote nothing to $SWARM_RESULT and printed nothing, so it has no result"
        ),
        "skipped" => format!("task {id} was skipped, so it has no result"),
        state => format!("task {id} is {state}; only a task that succeeded has a result"),
    }
}

/// `swarmctl task result ID`: the task's entry in `swarm:results`.
pub(crate) async fn task_result(target: &Target, id: String, json: bool) -> Result<()> {
    let entry = fetch_result(target, id).await?;
    if json {
        print_json(&entry_json(&entry));
    } else {
        // What the task wrote, exact (as `task logs` prints it).
        crate::out::bytes(entry.value.as_bytes());
        if !entry.value.ends_with('\n') {
            crate::outln!();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(state: &str, reason: &str) -> pb::TaskSummary {
        pb::TaskSummary {
            state: state.into(),
            reason: reason.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_missing_result_says_why_from_the_task() {
        let done = task("succeeded", "marked done by an operator: by hand");
        assert_eq!(
            no_result("1.1", Some(&done)),
            "task 1.1 has no result: it was marked done by an operator: by hand"
        );
        assert!(no_result("1.1", Some(&task("succeeded", ""))).contains("printed nothing"));
        assert_eq!(
            no_result("1.1", Some(&task("running", ""))),
            "task 1.1 is running; only a task that succeeded has a result"
        );
        assert!(no_result("1.1", None).starts_with("no result recorded for task 1.1"));
    }
}
