//! The span builder on event sequences like the loop writes them.

use super::*;

const TRACE: TraceId = TraceId([3; 16]);

/// Events of plan 1, numbered from 1, a second apart.
struct Log {
    seq: u64,
}

impl Log {
    fn ev(
        &mut self,
        kind: &str,
        task: Option<&str>,
        fence: Option<u64>,
        number: Option<u32>,
    ) -> EventRow {
        self.seq += 1;
        EventRow {
            seq: self.seq,
            at: 1_000 * self.seq as i64,
            kind: kind.to_string(),
            plan_id: Some(1),
            task_id: task.map(str::to_string),
            attempt: fence,
            number,
            agent_id: Some("a1".to_string()),
            message: format!("m{}", self.seq),
            actor: None,
        }
    }
}

fn info(agents: &[&str], roles: &[&str], exit: Option<i32>) -> AttemptInfo {
    AttemptInfo {
        agents: agents.iter().map(|s| s.to_string()).collect(),
        roles: roles.iter().map(|s| s.to_string()).collect(),
        exit_code: exit,
        message: "why".into(),
        output_dropped: 0,
        usage: None,
    }
}

fn attr<'a>(s: &'a Span, key: &str) -> Option<&'a Value> {
    s.attributes.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// A task that fails once (exit 3), then succeeds on a gang of two, and
/// a plan that then succeeds.
fn run(b: &mut Builder, log: &mut Log) -> Vec<Span> {
    let mut out = Vec::new();
    let gang = info(&["a1", "a2"], &["sre", "security"], None);
    let failed = info(&["a1"], &["sre"], Some(3));
    let steps: Vec<(EventRow, Option<&AttemptInfo>)> = vec![
        (log.ev("plan.loaded", None, None, None), None),
        (log.ev("task.ready", Some("1.1"), None, None), None),
        (
            log.ev("attempt.offered", Some("1.1"), Some(7), Some(1)),
            None,
        ),
        (
            log.ev("attempt.started", Some("1.1"), Some(7), Some(1)),
            None,
        ),
        (
            log.ev("attempt.failed", Some("1.1"), Some(7), Some(1)),
            Some(&failed),
        ),
        (log.ev("task.ready", Some("1.1"), None, None), None),
        (
            log.ev("attempt.offered", Some("1.1"), Some(9), Some(2)),
            None,
        ),
        (
            log.ev("attempt.succeeded", Some("1.1"), Some(9), Some(2)),
            Some(&gang),
        ),
        (log.ev("task.succeeded", Some("1.1"), None, None), None),
        (log.ev("plan.succeeded", None, None, None), None),
    ];
    for (e, i) in steps {
        out.extend(b.push(&e, i));
    }
    out
}

#[test]
fn a_plan_is_one_tree_of_spans_with_their_outcomes() {
    let mut b = Builder::new(1, TRACE, 1_000);
    let spans = run(&mut b, &mut Log { seq: 0 });
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "attempt 1.1 #1",
            "member a1 (sre)",
            "member a2 (security)",
            "attempt 1.1 #2",
            "task 1.1",
            "plan 1"
        ]
    );
    let root = &spans[5];
    assert_eq!(root.parent, None);
    assert_eq!(root.id, span_id(&TRACE, &SpanKey::Plan));
    let task = &spans[4];
    assert_eq!(task.parent, Some(root.id));
    assert_eq!(
        (task.start_ms, task.end_ms),
        (2_000, 9_000),
        "from ready to its end"
    );
    assert_eq!(task.status, Status::Ok);
    let first = &spans[0];
    assert_eq!(first.parent, Some(task.id));
    assert_eq!(
        first.id,
        span_id(
            &TRACE,
            &SpanKey::Attempt {
                task: "1.1",
                number: 1
            }
        )
    );
    assert_eq!(attr(first, "process.exit.code"), Some(&Value::Int(3)));
    assert_eq!(
        attr(first, "swarm.outcome"),
        Some(&Value::Str("failed".into()))
    );
    assert_eq!(attr(first, "swarm.role"), Some(&Value::Str("sre".into())));
    assert_eq!(first.status, Status::Error("why".into()));
    assert_eq!(
        first
            .events
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>(),
        ["attempt.offered", "attempt.started", "attempt.failed"]
    );
    let second = &spans[3];
    assert_eq!(attr(second, "swarm.attempt"), Some(&Value::Int(2)));
    assert_eq!(attr(second, "swarm.attempt.members"), Some(&Value::Int(2)));
    assert_eq!(spans[2].parent, Some(second.id));
    assert_eq!(
        attr(&spans[2], "swarm.role"),
        Some(&Value::Str("security".into()))
    );
    assert_eq!(
        attr(&spans[2], "swarm.agent.id"),
        Some(&Value::Str("a2".into()))
    );
}

#[test]
fn building_again_gives_the_same_spans() {
    let a = run(&mut Builder::new(1, TRACE, 1_000), &mut Log { seq: 0 });
    let b = run(&mut Builder::new(1, TRACE, 1_000), &mut Log { seq: 0 });
    assert_eq!(a, b);
}

