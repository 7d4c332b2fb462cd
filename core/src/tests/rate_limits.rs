//! Rate limits: an attempt turned away by a rate-limited API ends
//! `rate_limited`, re-queues its task without using a retry, and pauses
//! its pool until the reset (or for a doubling backoff); a task rate
//! limited `max_rate_limited` times in a row waits for an operator.

use crate::command::{AttemptRef, AttemptReport, FromAgent, Outcome, RateLimit, TaskAction};
use crate::config::CoreConfig;
use crate::testkit::{plan, Harness, TestAgent};

/// `agent` reports attempt `fence` of `task` rate limited, resetting at
/// `reset_at` (wall ms) when given.
fn limited(h: &mut Harness, agent: &TestAgent, task: &str, fence: u64, reset_at: Option<i64>) {
    h.say(
        agent,
        FromAgent::Result {
            attempt: AttemptRef {
                task_id: task.into(),
                attempt: fence,
            },
            report: AttemptReport {
                message: "rate limited: Claude AI usage limit reached".into(),
                rate_limit: Some(RateLimit { reset_at }),
                ..AttemptReport::of(Outcome::Failed)
            },
        },
    );
}

/// Two SRE tasks without retries and one agent that took the first (its
/// lease outlasts the tests' waits).
fn running(cfg: CoreConfig) -> (Harness, TestAgent, u64) {
    let cfg = CoreConfig {
        lease_ttl: std::time::Duration::from_secs(7 * 86_400),
        ..cfg
    };
    let mut h = Harness::with(cfg);
    h.load(&plan(&[
        ("1.1", "SRE", "P0", 1, ""),
        ("1.2", "SRE", "P1", 1, ""),
    ]))
    .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let got = a.assignments();
    assert_eq!(got[0].0, "1.1");
    (h, a, got[0].1)
}

#[test]
fn a_rate_limited_attempt_waits_for_the_reset_without_using_a_retry() {
    let (mut h, mut a, fence) = running(CoreConfig::default());
    let reset = h.now + 5_000;
    limited(&mut h, &a, "1.1", fence, Some(reset));
    let detail = h.task("1.1");
    assert_eq!(
        detail.task.state.name(),
        "ready",
        "no retry used: none left"
    );
    assert!(detail
        .task
        .reason
        .starts_with("rate limited; pool default paused until "));
    assert_eq!(detail.attempts[0].state.name(), "rate_limited");
    assert_eq!(
        h.task_events("1.1").last().map(String::as_str),
        Some("task.ready")
    );
    assert!(h
        .task_events("1.1")
        .contains(&"attempt.rate_limited".to_string()));
    let status = h.status();
    assert_eq!(status.pools.len(), 1, "{:?}", status.pools);
    assert!(status.pools[0].ends_with(": rate limited (task 1.1)"));
    h.advance(4_999);
    h.tick();
    assert!(
        a.assignments().is_empty(),
        "nothing of the pool before the reset"
    );
    h.advance(1);
    h.tick();
    let again = a.assignments();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].0, "1.1", "the task comes back first");
    h.report(&a, "1.1", again[0].1, Outcome::Succeeded);
    assert_eq!(h.state_of("1.1"), "succeeded");
    assert!(h.status().pools.is_empty());
}

#[test]
fn without_a_reset_the_pool_backs_off_thirty_seconds_then_doubles() {
    let (mut h, mut a, fence) = running(CoreConfig::default());
    limited(&mut h, &a, "1.1", fence, None);
    h.advance(29_999);
    h.tick();
    assert!(a.assignments().is_empty());
    h.advance(1);
    h.tick();
    let again = a.assignments();
    limited(&mut h, &a, "1.1", again[0].1, None);
    h.advance(59_999);
    h.tick();
    assert!(a.assignments().is_empty(), "60 s the second time");
    h.advance(1);
    h.tick();
    assert_eq!(a.assignments().len(), 1);
}

#[test]
fn too_many_rate_limits_in_a_row_wait_for_an_operator_and_retry_resumes() {
    let cfg = CoreConfig {
        max_rate_limited: 2,
        ..CoreConfig::default()
    };
    let (mut h, mut a, fence) = running(cfg);
    let now = h.now;
    limited(&mut h, &a, "1.1", fence, Some(now));
    h.tick();
    let again = a.assignments();
    assert_eq!(again[0].0, "1.1");
    limited(&mut h, &a, "1.1", again[0].1, Some(now));
    let detail = h.task("1.1");
    assert_eq!(detail.task.state.name(), "pending");
    assert!(
        detail
            .task
            .reason
            .starts_with("rate limited 2 times in a row")
            && detail
                .task
                .reason
                .ends_with("waits for an operator: swarmctl task retry 1.1"),
        "{}",
        detail.task.reason
    );
    h.advance(3_600_000);
    h.tick();
    let next = a.assignments();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].0, "1.2", "only the other task runs");
    h.report(&a, "1.2", next[0].1, Outcome::Succeeded);
    assert_eq!(h.status().state.name(), "running", "the plan does not fail");
    assert_eq!(h.action("1.1", TaskAction::Retry).expect("retry"), "ready");
    assert_eq!(a.assignments()[0].0, "1.1");
}

#[test]
fn the_rate_limit_streak_survives_a_restart() {
    let cfg = CoreConfig {
        max_rate_limited: 3,
        lease_ttl: std::time::Duration::from_secs(7 * 86_400),
        ..CoreConfig::default()
    };
    let mut h = Harness::on_disk(cfg.clone());
    h.load(&plan(&[("1.1", "SRE", "P0", 1, "")]))
        .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let first = a.assignments();
    let now = h.now;
    limited(&mut h, &a, "1.1", first[0].1, Some(now));
    h.tick();
    let second = a.assignments();
    assert_eq!(second[0].0, "1.1");
    // The second rate limit pauses the pool a while: nothing runs when
    // the coordinator stops.
    limited(&mut h, &a, "1.1", second[0].1, Some(now + 60_000));
    assert_eq!(h.state_of("1.1"), "ready");
    let mut h = h.reopen(cfg);
    let mut a = h
        .connect_with("sre-1", &["sre"], 1, Vec::new())
        .expect("accepted");
    let third = a.assignments();
    assert_eq!(third[0].0, "1.1", "the pause was not kept: it runs at once");
    limited(&mut h, &a, "1.1", third[0].1, None);
    // Three in a row across the restart: it waits for an operator.
    let detail = h.task("1.1");
    assert_eq!(detail.task.state.name(), "pending");
    assert!(
        detail
            .task
            .reason
            .starts_with("rate limited 3 times in a row"),
        "{}",
        detail.task.reason
    );
}
