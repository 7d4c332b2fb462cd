//! Agent sessions: a reconnect resumes the attempts the agent lists and
//! loses the others; an old session is ignored; a draining agent takes no
//! new work and is gone when its session ends; an invalid Hello is
//! refused.

use super::{acks, attempt_ref, welcome};
use crate::command::{FromAgent, Outcome};
use crate::testkit::{plan, Harness};
use crate::CoreError;

fn two_tasks() -> String {
    plan(&[("1.1", "SRE", "P0", 1, ""), ("1.2", "SRE", "P1", 1, "")])
}

#[test]
fn a_new_agent_is_welcomed_with_its_lease_and_role() {
    let mut h = Harness::new();
    let mut a = h.connect("sre-1", &["SRE", "Backend Developer"]);
    let inbox = a.inbox();
    match inbox.first() {
        Some(crate::command::ToAgent::Welcome(w)) => {
            let crate::command::Welcome {
                agent_id,
                heartbeat_ms,
                lease_ttl_ms,
                active_role,
                resume,
                abandon,
                state_dir,
            } = &**w;
            assert_eq!(agent_id, "sre-1");
            let dir = std::path::Path::new(state_dir);
            assert!(dir.is_absolute() && dir.ends_with(".swarm"), "{state_dir}");
            assert_eq!((*heartbeat_ms, *lease_ttl_ms), (1000, 3000));
            assert_eq!(active_role, "sre", "the first role, canonical");
            assert!(resume.is_empty() && abandon.is_empty());
        }
        other => panic!("the first message is the Welcome, not {other:?}"),
    }
    assert_eq!(h.events_of("agent.connected").len(), 1);
    assert_eq!(h.status().agents, 1);
}

#[test]
fn a_reconnect_resumes_the_listed_attempts_and_loses_the_others() {
    let mut h = Harness::new();
    h.load(&two_tasks()).expect("loads");
    let mut a = h
        .connect_with("sre-1", &["sre"], 2, Vec::new())
        .expect("accepted");
    let got = a.assignments();
    assert_eq!(got.len(), 2);
    let (kept, dropped) = (got[0].1, got[1].1);
    assert_eq!(got[0].0, "1.1");
    // The session breaks; the agent opens another, still running 1.1 only.
    h.disconnect(&a);
    let mut b = h
        .connect_with("sre-1", &["sre"], 2, vec![attempt_ref("1.1", kept)])
        .expect("accepted");
    let inbox = b.inbox();
    let (resume, abandon) = welcome(&inbox).expect("a Welcome");
    assert_eq!(resume, [attempt_ref("1.1", kept)]);
    assert!(abandon.is_empty());
    assert_eq!(h.events_of("agent.reconnected").len(), 1);
    let lost = h.events_of("attempt.lost");
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0].attempt, Some(dropped));
    assert_eq!(h.state_of("1.1"), "running");
    let again = super::assigned(&inbox);
    assert_eq!(again.len(), 1, "1.2 re-queued onto the free slot");
    assert_eq!(again[0].attempt.task_id, "1.2");
    assert!(again[0].attempt.attempt > dropped);
    // The resumed attempt reports in the new session.
    h.report(&b, "1.1", kept, Outcome::Succeeded);
    assert_eq!(h.state_of("1.1"), "succeeded");
}

#[test]
fn a_reconnect_listing_an_attempt_that_is_not_current_is_told_to_abandon_it() {
    let mut h = Harness::new();
    h.load(&two_tasks()).expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, fencing) = a.assignments()[0].clone();
    h.action("1.1", crate::command::TaskAction::Done)
        .expect("done");
    h.disconnect(&a);
    let mut b = h
        .connect_with("sre-1", &["sre"], 1, vec![attempt_ref("1.1", fencing)])
        .expect("accepted");
    let (resume, abandon) = welcome(&b.inbox()).expect("a Welcome");
    assert!(resume.is_empty());
    assert_eq!(abandon, [attempt_ref("1.1", fencing)]);
    let rejected = h.events_of("attempt.rejected");
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].attempt, Some(fencing));
    assert_eq!(h.state_of("1.1"), "succeeded");
}

