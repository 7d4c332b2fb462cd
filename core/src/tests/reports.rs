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

/// The exit criteria of the report jobs handed out since the last call:
/// (text, whether the work it checks is done).
fn criteria_of_reports(h: &mut Harness) -> Vec<Vec<(String, bool)>> {
    let mut out = Vec::new();
    while let Ok(job) = h.receivers.jobs.try_recv() {
        out.push(
            job.criteria
                .iter()
                .map(|c| (c.text.clone(), c.tasks_done))
                .collect(),
        );
    }
    out
}

#[test]
fn a_criterion_checks_its_tasks_work_only_once_those_tasks_are_done() {
    let mut h = Harness::new();
    let mut markdown = super::with_bullet(
        &plan(&[
            ("1.1", "SRE", "P1", 1, ""),
            ("1.2", "SRE", "P1", 1, "Task 1.1"),
        ]),
        "1.1",
        "**Check**: `test -s backups.txt`",
    );
    markdown.push_str(
        "**Day 1 Exit Criteria**:\n- [ ] Backups verified — **Check**: `test -s backups.txt`\n- [ ] Config stored — **Check**: `test -s config.txt`\n",
    );
    h.load(&markdown).expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, fence) = a.assignments()[0].clone();
    let standup = |h: &mut Harness| {
        let (reply, _answer) = tokio::sync::oneshot::channel();
        h.turn(vec![crate::command::CheckpointCmd::Run {
            kind: None,
            actor: crate::actor::Actor::new("admin"),
            reply,
        }
        .into()]);
        criteria_of_reports(h).pop().expect("a report")
    };
    let names = |done: [bool; 2]| {
        vec![
            ("Backups verified".to_string(), done[0]),
            ("Config stored".to_string(), done[1]),
        ]
    };
    // 1.1 runs: the check it shares with the criterion must wait for it.
    assert_eq!(standup(&mut h), names([false, false]));
    h.report(&a, "1.1", fence, Outcome::Succeeded);
    // 1.1 is done, 1.2 is not: only the criterion with 1.1's check counts.
    assert_eq!(standup(&mut h), names([true, false]));
    let (_, fence) = a.assignments()[0].clone();
    h.report(&a, "1.2", fence, Outcome::Succeeded);
    let last = criteria_of_reports(&mut h).pop().expect("the final review");
    assert_eq!(last, names([true, true]));
}
