//! What `swarmd run` gets over gRPC, read into the core's enums once:
//! task states, event kinds and the verdict. Everything after this file
//! compares enums, never names.

use swarm_core::model::{TaskState, UnknownName};
use swarm_core::verdict::Verdict;
use swarm_core::EventKind;
use swarm_proto::v1 as pb;

/// A task as the end summary shows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunTask {
    /// Task id.
    pub id: String,
    /// Title from the plan.
    pub title: String,
    /// Its state.
    pub state: TaskState,
    /// Attempts made.
    pub attempts: u32,
    /// Why failed, blocked, skipped or cancelled.
    pub reason: String,
}

/// An event as the progress display follows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunEvent {
    /// What happened.
    pub kind: EventKind,
    /// The task it concerns (empty: none).
    pub task_id: String,
    /// Detail for people.
    pub message: String,
}

/// The task list, typed.
///
/// # Errors
/// [`UnknownName`] for a state this build does not know, naming the task.
pub(crate) fn tasks(list: Vec<pb::TaskSummary>) -> Result<Vec<RunTask>, UnknownName> {
    list.into_iter()
        .map(|t| {
            let state = t.state.parse().map_err(|mut e: UnknownName| {
                e.what = "task state (of a listed task)";
                e
            })?;
            Ok(RunTask {
                id: t.id,
                title: t.title,
                state,
                attempts: t.attempts,
                reason: t.reason,
            })
        })
        .collect()
}

/// An event, typed.
///
/// # Errors
/// [`UnknownName`] for a kind this build does not know.
pub(crate) fn event(e: pb::Event) -> Result<RunEvent, UnknownName> {
    Ok(RunEvent {
        kind: e.kind.parse()?,
        task_id: e.task_id,
        message: e.message,
    })
}

/// The verdict status gives; `None` without a plan (an empty name).
///
/// # Errors
/// [`UnknownName`] for a verdict this build does not know.
pub(crate) fn verdict(name: &str) -> Result<Option<Verdict>, UnknownName> {
    if name.is_empty() {
        return Ok(None);
    }
    name.parse().map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_kinds_and_verdicts_are_read_once_and_a_bad_name_is_refused() {
        let listed = vec![pb::TaskSummary {
            id: "1.1".into(),
            state: "succeeded".into(),
            ..Default::default()
        }];
        assert_eq!(tasks(listed).expect("typed")[0].state, TaskState::Succeeded);
        let bad = vec![pb::TaskSummary {
            id: "1.1".into(),
            state: "finished".into(),
            ..Default::default()
        }];
        let err = tasks(bad).expect_err("unknown state");
        assert_eq!(err.value, "finished");
        assert!(err.to_string().contains("succeeded"), "{err}");
        let e = pb::Event {
            kind: "task.failed".into(),
            ..Default::default()
        };
        assert_eq!(
            event(e).expect("typed").kind,
            EventKind::Task(TaskState::Failed)
        );
        assert_eq!(verdict("").expect("none"), None);
        assert_eq!(verdict("at_risk").expect("typed"), Some(Verdict::AtRisk));
        assert!(verdict("fine").is_err());
    }
}
