//! `swarmctl plan cancel` against the real binaries: the running attempt's
//! processes end (its ledger line never comes), every unfinished task is
//! cancelled, status and the event log say so with the operator's reason,
//! a restarted swarmd still says so, and another plan then loads and runs.

use swarm_tests::events::EventLog;
use swarm_tests::procs::processes_with;
use swarm_tests::{free_port, lines, wait_for, write_plan, Agent, Daemon};

/// A long task whose `sleep` carries `marker` (so the test can see the
/// process) and appends its ledger line only after it, and a task after
/// it.
fn plan(marker: &str) -> String {
    format!(
        "# Cancel me\n\n### Day 1: Work\n\n\
         **Task 1.1**: Long\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n\
         - **Run**: `echo up >> started.txt; sleep {marker}; echo 1.1 >> ledger.txt`\n\n\
         **Task 1.2**: After\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: Task 1.1\n\
         - **Run**: `echo 1.2 >> ledger.txt`\n"
    )
}

const NEXT: &str = "# Next\n\n### Day 1: Work\n\n**Task 2.1**: Quick\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `echo 2.1 >> next.txt`\n";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn cancelling_a_plan_stops_its_attempt_and_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut d = Daemon::start(dir.path(), free_port());
    let mut agent = d.agent("sre-1", &["sre"]);
    // Thirty seconds and a bit, unique to this run: only 1.1's sleep.
    let marker = format!("30.{}", d.port);
    let first = write_plan(dir.path(), "plan.md", &plan(&marker));
    let next = write_plan(dir.path(), "next.md", NEXT);
    d.ctl_json(&["plan", "load", &first.display().to_string(), "--json"]);
    wait_for("1.1 to start", 20, || {
        lines(&dir.path().join("started.txt")).len() == 1
    });
    wait_for("1.1's sleep to run", 10, || {
        !processes_with(&marker).is_empty()
    });

    // A running plan keeps another out, and says how to end it.
    let refused = d.ctl(&["plan", "load", &next.display().to_string()]);
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains("cancel it with 'swarmctl plan cancel'"),
        "{}",
        text(&refused.stderr)
    );

    let out = d.ctl(&["plan", "cancel", "--reason", "x"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "cancelled plan 'Cancel me' (2 tasks it had not finished); load another with 'swarmctl plan load FILE'\n"
    );
    // The attempt's processes end long before the sleep would have, so
    // the line after it can never be written.
    wait_for("1.1's sleep to be killed", 10, || {
        processes_with(&marker).is_empty()
    });
    assert!(
        lines(&dir.path().join("ledger.txt")).is_empty(),
        "nothing of the plan ran past the cancel"
    );

    says_cancelled(&d);
    // Cancelling again is refused: the plan is over.
    let again = d.ctl(&["plan", "cancel"]);
    assert_eq!(again.status.code(), Some(3), "{}", text(&again.stderr));

    // After a restart the plan is still cancelled, with its reason.
    agent.kill9();
    d.stop();
    let d = Daemon::start(dir.path(), free_port());
    let status = d.ctl_json(&["status", "--json"]);
    assert_eq!(status["state"], "cancelled", "{status}");
    assert_eq!(
        status["verdict_reason"], "the plan was cancelled by an operator: x",
        "{status}"
    );

    // And another plan loads and runs.
    let loaded = d.ctl_json(&["plan", "load", &next.display().to_string(), "--json"]);
    assert_eq!(loaded["name"], "Next", "{loaded}");
    let _agent = Agent::start(&d.url(), dir.path(), "sre-1", &["sre"], &[]);
    d.wait_status(30, |s| s["state"] == "succeeded");
    assert_eq!(lines(&dir.path().join("next.txt")), ["2.1"]);
    assert!(lines(&dir.path().join("ledger.txt")).is_empty());
}

/// Status, its human form and the event log say the plan was cancelled
/// with the reason `x`, and 1.1's attempt was cancelled with it.
fn says_cancelled(d: &Daemon) {
    let status = d.ctl_json(&["status", "--json"]);
    assert_eq!(status["state"], "cancelled", "{status}");
    assert_eq!(status["verdict"], "cancelled", "{status}");
    assert_eq!(status["tasks"]["cancelled"], 2, "{status}");
    let shown = text(&d.ctl(&["status"]).stdout);
    assert!(shown.contains("state: cancelled · 0/2 done"), "{shown}");
    assert!(
        shown.contains("verdict: cancelled — the plan was cancelled by an operator: x"),
        "{shown}"
    );
    let events = text(&d.ctl(&["events"]).stdout);
    let line = events
        .lines()
        .find(|l| l.contains("plan.cancelled"))
        .unwrap_or_else(|| panic!("no plan.cancelled in:\n{events}"));
    assert!(line.ends_with("— cancelled by an operator: x"), "{line}");
    let log = EventLog::read(d);
    let ended = log.only("1.1's attempt ending", |e| {
        e.task_id == "1.1"
            && e.kind.starts_with("attempt.")
            && e.kind != "attempt.offered"
            && e.kind != "attempt.started"
    });
    assert_eq!(ended.kind, "attempt.cancelled", "{log}");
    assert_eq!(
        ended.message, "cancelled with the plan by an operator: x",
        "{log}"
    );
}
