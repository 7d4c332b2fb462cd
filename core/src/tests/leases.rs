//! Leases: an agent silent past its lease is lost and its attempts are
//! re-queued without using the retry budget; heartbeats keep it alive; a
//! task that keeps losing its agents fails after `max_losses`.

use crate::command::{FromAgent, Outcome};
use crate::testkit::{config, plan, Harness};

/// The lease of the test configuration, ms.
const LEASE: i64 = 3000;

#[test]
fn a_silent_agent_is_lost_and_its_attempt_requeued_without_using_a_retry() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, fencing) = a.assignments()[0].clone();
    h.advance(LEASE + 1);
    h.tick();
    let lost = h.events_of("agent.lost");
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0].agent_id.as_deref(), Some("sre-1"));
    assert_eq!(
        h.task_events("1.1"),
        [
            "task.ready",
            "task.running",
            "attempt.offered",
            "attempt.lost",
            "task.ready"
        ]
    );
    let lost_attempt = h.events_of("attempt.lost")[0];
    assert_eq!(lost_attempt.attempt, Some(fencing));
    assert!(
        seq_before(&h, "agent.lost", "attempt.lost"),
        "the agent is lost, then its attempt"
    );
    let detail = h.task("1.1");
    assert_eq!(detail.task.state.name(), "ready");
    assert_eq!(detail.attempts.len(), 1);
    assert_eq!(detail.attempts[0].state.name(), "lost");
    assert!(
        detail.task.reason.contains("re-queued"),
        "{}",
        detail.task.reason
    );
    assert_eq!(h.stored_task_state("1.1"), "ready");
}

/// Whether the first event of kind `a` precedes the first of kind `b`.
fn seq_before(h: &Harness, a: &str, b: &str) -> bool {
    super::seq_of(h, a, None) < super::seq_of(h, b, None)
}

#[test]
fn a_task_with_no_retries_runs_again_on_another_agent_after_a_loss() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    let mut first = h.connect("sre-1", &["sre"]);
    let (_, lost) = first.assignments()[0].clone();
    h.advance(2000);
    let mut second = h.connect("sre-2", &["sre"]);
    assert!(second.assignments().is_empty(), "1.1 is still running");
    h.advance(LEASE + 1 - 2000);
    h.tick();
    let again = second.assignments();
    assert_eq!(again.len(), 1, "re-queued and dispatched in the same turn");
    assert_eq!(again[0].0, "1.1");
    assert!(again[0].1 > lost, "a new fencing number");
    h.report(&second, "1.1", again[0].1, Outcome::Succeeded);
    let detail = h.task("1.1");
    assert_eq!(detail.task.state.name(), "succeeded");
    let states: Vec<&str> = detail.attempts.iter().map(|a| a.state.name()).collect();
    assert_eq!(states, ["lost", "succeeded"]);
    assert_eq!(
        h.events_of("task.failed").len(),
        0,
        "a loss is not a failure"
    );
}

#[test]
fn heartbeats_keep_the_lease_alive() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, fencing) = a.assignments()[0].clone();
    for _ in 0..10 {
        h.advance(1000);
        h.say(&a, FromAgent::Heartbeat);
    }
    assert!(h.events_of("agent.lost").is_empty(), "10 s, never lost");
    assert_eq!(h.state_of("1.1"), "running");
    h.report(&a, "1.1", fencing, Outcome::Succeeded);
    assert_eq!(h.state_of("1.1"), "succeeded");
}

#[test]
fn heartbeats_counted_by_the_session_keep_the_lease_alive_and_their_end_ends_it() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    let a = h.connect("sre-1", &["sre"]);
    // The session's reader counts heartbeats; the loop sees them only
    // when it checks leases.
    for _ in 0..20 {
        h.advance(500);
        a.alive.beat();
        h.tick();
    }
    assert!(h.events_of("agent.lost").is_empty(), "10 s, never lost");
    assert_eq!(h.state_of("1.1"), "running");
    // Silent from now: lost once the lease has run out, not before.
    let mut silent = 0;
    while h.events_of("agent.lost").is_empty() {
        h.advance(250);
        silent += 250;
        h.tick();
        assert!(silent <= 3_000 + 1_000, "still not lost after {silent} ms");
    }
    assert!(silent > 3_000, "lost after {silent} ms of silence");
    assert_eq!(h.state_of("1.1"), "ready");
}

#[test]
fn any_message_counts_as_a_sign_of_life() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (task, fencing) = a.assignments()[0].clone();
    h.advance(2500);
    h.say(&a, FromAgent::Started(super::attempt_ref(&task, fencing)));
    h.advance(2500);
    h.tick();
    assert!(h.events_of("agent.lost").is_empty(), "seen 2.5 s ago");
    assert_eq!(h.events_of("attempt.started").len(), 1);
    h.advance(1000);
    h.tick();
    assert_eq!(h.events_of("agent.lost").len(), 1, "silent for 3.5 s");
}

#[test]
fn a_disconnected_agent_keeps_its_attempt_until_its_lease_runs_out() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    assert_eq!(a.assignments().len(), 1);
    h.disconnect(&a);
    assert_eq!(h.events_of("agent.disconnected").len(), 1);
    assert!(h.events_of("attempt.lost").is_empty());
    assert_eq!(h.state_of("1.1"), "running");
    h.advance(LEASE + 1);
    h.tick();
    assert_eq!(h.events_of("agent.lost").len(), 1);
    assert_eq!(h.events_of("attempt.lost").len(), 1);
    assert_eq!(h.state_of("1.1"), "ready");
}

#[test]
fn a_task_that_keeps_losing_its_agents_fails_after_max_losses() {
    let cfg = config();
    let max = cfg.max_losses;
    assert_eq!(max, 5);
    let mut h = Harness::with(cfg);
    h.load(&plan(&[
        ("1.1", "SRE", "P1", 1, ""),
        ("1.2", "SRE", "P1", 1, "Task 1.1"),
    ]))
    .expect("loads");
    for n in 1..=max {
        let mut a = h.connect(&format!("sre-{n}"), &["sre"]);
        assert_eq!(a.assignments().len(), 1, "loss {n}: it runs again");
        h.advance(LEASE + 1);
        h.tick();
        let expected = if n < max { "ready" } else { "failed" };
        assert_eq!(h.state_of("1.1"), expected, "after loss {n}");
    }
    let detail = h.task("1.1");
    assert_eq!(detail.attempts.len(), max as usize);
    assert!(detail.attempts.iter().all(|a| a.state.name() == "lost"));
    assert!(
        detail.task.reason.contains("lost its agent 5 times"),
        "{}",
        detail.task.reason
    );
    assert_eq!(h.state_of("1.2"), "blocked");
    assert_eq!(h.stored_task_state("1.1"), "failed");
}

#[test]
fn an_agent_that_hands_an_attempt_back_does_not_use_the_retry_budget() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (task, fencing) = a.assignments()[0].clone();
    h.say(
        &a,
        FromAgent::Release {
            attempt: super::attempt_ref(&task, fencing),
            reason: "shutting down".into(),
        },
    );
    let lost = h.events_of("attempt.lost");
    assert_eq!(lost.len(), 1);
    assert!(lost[0].message.contains("shutting down"));
    let again = a.assignments();
    assert_eq!(again.len(), 1, "ready again, and its slot is free");
    assert!(again[0].1 > fencing);
    assert!(h.events_of("task.failed").is_empty());
}
