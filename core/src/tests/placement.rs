//! Placement order: priority, then upward rank, then day, then the plan's
//! order; several slots; a task waits for an agent of its role.

use crate::command::Outcome;
use crate::testkit::{config, plan, Harness};

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

#[test]
fn at_equal_priority_the_longest_remaining_chain_goes_first() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "SRE", "P1", 1, ""),
        ("1.2", "SRE", "P1", 1, ""),
        ("1.3", "SRE", "P1", 3, "Task 1.2"),
    ]))
    .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let first = a.assignments();
    assert_eq!(
        first.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
        ["1.2"],
        "1.2 heads a 4-hour chain, 1.1 a 1-hour one"
    );
    h.report(&a, "1.2", first[0].1, Outcome::Succeeded);
    let second = a.assignments();
    assert_eq!(second[0].0, "1.3", "1.3 (3 h to the end) before 1.1 (1 h)");
}

#[test]
fn a_higher_priority_beats_a_longer_chain_that_has_slack_and_strict_beats_any() {
    // 1.1 (P1, 8 h) is the critical path; 1.2 (P0) has 7 h of slack and
    // 1.3 (P0) heads a 2 h chain, 6 h of slack.
    let tasks = [
        ("1.1", "SRE", "P1", 8, ""),
        ("1.2", "SRE", "P0", 1, ""),
        ("1.3", "SRE", "P0", 1, ""),
        ("1.4", "Coder", "P0", 1, "Task 1.3"),
    ];
    let order = |cfg: crate::config::CoreConfig| {
        let mut h = Harness::with(cfg);
        h.load(&plan(&tasks)).expect("loads");
        let mut a = h.connect("sre-1", &["sre"]);
        let mut done = Vec::new();
        for _ in 0..3 {
            let (task, fencing) = a.assignments().remove(0);
            h.report(&a, &task, fencing, Outcome::Succeeded);
            done.push(task);
        }
        done
    };
    // No slack first, then priority (and the longer chain) among the rest.
    assert_eq!(order(config()), ["1.1", "1.3", "1.2"]);
    let strict = crate::config::CoreConfig {
        priority: swarm_plan::policy::PriorityOrder::Strict,
        ..config()
    };
    assert_eq!(order(strict), ["1.3", "1.2", "1.1"]);
}

#[test]
fn at_equal_priority_and_rank_the_earlier_day_goes_first() {
    // Day 2 is written before day 1, so the plan's order alone would put
    // task 2.1 first; the day puts 1.1 first.
    let md = "# Days\n\n### Day 2: Later\n\n\
        **Task 2.1**: Later\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `true`\n\n\
        ### Day 1: Sooner\n\n\
        **Task 1.1**: Sooner\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `true`\n";
    let mut h = Harness::new();
    h.load(md).expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let first = a.assignments();
    assert_eq!(first[0].0, "1.1");
    h.report(&a, "1.1", first[0].1, Outcome::Succeeded);
    assert_eq!(a.assignments()[0].0, "2.1");
}

#[test]
fn at_equal_priority_rank_and_day_the_plans_order_decides() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.3", "SRE", "P1", 2, ""),
        ("1.1", "SRE", "P1", 2, ""),
        ("1.2", "SRE", "P1", 2, ""),
    ]))
    .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let mut order = Vec::new();
    for _ in 0..3 {
        let got = a.assignments();
        assert_eq!(got.len(), 1);
        order.push(got[0].0.clone());
        h.report(&a, &got[0].0, got[0].1, Outcome::Succeeded);
    }
    assert_eq!(order, ["1.3", "1.1", "1.2"]);
}

#[test]
fn an_agent_with_several_slots_takes_that_many_tasks_in_order() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "SRE", "P3", 1, ""),
        ("1.2", "SRE", "P2", 1, ""),
        ("1.3", "SRE", "P0", 1, ""),
        ("1.4", "SRE", "P1", 1, ""),
    ]))
    .expect("loads");
    let mut a = h
        .connect_with("sre-1", &["sre"], 3, Vec::new())
        .expect("accepted");
    let got: Vec<String> = a.assignments().into_iter().map(|(t, _)| t).collect();
    assert_eq!(got, ["1.3", "1.4", "1.2"]);
    assert_eq!(h.state_of("1.1"), "ready", "no fourth slot");
    let offered: Vec<Option<&str>> = h
        .events_of("attempt.offered")
        .iter()
        .map(|e| e.task_id.as_deref())
        .collect();
    assert_eq!(offered, [Some("1.3"), Some("1.4"), Some("1.2")]);
    let fencing: Vec<Option<u64>> = h
        .events_of("attempt.offered")
        .iter()
        .map(|e| e.attempt)
        .collect();
    assert_eq!(fencing, [Some(1), Some(2), Some(3)], "numbers only grow");
}

#[test]
fn each_task_goes_to_an_agent_of_its_role() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "Database Specialist", "P1", 1, ""),
        ("1.2", "SRE", "P1", 1, ""),
    ]))
    .expect("loads");
    let mut sre = h.connect("sre-1", &["sre"]);
    let mut db = h.connect("db-1", &["database"]);
    assert_eq!(sre.assignments()[0].0, "1.2");
    assert_eq!(db.assignments()[0].0, "1.1");
}

#[test]
fn a_task_for_a_role_nobody_plays_stays_ready_and_is_listed_unstaffed() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "Database Specialist", "P0", 1, ""),
        ("1.2", "SRE", "P1", 1, ""),
    ]))
    .expect("loads");
    let mut sre = h.connect("sre-1", &["sre"]);
    // As of the dispatch that placed 1.2, the last one.
    let status = h.status();
    assert_eq!(status.unstaffed_roles, ["database"]);
    assert_eq!(status.counts.ready, 1);
    assert_eq!(
        sre.assignments()
            .into_iter()
            .map(|(t, _)| t)
            .collect::<Vec<_>>(),
        ["1.2"],
        "the sre agent takes the sre task, never the database one"
    );
    assert_eq!(h.state_of("1.1"), "ready");
    let mut db = h.connect("db-1", &["database"]);
    assert_eq!(db.assignments()[0].0, "1.1");
    assert_eq!(h.state_of("1.1"), "running");
    assert!(h.status().unstaffed_roles.is_empty());
}
