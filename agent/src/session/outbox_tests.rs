//! The outbox's promises: control is never dropped and keeps its place
//! after the output before it; output is shed over the queue budget or the
//! rate, and the shed bytes are reported by markers and the total.

use std::time::Duration;

use super::*;

const CHUNK: usize = 64 * 1024;

fn attempt(n: u64) -> AttemptRef {
    AttemptRef {
        task_id: format!("t{n}"),
        attempt: n,
    }
}

fn result(n: u64) -> pb::agent_message::Body {
    pb::agent_message::Body::Result(pb::TaskResult {
        attempt: Some(convert::attempt_to(&attempt(n))),
        ..Default::default()
    })
}

/// What the stream would carry, one word per message: `log:LEN`,
/// `marker:TEXT`, `result`, `heartbeat`, ...
fn drain(outbox: &mut Outbox) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(msg) = outbox.pop() {
        out.push(match msg.body {
            Some(pb::agent_message::Body::Log(chunk)) => {
                let text = String::from_utf8_lossy(&chunk.data).into_owned();
                if text.contains("dropped") {
                    format!("marker:{}", text.trim())
                } else {
                    format!("log:{}", chunk.data.len())
                }
            }
            Some(pb::agent_message::Body::Result(_)) => "result".into(),
            Some(pb::agent_message::Body::Heartbeat(_)) => "heartbeat".into(),
            other => format!("{other:?}"),
        });
    }
    out
}

fn open_outbox(now: Instant) -> Outbox {
    let mut outbox = Outbox::new(now);
    outbox.open();
    outbox
}

#[test]
fn results_follow_their_output_and_are_never_shed() {
    let now = Instant::now();
    let mut outbox = open_outbox(now);
    let a = attempt(1);
    let chunks = QUEUE_BYTES / CHUNK + 10;
    for _ in 0..chunks {
        outbox.output(&a, Stream::Stdout, vec![b'x'; CHUNK], now);
    }
    let dropped = outbox.finish(&a);
    outbox.control(result(1));
    assert_eq!(dropped, 10 * CHUNK as u64);
    let sent = drain(&mut outbox);
    let logs = sent.iter().filter(|m| m.starts_with("log:")).count();
    assert_eq!(logs, QUEUE_BYTES / CHUNK);
    assert_eq!(
        sent[logs..],
        [
            format!("marker:[{dropped} bytes of output dropped]"),
            "result".to_string()
        ]
    );
}

#[test]
fn a_marker_goes_first_when_output_flows_again() {
    let now = Instant::now();
    let mut outbox = open_outbox(now);
    let a = attempt(1);
    for _ in 0..(QUEUE_BYTES / CHUNK + 3) {
        outbox.output(&a, Stream::Stderr, vec![b'x'; CHUNK], now);
    }
    drain(&mut outbox);
    outbox.output(&a, Stream::Stderr, b"tail".to_vec(), now);
    assert_eq!(
        drain(&mut outbox),
        [
            format!("marker:[{} bytes of output dropped]", 3 * CHUNK),
            "log:4".to_string()
        ]
    );
    // Nothing pending any more: the end summarises the total once.
    assert_eq!(outbox.finish(&a), 3 * CHUNK as u64);
    assert_eq!(
        drain(&mut outbox),
        [format!(
            "marker:[{} bytes of output dropped in total]",
            3 * CHUNK
        )]
    );
    assert_eq!(outbox.finish(&a), 3 * CHUNK as u64);
    assert!(drain(&mut outbox).is_empty(), "no second summary");
    outbox.forget(a.attempt);
    assert_eq!(outbox.finish(&a), 0);
}

#[test]
fn once_shedding_output_resumes_only_with_room_to_spare() {
    let now = Instant::now();
    let mut outbox = open_outbox(now);
    let a = attempt(1);
    let full = QUEUE_BYTES / CHUNK;
    for _ in 0..=full {
        outbox.output(&a, Stream::Stdout, vec![b'x'; CHUNK], now);
    }
    // A few chunks leave: there is room for one, but not to spare.
    for _ in 0..3 {
        outbox.pop();
    }
    outbox.output(&a, Stream::Stdout, vec![b'x'; CHUNK], now);
    let kept = drain(&mut outbox);
    assert_eq!(kept.len(), full - 3, "still shedding: {kept:?}");
    outbox.output(&a, Stream::Stdout, vec![b'x'; CHUNK], now);
    assert_eq!(
        drain(&mut outbox),
        [
            format!("marker:[{} bytes of output dropped]", 2 * CHUNK),
            format!("log:{CHUNK}")
        ]
    );
}

#[test]
fn output_beyond_the_rate_is_shed_until_time_passes() {
    let start = Instant::now();
    let mut outbox = open_outbox(start);
    let a = attempt(1);
    let mut sent = 0u64;
    // Pop as we go, so only the rate limits.
    for _ in 0..(BURST_BYTES as usize / CHUNK + 5) {
        outbox.output(&a, Stream::Stdout, vec![b'x'; CHUNK], start);
        sent += drain(&mut outbox).len() as u64 * CHUNK as u64;
    }
    assert_eq!(sent, BURST_BYTES);
    let later = start + Duration::from_secs(1);
    outbox.output(&a, Stream::Stdout, vec![b'x'; CHUNK], later);
    assert_eq!(
        drain(&mut outbox),
        [
            format!("marker:[{} bytes of output dropped]", 5 * CHUNK),
            format!("log:{CHUNK}")
        ]
    );
}

#[test]
fn one_heartbeat_waits_at_the_front() {
    let now = Instant::now();
    let mut outbox = open_outbox(now);
    outbox.output(&attempt(1), Stream::Stdout, b"hi".to_vec(), now);
    outbox.control(result(1));
    outbox.control(pb::agent_message::Body::Heartbeat(pb::Heartbeat {}));
    outbox.control(pb::agent_message::Body::Heartbeat(pb::Heartbeat {}));
    assert_eq!(drain(&mut outbox), ["heartbeat", "log:2", "result"]);
    outbox.control(pb::agent_message::Body::Heartbeat(pb::Heartbeat {}));
    assert_eq!(drain(&mut outbox), ["heartbeat"]);
}

#[test]
fn without_a_session_output_is_counted_and_control_waits_for_the_next() {
    let now = Instant::now();
    let mut outbox = open_outbox(now);
    let a = attempt(1);
    outbox.output(&a, Stream::Stdout, vec![b'x'; 100], now);
    outbox.control(result(1));
    outbox.close();
    assert!(!outbox.has_next(), "the queue went with the session");
    outbox.output(&a, Stream::Stdout, vec![b'x'; 20], now);
    outbox.control(result(1));
    assert!(!outbox.has_next());
    assert_eq!(outbox.finish(&a), 120, "no marker without a session");
    outbox.open();
    assert_eq!(outbox.finish(&a), 120);
    assert_eq!(drain(&mut outbox), ["marker:[120 bytes of output dropped]"]);
}

#[test]
fn a_marker_lost_with_its_session_is_reported_again() {
    let now = Instant::now();
    let mut outbox = open_outbox(now);
    let a = attempt(1);
    for _ in 0..(QUEUE_BYTES / CHUNK + 1) {
        outbox.output(&a, Stream::Stdout, vec![b'x'; CHUNK], now);
    }
    assert_eq!(outbox.finish(&a), CHUNK as u64);
    outbox.close();
    outbox.open();
    let total = (QUEUE_BYTES + CHUNK) as u64;
    assert_eq!(outbox.finish(&a), total);
    assert_eq!(
        drain(&mut outbox),
        [format!("marker:[{total} bytes of output dropped]")]
    );
}
