//! Every state's and verdict's name reads back to it, and a name that
//! stands for nothing is refused with the bad value and the valid ones.

use std::fmt::Debug;
use std::str::FromStr;

use crate::model::{AgentState, AttemptState, PlanState, StatusState, TaskState, UnknownName};
use crate::verdict::Verdict;

/// Each of `all` reads back from its name, no two share one, and `bad`
/// is refused naming `what` and every valid name.
fn round_trip<T>(all: &[T], name: fn(T) -> &'static str, what: &str, bad: &str)
where
    T: Copy + PartialEq + Debug + FromStr<Err = UnknownName>,
{
    for &v in all {
        assert_eq!(name(v).parse::<T>(), Ok(v), "{}", name(v));
    }
    let mut names: Vec<&str> = all.iter().map(|&v| name(v)).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), all.len(), "a {what} name is used twice");
    let err = bad.parse::<T>().expect_err(bad);
    assert_eq!(err.what, what);
    assert_eq!(err.value, bad);
    assert_eq!(err.valid, all.iter().map(|&v| name(v)).collect::<Vec<_>>());
    let message = err.to_string();
    assert!(message.contains(bad), "{message}");
    for &v in all {
        assert!(message.contains(name(v)), "{message} lacks {}", name(v));
    }
}

#[test]
fn task_states_round_trip() {
    round_trip(&TaskState::ALL, TaskState::name, "task state", "done");
    let names: Vec<&str> = TaskState::ALL.iter().map(|s| s.name()).collect();
    assert_eq!(
        names,
        [
            "pending",
            "ready",
            "running",
            "merging",
            "succeeded",
            "failed",
            "blocked",
            "skipped",
            "cancelled",
            "removed"
        ]
    );
    for (i, s) in TaskState::ALL.iter().enumerate() {
        assert_eq!(s.index(), i, "counters are indexed in the order of ALL");
    }
}

#[test]
fn plan_and_status_states_round_trip() {
    round_trip(&PlanState::ALL, PlanState::name, "plan state", "stopped");
    round_trip(&StatusState::ALL, StatusState::name, "status state", "busy");
    assert_eq!(StatusState::Idle.name(), "idle");
    assert_eq!(StatusState::Plan(PlanState::Paused).name(), "paused");
}

#[test]
fn attempt_states_round_trip_and_every_end_has_one() {
    round_trip(
        &AttemptState::ALL,
        AttemptState::name,
        "attempt state",
        "timedout",
    );
    use crate::AttemptEnd;
    let ends = [
        (AttemptEnd::Succeeded, "succeeded"),
        (AttemptEnd::Failed { exit_code: Some(2) }, "failed"),
        (AttemptEnd::TimedOut, "timed_out"),
        (AttemptEnd::Cancelled, "cancelled"),
        (AttemptEnd::Lost, "lost"),
    ];
    for (end, name) in ends {
        assert_eq!(end.state_name(), name);
        assert_eq!(end.state().name(), name);
    }
}

#[test]
fn agent_states_round_trip() {
    round_trip(&AgentState::ALL, AgentState::name, "agent state", "online");
}

#[test]
fn verdicts_round_trip() {
    round_trip(&Verdict::ALL, Verdict::name, "verdict", "at risk");
    let names: Vec<&str> = Verdict::ALL.iter().map(|v| v.name()).collect();
    assert_eq!(
        names,
        [
            "cancelled",
            "failed",
            "done",
            "behind",
            "at_risk",
            "on_track"
        ]
    );
}

#[test]
fn display_is_the_name() {
    assert_eq!(TaskState::Cancelled.to_string(), "cancelled");
    assert_eq!(AttemptState::TimedOut.to_string(), "timed_out");
    assert_eq!(StatusState::Idle.to_string(), "idle");
    assert_eq!(AgentState::Gone.to_string(), "gone");
}
