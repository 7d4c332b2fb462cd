//! The agent's side of the lease: an agent whose coordinator stops
//! answering (here the swarmd process is frozen with SIGSTOP: its sockets
//! stay open, nothing answers) stops its running attempt — the whole
//! process tree — before its lease runs out, says so in its log, and once
//! the coordinator answers again the attempt counts as lost and runs
//! again. The ledger the task writes shows the cut-off attempt never
//! finished.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use swarm_tests::events::EventLog;
use swarm_tests::relay::Relay;
use swarm_tests::{
    free_port, lines, wait_for, workspace_binary, write_plan, Agent, Daemon, FAST_ENV,
};

/// The lease this test's swarmd grants, and its heartbeat interval.
const LEASE_MS: u64 = 8_000;
const HEARTBEAT_MS: u64 = 500;

/// Attempt 1 writes its start, then sleeps long past the lease before it
/// would write its end; later attempts finish at once. The sleep's odd
/// length finds its process in /proc.
const RUN: &str = r#"echo "start $SWARM_ATTEMPT" >> ledger; if [ "$SWARM_ATTEMPT" = 1 ]; then sleep 30.25; fi; echo "done $SWARM_ATTEMPT" >> ledger"#;

/// Starts swarmd with the test's lease, as [`Daemon::start`] does
/// otherwise.
fn daemon(dir: &Path) -> Daemon {
    daemon_on(dir, free_port())
}

/// [`daemon`] on a given port (to start it again where it was).
fn daemon_on(dir: &Path, port: u16) -> Daemon {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("swarmd.log"))
        .expect("daemon log");
    let child = Command::new(workspace_binary("swarmd"))
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--workdir")
        .arg(dir)
        .envs(FAST_ENV.iter().copied())
        .env("SWARM_LEASE_TTL_MS", LEASE_MS.to_string())
        .env("SWARM_HEARTBEAT_MS", HEARTBEAT_MS.to_string())
        .env_remove("SWARM_ADMIN_TOKEN")
        .env_remove("SWARM_AGENT_TOKEN")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("start swarmd");
    let d = Daemon {
        child,
        port,
        workdir: dir.to_path_buf(),
        scheme: "http",
        client_args: Vec::new(),
    };
    wait_for("swarmd to answer", 20, || {
        dir.join(".swarm/admin.token").exists() && d.ctl(&["status", "--json"]).status.success()
    });
    d
}

/// Whether a live process has `needle` among its arguments.
fn process_with(needle: &str) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|e| {
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .next();
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        !matches!(state, Some("Z" | "X") | None)
            && cmdline
                .split(|b| *b == 0)
                .any(|arg| arg == needle.as_bytes())
    })
}

fn signal(pid: u32, sig: &str) {
    let sent = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(sent.success(), "kill -{sig} {pid}");
}

