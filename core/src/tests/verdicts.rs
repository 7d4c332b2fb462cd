//! One verdict: status and the reports say the same thing.

use crate::command::Outcome;
use crate::testkit::{plan, Harness};

/// The report jobs handed out so far: (checkpoint, verdict words).
fn reports(h: &mut Harness) -> Vec<(String, String)> {
    let mut out = Vec::new();
    while let Ok(job) = h.receivers.jobs.try_recv() {
        out.push((job.kind.clone(), job.verdict.label().to_string()));
    }
    out
}

#[test]
fn a_plan_with_no_agent_is_at_risk() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    let s = h.status();
    assert_eq!(
        s.verdict.map_or("", crate::verdict::Verdict::name),
        "at_risk"
    );
    assert_eq!(s.verdict_reason, "no agent is connected");
    // The projection beside it says the same: no date with these agents.
    assert!(
        s.projected
            .contains(" once the missing agents join — at risk (plan ends "),
        "{}",
        s.projected
    );
    // And so does a report.
    let (reply, _answer) = tokio::sync::oneshot::channel();
    h.turn(vec![crate::command::CheckpointCmd::Run {
        kind: None,
        actor: crate::actor::Actor::new("admin"),
        reply,
    }
    .into()]);
    let mut jobs = Vec::new();
    while let Ok(job) = h.receivers.jobs.try_recv() {
        jobs.push(job);
    }
    let last = jobs.last().expect("a report job");
    assert!(
        last.projected.ends_with(" once the missing agents join"),
        "{}",
        last.projected
    );
}

#[test]
fn a_failed_plan_says_failed_in_status_and_in_its_final_review() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "SRE", "P1", 1, ""),
        ("1.2", "SRE", "P1", 1, "Task 1.1"),
    ]))
    .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    assert_eq!(
        h.status().verdict.map_or("", crate::verdict::Verdict::name),
        "on_track"
    );
    let (_, fence) = a.assignments()[0].clone();
    h.report(&a, "1.1", fence, Outcome::Failed);
    let s = h.status();
    assert_eq!(s.state.name(), "failed");
    assert_eq!(
        s.verdict.map_or("", crate::verdict::Verdict::name),
        "failed"
    );
    assert!(
        s.verdict_reason.starts_with("1 task failed for good: 1.1"),
        "{}",
        s.verdict_reason
    );
    let final_review = reports(&mut h)
        .into_iter()
        .find(|(kind, _)| kind == "Final Review")
        .expect("a final review");
    assert_eq!(final_review.1, "Failed", "the report agrees with status");
}

#[test]
fn a_finished_plan_is_done_everywhere() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, fence) = a.assignments()[0].clone();
    h.report(&a, "1.1", fence, Outcome::Succeeded);
    assert_eq!(
        h.status().verdict.map_or("", crate::verdict::Verdict::name),
        "done"
    );
    let verdicts: Vec<String> = reports(&mut h)
        .into_iter()
        .filter(|(kind, _)| kind == "Final Review")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(verdicts, ["Done"]);
}
