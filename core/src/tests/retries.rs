//! Retry backoff: a failed attempt with retries left waits (100 ms, then
//! 200 ms, doubling up to the cap) before its task is ready again; with
//! the retries spent the task fails and blocks its dependents.

use super::with_bullet;
use crate::command::Outcome;
use crate::testkit::{plan, Harness};

/// One SRE task with `retries` and a dependent, and one agent that took
/// the task: the harness, the agent, the first fencing number.
fn running_with_retries(retries: u32) -> (Harness, crate::testkit::TestAgent, u64) {
    let mut h = Harness::new();
    let md = with_bullet(
        &plan(&[
            ("1.1", "SRE", "P1", 1, ""),
            ("1.2", "SRE", "P1", 1, "Task 1.1"),
        ]),
        "1.1",
        &format!("**Retries**: {retries}"),
    );
    h.load(&md).expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let got = a.assignments();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "1.1");
    (h, a, got[0].1)
}

#[test]
fn a_failed_attempt_with_retries_left_waits_pending_with_its_reason() {
    let (mut h, mut a, fencing) = running_with_retries(2);
    h.report(&a, "1.1", fencing, Outcome::Failed);
    let detail = h.task("1.1");
    assert_eq!(detail.task.state.name(), "pending");
    assert_eq!(
        detail.task.reason,
        "attempt failed (no message), retry 1 of 2 in 100 ms"
    );
    assert_eq!(detail.attempts[0].state.name(), "failed");
    assert_eq!(detail.attempts[0].exit_code, Some(1));
    assert_eq!(h.stored_task_state("1.1"), "pending");
    assert!(a.assignments().is_empty(), "not before the backoff");
    assert_eq!(h.state_of("1.2"), "pending", "the dependent just waits");
}

#[test]
fn the_task_is_not_ready_before_the_backoff_and_is_ready_after() {
    let (mut h, mut a, fencing) = running_with_retries(2);
    h.report(&a, "1.1", fencing, Outcome::Failed);
    h.advance(99);
    h.tick();
    assert_eq!(h.state_of("1.1"), "pending");
    assert!(a.assignments().is_empty());
    h.advance(1);
    h.tick();
    let again = a.assignments();
    assert_eq!(again.len(), 1, "ready at 100 ms and dispatched at once");
    assert_eq!(again[0].0, "1.1");
    assert!(again[0].1 > fencing);
    let tail: Vec<String> = h.task_events("1.1").into_iter().skip(3).collect();
    assert_eq!(
        tail,
        [
            "attempt.failed",
            "task.pending",
            "task.ready",
            "task.running",
            "attempt.offered"
        ]
    );
}

#[test]
fn the_backoff_doubles_with_each_failure() {
    let (mut h, mut a, first) = running_with_retries(3);
    h.report(&a, "1.1", first, Outcome::Failed);
    h.advance(100);
    h.tick();
    let (_, second) = a.assignments()[0].clone();
    h.report(&a, "1.1", second, Outcome::Failed);
    assert_eq!(
        h.task("1.1").task.reason,
        "attempt failed (no message), retry 2 of 3 in 200 ms"
    );
    h.advance(199);
    h.tick();
    assert_eq!(h.state_of("1.1"), "pending", "199 ms of 200");
    assert!(a.assignments().is_empty());
    h.advance(1);
    h.tick();
    let (_, third) = a.assignments()[0].clone();
    assert!(third > second);
    assert_eq!(h.task("1.1").attempts.len(), 3);
}

#[test]
fn the_backoff_is_capped() {
    let (mut h, mut a, mut fencing) = running_with_retries(6);
    // 100, 200, 400, 800, then the 1 s cap.
    for delay in [100, 200, 400, 800, 1000] {
        h.report(&a, "1.1", fencing, Outcome::Failed);
        let reason = h.task("1.1").task.reason;
        assert!(reason.ends_with(&format!("in {delay} ms")), "{reason}");
        h.advance(delay);
        h.tick();
        let got = a.assignments();
        assert_eq!(got.len(), 1, "ready after {delay} ms");
        fencing = got[0].1;
        // Keep the lease alive across the waits.
        h.say(&a, crate::command::FromAgent::Heartbeat);
    }
}

#[test]
fn a_failed_attempt_with_the_retries_spent_fails_the_task() {
    let (mut h, mut a, first) = running_with_retries(1);
    h.report(&a, "1.1", first, Outcome::Failed);
    h.advance(100);
    h.tick();
    let (_, second) = a.assignments()[0].clone();
    h.report(&a, "1.1", second, Outcome::TimedOut);
    let detail = h.task("1.1");
    assert_eq!(detail.task.state.name(), "failed");
    // The state says it failed; the reason says why, without repeating it.
    assert_eq!(detail.task.reason, "no message");
    let states: Vec<&str> = detail.attempts.iter().map(|a| a.state.name()).collect();
    assert_eq!(states, ["failed", "timed_out"]);
    assert_eq!(h.state_of("1.2"), "blocked");
    assert_eq!(
        h.task("1.2").task.reason,
        "dependency 1.1 failed: no message"
    );
    assert_eq!(h.stored_task_state("1.1"), "failed");
    h.advance(10_000);
    h.tick();
    assert!(a.assignments().is_empty(), "never runs again by itself");
}

#[test]
fn a_task_without_retries_fails_at_its_first_failure() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, fencing) = a.assignments()[0].clone();
    h.say(
        &a,
        crate::command::FromAgent::Result {
            attempt: super::attempt_ref("1.1", fencing),
            report: crate::command::AttemptReport {
                exit_code: Some(7),
                message: "exit 7\nmore detail".into(),
                ..crate::command::AttemptReport::of(Outcome::Failed)
            },
        },
    );
    let detail = h.task("1.1");
    assert_eq!(detail.task.state.name(), "failed");
    assert_eq!(detail.task.reason, "exit 7");
    let mut blockers = Vec::new();
    while let Ok(job) = h.receivers.jobs.try_recv() {
        blockers.extend(job.blockers);
    }
    assert!(
        blockers.iter().any(|b| b.ends_with(" failed: exit 7")),
        "the final review names the failure once: {blockers:?}"
    );
    assert!(!blockers.iter().any(|b| b.contains("failed: failed")));
    assert_eq!(detail.attempts[0].exit_code, Some(7));
    let failed = h.events_of("attempt.failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempt, Some(fencing));
}
