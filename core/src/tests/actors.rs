//! Who did it: an operator's command names its actor on every event it
//! causes (as stored), on nothing the loop does by itself, and the next
//! checkpoint's report lists what operators did since the last one.

use crate::actor::Actor;
use crate::command::{CheckpointCmd, PlanCmd, TaskAction};
use crate::testkit::{plan, Harness};

#[test]
fn an_operators_events_name_them_and_the_report_lists_them() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "SRE", "P1", 1, ""),
        ("1.2", "SRE", "P1", 1, "Task 1.1"),
    ]))
    .expect("loads");
    let _sre = h.connect("sre-1", &["sre"]);
    let ann = Actor::new("admin").with_as(Some("Ann"));
    h.ask(|reply| {
        PlanCmd::SetPaused {
            paused: true,
            actor: ann.clone(),
            reply,
        }
        .into()
    })
    .expect("paused");
    h.ask(|reply| {
        PlanCmd::TaskAction {
            task: "1.1".into(),
            action: TaskAction::Done,
            reason: "checked by hand".into(),
            actor: Actor::new("ops-token"),
            reply,
        }
        .into()
    })
    .expect("done");

    let stored = h.stored_events();
    let actor_of = |kind: &str| {
        stored
            .iter()
            .find(|e| e.kind == kind)
            .and_then(|e| e.actor.clone())
    };
    assert_eq!(actor_of("plan.paused").as_deref(), Some("admin (as Ann)"));
    assert_eq!(actor_of("task.succeeded").as_deref(), Some("ops-token"));
    assert_eq!(actor_of("plan.loaded").as_deref(), Some("admin"));
    // What the loop did on its own names nobody.
    for kind in ["agent.connected", "attempt.offered", "task.ready"] {
        assert_eq!(actor_of(kind), None, "{kind}");
    }

    let (reply, _answer) = tokio::sync::oneshot::channel();
    h.turn(vec![CheckpointCmd::Run {
        kind: None,
        actor: Actor::new("admin"),
        reply,
    }
    .into()]);
    // The plan's first checkpoint (at its start) saw the load; this one
    // sees what came after it.
    let first = h.receivers.jobs.try_recv().expect("the first report");
    assert_eq!(first.actions_total, 1, "{:?}", first.actions);
    assert!(first.actions[0].contains("— admin — `plan.loaded`"));
    let job = h.receivers.jobs.try_recv().expect("a report");
    assert_eq!(job.actions_total, 3, "{:?}", job.actions);
    assert!(
        job.actions[0].contains("admin (as Ann) — `plan.paused`"),
        "{:?}",
        job.actions
    );
    assert!(
        job.actions
            .iter()
            .any(|l| l.contains("ops-token — `task.succeeded` 1.1")),
        "{:?}",
        job.actions
    );
}
