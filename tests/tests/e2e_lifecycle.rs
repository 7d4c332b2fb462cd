//! An agent's life as an operator lives it: killed and restarted with the
//! same id, started twice with one id, given a bad token, left without its
//! coordinator, flooded by a task's output. Each test asserts on a ledger
//! the tasks write (one line per execution) and on the event log.

use std::path::Path;
use std::time::{Duration, Instant};

use swarm_tests::events::EventLog;
use swarm_tests::{free_port, lines, wait_for, write_plan, Agent, Daemon};

/// A plan of one SRE task, 1.1, running `run`.
fn one_task(dir: &Path, run: &str) -> String {
    let text = format!(
        "# Lifecycle\n\n### Day 1: Work\n\n**Task 1.1**: Work\n- **Agent**: SRE\n- **Priority**: P0\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `{run}`\n"
    );
    write_plan(dir, "plan.md", &text).display().to_string()
}

/// Whether any process of group `pgid` is alive (zombies do not count).
fn group_alive(pgid: i32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|e| {
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        fields.len() > 2 && fields[2] == pgid.to_string() && !matches!(fields[0], "Z" | "X")
    })
}

fn agent_log(dir: &Path, id: &str) -> String {
    std::fs::read_to_string(dir.join(format!("agent-{id}.log"))).unwrap_or_default()
}

/// The states of task 1.1's attempts, in order.
fn attempt_states(d: &Daemon) -> Vec<String> {
    let show = d.ctl_json(&["task", "show", "1.1", "--json"]);
    show["attempt_history"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x["state"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn an_agent_killed_and_restarted_with_its_id_runs_the_task_again_and_its_old_processes_die() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    // `$$` names a host process only outside a PID namespace: no sandbox
    // here (e2e_process_tree covers bubblewrap).
    let off = ["--sandbox", "off"];
    let mut first = Agent::start(&d.url(), dir.path(), "sre-1", &["sre"], &off);
    // The background sleep outlives the command unless its group is killed.
    let plan = one_task(
        dir.path(),
        "echo $$ >> pids; sleep 30 & sleep 3; echo ran >> ledger",
    );
    d.ctl_json(&["plan", "load", &plan, "--json"]);
    let (pids, ledger) = (dir.path().join("pids"), dir.path().join("ledger"));
    wait_for("the first attempt to start", 10, || lines(&pids).len() == 1);
    let old: i32 = lines(&pids)[0].parse().expect("a pid");
    first.kill9();
    let gone = EventLog::wait(&d, 10, "sre-1's session to end", |e| {
        e.kind == "agent.disconnected" && e.agent_id == "sre-1"
    });
    let _second = Agent::start(&d.url(), dir.path(), "sre-1", &["sre"], &off);
    EventLog::wait(&d, 10, "sre-1 to come back", |e| {
        e.seq > gone.seq
            && e.agent_id == "sre-1"
            && e.kind.starts_with("agent.")
            && e.kind.ends_with("connected")
            && e.kind != "agent.disconnected"
    });
    // It killed its previous process's groups before it said Hello.
    assert!(
        !group_alive(old),
        "process group {old} of the killed agent's attempt survived its restart"
    );
    d.wait_task("1.1", "succeeded", 30);
    assert_eq!(lines(&ledger), ["ran"], "the killed attempt never wrote");
    assert_eq!(lines(&pids).len(), 2);
    assert_eq!(attempt_states(&d), ["lost", "succeeded"]);
    let log = EventLog::read(&d);
    log.only("the one loss", |e| e.is("attempt.lost", "1.1"));
    log.only("the one success", |e| e.is("task.succeeded", "1.1"));
}

#[test]
fn a_second_agent_with_a_live_id_exits_3_and_the_first_finishes_in_one_attempt() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let _first = d.agent("sre-1", &["sre"]);
    let plan = one_task(
        dir.path(),
        "echo started >> pids; sleep 2; echo ran >> ledger",
    );
    d.ctl_json(&["plan", "load", &plan, "--json"]);
    let (pids, ledger) = (dir.path().join("pids"), dir.path().join("ledger"));
    wait_for("the attempt to start", 10, || lines(&pids).len() == 1);

    // Another host (another workdir): the coordinator refuses the id.
    let elsewhere = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(elsewhere.path().join(".swarm")).expect("mkdir");
    std::fs::copy(
        dir.path().join(".swarm/agent.token"),
        elsewhere.path().join(".swarm/agent.token"),
    )
    .expect("token");
    let started = Instant::now();
    let mut twin = Agent::start(&d.url(), elsewhere.path(), "sre-1", &["sre"], &[]);
    assert_eq!(twin.wait_exit(10, "a twin on another host"), Some(3));
    assert!(started.elapsed() < Duration::from_secs(10));
    let said = agent_log(elsewhere.path(), "sre-1");
    assert!(said.contains("in use"), "{said}");

    // The same workdir: refused before it touches anything.
    let mut local_twin = Agent::start(&d.url(), dir.path(), "sre-1", &["sre"], &[]);
    assert_eq!(
        local_twin.wait_exit(10, "a twin in the same workdir"),
        Some(3)
    );

    d.wait_task("1.1", "succeeded", 20);
    assert_eq!(lines(&ledger), ["ran"]);
    assert_eq!(attempt_states(&d), ["succeeded"]);
    let log = EventLog::read(&d);
    assert!(log.all(|e| e.is("attempt.lost", "1.1")).is_empty(), "{log}");
}

#[test]
fn an_agent_refused_for_good_exits_2_with_the_reason() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let bad = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(bad.path().join(".swarm")).expect("mkdir");
    std::fs::write(bad.path().join(".swarm/agent.token"), "not-a-token\n").expect("write");
    let started = Instant::now();
    let mut agent = Agent::start(&d.url(), bad.path(), "sre-bad", &["sre"], &[]);
    assert_eq!(agent.wait_exit(10, "a bad token"), Some(2));
    assert!(started.elapsed() < Duration::from_secs(10));
    let said = agent_log(bad.path(), "sre-bad");
    assert!(said.contains("invalid token"), "{said}");

    // What the coordinator would refuse is refused before connecting.
    let mut spaced = Agent::start(&d.url(), dir.path(), "sre 1", &["sre"], &[]);
    assert_eq!(spaced.wait_exit(10, "an id with a space"), Some(2));
    let roles: Vec<String> = (0..100).map(|i| format!("role-{i}")).collect();
    let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
    let mut crowded = Agent::start(&d.url(), dir.path(), "many", &roles, &[]);
    assert_eq!(crowded.wait_exit(10, "100 roles"), Some(2));
    assert!(agent_log(dir.path(), "many").contains("at most 64"));
    let agents = d.ctl_json(&["agents", "--json"]);
    assert_eq!(agents.as_array().map(Vec::len), Some(0), "{agents}");
}

