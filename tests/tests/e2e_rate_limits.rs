//! Rate limited is not failed, with the real binaries: a fake Claude Code
//! (`tests/fixtures/fake-claude.sh`) that hits its usage limit twice with
//! a reset time, and a shell task that exits 75 with `$SWARM_RETRY_AFTER`
//! once. Their attempts end `rate_limited`, the pool pauses (status says
//! so) and no attempt starts before the reset, the tasks run again
//! without using a retry (they have none) and the plan succeeds.

use std::path::{Path, PathBuf};

use serde_json::Value;
use swarm_tests::events::EventLog;
use swarm_tests::{write_plan, Agent, Daemon};

const PLAN: &str = "# Limits\n\n### Day 1: Build\n\n\
**Task 2.1**: Write the alert rules\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n\n\
**Task 2.2**: Page the on-call\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n\
- **Run**: `if [ ! -f paged-once ]; then touch paged-once; echo 1 > \"$SWARM_RETRY_AFTER\"; exit 75; fi; echo paged`\n";

fn fake_claude() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fake-claude.sh")
}

/// The states of a task's attempts, in order, and the task's JSON.
fn attempts(d: &Daemon, id: &str) -> (Vec<String>, Value) {
    let show = d.ctl_json(&["task", "show", id, "--json"]);
    let states = show["attempt_history"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| x["state"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    (states, show)
}

#[test]
fn rate_limited_attempts_wait_for_the_reset_and_then_succeed_without_retries() {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path();
    std::fs::create_dir_all(work.join("fake-claude")).expect("dir");
    std::fs::write(work.join("fake-claude/limit-2.1"), "2").expect("limit");
    let d = Daemon::start(work, swarm_tests::free_port());
    let plan = write_plan(work, "plan.md", PLAN);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let exec = format!("sh {}", fake_claude().display());
    let _sre = Agent::start_with_env(
        &d.url(),
        work,
        "sre-1",
        &["SRE"],
        &["--exec", &exec, "--slots", "2"],
        &[("FAKE_RESET_S", "2")],
    );
    let paused = d.wait_status(30, |s| {
        s["pools"].as_array().is_some_and(|p| !p.is_empty()) || s["state"] != "running"
    });
    let line = paused["pools"][0].as_str().unwrap_or_default().to_string();
    assert!(
        line.starts_with("pool default paused until ") && line.contains(": rate limited (task 2."),
        "{paused}"
    );
    let status = d.wait_status(60, |s| s["state"] == "succeeded" || s["state"] == "failed");
    assert_eq!(status["state"], "succeeded", "{status}");

    let (states, show) = attempts(&d, "2.1");
    assert_eq!(
        states,
        ["rate_limited", "rate_limited", "succeeded"],
        "{show}"
    );
    let (states, show) = attempts(&d, "2.2");
    assert_eq!(states, ["rate_limited", "succeeded"], "{show}");
    let history = &show["attempt_history"];
    assert!(
        history[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("rate limited: the task wrote $SWARM_RETRY_AFTER"),
        "{show}"
    );

    // No attempt of the pool started before the reset it was given: the
    // ledger's "limited ... reset: S" lines against the starts after them.
    let ledger = std::fs::read_to_string(work.join("fake-claude.ledger")).expect("ledger");
    let mut reset_ms = 0i64;
    let mut limited = 0;
    for line in ledger.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.first().copied() {
            Some("limited") => {
                limited += 1;
                reset_ms = words[6].parse::<i64>().expect("reset") * 1000;
            }
            Some("start") => {
                let at: i64 = words[4].parse().expect("ms");
                assert!(
                    at >= reset_ms,
                    "started at {at} before the reset {reset_ms}:\n{ledger}"
                );
            }
            _ => {}
        }
    }
    assert_eq!(limited, 2, "{ledger}");

    let log = EventLog::read(&d);
    let rate_limited = log.all(|e| e.kind == "attempt.rate_limited");
    assert_eq!(rate_limited.len(), 3, "{log:?}");
    assert!(
        log.all(|e| e.kind == "attempt.failed").is_empty(),
        "{log:?}"
    );
}