#[test]
fn a_task_run_again_after_its_end_gets_a_new_span() {
    let mut b = Builder::new(1, TRACE, 0);
    let mut log = Log { seq: 0 };
    let mut spans = Vec::new();
    for kind in ["task.ready", "task.failed", "task.ready", "task.succeeded"] {
        spans.extend(b.push(&log.ev(kind, Some("2.1"), None, None), None));
    }
    assert_eq!(spans.len(), 2);
    assert_ne!(spans[0].id, spans[1].id);
    assert_eq!(
        spans[1].id,
        span_id(
            &TRACE,
            &SpanKey::Task {
                task: "2.1",
                opened: 3
            }
        )
    );
}

#[test]
fn a_span_keeps_at_most_so_many_events() {
    let mut b = Builder::new(1, TRACE, 0);
    let mut log = Log { seq: 0 };
    b.push(&log.ev("task.ready", Some("3.1"), None, None), None);
    for _ in 0..MAX_EVENTS + 5 {
        b.push(&log.ev("task.running", Some("3.1"), None, None), None);
    }
    let spans = b.push(&log.ev("task.succeeded", Some("3.1"), None, None), None);
    assert_eq!(spans[0].events.len(), MAX_EVENTS);
    assert_eq!(spans[0].dropped_events, 7);
}

#[test]
fn a_merge_is_a_span_under_its_task_and_a_conflict_an_error() {
    let mut b = Builder::new(1, TRACE, 0);
    let mut log = Log { seq: 0 };
    let mut spans = Vec::new();
    for kind in [
        "task.ready",
        "task.merging",
        "task.conflict",
        "task.merging",
        "task.merged",
        "task.succeeded",
    ] {
        spans.extend(b.push(&log.ev(kind, Some("4.1"), None, None), None));
    }
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["merge 4.1", "merge 4.1", "task 4.1"]);
    assert_ne!(spans[0].id, spans[1].id);
    assert_eq!(spans[0].parent, Some(spans[2].id));
    assert_eq!(spans[0].status, Status::Error("m3".into()));
    assert_eq!(spans[1].status, Status::Ok);
    assert_eq!(
        spans[1].id,
        span_id(
            &TRACE,
            &SpanKey::Merge {
                task: "4.1",
                opened: 4
            }
        )
    );
}

#[test]
fn what_an_attempt_spent_is_on_its_span_once_and_not_on_its_members() {
    let mut log = Log { seq: 0 };
    let mut b = Builder::new(1, TRACE, 1_000);
    let mut gang = info(&["a1", "a2"], &["sre", "security"], Some(0));
    gang.usage = Some(Tally {
        cost_usd: 0.75,
        input_tokens: 200,
        output_tokens: 40,
        cache_creation_tokens: 20,
        cache_read_tokens: 2000,
        reports: 2,
    });
    let quiet = info(&["a1"], &["sre"], Some(0));
    let mut spans = Vec::new();
    for (e, i) in [
        (log.ev("plan.loaded", None, None, None), None),
        (log.ev("task.ready", Some("1.1"), None, None), None),
        (
            log.ev("attempt.offered", Some("1.1"), Some(4), Some(1)),
            None,
        ),
        (
            log.ev("attempt.succeeded", Some("1.1"), Some(4), Some(1)),
            Some(&gang),
        ),
        (log.ev("task.ready", Some("1.2"), None, None), None),
        (
            log.ev("attempt.offered", Some("1.2"), Some(5), Some(1)),
            None,
        ),
        (
            log.ev("attempt.succeeded", Some("1.2"), Some(5), Some(1)),
            Some(&quiet),
        ),
    ] {
        spans.extend(b.push(&e, i));
    }
    let by_name = |n: &str| spans.iter().find(|s| s.name == n).expect(n);
    let spent = by_name("attempt 1.1 #1");
    assert_eq!(
        attr(spent, "gen_ai.usage.input_tokens"),
        Some(&Value::Int(2220)),
        "every prompt token, the cache's included"
    );
    assert_eq!(
        attr(spent, "gen_ai.usage.output_tokens"),
        Some(&Value::Int(40))
    );
    assert_eq!(
        attr(spent, "swarm.usage.cache_read_tokens"),
        Some(&Value::Int(2000))
    );
    assert_eq!(
        attr(spent, "swarm.usage.cache_creation_tokens"),
        Some(&Value::Int(20))
    );
    assert_eq!(
        attr(spent, "swarm.usage.cost_usd"),
        Some(&Value::Float(0.75))
    );
    for member in ["member a1 (sre)", "member a2 (security)"] {
        assert_eq!(
            attr(by_name(member), "swarm.usage.cost_usd"),
            None,
            "{member}"
        );
    }
    let unsaid = by_name("attempt 1.2 #1");
    assert_eq!(attr(unsaid, "gen_ai.usage.input_tokens"), None);
    assert_eq!(attr(unsaid, "swarm.usage.cost_usd"), None);
}