#[test]
fn an_agent_cut_off_from_a_frozen_coordinator_stops_its_attempt_before_its_lease_ends() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = daemon(dir.path());
    let _agent = d.agent("sre-1", &["sre"]);
    let plan = format!(
        "# Lease\n\n### Day 1: Work\n\n**Task 1.1**: Work\n- **Agent**: SRE\n- **Priority**: P0\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `{RUN}`\n"
    );
    let plan = write_plan(dir.path(), "plan.md", &plan);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let ledger = dir.path().join("ledger");
    wait_for("the first attempt to start", 20, || {
        lines(&ledger) == ["start 1"] && process_with("30.25")
    });

    signal(d.child.id(), "STOP");
    let frozen = Instant::now();
    let log = dir.path().join("agent-sre-1.log");
    let said = || std::fs::read_to_string(&log).unwrap_or_default();
    wait_for("the agent to stop its attempt", 20, || {
        said().contains("before the coordinator can hand them on")
    });
    let took = frozen.elapsed();
    assert!(
        took < Duration::from_millis(LEASE_MS),
        "the attempt was stopped {took:?} after the coordinator froze, past its lease:\n{}",
        said()
    );
    assert!(
        took > Duration::from_millis(LEASE_MS / 2),
        "the attempt was stopped {took:?} after the coordinator froze, long before the lease \
         minus its margin:\n{}",
        said()
    );
    wait_for("the attempt's processes to end", 10, || {
        !process_with("30.25")
    });
    assert_eq!(
        lines(&ledger),
        ["start 1"],
        "the cut-off attempt never finished"
    );

    // The coordinator answers again: the stopped attempt counts as lost
    // (not against the task's retries) and runs again.
    signal(d.child.id(), "CONT");
    let done = d.wait_task("1.1", "succeeded", 60);
    assert_eq!(lines(&ledger), ["start 1", "start 2", "done 2"], "{done}");
    let show = d.ctl_json(&["task", "show", "1.1", "--json"]);
    let states: Vec<&str> = show["attempt_history"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["state"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(states, ["lost", "succeeded"], "{show}");
}

#[test]
fn an_attempt_longer_than_the_lease_runs_to_its_end_while_the_coordinator_answers() {
    // FAST_ENV's lease is 2.5 s; nothing but the agents' heartbeats and
    // probes passes on their sessions while the task runs three times as
    // long, and one of the two agents idles all that time.
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let _one = d.agent("sre-1", &["sre"]);
    let _two = d.agent("sre-2", &["sre"]);
    wait_for("both agents to connect", 20, || {
        d.ctl_json(&["agents", "--json"]).as_array().map(Vec::len) == Some(2)
    });
    let plan = "# Long\n\n### Day 1: Work\n\n**Task 1.1**: Long\n- **Agent**: SRE\n- **Priority**: P0\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `echo start >> ledger; sleep 7.5; echo done >> ledger`\n";
    let plan = write_plan(dir.path(), "plan.md", plan);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let done = d.wait_task("1.1", "succeeded", 60);
    assert_eq!(
        lines(&dir.path().join("ledger")),
        ["start", "done"],
        "{done}"
    );
    let show = d.ctl_json(&["task", "show", "1.1", "--json"]);
    assert_eq!(
        show["attempt_history"].as_array().map(Vec::len),
        Some(1),
        "one attempt, never stopped: {show}"
    );
    let log = EventLog::read(&d);
    assert!(
        log.all(|e| e.kind == "agent.disconnected").is_empty(),
        "no session was given up:\n{log}"
    );
    for id in ["sre-1", "sre-2"] {
        let said =
            std::fs::read_to_string(dir.path().join(format!("agent-{id}.log"))).unwrap_or_default();
        assert!(!said.contains("no acknowledgement"), "{id}:\n{said}");
    }
}

/// Runs longer than the lease: it writes its end only if it was never
/// stopped.
const PAST_THE_LEASE: &str =
    r#"echo "start $SWARM_ATTEMPT" >> ledger; sleep 9.25; echo "done $SWARM_ATTEMPT" >> ledger"#;

#[test]
fn a_coordinator_restarted_behind_a_dead_connection_loses_nothing() {
    // The agent reaches swarmd through a relay. While an attempt runs, the
    // relay's open connection goes silent (the agent sees no error: no FIN,
    // no reset, its writes vanish) and swarmd is killed and started again.
    // The agent notices the dead connection by its unanswered health probe
    // and reconnects at once, well before its lease's rule would stop the
    // attempt, so the attempt runs to its end once.
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let mut first = daemon_on(dir.path(), port);
    let relay = Relay::start(port);
    let url = format!("http://127.0.0.1:{}", relay.port());
    let _agent = Agent::start(&url, dir.path(), "sre-1", &["sre"], &[]);
    let plan = format!(
        "# Relay\n\n### Day 1: Work\n\n**Task 1.1**: Work\n- **Agent**: SRE\n- **Priority**: P0\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `{PAST_THE_LEASE}`\n"
    );
    let plan = write_plan(dir.path(), "plan.md", &plan);
    first.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let ledger = dir.path().join("ledger");
    wait_for("the attempt to start", 20, || {
        lines(&ledger) == ["start 1"] && process_with("9.25")
    });

    relay.silence_open_connections();
    first.kill9();
    let second = daemon_on(dir.path(), port);
    let done = second.wait_task("1.1", "succeeded", 60);
    let said = std::fs::read_to_string(dir.path().join("agent-sre-1.log")).unwrap_or_default();
    assert_eq!(
        lines(&ledger),
        ["start 1", "done 1"],
        "the attempt ran once, to its end: {done}\n{said}"
    );
    let show = second.ctl_json(&["task", "show", "1.1", "--json"]);
    assert_eq!(
        show["attempt_history"].as_array().map(Vec::len),
        Some(1),
        "one attempt, never stopped: {show}"
    );
    assert!(
        said.contains("did not answer a health check"),
        "the agent says why it gave the session up:\n{said}"
    );
    assert!(!said.contains("no acknowledgement"), "{said}");
}
