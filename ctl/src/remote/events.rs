//! `swarmctl events [--follow]`.

use swarm_core::event::KindFilter;
use swarm_proto::v1 as pb;

use super::{clock, Result, Target};

/// `--task` and `--kind`: sent to the daemon, which filters, and applied
/// here too (a daemon that predates the filter sends every event).
#[derive(Debug, Default)]
pub(crate) struct Filter {
    pub task: Option<String>,
    /// A kind or a family, as given to `--kind` (already checked).
    pub kind: Option<String>,
}

impl Filter {
    /// Whether `e` passes: its task, and its kind or kind family
    /// (`attempt` takes `attempt.failed`).
    fn keeps(&self, kind: Option<KindFilter>, e: &pb::Event) -> bool {
        self.task.as_ref().is_none_or(|t| e.task_id == *t) && kind.is_none_or(|k| k.passes(&e.kind))
    }
}

pub(crate) async fn run(
    target: &Target,
    follow: bool,
    since: u64,
    filter: &Filter,
    as_json: bool,
) -> Result<()> {
    let kind = match &filter.kind {
        Some(k) => Some(
            k.parse::<KindFilter>()
                .map_err(|e| super::Failure(crate::exit::USAGE, format!("--kind: {e}")))?,
        ),
        None => None,
    };
    let mut client = target.control().await?;
    let mut stream = client
        .events(pb::EventsRequest {
            since,
            follow,
            task_id: filter.task.clone().unwrap_or_default(),
            kind: filter.kind.clone().unwrap_or_default(),
        })
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
        if !filter.keeps(kind, &e) {
            continue;
        }
        if as_json {
            crate::outln!("{}", swarm_client::event_json::event_json(&e));
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
            if !e.actor.is_empty() {
                parts.push(format!("by {}", super::printable(&e.actor)));
            }
            if !e.message.is_empty() {
                parts.push(format!("— {}", super::printable(&e.message)));
            }
            crate::outln!("{}", parts.join("  "));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, task: &str) -> pb::Event {
        pb::Event {
            kind: kind.into(),
            task_id: task.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_kind_or_a_family_is_kept_and_nothing_else() {
        let family = Filter {
            task: Some("1.1".into()),
            kind: Some("attempt".into()),
        };
        let attempt = Some("attempt".parse().expect("a family"));
        assert!(family.keeps(attempt, &event("attempt.failed", "1.1")));
        assert!(!family.keeps(attempt, &event("attempt.failed", "1.2")));
        assert!(!family.keeps(attempt, &event("task.failed", "1.1")));
        let kind = Filter::default();
        let succeeded = Some("attempt.succeeded".parse().expect("a kind"));
        assert!(kind.keeps(succeeded, &event("attempt.succeeded", "1.1")));
        assert!(!kind.keeps(succeeded, &event("attempt.failed", "1.1")));
        assert!("attempts".parse::<KindFilter>().is_err());
        assert!(crate::cli::kind_filter("attempts").is_err());
        assert_eq!(
            crate::cli::kind_filter("attempt").ok().as_deref(),
            Some("attempt")
        );
    }
}