#[test]
fn messages_of_an_old_session_are_ignored() {
    let mut h = Harness::new();
    h.load(&two_tasks()).expect("loads");
    let mut old = h.connect("sre-1", &["sre"]);
    let (_, fencing) = old.assignments()[0].clone();
    h.disconnect(&old);
    let mut new = h
        .connect_with("sre-1", &["sre"], 1, vec![attempt_ref("1.1", fencing)])
        .expect("accepted");
    new.inbox();
    let before = h.events.len();
    // Late messages of the first session, then its end again.
    h.report(&old, "1.1", fencing, Outcome::Failed);
    h.say(&old, FromAgent::Draining);
    h.disconnect(&old);
    assert_eq!(h.events.len(), before, "nothing recorded");
    assert!(old.inbox().is_empty(), "no Ack on the old session");
    assert!(new.inbox().is_empty());
    assert_eq!(h.state_of("1.1"), "running");
    // Nor does the old session keep the lease alive.
    h.advance(3001);
    h.say(&old, FromAgent::Heartbeat);
    assert_eq!(h.events_of("agent.lost").len(), 1);
}

#[test]
fn a_draining_agent_finishes_its_work_takes_no_more_and_is_gone_after() {
    let mut h = Harness::new();
    h.load(&two_tasks()).expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, fencing) = a.assignments()[0].clone();
    h.say(&a, FromAgent::Draining);
    assert_eq!(h.events_of("agent.draining").len(), 1);
    h.report(&a, "1.1", fencing, Outcome::Succeeded);
    let inbox = a.inbox();
    assert_eq!(acks(&inbox), [(attempt_ref("1.1", fencing), true)]);
    assert!(super::assigned(&inbox).is_empty(), "no new work");
    assert_eq!(h.state_of("1.2"), "ready");
    assert_eq!(h.status().agents, 0, "it no longer counts as connected");
    h.disconnect(&a);
    assert_eq!(h.events_of("agent.gone").len(), 1);
    assert!(h.events_of("agent.disconnected").is_empty());
    h.advance(10_000);
    h.tick();
    assert!(h.events_of("agent.lost").is_empty(), "gone is not lost");
}

#[test]
fn a_draining_agent_that_leaves_with_work_loses_it_to_another_agent() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE", "P0", 1, "")]))
        .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, fencing) = a.assignments()[0].clone();
    let mut b = h.connect("sre-2", &["sre"]);
    h.say(&a, FromAgent::Draining);
    h.disconnect(&a);
    assert_eq!(h.events_of("agent.gone").len(), 1);
    let lost = h.events_of("attempt.lost");
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0].attempt, Some(fencing));
    let again = b.assignments();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].0, "1.1");
}

#[test]
fn an_operator_drains_an_agent_by_id() {
    let mut h = Harness::new();
    let mut a = h.connect("sre-1", &["sre"]);
    a.inbox();
    let r = h.ask(|reply| {
        crate::command::PlanCmd::DrainAgent {
            agent: "sre-1".into(),
            actor: crate::actor::Actor::new("admin"),
            reply,
        }
        .into()
    });
    assert_eq!(r.expect("drained").name(), "draining");
    assert!(a
        .inbox()
        .iter()
        .any(|m| matches!(m, crate::command::ToAgent::Drain(_))));
    h.load(&two_tasks()).expect("loads");
    assert!(a.assignments().is_empty());
    let unknown = h.ask(|reply| {
        crate::command::PlanCmd::DrainAgent {
            agent: "nobody".into(),
            actor: crate::actor::Actor::new("admin"),
            reply,
        }
        .into()
    });
    assert!(matches!(unknown, Err(CoreError::NotFound(m)) if m.contains("sre-1")));
}

#[test]
fn an_invalid_hello_is_refused_and_registers_nothing() {
    let mut h = Harness::new();
    let cases: [(&str, &[&str], u32); 4] = [
        ("", &["sre"], 1),
        ("two words", &["sre"], 1),
        ("sre-1", &["sre"], 0),
        ("sre-1", &[], 1),
    ];
    for (id, roles, slots) in cases {
        match h.connect_with(id, roles, slots, Vec::new()) {
            Err(CoreError::Invalid(m)) => assert!(!m.is_empty()),
            Err(other) => panic!("{id:?} {roles:?} {slots}: {other}"),
            Ok(_) => panic!("{id:?} {roles:?} {slots} was accepted"),
        }
    }
    assert!(h.events_of("agent.connected").is_empty());
    assert_eq!(h.status().agents, 0);
}
