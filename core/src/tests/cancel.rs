//! Cancelling a plan: every unfinished task is cancelled and its running
//! attempts stopped on their agents, the plan ends `cancelled` with the
//! operator's reason, stays so across a restart, refuses what would run it
//! again, and lets another plan be loaded.

use super::{attempt_ref, cancels};
use crate::command::{Outcome, PlanCmd, TaskAction};
use crate::testkit::{config, plan, Harness};
use crate::views::PlanCancelled;
use crate::CoreError;

fn cancel(h: &mut Harness, reason: &str) -> Result<PlanCancelled, CoreError> {
    let reason = reason.to_string();
    h.ask(|reply| {
        PlanCmd::Cancel {
            reason,
            actor: crate::actor::Actor::new("admin"),
            reply,
        }
        .into()
    })
}

const THREE: [(&str, &str, &str, u32, &str); 3] = [
    ("1.1", "SRE", "P1", 1, ""),
    ("1.2", "SRE", "P1", 1, "Task 1.1"),
    ("1.3", "Backend", "P1", 1, ""),
];

#[test]
fn cancelling_stops_the_running_attempt_and_cancels_every_unfinished_task() {
    let mut h = Harness::new();
    h.load(&plan(&THREE)).expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, fence) = a.assignments()[0].clone();
    assert_eq!(h.state_of("1.1"), "running");

    let done = cancel(&mut h, "wrong plan").expect("cancelled");
    assert_eq!((done.name.as_str(), done.tasks), ("Test plan", 3));
    assert_eq!(cancels(&a.inbox()), [attempt_ref("1.1", fence)]);
    for id in ["1.1", "1.2", "1.3"] {
        assert_eq!(h.state_of(id), "cancelled", "{id}");
        assert_eq!(h.stored_task_state(id), "cancelled", "{id}");
    }
    let ended = h.events_of("attempt.cancelled");
    assert_eq!(ended.len(), 1);
    assert_eq!(
        ended[0].message,
        "cancelled with the plan by an operator: wrong plan"
    );
    let plan_events = h.events_of("plan.cancelled");
    assert_eq!(plan_events.len(), 1);
    assert_eq!(
        plan_events[0].message,
        "cancelled by an operator: wrong plan"
    );
    assert!(
        h.events_of("plan.failed").is_empty(),
        "cancelled, not failed"
    );
    let s = h.status();
    assert_eq!(s.state.name(), "cancelled");
    assert_eq!(s.counts.cancelled, 3);
    assert_eq!(
        s.verdict.map(crate::verdict::Verdict::name),
        Some("cancelled")
    );
    assert_eq!(
        s.verdict_reason,
        "the plan was cancelled by an operator: wrong plan"
    );
    // The agent's late result changes nothing.
    h.report(&a, "1.1", fence, Outcome::Succeeded);
    assert_eq!(h.state_of("1.1"), "cancelled");
    assert_eq!(h.events_of("attempt.rejected").len(), 1);
    // Nothing is offered any more, and a final report says how it ended.
    h.advance(1000);
    h.tick();
    assert!(a.assignments().is_empty());
    let mut kinds = Vec::new();
    while let Ok(job) = h.receivers.jobs.try_recv() {
        kinds.push((job.kind.clone(), job.state.name(), job.verdict.name()));
    }
    assert_eq!(
        kinds.last(),
        Some(&("Final Review".to_string(), "cancelled", "cancelled"))
    );
}

#[test]
fn a_cancelled_plan_stays_cancelled_and_another_can_be_loaded() {
    let mut h = Harness::new();
    assert!(
        matches!(cancel(&mut h, ""), Err(CoreError::Conflict(_))),
        "no plan yet"
    );
    h.load(&plan(&THREE)).expect("loads");
    let refused = h.load(&plan(&THREE));
    match refused {
        Err(CoreError::Conflict(m)) => assert!(m.contains("swarmctl plan cancel"), "{m}"),
        other => panic!("a running plan blocks another: {other:?}"),
    }
    h.pause(true).expect("paused");
    cancel(&mut h, "").expect("a paused plan can be cancelled");
    assert_eq!(
        h.events_of("plan.cancelled")[0].message,
        "cancelled by an operator"
    );
    match cancel(&mut h, "again") {
        Err(CoreError::Conflict(m)) => assert_eq!(
            m,
            "plan 'Test plan' was cancelled; there is nothing to cancel"
        ),
        other => panic!("cancelled twice: {other:?}"),
    }
    assert!(matches!(h.pause(false), Err(CoreError::Conflict(_))));
    match h.action("1.1", TaskAction::Retry) {
        Err(CoreError::Conflict(m)) => assert!(m.contains("was cancelled"), "{m}"),
        other => panic!("a task of a cancelled plan was retried: {other:?}"),
    }
    let next = h
        .load(&plan(&[("2.1", "SRE", "P1", 1, "")]))
        .expect("another plan loads");
    assert_eq!(next.tasks, 1);
    assert_eq!(h.status().state.name(), "running");
}

#[test]
fn a_cancelled_plan_is_still_cancelled_after_a_restart() {
    let mut h = Harness::on_disk(config());
    h.load(&plan(&THREE)).expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    assert_eq!(a.assignments().len(), 1);
    cancel(&mut h, "budget cut").expect("cancelled");
    let mut h = h.reopen(config());
    let s = h.status();
    assert_eq!(s.state.name(), "cancelled");
    assert_eq!(s.counts.cancelled, 3);
    assert_eq!(
        s.verdict_reason,
        "the plan was cancelled by an operator: budget cut"
    );
    let mut b = h.connect("sre-2", &["sre"]);
    h.advance(10_000);
    h.tick();
    assert!(b.assignments().is_empty(), "nothing of it runs again");
    h.load(&plan(&[("2.1", "SRE", "P1", 1, "")]))
        .expect("another plan loads after the restart");
}