#[test]
fn an_agent_with_an_orphan_timeout_stops_its_work_and_exits_4_without_its_coordinator() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut d = Daemon::start(dir.path(), free_port());
    let mut agent = Agent::start(
        &d.url(),
        dir.path(),
        "prov-1",
        &["sre"],
        // `$$` names a host process only outside a PID namespace.
        &["--orphan-timeout", "2", "--sandbox", "off"],
    );
    let plan = one_task(dir.path(), "echo $$ >> pids; sleep 60; echo ran >> ledger");
    d.ctl_json(&["plan", "load", &plan, "--json"]);
    let pids = dir.path().join("pids");
    wait_for("the attempt to start", 10, || lines(&pids).len() == 1);
    let task: i32 = lines(&pids)[0].parse().expect("a pid");
    d.kill9();
    let killed = Instant::now();
    assert_eq!(agent.wait_exit(20, "an orphaned agent"), Some(4));
    assert!(
        killed.elapsed() >= Duration::from_secs(2),
        "it waited for the orphan timeout"
    );
    assert!(!group_alive(task), "the task's processes were stopped");
    assert!(lines(&dir.path().join("ledger")).is_empty());
    assert!(agent_log(dir.path(), "prov-1").contains("--orphan-timeout"));
}

#[test]
fn a_task_flooding_its_output_succeeds_and_its_log_shows_what_was_dropped() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let _agent = d.agent("sre-1", &["sre"]);
    let plan = one_task(dir.path(), "yes | head -c 200000000; echo ran >> ledger");
    let started = Instant::now();
    d.ctl_json(&["plan", "load", &plan, "--json"]);
    d.wait_task("1.1", "succeeded", 90);
    let took = started.elapsed();
    assert_eq!(lines(&dir.path().join("ledger")), ["ran"]);
    let out = d.ctl(&["task", "logs", "1.1"]);
    assert!(out.status.success());
    let logs = String::from_utf8_lossy(&out.stdout);
    assert!(
        logs.contains(" bytes of output dropped"),
        "no dropped-bytes marker in the log's tail:\n{}",
        &logs[logs.len().saturating_sub(500)..]
    );
    let show = d.ctl_json(&["task", "show", "1.1", "--json"]);
    let dropped = show["attempt_history"][0]["output_dropped"]
        .as_u64()
        .unwrap_or_default();
    assert!(
        dropped > 0 && dropped < 200_000_000,
        "task show counts the shed bytes: {show}"
    );
    assert!(
        logs.contains(&format!("[{dropped} bytes of output dropped")),
        "the last marker names the total, {dropped}"
    );
    let log = EventLog::read(&d);
    log.only("the attempt's success", |e| {
        e.is("attempt.succeeded", "1.1")
    });
    assert!(log.all(|e| e.is("attempt.lost", "1.1")).is_empty(), "{log}");
    eprintln!("200 MB of output: the result arrived after {took:?}");
}
