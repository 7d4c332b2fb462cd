//! `swarmctl events [--follow]`.

use serde_json::json;
use swarm_proto::v1 as pb;

use super::{clock, Result, Target};

/// `--task` and `--kind`.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    pub task: Option<String>,
    pub kind: Option<String>,
}

impl Filter {
    /// Whether `e` passes: its task, and its kind or kind family
    /// (`attempt` takes `attempt.failed`).
    fn keeps(&self, e: &pb::Event) -> bool {
        self.task.as_ref().is_none_or(|t| e.task_id == *t)
            && self.kind.as_ref().is_none_or(|k| {
                e.kind == *k
                    || e.kind
                        .strip_prefix(k.as_str())
                        .is_some_and(|r| r.starts_with('.'))
            })
    }
}

pub(crate) async fn run(
    target: &Target,
    follow: bool,
    since: u64,
    filter: &Filter,
    as_json: bool,
) -> Result<()> {
    let mut client = target.control().await?;
    let mut stream = client
        .events(pb::EventsRequest { since, follow })
        .await?
        .into_inner();
    let closed = crate::out::closed();
    tokio::pin!(closed);
    loop {
        let e = tokio::select! {
            e = stream.message() => match e? {
                Some(e) => e,
                None => break,
            },
            // `events --follow | head -1`: the reader is gone, so is the
            // reason to wait for the next event.
            () = &mut closed => std::process::exit(i32::from(crate::exit::OK)),
        };
        if !filter.keeps(&e) {
            continue;
        }
        if as_json {
            let v = json!({"seq": e.seq, "at_ms": e.at_ms, "kind": e.kind, "task_id": e.task_id, "attempt": e.number, "fence": e.attempt, "agent_id": e.agent_id, "message": e.message});
            crate::outln!("{v}");
        } else {
            let mut parts = vec![
                format!("{:>6}", e.seq),
                clock(e.at_ms),
                format!("{:<20}", e.kind),
            ];
            if !e.task_id.is_empty() {
                parts.push(format!("task {}", e.task_id));
            }
            if e.number > 0 {
                parts.push(format!("attempt {}", e.number));
            }
            if !e.agent_id.is_empty() {
                parts.push(format!("agent {}", e.agent_id));
            }
            if !e.message.is_empty() {
                parts.push(format!("— {}", super::printable(&e.message)));
            }
            crate::outln!("{}", parts.join("  "));
        }
    }
    Ok(())
}
