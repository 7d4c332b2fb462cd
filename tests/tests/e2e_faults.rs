//! Faults: an agent killed mid-task, a frozen agent whose late result must
//! be rejected, and the coordinator killed with SIGKILL and restarted.

use std::time::{Duration, Instant};

use swarm_tests::events::EventLog;
use swarm_tests::{free_port, lines, wait_for, write_plan, Agent, Daemon};

const ONE_SLOW_TASK: &str = "# Faults\n\n### Day 1: Slow\n\n**Task 1.1**: Slow work\n- **Agent**: SRE\n- **Priority**: P0\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `echo \"$SWARM_AGENT_ID $SWARM_ATTEMPT\" >> runs.txt; sleep 2`\n";

#[test]
fn an_agent_killed_mid_task_loses_its_attempt_which_runs_elsewhere() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let mut first = d.agent("sre-a", &["sre"]);
    let plan = write_plan(dir.path(), "plan.md", ONE_SLOW_TASK);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let runs = dir.path().join("runs.txt");
    wait_for("the first attempt to start", 10, || lines(&runs).len() == 1);
    first.kill9();
    let _second = d.agent("sre-b", &["sre"]);
    d.wait_status(20, |s| s["state"] == "succeeded");
    let runs = lines(&runs);
    assert_eq!(runs, vec!["sre-a 1".to_string(), "sre-b 2".to_string()]);
    let show = d.ctl_json(&["task", "show", "1.1", "--json"]);
    let states: Vec<&str> = show["attempt_history"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["state"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(states, vec!["lost", "succeeded"], "{show}");
    // The task has no retries: losing an agent did not use up its budget.
    // The loss re-queued 1.1, which never failed.
    let log = EventLog::read(&d);
    let task: Vec<&str> = log
        .all(|e| e.task_id == "1.1" && e.kind.starts_with("task."))
        .iter()
        .map(|e| e.kind.as_str())
        .collect();
    assert_eq!(
        task,
        [
            "task.ready",
            "task.running",
            "task.ready",
            "task.running",
            "task.succeeded"
        ],
        "{log}"
    );
    let requeued = &log.all(|e| e.is("task.ready", "1.1"))[1];
    assert!(requeued.message.starts_with("re-queued: "), "{requeued}");
    let agents = d.ctl_json(&["agents", "--json"]);
    let a = agents
        .as_array()
        .and_then(|v| v.iter().find(|x| x["id"] == "sre-a"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(a["state"], "lost");
}

#[test]
fn a_frozen_agents_late_result_is_rejected_and_recorded() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let zombie = d.agent("sre-zombie", &["sre"]);
    let plan = write_plan(dir.path(), "plan.md", ONE_SLOW_TASK);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let runs = dir.path().join("runs.txt");
    wait_for("the first attempt to start", 10, || lines(&runs).len() == 1);
    zombie.signal("STOP");
    let _healthy = d.agent("sre-healthy", &["sre"]);
    d.wait_status(20, |s| s["state"] == "succeeded");
    // The zombie wakes up with a finished attempt it believes is current.
    zombie.signal("CONT");
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut rejected = false;
    while Instant::now() < deadline && !rejected {
        let events = d.ctl(&["events", "--json"]);
        rejected = String::from_utf8_lossy(&events.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .any(|e| {
                e["kind"] == "attempt.rejected"
                    && e["agent_id"] == "sre-zombie"
                    && e["attempt"] == 1
            });
        std::thread::sleep(Duration::from_millis(100));
    }
    let events = String::from_utf8_lossy(&d.ctl(&["events"]).stdout).into_owned();
    let log = std::fs::read_to_string(dir.path().join("agent-sre-zombie.log")).unwrap_or_default();
    assert!(
        rejected,
        "the zombie's claim on attempt 1 was rejected and recorded:\n{events}\n{log}"
    );
    // The late result changed nothing: 1.1 succeeded once, by the healthy
    // agent's attempt, before the zombie's claims came and were rejected.
    let log = EventLog::read(&d);
    let succeeded = log.only("1.1 succeeding", |e| e.is("task.succeeded", "1.1"));
    let by = log.only("an attempt of 1.1 succeeding", |e| {
        e.is("attempt.succeeded", "1.1")
    });
    let claims = log.all(|e| e.kind == "attempt.rejected" && e.agent_id == "sre-zombie");
    assert!(
        by.agent_id == "sre-healthy"
            && !claims.is_empty()
            && claims.iter().all(|c| succeeded.seq < c.seq),
        "{log}"
    );
    let show = d.ctl_json(&["task", "show", "1.1", "--json"]);
    let last = show["attempt_history"]
        .as_array()
        .and_then(|a| a.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        last["agents"],
        serde_json::json!(["sre-healthy"]),
        "the newer result stands: {show}"
    );
    assert_eq!(lines(&runs).len(), 2);
}

#[test]
fn the_coordinator_killed_and_restarted_loses_and_repeats_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let mut d = Daemon::start(dir.path(), port);
    let _a = d.agent("sre-1", &["sre"]);
    let _b = d.agent("sre-2", &["sre"]);
    let mut plan = String::from("# Restart\n\n### Day 1: Work\n");
    for i in 1..=8 {
        plan.push_str(&format!(
            "\n**Task 1.{i}**: Step {i}\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: {}\n- **Run**: `echo $SWARM_TASK_ID >> runs.txt; sleep 0.7`\n",
            if i <= 2 { "None".to_string() } else { format!("Task 1.{}", i - 2) }
        ));
    }
    let path = write_plan(dir.path(), "plan.md", &plan);
    d.ctl_json(&["plan", "load", &path.display().to_string(), "--json"]);
    let runs = dir.path().join("runs.txt");
    wait_for("a few tasks to run", 20, || lines(&runs).len() >= 3);
    d.kill9();
    std::thread::sleep(Duration::from_millis(300));
    let d = Daemon::start(dir.path(), port);
    let status = d.wait_status(40, |s| s["state"] == "succeeded");
    assert_eq!(status["tasks"]["succeeded"], 8);
    let mut seen = lines(&runs);
    seen.sort();
    let want: Vec<String> = (1..=8).map(|i| format!("1.{i}")).collect();
    assert_eq!(seen, want, "every task ran exactly once across the restart");
    let events = d.ctl(&["events", "--json"]);
    let seqs: Vec<u64> = String::from_utf8_lossy(&events.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|e| e["seq"].as_u64())
        .collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "the event log has no gap"
    );
}

#[test]
fn an_agent_drains_on_sigterm_finishing_its_work() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let mut agent = Agent::start(&d.url(), dir.path(), "sre-drain", &["sre"], &[]);
    let plan = write_plan(dir.path(), "plan.md", ONE_SLOW_TASK);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let runs = dir.path().join("runs.txt");
    wait_for("the attempt to start", 10, || lines(&runs).len() == 1);
    agent.signal("TERM");
    let status = agent.child.wait().expect("agent exits");
    assert!(status.success(), "drained agents exit 0");
    let show = d.ctl_json(&["task", "show", "1.1", "--json"]);
    assert_eq!(
        show["state"], "succeeded",
        "the running attempt finished before the agent left: {show}"
    );
    let agents = d.ctl_json(&["agents", "--json"]);
    assert_eq!(agents[0]["state"], "gone");
}
