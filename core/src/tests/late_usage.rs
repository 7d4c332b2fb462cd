//! Usage in a rejected result is still recorded when a member of the
//! attempt it names sends it: the money was spent. The result itself
//! changes nothing; a foreign one records nothing.

use swarm_memory::state::Usage;

use super::with_bullet;
use crate::command::{AttemptRef, AttemptReport, FromAgent, Outcome};
use crate::testkit::{plan, Harness, TestAgent};

/// `agent` reports attempt `fence` as `task`, `outcome`, having spent
/// `usd`.
fn report(h: &mut Harness, agent: &TestAgent, task: &str, fence: u64, outcome: Outcome, usd: f64) {
    let usage = Usage {
        cost_usd: usd,
        input_tokens: 100,
        output_tokens: 10,
        ..Usage::default()
    };
    h.say(
        agent,
        FromAgent::Result {
            attempt: AttemptRef {
                task_id: task.into(),
                attempt: fence,
            },
            report: AttemptReport {
                usage: Some(usage),
                ..AttemptReport::of(outcome)
            },
        },
    );
}

fn rejections(h: &Harness) -> Vec<String> {
    (h.events_of("attempt.rejected").iter())
        .map(|e| e.message.clone())
        .collect()
}

#[test]
fn a_late_result_still_counts_what_it_spent_once() {
    let mut h = Harness::new();
    let text = with_bullet(
        &plan(&[("1.1", "SRE", "P1", 1, "")]),
        "1.1",
        "**Retries**: 1",
    );
    h.load(&text).expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, old) = a.assignments()[0].clone();
    h.report(&a, "1.1", old, Outcome::Failed);
    h.advance(100);
    h.tick();
    let (_, current) = a.assignments()[0].clone();
    // The first attempt's result again, late, now saying what it spent.
    report(&mut h, &a, "1.1", old, Outcome::Failed, 0.75);
    assert_eq!(
        rejections(&h),
        ["late or foreign result (failed) ignored: not the current attempt; what it spent is recorded"]
    );
    // Sent once more: counted once.
    report(&mut h, &a, "1.1", old, Outcome::Failed, 0.75);
    let detail = h.task("1.1");
    assert_eq!(
        detail.task.state.name(),
        "running",
        "the result changed nothing"
    );
    let first = detail.attempts[0].usage.expect("the late usage");
    assert_eq!((first.cost_usd, first.input_tokens), (0.75, 100));
    assert!(detail.attempts[1].usage.is_none());
    assert_eq!(detail.spend.cost_usd, 0.75);
    let spend = h.status().spend;
    assert_eq!((spend.total.cost_usd, spend.total.reports), (0.75, 1));
    assert_eq!(spend.by_role[0].name, "sre");
    // The current attempt's own report adds to it.
    report(&mut h, &a, "1.1", current, Outcome::Succeeded, 0.25);
    assert_eq!(h.state_of("1.1"), "succeeded");
    assert_eq!(h.status().spend.total.cost_usd, 1.0);
}

#[test]
fn a_zombies_result_after_its_attempt_was_lost_counts_what_it_spent() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    let mut zombie = h.connect("sre-1", &["sre"]);
    let (_, old) = zombie.assignments()[0].clone();
    h.advance(2000);
    let mut other = h.connect("sre-2", &["sre"]);
    h.advance(1001);
    h.tick();
    let (_, current) = other.assignments()[0].clone();
    assert_eq!(h.task("1.1").attempts[0].state.name(), "lost");
    let zombie = h
        .connect_with("sre-1", &["sre"], 1, vec![super::attempt_ref("1.1", old)])
        .expect("accepted");
    report(&mut h, &zombie, "1.1", old, Outcome::Succeeded, 2.0);
    assert_eq!(h.state_of("1.1"), "running");
    let detail = h.task("1.1");
    assert_eq!(detail.attempts[0].usage.map(|u| u.cost_usd), Some(2.0));
    assert_eq!(h.status().spend.by_agent[0].name, "sre-1");
    report(&mut h, &other, "1.1", current, Outcome::Succeeded, 1.0);
    assert_eq!(h.status().spend.total.cost_usd, 3.0);
}

#[test]
fn a_foreign_result_records_nothing() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "SRE", "P1", 1, ""),
        ("1.2", "SRE", "P1", 1, ""),
    ]))
    .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let (task, fence) = a.assignments()[0].clone();
    assert_eq!(task, "1.1");
    let b = h.connect("sre-2", &["sre"]);
    // Another task's id with this fence, and another agent's result.
    report(&mut h, &a, "1.2", fence, Outcome::Succeeded, 5.0);
    report(&mut h, &b, "1.1", fence, Outcome::Succeeded, 5.0);
    assert_eq!(
        rejections(&h),
        [
            "late or foreign result (succeeded) ignored: not the current attempt",
            "late or foreign result (succeeded) ignored: not the current attempt"
        ]
    );
    assert_eq!(h.status().spend.total.reports, 0);
    assert!(h.task("1.1").attempts[0].usage.is_none());
}
