//! Promises of ARCHITECTURE.md the core once broke, found by writing the
//! turn-by-turn tests: an unstaffed role hidden while agents are busy, a
//! Cancel before the Welcome, a second live agent taking an id over, a
//! lead told twice.

use super::{assigned, attempt_ref, cancels};
use crate::command::{TaskAction, ToAgent};
use crate::testkit::{plan, Harness};
use crate::CoreError;

/// `status.unstaffed_roles` is "roles ready tasks need that no connected
/// agent plays", whether the agents present are busy or not.
#[test]
fn an_unstaffed_role_stays_listed_while_every_agent_is_busy() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "Database Specialist", "P0", 1, ""),
        ("1.2", "SRE", "P1", 1, ""),
    ]))
    .expect("loads");
    let mut sre = h.connect("sre-1", &["sre"]);
    assert_eq!(sre.assignments().len(), 1);
    assert_eq!(h.status().unstaffed_roles, ["database"]);
    h.tick();
    assert_eq!(
        h.state_of("1.1"),
        "ready",
        "still waiting for a database agent"
    );
    assert_eq!(
        h.status().unstaffed_roles,
        ["database"],
        "nobody plays database, whether sre-1 is busy or not"
    );
}

/// "A session's first message from the coordinator is always the
/// Welcome" — and the agent bails out of a session whose first message is
/// anything else. A reconnecting agent that does not list an attempt it
/// held loses it, and the Cancel for it comes after the Welcome.
#[test]
fn the_welcome_is_the_first_message_of_a_reconnected_session() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    assert_eq!(a.assignments().len(), 1);
    h.disconnect(&a);
    let mut b = h
        .connect_with("sre-1", &["sre"], 1, Vec::new())
        .expect("accepted");
    let inbox = b.inbox();
    assert!(
        matches!(inbox.first(), Some(ToAgent::Welcome(_))),
        "first message: {:?}",
        inbox.first()
    );
    assert_eq!(assigned(&inbox).len(), 1, "1.1 runs again");
}

/// "A second live session with an id in use is refused and that agent
/// exits 3." The first keeps its work.
#[test]
fn a_second_live_session_with_an_id_in_use_is_refused() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    let mut first = h
        .connect_instance("sre-1", &["sre"], 1, Vec::new(), "proc-a")
        .expect("accepted");
    let (_, fencing) = first.assignments()[0].clone();
    let second = h.connect_instance("sre-1", &["sre"], 1, Vec::new(), "proc-b");
    assert!(
        matches!(second, Err(CoreError::Duplicate(_))),
        "the second session was {}",
        if second.is_ok() {
            "accepted"
        } else {
            "refused, but not as a duplicate"
        }
    );
    assert!(h.events_of("attempt.lost").is_empty());
    h.report(&first, "1.1", fencing, crate::command::Outcome::Succeeded);
    assert_eq!(h.state_of("1.1"), "succeeded");
}

/// An operator's cancel (or skip) of a running task ends its attempt as
/// cancelled, which tells every member, lead included, once.
#[test]
fn an_operators_cancel_tells_the_lead_once() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, fencing) = a.assignments()[0].clone();
    h.action("1.1", TaskAction::Cancel).expect("cancelled");
    assert_eq!(cancels(&a.inbox()), [attempt_ref("1.1", fencing)]);
}
