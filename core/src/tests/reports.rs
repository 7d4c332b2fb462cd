//! What a lead reports besides the outcome: an executor that could not
//! start (a failed attempt, never a loss) and output it had to shed.

use crate::command::{AttemptReport, FromAgent, Outcome};
use crate::testkit::{plan, Harness};

#[test]
fn an_assignment_that_cannot_start_is_a_failed_attempt_not_a_loss() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, fencing) = a.assignments()[0].clone();
    h.say(
        &a,
        FromAgent::Result {
            attempt: super::attempt_ref("1.1", fencing),
            report: AttemptReport {
                message: "image busybox:none is missing".into(),
                not_started: true,
                result: None,
                // Whatever the outcome says, it did not run.
                ..AttemptReport::of(Outcome::Succeeded)
            },
        },
    );
    assert!(h.events_of("attempt.lost").is_empty(), "not a loss");
    let failed = h.events_of("attempt.failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0].message,
        "could not start: image busybox:none is missing"
    );
    let detail = h.task("1.1");
    assert_eq!(detail.task.state.name(), "failed", "no retries left");
    assert_eq!(
        detail.task.reason,
        "could not start: image busybox:none is missing"
    );
    assert_eq!(h.stored_task_state("1.1"), "failed");
}

#[test]
fn shed_output_is_counted_on_the_attempt() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, fencing) = a.assignments()[0].clone();
    h.say(
        &a,
        FromAgent::Result {
            attempt: super::attempt_ref("1.1", fencing),
            report: AttemptReport {
                output_dropped: 123_456,
                ..AttemptReport::of(Outcome::Succeeded)
            },
        },
    );
    let detail = h.task("1.1");
    assert_eq!(detail.task.state.name(), "succeeded");
    assert_eq!(detail.attempts[0].output_dropped, 123_456);
}
