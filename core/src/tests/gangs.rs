//! Gangs ("A + B"): every role at once, the lead first; and the
//! head-of-line reservation that keeps smaller tasks from starving them.

use super::{acks, assigned, attempt_ref, cancels};
use crate::command::Outcome;
use crate::testkit::{lead_only, plan, Harness};

#[test]
fn a_gang_waits_for_an_agent_of_every_role() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE + Backend", "P1", 1, "")]))
        .expect("loads");
    let mut sre = h.connect("sre-1", &["sre"]);
    assert!(sre.assignments().is_empty(), "no backend agent yet");
    assert_eq!(h.state_of("1.1"), "ready");
    assert_eq!(h.status().unstaffed_roles, ["backend"]);
    assert!(h.events_of("attempt.offered").is_empty());
}

#[test]
fn a_lead_gang_starts_on_all_its_agents_at_once_with_the_first_role_leading() {
    let mut h = Harness::new();
    h.load(&lead_only(&plan(&[("1.1", "SRE + Backend", "P1", 1, "")])))
        .expect("loads");
    // The backend agent connects first; the plan names SRE first.
    let mut backend = h.connect("backend-1", &["backend"]);
    let mut sre = h.connect("sre-1", &["sre"]);
    let lead = assigned(&sre.inbox());
    let member = assigned(&backend.inbox());
    assert_eq!(lead.len(), 1);
    assert_eq!(member.len(), 1);
    assert_eq!(lead[0].attempt, member[0].attempt, "one attempt for both");
    assert_eq!(lead[0].attempt.task_id, "1.1");
    assert!(lead[0].lead, "the first role of the plan leads");
    assert_eq!(lead[0].role, "sre");
    assert!(!member[0].lead);
    assert_eq!(member[0].role, "backend");
    // Each is told its place in the gang, for its log.
    assert_eq!((lead[0].member, lead[0].members), (1, 2));
    assert_eq!((member[0].member, member[0].members), (2, 2));
    let offered = h.events_of("attempt.offered");
    assert_eq!(offered.len(), 1);
    assert_eq!(offered[0].agent_id.as_deref(), Some("sre-1"));
    assert_eq!(h.task("1.1").task.agents, ["sre-1", "backend-1"]);
}

#[test]
fn in_a_lead_gang_the_lead_reports_and_the_other_members_are_released() {
    let mut h = Harness::new();
    h.load(&lead_only(&plan(&[
        ("1.1", "SRE + Backend", "P1", 1, ""),
        ("1.2", "Backend", "P1", 1, "Task 1.1"),
    ])))
    .expect("loads");
    let mut sre = h.connect("sre-1", &["sre"]);
    let mut backend = h.connect("backend-1", &["backend"]);
    let fencing = assigned(&sre.inbox())[0].attempt.attempt;
    assert_eq!(assigned(&backend.inbox()).len(), 1);
    h.report(&sre, "1.1", fencing, Outcome::Succeeded);
    assert_eq!(h.state_of("1.1"), "succeeded");
    assert_eq!(acks(&sre.inbox()), [(attempt_ref("1.1", fencing), true)]);
    let member = backend.inbox();
    assert_eq!(
        cancels(&member),
        [attempt_ref("1.1", fencing)],
        "the member is told the attempt is over"
    );
    let next = assigned(&member);
    assert_eq!(next.len(), 1, "its slot is free again: it takes 1.2");
    assert_eq!(next[0].attempt.task_id, "1.2");
}

#[test]
fn a_gang_at_the_head_of_the_queue_reserves_the_free_agent_of_its_role() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "Backend", "P0", 1, ""),
        ("1.2", "SRE + Backend", "P0", 3, ""),
        ("1.3", "SRE", "P2", 2, ""),
    ]))
    .expect("loads");
    let mut backend = h.connect("backend-1", &["backend"]);
    let first = backend.assignments();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].0, "1.1");
    // The gang cannot start (its backend is busy for an hour) and, on the
    // critical path, keeps sre-1 for itself from then: the P2 task behind
    // it, 2 h long, would not end by then, so it does not take it.
    let mut sre = h.connect("sre-1", &["sre"]);
    assert!(
        sre.assignments().is_empty(),
        "sre-1 is reserved by the gang"
    );
    h.advance(500);
    h.tick();
    assert!(sre.assignments().is_empty());
    assert_eq!(h.state_of("1.3"), "ready");
    assert_eq!(h.state_of("1.2"), "ready");
    // The backend agent is free again: the gang starts on both.
    h.report(&backend, "1.1", first[0].1, Outcome::Succeeded);
    let gang = sre.assignments();
    assert_eq!(gang.len(), 1);
    assert_eq!(gang[0].0, "1.2");
    assert_eq!(backend.assignments()[0].0, "1.2");
    assert_eq!(h.state_of("1.3"), "ready", "still waiting for sre-1");
    let offered: Vec<Option<&str>> = h
        .events_of("attempt.offered")
        .iter()
        .map(|e| e.task_id.as_deref())
        .collect();
    assert_eq!(offered, [Some("1.1"), Some("1.2")]);
}

#[test]
fn a_gang_nobody_could_staff_reserves_nothing() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "SRE + Database Specialist", "P0", 1, ""),
        ("1.2", "SRE", "P2", 1, ""),
    ]))
    .expect("loads");
    let mut sre = h.connect("sre-1", &["sre"]);
    assert_eq!(h.status().unstaffed_roles, ["database"]);
    let got = sre.assignments();
    assert_eq!(
        got.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
        ["1.2"],
        "no database agent is connected: the gang cannot hold sre-1"
    );
    assert_eq!(h.state_of("1.1"), "ready");
}

