//! Day gates with the real binaries: `swarmd --gates` holds the next day
//! until the exit criteria's checks pass, or until `swarmctl gate approve`.

use swarm_tests::events::EventLog;
use swarm_tests::{free_port, write_plan, Daemon};

fn two_days(check: &str) -> String {
    format!(
        "# Gated\n\n### Day 1: Build\n\n**Task 1.1**: Build\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `touch built; echo 1.1 >> ledger.txt`\n\n**Day 1 Exit Criteria**:\n- [ ] Built{check}\n\n### Day 2: Ship\n\n**Task 2.1**: Ship\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `echo 2.1 >> ledger.txt`\n"
    )
}

#[test]
fn the_next_day_starts_once_the_exit_criteria_checks_pass() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start_with(dir.path(), free_port(), &["--gates"]);
    let _a = d.agent("sre-1", &["sre"]);
    let plan = write_plan(
        dir.path(),
        "plan.md",
        &two_days(" — **Check**: `test -f built`"),
    );
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    d.wait_status(30, |s| s["state"] == "succeeded");
    let log = EventLog::read(&d);
    let opened = log.only("the gate opening", |e| e.kind == "gate.opened");
    assert!(
        opened.message.contains("check `test -f built` passed"),
        "{opened}"
    );
    let built = log.only("1.1 done", |e| e.is("task.succeeded", "1.1"));
    let shipped = log.only("2.1 starting", |e| e.is("task.running", "2.1"));
    assert!(built.seq < opened.seq && opened.seq < shipped.seq, "{log}");
}

#[test]
fn a_gate_without_checks_waits_for_an_operator() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start_with(dir.path(), free_port(), &["--gates"]);
    let _a = d.agent("sre-1", &["sre"]);
    let plan = write_plan(dir.path(), "plan.md", &two_days(""));
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    d.wait_task("1.1", "succeeded", 20);
    let status = d.ctl_json(&["status", "--json"]);
    let gates = status["gates"].to_string();
    assert!(gates.contains("Day 1 exit criteria is closed"), "{status}");
    let held = d.ctl_json(&["task", "show", "2.1", "--json"]);
    assert!(
        held["reason"]
            .as_str()
            .unwrap_or("")
            .contains("swarmctl gate approve 1"),
        "2.1 says what it waits for: {held}"
    );
    let approved = d.ctl_json(&["gate", "approve", "1", "--json"]);
    assert_eq!(approved["opened"][0], "Day 1 exit criteria", "{approved}");
    d.wait_status(20, |s| s["state"] == "succeeded");
    let log = EventLog::read(&d);
    let opened = log.only("the approval", |e| e.kind == "gate.opened");
    assert_eq!(
        opened.message,
        "Day 1 exit criteria: approved by an operator"
    );
    let shipped = log.only("2.1 starting", |e| e.is("task.running", "2.1"));
    assert!(
        opened.seq < shipped.seq,
        "nothing of day 2 ran before the approval: {log}"
    );
}
