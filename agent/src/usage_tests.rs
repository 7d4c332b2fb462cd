//! Tests of reading what an attempt spent and how it ended.

use super::*;

const CLAUDE: &str = r#"{"type":"result","subtype":"success","is_error":false,"duration_ms":2100,"num_turns":3,"result":"All tests pass.","session_id":"3f1c-aa","total_cost_usd":0.0421,"usage":{"input_tokens":120,"cache_creation_input_tokens":900,"cache_read_input_tokens":4000,"output_tokens":310}}"#;

#[test]
fn the_last_result_line_wins_across_chunks() {
    let mut s = ResultScanner::default();
    let first = CLAUDE.replace("0.0421", "9.0");
    s.feed(format!("progress\n{first}\nmore noise\n").as_bytes());
    let (a, b) = CLAUDE.split_at(40);
    s.feed(a.as_bytes());
    s.feed(b.as_bytes());
    s.feed(b"\n{\"type\":\"assistant\"}\n");
    let r = s.finish().expect("a result object");
    assert_eq!(r.result.as_deref(), Some("All tests pass."));
    assert!(!r.is_error);
    assert_eq!(r.usage.cost_usd, 0.0421);
    assert_eq!(r.usage.input_tokens, 120);
    assert_eq!(r.usage.output_tokens, 310);
    assert_eq!(r.usage.cache_creation_tokens, 900);
    assert_eq!(r.usage.cache_read_tokens, 4000);
    assert_eq!(r.usage.turns, 3);
    assert_eq!(r.usage.session_id, "3f1c-aa");
}

#[test]
fn output_without_a_result_object_has_none() {
    let mut s = ResultScanner::default();
    s.feed(b"{\"type\":\"system\"}\n[1,2]\n{not json\n\"type\":\"result\"\n");
    assert_eq!(s.finish(), None);
}

#[test]
fn an_overlong_line_is_skipped_and_the_next_read() {
    let mut s = ResultScanner::default();
    s.feed(&vec![b'x'; MAX_LINE + 10]);
    s.feed(format!("{CLAUDE}tail\n{CLAUDE}").as_bytes());
    assert!(s.finish().is_some(), "the unterminated last line counts");
}

#[test]
fn settling_prefers_the_files_and_fails_on_is_error() {
    let found = parse_result_line(CLAUDE.as_bytes());
    let s = settle(Outcome::Succeeded, found.clone(), LeftBehind::default());
    assert_eq!(s.outcome, Outcome::Succeeded);
    assert_eq!(s.result.as_deref(), Some("All tests pass."));
    assert_eq!(s.usage.map(|u| u.cost_usd), Some(0.0421));
    let file = Some(Ok(Usage {
        cost_usd: 2.0,
        ..Usage::default()
    }));
    let left = LeftBehind {
        written: Some("mine".into()),
        usage_file: file,
        ..LeftBehind::default()
    };
    let s = settle(Outcome::Succeeded, found, left);
    assert_eq!(s.result.as_deref(), Some("mine"));
    assert_eq!(s.usage.map(|u| u.cost_usd), Some(2.0));
    let failed = parse_result_line(
        CLAUDE
            .replace("\"is_error\":false", "\"is_error\":true")
            .as_bytes(),
    );
    let left = LeftBehind {
        usage_file: Some(Err("bad".into())),
        ..LeftBehind::default()
    };
    let s = settle(Outcome::Succeeded, failed, left);
    assert!(
        matches!(s.outcome, Outcome::Failed { ref message, .. } if message.contains("All tests pass."))
    );
    assert_eq!(
        s.usage.map(|u| u.cost_usd),
        Some(0.0421),
        "a bad file keeps the object's usage"
    );
}

#[test]
fn rate_limits_are_not_failures_and_the_file_wins() {
    let limited = r#"{"type":"result","subtype":"success","is_error":true,"result":"Claude AI usage limit reached|1767225600","total_cost_usd":0.01}"#;
    let found = parse_result_line(limited.as_bytes());
    let failed = Outcome::Failed {
        exit_code: Some(1),
        message: "exit 1".into(),
    };
    let s = settle(failed.clone(), found.clone(), LeftBehind::default());
    assert!(
        matches!(
            s.outcome,
            Outcome::RateLimited {
                reset_at_ms: Some(1_767_225_600_000),
                ..
            }
        ),
        "{s:?}"
    );
    assert_eq!(
        s.usage.map(|u| u.cost_usd),
        Some(0.01),
        "spent all the same"
    );
    let file = LeftBehind {
        retry_after: Some(Ok(5)),
        ..LeftBehind::default()
    };
    let s = settle(failed.clone(), found, file);
    assert!(matches!(
        s.outcome,
        Outcome::RateLimited {
            reset_at_ms: Some(5),
            ..
        }
    ));
    let tempfail = Outcome::Failed {
        exit_code: Some(75),
        message: "exit 75".into(),
    };
    let s = settle(tempfail, None, LeftBehind::default());
    assert!(matches!(
        s.outcome,
        Outcome::RateLimited {
            reset_at_ms: None,
            ..
        }
    ));
    let s = settle(
        failed.clone(),
        parse_result_line(CLAUDE.as_bytes()),
        LeftBehind::default(),
    );
    assert_eq!(
        s.outcome, failed,
        "a failure without an error object stays as it was"
    );
    let error = CLAUDE.replace("\"is_error\":false", "\"is_error\":true");
    let s = settle(
        failed.clone(),
        parse_result_line(error.as_bytes()),
        LeftBehind::default(),
    );
    assert!(
        matches!(&s.outcome, Outcome::Failed { exit_code: Some(1), message } if message == "the AI CLI reported an error: All tests pass. (exit 1)"),
        "an ordinary failure stays one, with the object's text: {s:?}"
    );
    let timed_out = Outcome::TimedOut {
        message: "t".into(),
    };
    let file = LeftBehind {
        retry_after: Some(Ok(5)),
        ..LeftBehind::default()
    };
    assert_eq!(settle(timed_out.clone(), None, file).outcome, timed_out);
}

#[test]
fn an_error_result_says_why() {
    let line = r#"{"type":"result","subtype":"error_during_execution","is_error":true}"#;
    let r = parse_result_line(line.as_bytes()).expect("parsed");
    assert!(r.is_error);
    assert!(r.error_text().contains("error_during_execution"));
}

#[test]
fn the_usage_file_is_read_and_bad_ones_named() {
    let u = usage_from_file(
        br#"{"cost_usd":1.5,"input_tokens":7,"output_tokens":9,"model":"m","session_id":"s"}"#,
    )
    .expect("valid");
    assert_eq!((u.cost_usd, u.input_tokens, u.output_tokens), (1.5, 7, 9));
    assert_eq!((u.model.as_str(), u.session_id.as_str()), ("m", "s"));
    assert!(usage_from_file(b"[]").unwrap_err().contains("JSON object"));
    assert!(usage_from_file(b"nope").unwrap_err().contains("not JSON"));
    let negative = usage_from_file(br#"{"cost_usd":-3}"#).expect("valid");
    assert_eq!(negative.cost_usd, 0.0);
}
