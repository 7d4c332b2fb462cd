//! Checkpoints on the plan clock: the standup at load (the harness starts
//! at Monday 09:00), the mid-day check at 13:00 (sooner with a time
//! scale), and the Final Review when the plan completes. Each one records
//! `checkpoint.started` and hands a report job to the reporter.

use crate::command::Outcome;
use crate::config::CoreConfig;
use crate::testkit::{config, plan, Harness};

const HOUR: i64 = 3_600_000;

/// The kinds of the report jobs handed out since the last call.
fn jobs(h: &mut Harness) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(job) = h.receivers.jobs.try_recv() {
        out.push(job.kind);
    }
    out
}

fn one_task() -> String {
    plan(&[("1.1", "SRE", "P1", 2, "")])
}

#[test]
fn loading_at_nine_fires_the_daily_standup() {
    let mut h = Harness::new();
    h.load(&one_task()).expect("loads");
    assert_eq!(jobs(&mut h), ["Daily Standup"]);
    let started = h.events_of("checkpoint.started");
    assert_eq!(started.len(), 1);
    assert!(
        started[0].message.starts_with("Daily Standup at Day 1"),
        "{}",
        started[0].message
    );
    assert!(h.status().next_checkpoint.starts_with("Mid-Day Check"));
}

#[test]
fn the_mid_day_check_fires_at_thirteen_on_the_plan_clock() {
    let mut h = Harness::new();
    h.load(&one_task()).expect("loads");
    jobs(&mut h);
    h.advance(4 * HOUR - 1);
    h.tick();
    assert!(jobs(&mut h).is_empty(), "12:59:59.999");
    assert_eq!(h.events_of("checkpoint.started").len(), 1);
    h.advance(1);
    h.tick();
    assert_eq!(jobs(&mut h), ["Mid-Day Check"]);
    let started = h.events_of("checkpoint.started");
    assert_eq!(started.len(), 2);
    assert!(
        started[1].message.contains("13:00"),
        "{}",
        started[1].message
    );
    h.advance(HOUR);
    h.tick();
    assert!(jobs(&mut h).is_empty(), "fired once");
}

#[test]
fn a_time_scale_makes_checkpoints_come_sooner() {
    let cfg = CoreConfig {
        time_scale: 60.0,
        ..config()
    };
    let mut h = Harness::with(cfg);
    h.load(&one_task()).expect("loads");
    assert_eq!(jobs(&mut h), ["Daily Standup"]);
    // Four plan hours are four wall minutes.
    h.advance(4 * 60_000 - 1);
    h.tick();
    assert!(jobs(&mut h).is_empty());
    h.advance(1);
    h.tick();
    assert_eq!(jobs(&mut h), ["Mid-Day Check"]);
    h.advance(4 * 60_000);
    h.tick();
    assert_eq!(jobs(&mut h), ["End-of-Day Review"]);
}

#[test]
fn checkpoints_missed_while_idle_fire_in_order_in_one_turn() {
    let mut h = Harness::new();
    h.load(&one_task()).expect("loads");
    jobs(&mut h);
    // Past the next morning's standup: mid-day, end of day, standup.
    h.advance(25 * HOUR);
    h.tick();
    assert_eq!(
        jobs(&mut h),
        ["Mid-Day Check", "End-of-Day Review", "Daily Standup"]
    );
    assert!(h.status().plan_time.starts_with("Day 2"));
}

#[test]
fn the_plans_completion_fires_a_final_review() {
    let mut h = Harness::new();
    h.load(&one_task()).expect("loads");
    jobs(&mut h);
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, fencing) = a.assignments()[0].clone();
    h.advance(HOUR);
    h.say(&a, crate::command::FromAgent::Heartbeat);
    h.report(&a, "1.1", fencing, Outcome::Succeeded);
    assert_eq!(jobs(&mut h), ["Final Review"]);
    let review = h
        .events_of("checkpoint.started")
        .last()
        .map(|e| (e.seq, e.message.clone()))
        .expect("a checkpoint");
    assert!(review.1.starts_with("Final Review"), "{}", review.1);
    assert!(
        review.0 < super::seq_of(&h, "plan.succeeded", None),
        "the review is taken as the plan settles"
    );
    // A finished plan has no more checkpoints, and status names none.
    assert_eq!(h.status().next_checkpoint, "");
    h.advance(8 * HOUR);
    h.tick();
    assert!(jobs(&mut h).is_empty());
    assert_eq!(h.status().next_checkpoint, "");
}

#[test]
fn a_failed_plan_also_gets_its_final_review() {
    let mut h = Harness::new();
    h.load(&one_task()).expect("loads");
    jobs(&mut h);
    let mut a = h.connect("sre-1", &["sre"]);
    let (_, fencing) = a.assignments()[0].clone();
    h.report(&a, "1.1", fencing, Outcome::Failed);
    assert_eq!(jobs(&mut h), ["Final Review"]);
    assert_eq!(h.events_of("plan.failed").len(), 1);
    assert_eq!(h.status().next_checkpoint, "", "a failed plan has none");
}
