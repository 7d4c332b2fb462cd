//! Unit tests of the scheduler core, driven turn by turn through
//! [`super::testkit::Harness`]: a fake clock, a store in memory, agents as
//! channels. Each test asserts on a transition the core committed.

mod gangs;
mod placement;

use super::command::{Assignment, AttemptRef, ToAgent};

/// The full assignments among `inbox`.
fn assigned(inbox: &[ToAgent]) -> Vec<Assignment> {
    inbox
        .iter()
        .filter_map(|m| match m {
            ToAgent::Assign(a) => Some((**a).clone()),
            _ => None,
        })
        .collect()
}

/// The acknowledgements among `inbox`, as (attempt, accepted).
fn acks(inbox: &[ToAgent]) -> Vec<(AttemptRef, bool)> {
    inbox
        .iter()
        .filter_map(|m| match m {
            ToAgent::Ack {
                attempt, accepted, ..
            } => Some((attempt.clone(), *accepted)),
            _ => None,
        })
        .collect()
}

/// The cancellations among `inbox`.
fn cancels(inbox: &[ToAgent]) -> Vec<AttemptRef> {
    inbox
        .iter()
        .filter_map(|m| match m {
            ToAgent::Cancel(r, _) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

/// A reference to attempt `attempt` of task `task`.
fn attempt_ref(task: &str, attempt: u64) -> AttemptRef {
    AttemptRef {
        task_id: task.into(),
        attempt,
    }
}
