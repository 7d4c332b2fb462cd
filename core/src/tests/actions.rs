//! Blocked dependents and their release, and the operator's actions on a
//! task: retry, skip, cancel, done, fail; refused on finished tasks.

use super::{assigned, attempt_ref, cancels};
use crate::command::{Outcome, TaskAction};
use crate::testkit::{plan, Harness, TestAgent};
use crate::CoreError;

/// A chain 1.1 → 1.2 → 1.3 beside an independent 1.4 (Backend), with one
/// SRE agent that took 1.1: the harness, the agent, 1.1's fencing number.
fn chain() -> (Harness, TestAgent, u64) {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "SRE", "P0", 1, ""),
        ("1.2", "SRE", "P1", 1, "Task 1.1"),
        ("1.3", "SRE", "P1", 1, "Task 1.2"),
        ("1.4", "Backend", "P1", 1, ""),
    ]))
    .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let got = a.assignments();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "1.1");
    (h, a, got[0].1)
}

#[test]
fn a_failed_task_blocks_its_transitive_dependents_only() {
    let (mut h, a, fencing) = chain();
    h.report(&a, "1.1", fencing, Outcome::Failed);
    assert_eq!(h.state_of("1.1"), "failed");
    assert_eq!(h.state_of("1.2"), "blocked");
    assert_eq!(h.state_of("1.3"), "blocked");
    assert_eq!(h.state_of("1.4"), "ready", "not downstream of 1.1");
    let reason = h.task("1.3").task.reason;
    assert!(reason.contains("dependency 1.1"), "{reason}");
    assert_eq!(h.stored_task_state("1.3"), "blocked");
    assert_eq!(h.task_events("1.3"), ["task.blocked"]);
}

#[test]
fn retry_runs_a_failed_task_again_and_unblocks_its_dependents() {
    let (mut h, mut a, fencing) = chain();
    h.report(&a, "1.1", fencing, Outcome::Failed);
    let state = h.action("1.1", TaskAction::Retry).expect("retried");
    assert_eq!(state, "ready");
    assert_eq!(h.state_of("1.1"), "running", "dispatched in the same turn");
    assert_eq!(h.state_of("1.2"), "pending");
    assert_eq!(h.state_of("1.3"), "pending");
    let (_, again) = a.assignments()[0].clone();
    assert!(again > fencing);
    h.report(&a, "1.1", again, Outcome::Succeeded);
    assert_eq!(h.state_of("1.2"), "running");
}

#[test]
fn retry_resets_the_retry_budget() {
    let (mut h, mut a, fencing) = chain();
    h.report(&a, "1.1", fencing, Outcome::Failed);
    h.action("1.1", TaskAction::Retry).expect("retried");
    let (_, second) = a.assignments()[0].clone();
    // No retries in the plan: the second failure fails it again at once.
    h.report(&a, "1.1", second, Outcome::Failed);
    assert_eq!(h.state_of("1.1"), "failed");
    assert_eq!(h.state_of("1.2"), "blocked");
}

#[test]
fn skip_counts_as_done_and_releases_the_dependents() {
    let (mut h, mut a, fencing) = chain();
    h.report(&a, "1.1", fencing, Outcome::Failed);
    let state = h.action("1.1", TaskAction::Skip).expect("skipped");
    assert_eq!(state, "skipped");
    assert_eq!(h.state_of("1.2"), "running", "ready and dispatched");
    assert_eq!(h.state_of("1.3"), "pending");
    assert_eq!(a.assignments()[0].0, "1.2");
    assert_eq!(h.stored_task_state("1.1"), "skipped");
    assert_eq!(h.status().counts.skipped, 1);
}

#[test]
fn skip_on_a_task_that_never_ran_releases_its_dependents() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "Database Specialist", "P1", 1, ""),
        ("1.2", "SRE", "P1", 1, "Task 1.1"),
    ]))
    .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    assert!(a.assignments().is_empty());
    h.action("1.1", TaskAction::Skip).expect("skipped");
    assert_eq!(a.assignments()[0].0, "1.2");
}

