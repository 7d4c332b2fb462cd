//! Agent identity: the Welcome comes first, a restarted agent takes its id
//! back, a second live agent with the same id is refused.

use crate::command::{AttemptRef, ToAgent};
use crate::testkit::{plan, Harness};
use crate::CoreError;

fn one_task() -> String {
    plan(&[("1.1", "SRE", "P1", 1, "")])
}

#[test]
fn a_restarted_agent_gets_its_welcome_before_anything_else() {
    let mut h = Harness::new();
    h.load(&one_task()).expect("loads");
    let mut first = h
        .connect_instance("sre-1", &["sre"], 1, Vec::new(), "proc-a")
        .expect("accepted");
    let (_, fence) = first.assignments().pop().expect("assigned");
    // kill -9: the session ends, the process comes back with the same id
    // and runs nothing.
    h.disconnect(&first);
    let mut again = h
        .connect_instance("sre-1", &["sre"], 1, Vec::new(), "proc-b")
        .expect("a restart is not a duplicate");
    let inbox = again.inbox();
    assert!(
        matches!(inbox.first(), Some(ToAgent::Welcome(_))),
        "the first message of a session is the Welcome: {inbox:?}"
    );
    assert!(
        inbox
            .iter()
            .any(|m| matches!(m, ToAgent::Assign(a) if a.attempt.task_id == "1.1" && a.attempt.attempt > fence)),
        "the task runs again on the restarted agent, as a new attempt: {inbox:?}"
    );
    assert_eq!(h.events_of("attempt.lost").len(), 1, "lost once");
    assert_eq!(h.task("1.1").task.state.name(), "running");
}

#[test]
fn a_second_live_agent_with_the_same_id_is_refused() {
    let mut h = Harness::new();
    h.load(&one_task()).expect("loads");
    let mut first = h
        .connect_instance("sre-1", &["sre"], 1, Vec::new(), "proc-a")
        .expect("accepted");
    let (_, fence) = first.assignments().pop().expect("assigned");
    let refused = h.connect_instance("sre-1", &["sre"], 1, Vec::new(), "proc-b");
    assert!(
        matches!(&refused, Err(CoreError::Duplicate(m)) if m.contains("sre-1")),
        "{:?}",
        refused.as_ref().err()
    );
    assert!(
        h.events_of("attempt.lost").is_empty(),
        "the first keeps its work"
    );
    assert!(first.inbox().is_empty(), "and is told nothing");
    // The same process reconnecting (a broken connection) takes its
    // session over and resumes.
    let running = vec![AttemptRef {
        task_id: "1.1".into(),
        attempt: fence,
    }];
    let mut back = h
        .connect_instance("sre-1", &["sre"], 1, running, "proc-a")
        .expect("the same process may reconnect");
    match back.inbox().first() {
        Some(ToAgent::Welcome(w)) => assert_eq!(w.resume.len(), 1),
        other => panic!("expected a Welcome, got {other:?}"),
    }
}

#[test]
fn a_silent_agent_past_its_lease_no_longer_holds_its_id() {
    let mut h = Harness::new();
    h.load(&one_task()).expect("loads");
    let _first = h
        .connect_instance("sre-1", &["sre"], 1, Vec::new(), "proc-a")
        .expect("accepted");
    h.advance(3_500);
    h.connect_instance("sre-1", &["sre"], 1, Vec::new(), "proc-b")
        .expect("past the lease, the id is free again");
}

#[test]
fn a_role_name_outside_the_charset_is_refused_with_the_rule() {
    let mut h = Harness::new();
    let long = "x".repeat(65);
    for bad in ["a;b$(x)", "", long.as_str()] {
        let refused = h.connect_with("odd-1", &[bad], 1, Vec::new());
        assert!(
            matches!(&refused, Err(CoreError::Invalid(m)) if m.contains("letters, digits, '-' or '_'")),
            "{bad:?}: {:?}",
            refused.as_ref().err()
        );
    }
    h.connect_with(
        "fine-1",
        &["DevOps Engineer", "custom_role-2"],
        1,
        Vec::new(),
    )
    .expect("plan phrases and plain names are fine");
}
