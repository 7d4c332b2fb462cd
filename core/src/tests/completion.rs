//! The plan's completion: all succeeded (or skipped) → `plan.succeeded`;
//! a failure with nothing else left to run → `plan.failed`; an operator's
//! retry afterwards → `plan.running` again.

use crate::command::{Outcome, TaskAction};
use crate::testkit::{plan, Harness};

#[test]
fn a_plan_whose_tasks_all_succeed_has_succeeded() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "SRE", "P1", 1, ""),
        ("1.2", "SRE", "P1", 1, "Task 1.1"),
    ]))
    .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, first) = a.assignments()[0].clone();
    h.report(&a, "1.1", first, Outcome::Succeeded);
    assert!(h.events_of("plan.succeeded").is_empty(), "1.2 is left");
    assert_eq!(h.status().state.name(), "running");
    let (_, second) = a.assignments()[0].clone();
    h.advance(1000);
    h.report(&a, "1.2", second, Outcome::Succeeded);
    let settled = h.events_of("plan.succeeded");
    assert_eq!(settled.len(), 1);
    assert_eq!(settled[0].message, "Test plan");
    let status = h.status();
    assert_eq!(status.state.name(), "succeeded");
    assert_eq!(status.finished_at, h.now);
    assert_eq!(status.counts.succeeded, 2);
}

#[test]
fn skipped_tasks_count_as_done_for_the_plan() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "Database Specialist", "P1", 1, ""),
        ("1.2", "SRE", "P1", 1, ""),
    ]))
    .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, fencing) = a.assignments()[0].clone();
    h.report(&a, "1.2", fencing, Outcome::Succeeded);
    assert_eq!(h.status().state.name(), "running");
    h.action("1.1", TaskAction::Skip).expect("skipped");
    assert_eq!(h.events_of("plan.succeeded").len(), 1);
    assert_eq!(h.status().state.name(), "succeeded");
}

#[test]
fn a_failure_with_nothing_else_to_run_fails_the_plan() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "SRE", "P1", 1, ""),
        ("1.2", "SRE", "P1", 1, "Task 1.1"),
        ("1.3", "Backend", "P1", 1, ""),
    ]))
    .expect("loads");
    let mut sre = h.connect("sre-1", &["sre"]);
    let mut backend = h.connect("backend-1", &["backend"]);
    let (_, f1) = sre.assignments()[0].clone();
    let (_, f3) = backend.assignments()[0].clone();
    h.report(&sre, "1.1", f1, Outcome::Failed);
    assert_eq!(h.state_of("1.2"), "blocked");
    assert!(
        h.events_of("plan.failed").is_empty(),
        "1.3 is still running"
    );
    h.report(&backend, "1.3", f3, Outcome::Succeeded);
    assert_eq!(h.events_of("plan.failed").len(), 1);
    let status = h.status();
    assert_eq!(status.state.name(), "failed");
    assert_eq!(
        (
            status.counts.succeeded,
            status.counts.failed,
            status.counts.blocked
        ),
        (1, 1, 1)
    );
}

#[test]
fn a_retry_after_the_plan_failed_runs_it_again() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "SRE", "P1", 1, ""),
        ("1.2", "SRE", "P1", 1, "Task 1.1"),
    ]))
    .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, first) = a.assignments()[0].clone();
    h.report(&a, "1.1", first, Outcome::Failed);
    assert_eq!(h.status().state.name(), "failed");
    h.action("1.1", TaskAction::Retry).expect("retried");
    assert_eq!(h.events_of("plan.running").len(), 1);
    assert_eq!(h.status().state.name(), "running");
    let failed = super::seq_of(&h, "plan.failed", None);
    assert!(failed < super::seq_of(&h, "plan.running", None));
    let (_, second) = a.assignments()[0].clone();
    h.report(&a, "1.1", second, Outcome::Succeeded);
    let (_, third) = a.assignments()[0].clone();
    h.report(&a, "1.2", third, Outcome::Succeeded);
    assert_eq!(h.events_of("plan.succeeded").len(), 1);
    assert_eq!(h.status().state.name(), "succeeded");
}

#[test]
fn a_finished_plan_can_be_followed_by_another_but_a_running_one_cannot() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    assert!(matches!(
        h.load(&plan(&[("2.1", "SRE", "P1", 1, "")])),
        Err(crate::CoreError::Conflict(_))
    ));
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, fencing) = a.assignments()[0].clone();
    h.report(&a, "1.1", fencing, Outcome::Succeeded);
    let next = h
        .load(&plan(&[("2.1", "SRE", "P1", 1, "")]))
        .expect("a second plan loads once the first finished");
    assert_eq!(next.tasks, 1);
    assert_eq!(a.assignments()[0].0, "2.1");
    assert_eq!(h.status().state.name(), "running");
}

#[test]
fn the_stored_event_log_is_what_followers_saw_without_gaps() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "SRE", "P1", 1, ""),
        ("1.2", "SRE", "P1", 1, "Task 1.1"),
    ]))
    .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, first) = a.assignments()[0].clone();
    h.report(&a, "1.1", first, Outcome::Failed);
    h.action("1.1", TaskAction::Retry).expect("retried");
    let (_, second) = a.assignments()[0].clone();
    h.report(&a, "1.1", second, Outcome::Succeeded);
    let (_, third) = a.assignments()[0].clone();
    h.report(&a, "1.2", third, Outcome::Succeeded);
    let stored = h.stored_events();
    let seen: Vec<(u64, &str)> = h.events.iter().map(|e| (e.seq, e.kind.as_str())).collect();
    let kept: Vec<(u64, &str)> = stored.iter().map(|e| (e.seq, e.kind.as_str())).collect();
    assert_eq!(kept, seen);
    let seqs: Vec<u64> = stored.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=stored.len() as u64).collect::<Vec<_>>());
    assert_eq!(kept.last().map(|e| e.1), Some("plan.succeeded"));
}
