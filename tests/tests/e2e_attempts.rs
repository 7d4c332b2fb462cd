//! Attempts as a person reads them: numbered per task (1, 2, ...) in
//! `task logs --attempt`, `task show` and `events`, the fencing number only
//! in `--json` as `fence`; a manual task that says it waits for an
//! operator; and a failure whose output can be read after the daemon
//! stopped (`task logs --workdir`) and in `swarmd run`'s summary.

use std::process::{Command, Output};

use swarm_tests::events::EventLog;
use swarm_tests::{free_port, workspace_binary, write_plan, Daemon};

const PLAN: &str = "# Attempts

### Day 1: Work

**Task 1.1**: Warm up
- **Agent**: SRE
- **Priority**: P1
- **Duration**: 1 hour
- **Dependencies**: None
- **Run**: `echo warm`

**Task 1.2**: Flaky
- **Agent**: SRE
- **Priority**: P1
- **Duration**: 1 hour
- **Dependencies**: Task 1.1
- **Run**: `if test -f tried; then echo second try; else touch tried; echo first try; echo oops >&2; exit 3; fi`
- **Retries**: 1

**Task 1.3**: Sign off by hand
- **Agent**: SRE
- **Priority**: P1
- **Duration**: 1 hour
- **Dependencies**: Task 1.2
";

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `swarmctl task logs ARGS --workdir DIR` with no daemon to talk to.
fn offline_logs(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(workspace_binary("swarmctl"))
        .args(["task", "logs"])
        .args(args)
        .arg("--workdir")
        .arg(dir)
        .env_remove("SWARM_TOKEN")
        .env("SWARM_COORDINATOR", "http://127.0.0.1:1")
        .output()
        .expect("swarmctl")
}

#[test]
fn attempts_are_numbered_per_task_and_their_output_outlives_the_daemon() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut d = Daemon::start(dir.path(), free_port());
    let _sre = d.agent("sre-1", &["sre"]);
    let plan = write_plan(dir.path(), "plan.md", PLAN);
    let plan = plan.to_string_lossy().into_owned();
    assert!(d.ctl(&["plan", "load", &plan]).status.success());

    // 1.3 has no command and the agent no --exec: it waits for an operator.
    d.wait_status(30, |s| {
        s["waiting_for_operator"] == serde_json::json!(["1.3"])
    });
    let hint = "waiting for an operator: swarmctl task done 1.3";
    let (status, _) = text(&d.ctl(&["status"]));
    assert!(status.contains(hint), "{status}");
    let (show, _) = text(&d.ctl(&["task", "show", "1.3"]));
    assert!(show.contains(hint), "{show}");
    assert!(d.ctl(&["task", "done", "1.3"]).status.success());
    d.wait_status(20, |s| s["state"] == "succeeded");

    // 1.2 failed once, then succeeded: its attempts are 1 and 2, whatever
    // their fencing numbers (1.1 took the first).
    let show = d.ctl_json(&["task", "show", "1.2", "--json"]);
    let history = show["attempt_history"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let numbers: Vec<(u64, u64)> = history
        .iter()
        .map(|a| {
            (
                a["attempt"].as_u64().unwrap_or(0),
                a["fence"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(numbers, [(1, 2), (2, 3)], "{show}");
    let (table, _) = text(&d.ctl(&["task", "show", "1.2"]));
    assert!(
        !table.contains("FENCE") && table.contains("ATTEMPT"),
        "{table}"
    );

    let first = d.ctl(&["task", "logs", "1.2", "--attempt", "1"]);
    assert_eq!(text(&first), ("first try\n".into(), "oops\n".into()));
    let second = d.ctl(&["task", "logs", "1.2", "--attempt", "2"]);
    assert_eq!(text(&second).0, "second try\n");
    assert_eq!(text(&d.ctl(&["task", "logs", "1.2"])).0, "second try\n");
    let missing = d.ctl(&["task", "logs", "1.2", "--attempt", "3"]);
    assert_eq!(missing.status.code(), Some(4));
    assert!(
        text(&missing)
            .1
            .contains("task 1.2 has no attempt 3; its attempts: 1, 2"),
        "{:?}",
        text(&missing)
    );

    // Events number attempts per task; the fencing number is `fence`.
    let log = EventLog::read(&d);
    let failed = log.only("1.2's failed attempt", |e| e.is("attempt.failed", "1.2"));
    assert_eq!((failed.number, failed.fence), (1, 2), "{log}");
    let (events, _) = text(&d.ctl(&["events"]));
    let line = events
        .lines()
        .find(|l| l.contains("attempt.failed"))
        .unwrap_or_default();
    assert!(line.contains("task 1.2  attempt 1 "), "{events}");

    // The store can be read beside the running daemon...
    let beside = offline_logs(dir.path(), &["1.2", "--attempt", "1"]);
    assert_eq!(text(&beside), text(&first));
    // ...and after it stopped, with the same output and the same errors.
    d.stop();
    assert_eq!(
        text(&offline_logs(dir.path(), &["1.2", "--attempt", "1"])),
        text(&first)
    );
    assert_eq!(text(&offline_logs(dir.path(), &["1.2"])), text(&second));
    let gone = offline_logs(dir.path(), &["1.2", "--attempt", "3"]);
    assert_eq!(gone.status.code(), Some(4));
    assert_eq!(text(&gone).1, text(&missing).1);
    let nowhere = offline_logs(&dir.path().join("nowhere"), &["1.2"]);
    assert_eq!(nowhere.status.code(), Some(2), "{:?}", text(&nowhere));
}

#[test]
fn swarmd_run_shows_the_tail_of_a_failed_task_and_its_log_stays_readable() {
    let dir = tempfile::tempdir().expect("tmp");
    let plan = write_plan(
        dir.path(),
        "fails.md",
        "# Fails\n\n### Day 1: Work\n\n**Task 1.1**: Noisy failure\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `for i in $(seq 1 15); do echo line $i; done; exit 3`\n- **Retries**: 0\n",
    );
    let out = Command::new(workspace_binary("swarmd"))
        .arg("run")
        .arg(&plan)
        .arg("--workdir")
        .arg(dir.path())
        .env_remove("SWARM_LISTEN")
        .output()
        .expect("swarmd run");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("1.1 failed; the last 10 lines of attempt 1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  | line 6\n") && stdout.contains("  | line 15\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("  | line 5\n"), "{stdout}");

    // The daemon is gone; the whole output is still there.
    let logs = offline_logs(dir.path(), &["1.1"]);
    let all: String = (1..=15).map(|i| format!("line {i}\n")).collect();
    assert_eq!(text(&logs), (all, String::new()));
}
