//! The swarm provisioner's loop: the coordinator's requests become replica
//! increases (several at once become one update per role), and every
//! [`TICK`] the services' slots are read back:
//!
//! - a slot whose agent exited 0 was drained by the coordinator: the
//!   service's replicas are lowered by one for it (Swarm removes that
//!   stopped slot first, so no running agent is touched);
//! - a slot Swarm could not start (rejected: no such image; pending with a
//!   reason: no node meets the constraints or has the resources) or whose
//!   agent was refused for good (exit 2 or 3) is a failed start: the oldest request of the role still
//!   waiting is reported to the coordinator with the engine's reason (a
//!   shortfall, with backoff), and the replicas are lowered for it;
//! - a slot that runs answers the oldest request still waiting.
//!
//! An agent that crashed is left to Swarm, which restarts it in its slot,
//! with its id. When the coordinator's channel closes, every service is
//! removed.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use bollard::models::TaskState;
use tokio::sync::mpsc;

use super::{SlotTask, SwarmProvisioner, SwarmSettings};
use crate::provision::{failed, ProvisionCmd};
use swarm_core::CoreHandle;

/// How often the services' slots are read back.
const TICK: Duration = Duration::from_secs(2);

/// A request not answered by a running slot within this long is
/// forgotten (the coordinator gives up on it after as long).
const PATIENCE: Duration = Duration::from_secs(60);

/// Agent exit codes that Swarm's restarts cannot fix: refused for good
/// (2) and id in use (3).
const PERMANENT_EXITS: [i64; 2] = [2, 3];

/// Requests and the task states already acted on.
#[derive(Default)]
struct Book {
    /// By role: request ids (the coordinator's), oldest first.
    waiting: BTreeMap<String, VecDeque<(String, Instant)>>,
    /// Running tasks that answered a request.
    answered: HashSet<String>,
    /// Tasks whose end was acted on (drained or failed).
    ended: HashSet<String>,
}

impl Book {
    /// The oldest request of `role` still waiting, taken off the list.
    fn answer(&mut self, role: &str) -> Option<String> {
        let queue = self.waiting.get_mut(role)?;
        queue.retain(|(_, at)| at.elapsed() < PATIENCE);
        queue.pop_front().map(|(id, _)| id)
    }
}

/// What a slot's task says, for this loop.
enum Verdict {
    Running,
    Drained,
    Failed(String),
    Other,
}

fn verdict(t: &SlotTask) -> Verdict {
    let name = format!("{}.{}", t.service, t.slot);
    match (t.state, t.exit_code) {
        (TaskState::RUNNING, _) => Verdict::Running,
        (TaskState::COMPLETE, _) => Verdict::Drained,
        // Unschedulable: no node meets the constraints or has the
        // resources; it would wait for ever.
        (TaskState::PENDING, _) if t.err.is_some() => Verdict::Failed(format!(
            "Swarm cannot place task {name}: {}",
            t.err.as_deref().unwrap_or_default()
        )),
        (TaskState::REJECTED, _) => Verdict::Failed(format!(
            "Swarm could not start task {name}: {}",
            t.err.as_deref().unwrap_or("rejected")
        )),
        (TaskState::FAILED, Some(code)) if PERMANENT_EXITS.contains(&code) => {
            Verdict::Failed(format!(
                "agent {name} exited {code} (refused by the coordinator for good, or its id is in \
                 use); see `docker service logs {}`",
                t.service
            ))
        }
        (TaskState::FAILED, None) => Verdict::Failed(format!(
            "Swarm could not run task {name}: {}",
            t.err.as_deref().unwrap_or("failed")
        )),
        _ => Verdict::Other,
    }
}

