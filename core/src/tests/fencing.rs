//! Fencing: a result for an attempt that is not current (a stale fencing
//! number, a member that does not lead, a wrong task id) is recorded as
//! `attempt.rejected`, acknowledged as not accepted, and changes nothing.

use super::{acks, attempt_ref, with_bullet};
use crate::command::{FromAgent, Outcome};
use crate::testkit::{plan, Harness};

/// The kinds of every event after sequence number `seq`.
fn kinds_after(h: &Harness, seq: u64) -> Vec<String> {
    h.events
        .iter()
        .filter(|e| e.seq > seq)
        .map(|e| e.kind.clone())
        .collect()
}

fn last_seq(h: &Harness) -> u64 {
    h.events.last().map_or(0, |e| e.seq)
}

#[test]
fn the_current_attempts_result_is_accepted_and_acknowledged() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (task, fencing) = a.assignments()[0].clone();
    h.report(&a, &task, fencing, Outcome::Succeeded);
    assert_eq!(acks(&a.inbox()), [(attempt_ref("1.1", fencing), true)]);
    assert!(h.events_of("attempt.rejected").is_empty());
    let detail = h.task("1.1");
    assert_eq!(detail.task.state.name(), "succeeded");
    assert_eq!(detail.attempts[0].state.name(), "succeeded");
}

#[test]
fn a_result_with_a_stale_fencing_number_is_rejected_and_changes_nothing() {
    let mut h = Harness::new();
    h.load(&with_bullet(
        &plan(&[("1.1", "SRE", "P1", 1, "")]),
        "1.1",
        "**Retries**: 1",
    ))
    .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, old) = a.assignments()[0].clone();
    h.report(&a, "1.1", old, Outcome::Failed);
    h.advance(100);
    h.tick();
    let (_, current) = a.assignments()[0].clone();
    assert!(current > old);
    let before = last_seq(&h);
    // A late duplicate of the first attempt's result, now a success.
    h.report(&a, "1.1", old, Outcome::Succeeded);
    assert_eq!(kinds_after(&h, before), ["attempt.rejected"]);
    let rejected = h.events_of("attempt.rejected")[0];
    assert_eq!(rejected.attempt, Some(old));
    assert_eq!(rejected.agent_id.as_deref(), Some("sre-1"));
    let inbox = a.inbox();
    assert_eq!(acks(&inbox), [(attempt_ref("1.1", old), false)]);
    let detail = h.task("1.1");
    assert_eq!(detail.task.state.name(), "running");
    let states: Vec<&str> = detail.attempts.iter().map(|a| a.state.name()).collect();
    assert_eq!(states, ["failed", "offered"]);
    // The current attempt still reports normally.
    h.report(&a, "1.1", current, Outcome::Succeeded);
    assert_eq!(h.state_of("1.1"), "succeeded");
}

#[test]
fn a_zombies_result_after_its_attempt_was_lost_is_rejected() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    let mut zombie = h.connect("sre-1", &["sre"]);
    let (_, old) = zombie.assignments()[0].clone();
    h.advance(2000);
    let mut other = h.connect("sre-2", &["sre"]);
    h.advance(1001);
    h.tick();
    let (_, current) = other.assignments()[0].clone();
    // The lost agent comes back and reports the attempt it ran.
    let zombie = h
        .connect_with("sre-1", &["sre"], 1, vec![attempt_ref("1.1", old)])
        .expect("accepted");
    let before = last_seq(&h);
    h.report(&zombie, "1.1", old, Outcome::Succeeded);
    assert_eq!(kinds_after(&h, before), ["attempt.rejected"]);
    assert_eq!(h.state_of("1.1"), "running");
    assert_eq!(h.task("1.1").task.agents, ["sre-2"]);
    h.report(&other, "1.1", current, Outcome::Succeeded);
    assert_eq!(h.state_of("1.1"), "succeeded");
}

#[test]
fn in_a_lead_gang_a_result_from_a_member_that_does_not_lead_is_rejected() {
    let mut h = Harness::new();
    h.load(&lead_pair()).expect("loads");
    let mut sre = h.connect("sre-1", &["sre"]);
    let mut backend = h.connect("backend-1", &["backend"]);
    let (_, fencing) = sre.assignments()[0].clone();
    assert_eq!(backend.assignments()[0].1, fencing);
    let before = last_seq(&h);
    h.report(&backend, "1.1", fencing, Outcome::Succeeded);
    assert_eq!(kinds_after(&h, before), ["attempt.rejected"]);
    assert_eq!(
        acks(&backend.inbox()),
        [(attempt_ref("1.1", fencing), false)]
    );
    assert_eq!(h.state_of("1.1"), "running");
    assert!(sre.inbox().is_empty(), "the lead hears nothing");
    h.report(&sre, "1.1", fencing, Outcome::Succeeded);
    assert_eq!(h.state_of("1.1"), "succeeded");
}

#[test]
fn a_result_naming_the_wrong_task_is_rejected() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "SRE", "P1", 1, ""),
        ("1.2", "Backend", "P1", 1, ""),
    ]))
    .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (task, fencing) = a.assignments()[0].clone();
    assert_eq!(task, "1.1");
    let before = last_seq(&h);
    h.report(&a, "1.2", fencing, Outcome::Succeeded);
    assert_eq!(kinds_after(&h, before), ["attempt.rejected"]);
    assert_eq!(acks(&a.inbox()), [(attempt_ref("1.2", fencing), false)]);
    assert_eq!(h.state_of("1.1"), "running");
    assert_eq!(h.state_of("1.2"), "ready");
}

#[test]
fn in_a_lead_gang_a_started_notice_from_a_non_lead_changes_nothing() {
    let mut h = Harness::new();
    h.load(&lead_pair()).expect("loads");
    let mut sre = h.connect("sre-1", &["sre"]);
    let backend = h.connect("backend-1", &["backend"]);
    let (_, fencing) = sre.assignments()[0].clone();
    h.say(&backend, FromAgent::Started(attempt_ref("1.1", fencing)));
    assert!(h.events_of("attempt.started").is_empty());
    assert_eq!(h.task("1.1").attempts[0].state.name(), "offered");
    h.say(&sre, FromAgent::Started(attempt_ref("1.1", fencing)));
    assert_eq!(h.events_of("attempt.started").len(), 1);
    assert_eq!(h.task("1.1").attempts[0].state.name(), "running");
}

/// One SRE + Backend task that only its lead runs.
fn lead_pair() -> String {
    crate::testkit::lead_only(&plan(&[("1.1", "SRE + Backend", "P1", 1, "")]))
}
