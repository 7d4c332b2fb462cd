//! Placement order: priority, then upward rank, then day, then id.

use crate::core::command::Outcome;
use crate::core::testkit::{plan, Harness};

#[test]
fn a_loaded_plan_makes_tasks_without_dependencies_ready() {
    let mut h = Harness::new();
    let loaded = h
        .load(&plan(&[
            ("1.1", "SRE", "P1", 1, ""),
            ("1.2", "SRE", "P1", 1, "Task 1.1"),
        ]))
        .expect("loads");
    assert_eq!(loaded.tasks, 2);
    assert_eq!(h.state_of("1.1"), "ready");
    assert_eq!(h.state_of("1.2"), "pending");
    assert_eq!(h.stored_task_state("1.1"), "ready");
    assert_eq!(h.task_events("1.1"), ["task.ready"]);
}

#[test]
fn the_higher_priority_goes_first() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "SRE", "P2", 1, ""),
        ("1.2", "SRE", "P0", 1, ""),
        ("1.3", "SRE", "P1", 1, ""),
    ]))
    .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let first = a.assignments();
    assert_eq!(first.len(), 1, "one slot, one assignment");
    assert_eq!(first[0].0, "1.2", "P0 before P1 and P2");
    h.report(&a, "1.2", first[0].1, Outcome::Succeeded);
    let second = a.assignments();
    assert_eq!(second[0].0, "1.3", "then P1");
}
