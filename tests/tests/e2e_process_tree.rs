//! A task's whole process tree ends with its attempt: an agent killed with
//! SIGKILL mid-task leaves nothing running — not a pipeline's members, not
//! `bash -c`, not a `setsid` daemon — so when the task runs again on
//! another agent, its ledger gets exactly one line. Proven with bubblewrap
//! (a PID namespace per command) and without (`--sandbox off`: the
//! resident guard as the tree's subreaper).

use swarm_tests::procs::processes_with;
use swarm_tests::{free_port, lines, wait_for, write_plan, Agent, Daemon};

/// Three tasks that each note their start, then append their ledger line
/// three seconds later from a process the agent did not start directly.
fn plan() -> String {
    let task = |n: u32, title: &str, run: &str| {
        format!(
            "\n**Task 1.{n}**: {title}\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `echo 1.{n} >> started.txt; {run}`\n"
        )
    };
    let mut plan = "# Trees\n\n### Day 1: Work\n".to_string();
    plan.push_str(&task(
        1,
        "Pipeline",
        "sh -c 'sleep 3; echo 1.1 $SWARM_AGENT_ID' | tee -a ledger.txt",
    ));
    plan.push_str(&task(
        2,
        "Bash",
        "bash -c 'sleep 3; echo 1.2 $SWARM_AGENT_ID >> ledger.txt'",
    ));
    plan.push_str(&task(
        3,
        "Daemon",
        "setsid -f sh -c 'sleep 3; echo 1.3 $SWARM_AGENT_ID >> ledger.txt'; sleep 5",
    ));
    plan
}

/// Kills an agent running the three tasks, lets another finish them, and
/// checks the ledger: one line per task, each from the second agent.
fn one_line_per_task_after_kill_9(extra: &[&str]) {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let mut flags = vec!["--slots", "3"];
    flags.extend_from_slice(extra);
    let url = d.url();
    let mut first = Agent::start(&url, dir.path(), "sre-a", &["sre"], &flags);
    let plan = write_plan(dir.path(), "plan.md", &plan());
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let started = dir.path().join("started.txt");
    wait_for("all three tasks to start", 20, || {
        lines(&started).len() == 3
    });
    first.kill9();
    let _second = Agent::start(&url, dir.path(), "sre-b", &["sre"], &flags);
    d.wait_status(60, |s| s["state"] == "succeeded");
    // Every second attempt started after the first agent's lease ran out
    // and took three seconds: a survivor of the first agent would have
    // written its line by now.
    let mut ledger = lines(&dir.path().join("ledger.txt"));
    ledger.sort();
    assert_eq!(
        ledger,
        ["1.1 sre-b", "1.2 sre-b", "1.3 sre-b"],
        "one line per task, from the agent that ran it to the end; agent log:\n{}",
        std::fs::read_to_string(dir.path().join("agent-sre-a.log")).unwrap_or_default()
    );
    assert_eq!(lines(&started).len(), 6, "each task started twice");
}

#[test]
fn with_bubblewrap_a_killed_agent_leaves_no_process_of_its_tasks() {
    one_line_per_task_after_kill_9(&["--sandbox", "required"]);
}

#[test]
fn without_a_sandbox_a_killed_agent_leaves_no_process_of_its_tasks() {
    one_line_per_task_after_kill_9(&["--sandbox", "off"]);
}

/// A timed-out attempt ends its `setsid` daemon too, with bubblewrap and
/// without.
#[test]
fn a_timed_out_attempt_ends_its_setsid_daemon() {
    for mode in ["required", "off"] {
        let dir = tempfile::tempdir().expect("tmp");
        let d = Daemon::start(dir.path(), free_port());
        let url = d.url();
        let _a = Agent::start(&url, dir.path(), "sre-1", &["sre"], &["--sandbox", mode]);
        let marker = format!("daemon-of-{mode}-{}", d.port);
        let plan = write_plan(
            dir.path(),
            "plan.md",
            &format!("# T\n\n### Day 1: W\n\n**Task 1.1**: Daemon\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Timeout**: 2s\n- **Run**: `setsid -f sh -c 'echo {marker} > /dev/null; echo up >> daemon.txt; sleep 30; echo late >> ledger.txt'; sleep 30`\n"),
        );
        d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
        let up = dir.path().join("daemon.txt");
        wait_for("the daemon to start", 20, || lines(&up).len() == 1);
        assert!(!processes_with(&marker).is_empty(), "the daemon runs");
        d.wait_task("1.1", "failed", 30);
        wait_for(
            &format!("--sandbox {mode}: the daemon to end with its attempt"),
            5,
            || processes_with(&marker).is_empty(),
        );
    }
}
