//! Recovery after reopening the store: finished tasks stay finished and
//! never run again; a live attempt is resumed by its agent reconnecting
//! within the grace; an agent that does not come back is lost after the
//! grace and the lease, and its attempt re-queued; fencing numbers keep
//! growing.

use super::{attempt_ref, welcome};
use crate::command::Outcome;
use crate::testkit::{config, plan, Harness, TestAgent};

/// Grace plus lease of the test configuration, ms.
const GRACE_AND_LEASE: i64 = 2000 + 3000;

/// 1.1 → 1.2 on disk; sre-1 ran 1.1 to success and holds 1.2's attempt.
/// Returns the harness, the agent and 1.2's fencing number.
fn half_done() -> (Harness, TestAgent, u64) {
    let mut h = Harness::on_disk(config());
    h.load(&plan(&[
        ("1.1", "SRE", "P1", 1, ""),
        ("1.2", "SRE", "P1", 1, "Task 1.1"),
    ]))
    .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, first) = a.assignments()[0].clone();
    h.report(&a, "1.1", first, Outcome::Succeeded);
    let (task, second) = a.assignments()[0].clone();
    assert_eq!(task, "1.2");
    (h, a, second)
}

#[test]
fn succeeded_tasks_stay_succeeded_and_never_run_again() {
    let (h, _a, second) = half_done();
    let mut h = h.reopen(config());
    assert_eq!(h.events_of("coordinator.started").len(), 1);
    assert_eq!(h.state_of("1.1"), "succeeded");
    assert_eq!(h.state_of("1.2"), "running");
    // The agent comes back without 1.2, and a second one joins: 1.2 runs
    // again, 1.1 never.
    let mut a = h
        .connect_with("sre-1", &["sre"], 1, Vec::new())
        .expect("accepted");
    let mut b = h.connect("sre-2", &["sre"]);
    let mut runs: Vec<String> = a.assignments().into_iter().map(|(t, _)| t).collect();
    runs.extend(b.assignments().into_iter().map(|(t, _)| t));
    assert_eq!(runs, ["1.2"]);
    let detail = h.task("1.1");
    assert_eq!(detail.attempts.len(), 1);
    assert!(h
        .events_of("attempt.lost")
        .iter()
        .all(|e| e.attempt == Some(second)));
}

#[test]
fn an_agent_reconnecting_within_the_grace_resumes_its_attempt() {
    let (h, _a, second) = half_done();
    let mut h = h.reopen(config());
    h.advance(1500);
    h.tick();
    let mut a = h
        .connect_with("sre-1", &["sre"], 1, vec![attempt_ref("1.2", second)])
        .expect("accepted");
    let inbox = a.inbox();
    let (resume, abandon) = welcome(&inbox).expect("a Welcome");
    assert_eq!(resume, [attempt_ref("1.2", second)]);
    assert!(abandon.is_empty());
    assert!(super::assigned(&inbox).is_empty(), "its slot is taken");
    assert!(h.events_of("attempt.lost").is_empty());
    assert_eq!(h.events_of("agent.reconnected").len(), 1);
    h.report(&a, "1.2", second, Outcome::Succeeded);
    assert_eq!(h.state_of("1.2"), "succeeded");
    assert_eq!(h.status().state.name(), "succeeded");
    assert_eq!(h.stored_task_state("1.2"), "succeeded");
}

#[test]
fn an_agent_that_does_not_come_back_is_lost_after_grace_and_lease() {
    let (h, _a, second) = half_done();
    let mut h = h.reopen(config());
    h.advance(GRACE_AND_LEASE - 1000);
    h.tick();
    assert!(h.events_of("agent.lost").is_empty(), "within grace + lease");
    assert_eq!(h.state_of("1.2"), "running");
    h.advance(1001);
    h.tick();
    let lost = h.events_of("agent.lost");
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0].agent_id.as_deref(), Some("sre-1"));
    let attempt = h.events_of("attempt.lost");
    assert_eq!(attempt.len(), 1);
    assert_eq!(attempt[0].attempt, Some(second));
    assert_eq!(h.state_of("1.2"), "ready");
    let mut b = h.connect("sre-2", &["sre"]);
    let again = b.assignments();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].0, "1.2");
}

#[test]
fn the_fencing_counter_continues_above_the_stored_maximum() {
    let (h, _a, second) = half_done();
    assert_eq!(second, 2);
    let mut h = h.reopen(config());
    let mut a = h
        .connect_with("sre-1", &["sre"], 1, Vec::new())
        .expect("accepted");
    let (task, third) = a.assignments()[0].clone();
    assert_eq!(task, "1.2");
    assert_eq!(third, 3, "not 1: numbers are never reused");
    // The old number is not current any more.
    h.report(&a, "1.2", second, Outcome::Succeeded);
    assert_eq!(h.events_of("attempt.rejected").len(), 1);
    h.report(&a, "1.2", third, Outcome::Succeeded);
    assert_eq!(h.state_of("1.2"), "succeeded");
}

#[test]
fn a_retry_backoff_survives_a_restart() {
    let mut h = Harness::on_disk(config());
    h.load(&super::with_bullet(
        &plan(&[("1.1", "SRE", "P1", 1, "")]),
        "1.1",
        "**Retries**: 1",
    ))
    .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, first) = a.assignments()[0].clone();
    h.report(&a, "1.1", first, Outcome::Failed);
    let mut h = h.reopen(config());
    assert_eq!(h.state_of("1.1"), "pending");
    let mut a = h.connect("sre-1", &["sre"]);
    assert!(a.assignments().is_empty(), "still backing off");
    h.advance(100);
    h.tick();
    let again = a.assignments();
    assert_eq!(again.len(), 1);
    assert!(again[0].1 > first);
}

#[test]
fn a_finished_plan_stays_finished_after_a_restart() {
    let (mut h, a, second) = half_done();
    h.report(&a, "1.2", second, Outcome::Succeeded);
    assert_eq!(h.events_of("plan.succeeded").len(), 1);
    let mut h = h.reopen(config());
    let status = h.status();
    assert_eq!(status.state.name(), "succeeded");
    assert_eq!(status.counts.succeeded, 2);
    assert!(
        h.events_of("plan.succeeded").is_empty(),
        "not settled again"
    );
    let mut b = h.connect("sre-2", &["sre"]);
    assert!(b.assignments().is_empty());
}

#[test]
fn a_restart_offers_every_recorded_result_to_the_shared_memory_where_missing() {
    let mut h = Harness::on_disk(config());
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, attempt) = a.assignments()[0].clone();
    h.say(
        &a,
        crate::command::FromAgent::Result {
            attempt: attempt_ref("1.1", attempt),
            report: crate::command::AttemptReport {
                result: Some("the answer".into()),
                ..crate::command::AttemptReport::of(Outcome::Succeeded)
            },
        },
    );
    let first = h
        .receivers
        .results
        .try_recv()
        .expect("copied after the commit");
    assert!(!first.if_absent);
    // The process dies before the copier ran; after the restart the
    // result is offered again, to be copied only where it is missing.
    let mut h = h.reopen(config());
    let again = h
        .receivers
        .results
        .try_recv()
        .expect("offered after the restart");
    assert_eq!(
        (
            again.task_id.as_str(),
            again.result.as_str(),
            again.if_absent
        ),
        ("1.1", "the answer", true)
    );
}
