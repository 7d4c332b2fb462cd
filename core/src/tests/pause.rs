//! Pause and resume: a paused plan dispatches nothing, even with free
//! agents and ready tasks; resuming dispatches at once.

use super::seq_of;
use crate::command::Outcome;
use crate::testkit::{config, plan, Harness};
use crate::CoreError;

#[test]
fn a_paused_plan_dispatches_nothing_until_it_is_resumed() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "SRE", "P1", 1, ""),
        ("1.2", "SRE", "P1", 1, ""),
    ]))
    .expect("loads");
    assert_eq!(h.pause(true).expect("paused"), "paused");
    let mut a = h.connect("sre-1", &["sre"]);
    h.advance(500);
    h.tick();
    assert!(a.assignments().is_empty(), "a free agent, two ready tasks");
    let status = h.status();
    assert_eq!(status.state.name(), "paused");
    assert_eq!(status.counts.ready, 2);
    assert_eq!(h.pause(false).expect("resumed"), "running");
    let got = a.assignments();
    assert_eq!(got.len(), 1, "dispatched in the resuming turn");
    let paused = seq_of(&h, "plan.paused", None);
    let resumed = seq_of(&h, "plan.resumed", None);
    let offered: Vec<u64> = h
        .events_of("attempt.offered")
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(offered.len(), 1);
    assert!(
        offered.iter().all(|&s| s < paused || s > resumed),
        "no attempt.offered between plan.paused ({paused}) and plan.resumed ({resumed}): {offered:?}"
    );
}

#[test]
fn a_pause_lets_running_attempts_finish_but_starts_nothing_new() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "SRE", "P1", 1, ""),
        ("1.2", "SRE", "P1", 1, "Task 1.1"),
    ]))
    .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, fencing) = a.assignments()[0].clone();
    h.pause(true).expect("paused");
    h.report(&a, "1.1", fencing, Outcome::Succeeded);
    assert_eq!(h.state_of("1.1"), "succeeded");
    assert_eq!(h.state_of("1.2"), "ready", "released, not dispatched");
    assert!(super::assigned(&a.inbox()).is_empty());
    h.pause(false).expect("resumed");
    assert_eq!(a.assignments()[0].0, "1.2");
}

#[test]
fn pausing_twice_changes_nothing_and_a_finished_plan_cannot_be_paused() {
    let mut h = Harness::new();
    assert!(
        matches!(h.pause(true), Err(CoreError::Conflict(_))),
        "no plan yet"
    );
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    h.pause(true).expect("paused");
    assert_eq!(h.pause(true).expect("still paused"), "paused");
    assert_eq!(h.events_of("plan.paused").len(), 1);
    h.pause(false).expect("resumed");
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, fencing) = a.assignments()[0].clone();
    h.report(&a, "1.1", fencing, Outcome::Succeeded);
    assert_eq!(h.status().state.name(), "succeeded");
    assert!(matches!(h.pause(true), Err(CoreError::Conflict(_))));
    assert!(matches!(h.pause(false), Err(CoreError::Conflict(_))));
}

#[test]
fn a_paused_plan_stays_paused_after_a_restart() {
    let mut h = Harness::on_disk(config());
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    h.pause(true).expect("paused");
    let mut h = h.reopen(config());
    assert_eq!(h.status().state.name(), "paused");
    let mut a = h.connect("sre-1", &["sre"]);
    assert!(a.assignments().is_empty());
    h.pause(false).expect("resumed");
    assert_eq!(a.assignments()[0].0, "1.1");
}
