//! Attempt numbers per task: events carry each attempt's number within its
//! task (1, 2, ...) beside the fencing number, live and read back from the
//! store alike, and logs are asked for by that number.

use super::{assigned, with_bullet};
use crate::command::{Outcome, Query, TaskLogs};
use crate::testkit::{plan, Harness};
use swarm_memory::state::AttemptPick;

fn logs(h: &mut Harness, task: &str, pick: AttemptPick) -> Result<(u64, u32), String> {
    let task = task.to_string();
    h.ask(|reply| Query::Logs { task, pick, reply }.into())
        .map(|l: TaskLogs| (l.fence, l.number))
        .map_err(|e| e.to_string())
}

#[test]
fn events_and_logs_count_attempts_per_task() {
    let mut h = Harness::new();
    let text = plan(&[("1.1", "SRE", "P1", 1, ""), ("1.2", "SRE", "P1", 1, "")]);
    h.load(&with_bullet(&text, "1.2", "**Retries**: 1"))
        .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    // 1.1 takes fencing number 1; 1.2 fails once, then succeeds.
    let first = assigned(&a.inbox());
    assert_eq!(first[0].attempt.task_id, "1.1");
    h.report(&a, "1.1", first[0].attempt.attempt, Outcome::Succeeded);
    let offer = assigned(&a.inbox()).remove(0);
    assert_eq!(
        (offer.attempt.task_id.as_str(), offer.attempt_no),
        ("1.2", 1)
    );
    let failed = offer.attempt.attempt;
    h.report(&a, "1.2", failed, Outcome::Failed);
    h.advance(100);
    h.tick();
    let retry = assigned(&a.inbox()).remove(0);
    assert_eq!(retry.attempt_no, 2);
    let retried = retry.attempt.attempt;
    h.report(&a, "1.2", retried, Outcome::Succeeded);

    // Every event about an attempt of 1.2 carries its number within 1.2,
    // whatever its fencing number.
    for events in [h.events.clone(), h.stored_events()] {
        let numbered: Vec<(u64, Option<u32>)> = events
            .iter()
            .filter(|e| e.task_id.as_deref() == Some("1.2") && e.attempt.is_some())
            .map(|e| (e.attempt.unwrap_or(0), e.number))
            .collect();
        assert!(numbered.len() >= 4, "{numbered:?}");
        for (fence, number) in numbered {
            let want = if fence == failed { 1 } else { 2 };
            assert_eq!(number, Some(want), "fence {fence}");
        }
    }
    let offered = h.events_of("attempt.offered");
    assert!(offered[1].message.starts_with("offered to sre-1"));

    assert_eq!(logs(&mut h, "1.2", AttemptPick::Number(1)), Ok((failed, 1)));
    assert_eq!(logs(&mut h, "1.2", AttemptPick::Latest), Ok((retried, 2)));
    assert_eq!(
        logs(&mut h, "1.2", AttemptPick::Fence(failed)),
        Ok((failed, 1))
    );
    assert_eq!(
        logs(&mut h, "1.2", AttemptPick::Number(3)),
        Err("task 1.2 has no attempt 3; its attempts: 1, 2".to_string())
    );
}