/// Runs requests until the channel closes or `cancel` fires, then
/// removes the services.
pub async fn run(
    settings: SwarmSettings,
    mut cmds: mpsc::UnboundedReceiver<ProvisionCmd>,
    core: CoreHandle,
    cancel: tokio_util::sync::CancellationToken,
) {
    let mut provisioner = connect(settings.clone()).await;
    let mut book = Book::default();
    let mut tick = tokio::time::interval(TICK);
    loop {
        tokio::select! {
            cmd = crate::workers::next(&mut cmds, &cancel) => {
                let Some(first) = cmd else { break };
                // Everything queued with it: one update per role.
                let mut batch = vec![first];
                while let Ok(more) = cmds.try_recv() {
                    batch.push(more);
                }
                if provisioner.is_err() {
                    provisioner = connect(settings.clone()).await;
                }
                start(&provisioner, batch, &mut book, &core).await;
            }
            _ = tick.tick() => {
                if let Ok(p) = &provisioner {
                    if let Err(e) = reconcile(p, &mut book, &core).await {
                        tracing::warn!("cannot read the agent services back: {e}");
                    }
                }
            }
        }
    }
    if let Ok(p) = provisioner {
        match p.remove_all().await {
            Ok(n) if n > 0 => {
                tracing::info!("removed {}", swarm_text::count(n as u64, "agent service"))
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("cannot remove the agent services: {e}"),
        }
    }
}

async fn connect(settings: SwarmSettings) -> Result<SwarmProvisioner, String> {
    SwarmProvisioner::connect(settings).await.map_err(|e| {
        tracing::error!("the swarm provisioner is unavailable: {e}");
        e.to_string()
    })
}

/// Raises the replicas for a batch of requests; what cannot be done is
/// reported to the coordinator.
async fn start(
    provisioner: &Result<SwarmProvisioner, String>,
    batch: Vec<ProvisionCmd>,
    book: &mut Book,
    core: &CoreHandle,
) {
    let mut by_role: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for cmd in batch {
        match cmd {
            ProvisionCmd::Start {
                role,
                agent_id,
                plan,
            } => by_role.entry((plan, role)).or_default().push(agent_id),
        }
    }
    for ((plan, role), ids) in by_role {
        let p = match provisioner {
            Ok(p) => p,
            Err(why) => {
                for id in &ids {
                    failed(
                        core,
                        id,
                        format!("the swarm provisioner is unavailable: {why}"),
                    );
                }
                continue;
            }
        };
        match p.add(&plan, &role, ids.len() as u64).await {
            Ok(replicas) => {
                tracing::info!(role = %role, replicas, "asked Swarm for {}", swarm_text::count(ids.len() as u64, "more agent"));
                let now = Instant::now();
                book.waiting
                    .entry(role)
                    .or_default()
                    .extend(ids.into_iter().map(|id| (id, now)));
            }
            Err(e) => {
                for id in &ids {
                    failed(
                        core,
                        id,
                        format!("the swarm provisioner could not start it ({role}): {e}"),
                    );
                }
            }
        }
    }
}

/// Reads the slots back: answers requests, lowers replicas for drained and
/// failed slots, reports failed starts.
async fn reconcile(
    p: &SwarmProvisioner,
    book: &mut Book,
    core: &CoreHandle,
) -> Result<(), crate::provision::docker::ProvisionError> {
    let services = p.services().await?;
    let slots = p.slots(&services).await?;
    let listed: HashSet<&str> = slots.iter().map(|t| t.id.as_str()).collect();
    book.answered.retain(|id| listed.contains(id.as_str()));
    book.ended.retain(|id| listed.contains(id.as_str()));
    for service in &services {
        let mut lower = 0u64;
        for t in slots.iter().filter(|t| t.service == service.name) {
            if book.ended.contains(&t.id) {
                continue;
            }
            match verdict(t) {
                Verdict::Running => {
                    if book.answered.insert(t.id.clone()) {
                        book.answer(&service.role);
                    }
                }
                Verdict::Drained => {
                    book.ended.insert(t.id.clone());
                    tracing::info!(service = %service.name, slot = t.slot, "agent drained and exited; its slot goes");
                    lower += 1;
                }
                Verdict::Failed(reason) => {
                    book.ended.insert(t.id.clone());
                    match book.answer(&service.role) {
                        Some(id) => failed(core, &id, reason),
                        None => tracing::warn!(service = %service.name, slot = t.slot, "{reason}"),
                    }
                    lower += 1;
                }
                Verdict::Other => {}
            }
        }
        if lower > 0 {
            let replicas = service.replicas.saturating_sub(lower);
            p.set_replicas(&service.name, replicas).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(state: TaskState, exit_code: Option<i64>, err: Option<&str>) -> SlotTask {
        SlotTask {
            id: "t".into(),
            service: "swarm-demo-sre".into(),
            slot: 2,
            state,
            err: err.map(str::to_string),
            exit_code,
        }
    }

    #[test]
    fn what_a_slot_says() {
        assert!(matches!(
            verdict(&slot(TaskState::RUNNING, None, None)),
            Verdict::Running
        ));
        assert!(matches!(
            verdict(&slot(TaskState::COMPLETE, Some(0), None)),
            Verdict::Drained
        ));
        // A crash is Swarm's to restart, in the same slot.
        assert!(matches!(
            verdict(&slot(
                TaskState::FAILED,
                Some(137),
                Some("task: non-zero exit (137)")
            )),
            Verdict::Other
        ));
        // Still waiting for a node, with no reason yet.
        assert!(matches!(
            verdict(&slot(TaskState::PENDING, None, None)),
            Verdict::Other
        ));
        for (t, expect) in [
            (
                slot(TaskState::REJECTED, None, Some("No such image: x:1")),
                "Swarm could not start task swarm-demo-sre.2: No such image: x:1",
            ),
            (
                slot(TaskState::PENDING, None, Some("no suitable node")),
                "Swarm cannot place task swarm-demo-sre.2: no suitable node",
            ),
            (
                slot(TaskState::FAILED, Some(2), None),
                "agent swarm-demo-sre.2 exited 2 (refused by the coordinator for good",
            ),
        ] {
            match verdict(&t) {
                Verdict::Failed(reason) => assert!(reason.starts_with(expect), "{reason}"),
                _ => panic!("{expect}: not a failure"),
            }
        }
    }

    #[test]
    fn requests_are_answered_oldest_first_and_forgotten_after_the_patience() {
        let mut book = Book::default();
        let now = Instant::now();
        let old = now
            .checked_sub(PATIENCE + Duration::from_secs(1))
            .unwrap_or(now);
        book.waiting.entry("sre".into()).or_default().extend([
            ("swarm-sre-1".to_string(), old),
            ("swarm-sre-2".to_string(), now),
            ("swarm-sre-3".to_string(), now),
        ]);
        assert_eq!(book.answer("sre").as_deref(), Some("swarm-sre-2"));
        assert_eq!(book.answer("sre").as_deref(), Some("swarm-sre-3"));
        assert_eq!(book.answer("sre"), None);
        assert_eq!(book.answer("qa"), None);
    }
}
