//! Stopping the coordinator: SIGTERM while agents run work exits promptly,
//! dispatches nothing after the signal, and a restart finishes the plan
//! without running anything twice; a second swarmd on the same workdir is
//! refused.

use std::process::Command;
use std::time::{Duration, Instant};

use swarm_tests::events::EventLog;
use swarm_tests::{free_port, workspace_binary, write_plan, Daemon};

/// Eight independent tasks of four seconds, each appending its id to the
/// ledger when it completes.
fn eight_slow_tasks() -> String {
    let mut plan = String::from("# Stop\n\n### Day 1: Work\n\n");
    for i in 1..=8 {
        plan.push_str(&format!(
            "**Task 1.{i}**: Slow {i}\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `sleep 4; echo 1.{i} >> ledger.txt`\n\n"
        ));
    }
    plan
}

fn ledger(dir: &std::path::Path) -> Vec<String> {
    let mut lines: Vec<String> = std::fs::read_to_string(dir.join("ledger.txt"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

#[test]
fn sigterm_with_agents_at_work_exits_promptly_and_a_restart_finishes_the_plan() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let mut d = Daemon::start(dir.path(), port);
    let _a = d.agent("sre-1", &["sre"]);
    let _b = d.agent("sre-2", &["sre"]);
    let plan = write_plan(dir.path(), "plan.md", &eight_slow_tasks());
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    EventLog::wait(&d, 10, "an attempt started", |e| {
        e.kind == "attempt.started"
    });
    // A follower, which must not keep the daemon alive.
    let mut follower = d.ctl_spawn(&["events", "--follow"]);
    let sent = Instant::now();
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(d.child.id().to_string())
        .status();
    let code = loop {
        if let Ok(Some(status)) = d.child.try_wait() {
            break status.code();
        }
        assert!(
            sent.elapsed() < Duration::from_secs(15),
            "swarmd still runs {} s after SIGTERM",
            sent.elapsed().as_secs()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = sent.elapsed();
    assert_eq!(code, Some(0), "a graceful stop exits 0");
    assert!(
        took < Duration::from_secs(11),
        "shutdown_timeout is 10 s; it took {took:?}"
    );
    let ended = follower.wait().expect("the follower ends with the daemon");
    assert!(!ended.success(), "the follow stream ends with a status");

    // The next coordinator: the agents reconnect on their own, resume what
    // they kept running, and the plan finishes.
    let d = Daemon::start(dir.path(), port);
    d.wait_status(60, |s| s["state"] == "succeeded");
    let want: Vec<String> = (1..=8).map(|i| format!("1.{i}")).collect();
    let mut want = want;
    want.sort();
    assert_eq!(ledger(dir.path()), want, "every task ran exactly once");

    let log = EventLog::read(&d);
    let stopping = log.only("the stop", |e| e.kind == "coordinator.stopping");
    let restarted = log
        .after(stopping)
        .iter()
        .find(|e| e.kind == "coordinator.started")
        .expect("the restart is logged");
    let between: Vec<String> = log
        .after(stopping)
        .iter()
        .take_while(|e| e.seq < restarted.seq)
        .filter(|e| e.kind == "attempt.offered" || e.kind == "task.running")
        .map(ToString::to_string)
        .collect();
    assert!(
        between.is_empty(),
        "nothing was dispatched after the signal: {between:?}"
    );
    let offered_before = log
        .before(stopping)
        .iter()
        .filter(|e| e.kind == "attempt.offered")
        .count();
    assert!(offered_before >= 2, "work was running when the signal came");
}

#[test]
fn a_second_swarmd_on_the_same_workdir_exits_3_naming_the_first() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let started = Instant::now();
    let out = Command::new(workspace_binary("swarmd"))
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", free_port()))
        .arg("--workdir")
        .arg(dir.path())
        .output()
        .expect("run a second swarmd");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "refused at once"
    );
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("pid {}", d.child.id())),
        "names the PID holding the workdir: {err}"
    );
    // The first one is untouched.
    assert!(d.ctl(&["status", "--json"]).status.success());
}