#[test]
fn cancel_on_a_running_task_stops_its_attempt_and_blocks_its_dependents() {
    let (mut h, mut a, fencing) = chain();
    let state = h.action("1.1", TaskAction::Cancel).expect("cancelled");
    assert_eq!(state, "cancelled");
    let detail = h.task("1.1");
    assert_eq!(detail.attempts[0].state.name(), "cancelled");
    assert!(cancels(&a.inbox()).contains(&attempt_ref("1.1", fencing)));
    assert_eq!(h.state_of("1.2"), "blocked");
    assert_eq!(h.state_of("1.3"), "blocked");
    assert_eq!(h.events_of("attempt.cancelled").len(), 1);
    // A late result of the cancelled attempt is rejected.
    h.report(&a, "1.1", fencing, Outcome::Succeeded);
    assert_eq!(h.events_of("attempt.rejected").len(), 1);
    assert_eq!(h.state_of("1.1"), "cancelled");
}

#[test]
fn done_on_a_running_task_ends_its_attempt_as_succeeded() {
    let (mut h, mut a, fencing) = chain();
    let state = h.action("1.1", TaskAction::Done).expect("done");
    assert_eq!(state, "succeeded");
    let detail = h.task("1.1");
    assert_eq!(detail.attempts[0].state.name(), "succeeded");
    assert!(detail.attempts[0].message.contains("by an operator"));
    let inbox = a.inbox();
    assert_eq!(
        cancels(&inbox),
        [attempt_ref("1.1", fencing)],
        "the lead's executor is stopped"
    );
    let next = assigned(&inbox);
    assert_eq!(next.len(), 1, "1.2 is released and takes the slot");
    assert_eq!(next[0].attempt.task_id, "1.2");
    let succeeded = h.events_of("attempt.succeeded");
    assert_eq!(succeeded.len(), 1);
    assert_eq!(succeeded[0].attempt, Some(fencing));
}

#[test]
fn fail_on_a_running_task_fails_it_for_good() {
    let (mut h, mut a, fencing) = chain();
    let state = h.action("1.1", TaskAction::Fail).expect("failed");
    assert_eq!(state, "failed");
    assert_eq!(h.task("1.1").attempts[0].state.name(), "failed");
    assert_eq!(cancels(&a.inbox()), [attempt_ref("1.1", fencing)]);
    assert_eq!(h.state_of("1.2"), "blocked");
}

#[test]
fn actions_on_finished_tasks_are_refused_with_a_conflict() {
    let (mut h, a, fencing) = chain();
    h.report(&a, "1.1", fencing, Outcome::Succeeded);
    let before = h.events.len();
    for action in [
        TaskAction::Done,
        TaskAction::Fail,
        TaskAction::Skip,
        TaskAction::Cancel,
        TaskAction::Retry,
    ] {
        match h.action("1.1", action) {
            Err(CoreError::Conflict(m)) => assert!(m.contains("1.1"), "{m}"),
            other => panic!("{action:?} on a succeeded task: {other:?}"),
        }
    }
    assert_eq!(h.events.len(), before, "nothing was recorded");
    assert_eq!(h.state_of("1.1"), "succeeded");
    h.action("1.4", TaskAction::Skip).expect("skipped");
    assert!(matches!(
        h.action("1.4", TaskAction::Skip),
        Err(CoreError::Conflict(_))
    ));
}

#[test]
fn retry_is_refused_on_a_task_that_is_not_dead() {
    let (mut h, _a, _) = chain();
    for id in ["1.1", "1.2", "1.4"] {
        assert!(
            matches!(h.action(id, TaskAction::Retry), Err(CoreError::Conflict(_))),
            "retry of the {} task {id}",
            h.state_of(id)
        );
    }
    assert!(matches!(
        h.action("9.9", TaskAction::Done),
        Err(CoreError::NotFound(_))
    ));
}