#[test]
fn losing_one_member_loses_the_gangs_attempt_and_frees_the_others() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE + Backend", "P1", 1, "")]))
        .expect("loads");
    let mut sre = h.connect("sre-1", &["sre"]);
    let mut backend = h.connect("backend-1", &["backend"]);
    let fencing = assigned(&sre.inbox())[0].attempt.attempt;
    assert_eq!(assigned(&backend.inbox()).len(), 1);
    // sre-1 keeps its lease; backend-1 falls silent.
    for _ in 0..4 {
        h.advance(1000);
        h.say(&sre, crate::command::FromAgent::Heartbeat);
    }
    assert_eq!(h.events_of("agent.lost").len(), 1);
    assert_eq!(
        h.events_of("agent.lost")[0].agent_id.as_deref(),
        Some("backend-1")
    );
    let lost = h.events_of("attempt.lost");
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0].attempt, Some(fencing));
    assert_eq!(
        cancels(&sre.inbox()),
        [attempt_ref("1.1", fencing)],
        "the lead is told to stop"
    );
    assert_eq!(h.state_of("1.1"), "ready");
    assert_eq!(h.status().unstaffed_roles, ["backend"]);
}

#[test]
fn every_member_of_a_gang_runs_it_with_its_role_and_the_whole_gang_in_its_environment() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE + Backend", "P1", 1, "")]))
        .expect("loads");
    let mut backend = h.connect("backend-1", &["backend"]);
    let mut sre = h.connect("sre-1", &["sre"]);
    let (a, b) = (assigned(&sre.inbox()), assigned(&backend.inbox()));
    assert!(a[0].lead && b[0].lead, "both run it");
    assert_eq!((a[0].role.as_str(), b[0].role.as_str()), ("sre", "backend"));
    for x in [&a[0], &b[0]] {
        assert_eq!(
            x.env.get("SWARM_GANG").map(String::as_str),
            Some("sre-1:sre,backend-1:backend")
        );
    }
}

#[test]
fn a_gang_succeeds_when_all_members_do_and_each_success_is_acknowledged_then() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE + Backend", "P1", 1, "")]))
        .expect("loads");
    let mut sre = h.connect("sre-1", &["sre"]);
    let mut backend = h.connect("backend-1", &["backend"]);
    let fencing = assigned(&sre.inbox())[0].attempt.attempt;
    assert_eq!(assigned(&backend.inbox()).len(), 1);
    h.report(&backend, "1.1", fencing, Outcome::Succeeded);
    assert_eq!(h.state_of("1.1"), "running", "the SRE still works");
    assert!(backend.inbox().is_empty(), "held: no ack yet");
    // Sent again (after a reconnect, say): still held, counted once.
    h.report(&backend, "1.1", fencing, Outcome::Succeeded);
    assert_eq!(h.state_of("1.1"), "running");
    h.report(&sre, "1.1", fencing, Outcome::Succeeded);
    assert_eq!(h.state_of("1.1"), "succeeded");
    assert_eq!(acks(&sre.inbox()), [(attempt_ref("1.1", fencing), true)]);
    let member = backend.inbox();
    assert_eq!(acks(&member), [(attempt_ref("1.1", fencing), true)]);
    assert!(cancels(&member).is_empty());
}

#[test]
fn one_members_failure_fails_the_gangs_attempt_and_stops_the_others() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE + Backend + QA", "P1", 1, "")]))
        .expect("loads");
    let mut sre = h.connect("sre-1", &["sre"]);
    let mut backend = h.connect("backend-1", &["backend"]);
    let mut qa = h.connect("qa-1", &["qa"]);
    let fencing = assigned(&sre.inbox())[0].attempt.attempt;
    let _ = (backend.inbox(), qa.inbox());
    h.report(&qa, "1.1", fencing, Outcome::Succeeded);
    h.report(&backend, "1.1", fencing, Outcome::Failed);
    assert_eq!(h.state_of("1.1"), "failed");
    assert!(
        h.task("1.1").attempts[0]
            .message
            .starts_with("gang member backend-1 (backend): "),
        "{:?}",
        h.task("1.1").attempts[0].message
    );
    assert_eq!(
        acks(&backend.inbox()),
        [(attempt_ref("1.1", fencing), true)]
    );
    assert_eq!(
        cancels(&sre.inbox()),
        [attempt_ref("1.1", fencing)],
        "the member still running is stopped"
    );
    assert_eq!(
        acks(&qa.inbox()),
        [(attempt_ref("1.1", fencing), false)],
        "the member that had succeeded learns it did not count"
    );
}

#[test]
fn a_task_that_ends_before_a_reservation_starts_backfills_the_reserved_agent() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "Backend", "P0", 3, ""),
        ("1.2", "SRE + Backend", "P0", 1, ""),
        ("1.3", "SRE", "P2", 2, ""),
    ]))
    .expect("loads");
    let mut backend = h.connect("backend-1", &["backend"]);
    let first = backend.assignments();
    assert_eq!(first[0].0, "1.1");
    // The gang holds sre-1 from 1.1's planned end, 3 h away: the 2 h task
    // ends before that and runs now instead of leaving sre-1 idle.
    let mut sre = h.connect("sre-1", &["sre"]);
    let backfill = sre.assignments();
    assert_eq!(backfill.len(), 1);
    assert_eq!(backfill[0].0, "1.3");
    assert_eq!(h.state_of("1.2"), "ready");
    h.report(&sre, "1.3", backfill[0].1, Outcome::Succeeded);
    assert!(sre.assignments().is_empty(), "still reserved for the gang");
    h.report(&backend, "1.1", first[0].1, Outcome::Succeeded);
    assert_eq!(sre.assignments()[0].0, "1.2");
}
