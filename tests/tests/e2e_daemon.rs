//! A daemon, agents and swarmctl, started separately as an operator would:
//! Run/Check tasks, a gang, retries, a failure that blocks its dependents
//! and an operator who skips it.

use std::io::Read as _;
use std::process::Stdio;

use swarm_tests::events::EventLog;
use swarm_tests::{assert_no_escape_codes, free_port, task_states, write_plan, Daemon};

const PLAN: &str = "# Daemon test plan

### Day 1: Build

**Task 1.1**: Build
- **Agent**: Coder
- **Priority**: P0
- **Duration**: 1 hour
- **Dependencies**: None
- **Run**: `echo building; echo warn >&2; echo built > build.txt`
- **Check**: `test -s build.txt`

**Task 1.2**: Review and test together
- **Agent**: Reviewer + Tester
- **Priority**: P1
- **Duration**: 1 hour
- **Dependencies**: Task 1.1
- **Run**: `test \"$SWARM_ROLE\" = reviewer && echo \"lead $SWARM_ROLE attempt $SWARM_ATTEMPT\"`
- **Gang**: lead

**Task 1.3**: Flaky integration test
- **Agent**: Tester
- **Priority**: P1
- **Duration**: 1 hour
- **Dependencies**: Task 1.1
- **Run**: `n=$(cat flaky 2>/dev/null || echo 0); echo $((n+1)) > flaky; test $n -ge 2`
- **Retries**: 3

### Day 2: Ship

**Task 2.1**: Broken step
- **Agent**: Coder
- **Priority**: P1
- **Duration**: 1 hour
- **Run**: `echo nope; exit 7`

**Task 2.2**: After the broken step
- **Agent**: Coder
- **Priority**: P2
- **Duration**: 1 hour
- **Dependencies**: Task 2.1
- **Run**: `echo after > after.txt`
";

#[test]
fn a_plan_runs_with_gangs_retries_failures_and_operator_actions() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let idle = d.ctl_json(&["status", "--json"]);
    assert_eq!(idle["state"], "idle");
    let _coder = d.agent("coder-1", &["coder"]);
    let _reviewer = d.agent("reviewer-1", &["reviewer"]);
    let _tester = d.agent("tester-1", &["tester"]);
    let plan = write_plan(dir.path(), "plan.md", PLAN);
    let loaded = d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    assert_eq!(loaded["tasks"], 5);
    // A second plan while this one runs is refused, and changes nothing.
    let again = d.ctl(&["plan", "load", &plan.display().to_string()]);
    assert_eq!(
        again.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("is still running"));

    let status = d.wait_status(30, |s| s["state"] == "failed");
    watched_status_is_plain_text_in_a_pipe(&d);
    assert_eq!(status["tasks"]["total"], 5);
    assert_eq!(status["tasks"]["succeeded"], 3);
    assert_eq!(status["tasks"]["failed"], 1);
    assert_eq!(status["tasks"]["blocked"], 1);
    let tasks = d.ctl_json(&["tasks", "--json"]);
    let states = task_states(&tasks);
    assert_eq!(states["2.2"], "blocked");
    let t13 = tasks
        .as_array()
        .and_then(|a| a.iter().find(|t| t["id"] == "1.3"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(t13["attempts"], 3, "two failures, then success: {t13}");
    let t12 = tasks
        .as_array()
        .and_then(|a| a.iter().find(|t| t["id"] == "1.2"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        t12["agents"],
        serde_json::json!(["reviewer-1", "tester-1"]),
        "the gang ran on both agents, lead first"
    );
    let blocked = tasks
        .as_array()
        .and_then(|a| a.iter().find(|t| t["id"] == "2.2"))
        .cloned()
        .unwrap_or_default();
    assert!(
        blocked["reason"]
            .as_str()
            .unwrap_or("")
            .contains("dependency 2.1 failed"),
        "{blocked}"
    );

    // Logs of the failed task and of the build, with stderr kept apart.
    let logs = d.ctl(&["task", "logs", "2.1"]);
    assert_eq!(String::from_utf8_lossy(&logs.stdout), "nope\n");
    let logs = d.ctl(&["task", "logs", "1.1"]);
    assert_eq!(String::from_utf8_lossy(&logs.stdout), "building\n");
    assert_eq!(String::from_utf8_lossy(&logs.stderr), "warn\n");
    let show = d.ctl_json(&["task", "show", "2.1", "--json"]);
    assert_eq!(show["attempt_history"][0]["exit_code"], 7);
    assert_eq!(show["attempt_history"][0]["state"], "failed");

    // The operator skips the broken step: its dependent runs, the plan succeeds.
    let skipped = d.ctl_json(&["task", "skip", "2.1", "--reason", "not needed", "--json"]);
    assert_eq!(skipped["state"], "skipped");
    d.wait_status(20, |s| s["state"] == "succeeded");
    assert!(dir.path().join("after.txt").exists());

    // Bad input: a clear error, exit code, nothing changed.
    let unknown = d.ctl(&["task", "done", "9.9"]);
    assert_eq!(unknown.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no task '9.9'"));
    let already = d.ctl(&["task", "done", "1.1"]);
    assert_eq!(already.status.code(), Some(3));
    let retry_ok = d.ctl(&["task", "retry", "1.1"]);
    assert_eq!(
        retry_ok.status.code(),
        Some(3),
        "only dead tasks can be retried"
    );
    let events = d.ctl(&["events", "--json"]);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&events.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    for (i, e) in lines.iter().enumerate() {
        assert_eq!(e["seq"], (i + 1) as u64, "the event log has no gap");
    }
    assert!(lines.iter().any(|e| e["kind"] == "plan.succeeded"));
    // Logs written to files carry no colour codes.
    for log in ["swarmd.log", "agent-coder-1.log", "agent-tester-1.log"] {
        let text = std::fs::read_to_string(dir.path().join(log)).expect("log");
        assert!(text.contains("INFO"), "{log}: {text}");
        assert_no_escape_codes(log, &text);
    }
}

/// `status --watch` into a pipe: snapshot after snapshot, a blank line
/// apart, no clear-screen codes; the failed plan says what ended it.
fn watched_status_is_plain_text_in_a_pipe(d: &Daemon) {
    let mut watch = d
        .ctl_command(&["status", "--watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("status --watch");
    std::thread::sleep(std::time::Duration::from_millis(2_500));
    let _ = watch.kill();
    let mut out = String::new();
    watch
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("read");
    let _ = watch.wait();
    assert_no_escape_codes("status --watch", &out);
    assert!(out.starts_with("plan: "), "{out}");
    assert!(out.contains("\n\nplan: "), "two snapshots: {out}");
    assert!(
        out.contains("state: failed (1 failed, 1 blocked) · 3/5 done"),
        "{out}"
    );
    assert!(!out.contains("next checkpoint"), "a finished plan: {out}");
    let tasks = String::from_utf8_lossy(&d.ctl(&["tasks"]).stdout).into_owned();
    let broken = tasks.lines().find(|l| l.starts_with("2.1 ")).unwrap_or("");
    assert!(broken.contains("Broken step — "), "{tasks}");
    assert!(
        !broken.contains("failed:"),
        "the state says it once: {broken}"
    );
}

#[test]
fn a_manual_task_waits_for_an_operator() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let _w = d.agent("writer-1", &["writer"]);
    let plan = write_plan(
        dir.path(),
        "manual.md",
        "# Manual\n\n### Day 1: Docs\n\n**Task 1.1**: Write the runbook\n- **Agent**: Technical Writer\n- **Priority**: P1\n- **Duration**: 2 hours\n\n**Task 1.2**: Publish\n- **Agent**: Writer\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: Task 1.1\n- **Run**: `echo published`\n",
    );
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    d.wait_task("1.1", "running", 10);
    // Time in which a manual task must not end on its own.
    std::thread::sleep(std::time::Duration::from_millis(500));
    // A manual task runs until someone marks it: so far 1.1 was offered
    // (to an agent that leaves it to an operator, which is said) and
    // started, and nothing ended it.
    let until_done = EventLog::read(&d);
    let early: Vec<&str> = until_done
        .all(|e| e.task_id == "1.1")
        .iter()
        .map(|e| e.kind.as_str())
        .collect();
    assert_eq!(
        early,
        [
            "task.ready",
            "task.running",
            "attempt.offered",
            "task.waiting_operator",
            "attempt.started"
        ],
        "before the operator acted:\n{until_done}"
    );
    let done = d.ctl_json(&["task", "done", "1.1", "--json"]);
    assert_eq!(done["state"], "succeeded");
    d.wait_status(10, |s| s["state"] == "succeeded");
    // Then it succeeded because it was marked, on its one and only attempt.
    let log = EventLog::read(&d);
    let started = log.only("1.1 starting", |e| e.is("attempt.started", "1.1"));
    let ended = log.only("1.1's attempt ending", |e| {
        e.task_id == "1.1" && e.kind.starts_with("attempt.") && e.seq > started.seq
    });
    assert_eq!(
        (ended.kind.as_str(), ended.message.as_str()),
        ("attempt.succeeded", "marked succeeded by an operator"),
        "{log}"
    );
    let succeeded = log.only("1.1 succeeding", |e| e.is("task.succeeded", "1.1"));
    assert!(
        succeeded.seq > until_done.last_seq() && succeeded.message == "marked done by an operator",
        "1.1 succeeded by the operator's hand: {succeeded}\n{log}"
    );
    assert!(
        succeeded.at_ms - started.at_ms >= 500,
        "1.1 ran for the whole wait: {started} .. {succeeded}"
    );
    log.only("1.1's one attempt", |e| e.is("attempt.offered", "1.1"));
    let show = d.ctl_json(&["task", "show", "1.1", "--json"]);
    assert_eq!(
        show["attempt_history"].as_array().map(Vec::len),
        Some(1),
        "{show}"
    );
    let agents = d.ctl_json(&["agents", "--json"]);
    assert_eq!(agents[0]["busy"], 0, "the agent's slot was freed: {agents}");
}

#[test]
fn pause_resume_retry_and_the_command_template() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    // Tasks without a Run command go to the agent's command template, fed
    // the task brief on stdin.
    let _a = swarm_tests::Agent::start(
        &d.url(),
        dir.path(),
        "ai-1",
        &["coder"],
        &["--exec", "cat > brief-{task}.md && sleep 1"],
    );
    let plan = write_plan(
        dir.path(),
        "plan.md",
        "# Template\n\n### Day 1: Code\n\n**Task 1.1**: Implement the parser\n- **Agent**: Coder\n- **Priority**: P1\n- **Duration**: 2 hours\n- **Deliverables**:\n  - A parser that never panics\n\n**Task 1.2**: Gate\n- **Agent**: Coder\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: Task 1.1\n- **Run**: `test -f go`\n\n**Task 1.3**: After the gate\n- **Agent**: Coder\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: Task 1.2\n- **Run**: `echo done > after-gate.txt`\n",
    );
    let no_plan = d.ctl(&["pause"]);
    assert_eq!(no_plan.status.code(), Some(3), "nothing to pause yet");
    // The agent is there when the plan arrives, so 1.1 is offered at once.
    EventLog::wait(&d, 10, "ai-1 connecting", |e| {
        e.kind == "agent.connected" && e.agent_id == "ai-1"
    });
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    assert_eq!(
        d.ctl_json(&["--as", "Ann Lee", "pause", "--json"])["state"],
        "paused"
    );
    // 1.1, offered before the pause, finishes; that makes 1.2 ready.
    d.wait_task("1.1", "succeeded", 10);
    // Time in which a paused plan must not dispatch the ready 1.2.
    std::thread::sleep(std::time::Duration::from_millis(400));

    // A paused plan dispatches nothing new: since plan.paused no attempt
    // was offered and no task started running; only an attempt offered
    // before the pause may still start. 1.2 became ready in that time.
    let while_paused = EventLog::read(&d);
    let paused = while_paused.only("the pause", |e| e.kind == "plan.paused");
    // Who paused it: the token's name and the name given with --as.
    assert_eq!(paused.actor, "admin (as Ann Lee)", "{while_paused}");
    let offered_before: Vec<u64> = while_paused
        .before(paused)
        .iter()
        .filter(|e| e.kind == "attempt.offered")
        .map(|e| e.fence)
        .collect();
    let dispatched: Vec<String> = while_paused
        .after(paused)
        .iter()
        .filter(|e| {
            e.kind == "attempt.offered"
                || e.kind == "task.running"
                || (e.kind == "attempt.started" && !offered_before.contains(&e.fence))
        })
        .map(ToString::to_string)
        .collect();
    assert!(
        dispatched.is_empty(),
        "a paused plan dispatches nothing new, but: {dispatched:?}\n{while_paused}"
    );
    let ready = while_paused.only("1.2 becoming ready", |e| e.is("task.ready", "1.2"));
    assert!(
        ready.seq > paused.seq,
        "1.2 became ready while paused:\n{while_paused}"
    );

    // Resumed, the plan dispatches again, 1.2 first, after waiting the
    // whole pause.
    assert_eq!(d.ctl_json(&["resume", "--json"])["state"], "running");
    let offered = EventLog::wait(&d, 10, "1.2 being offered", |e| {
        e.is("attempt.offered", "1.2")
    });
    let log = EventLog::read(&d);
    let resumed = log.only("the resume", |e| e.kind == "plan.resumed");
    assert!(
        offered.seq > resumed.seq,
        "1.2 was first offered after the resume: {offered}\n{log}"
    );
    assert!(
        resumed.at_ms - ready.at_ms >= 400,
        "1.2 waited while paused: {ready} .. {resumed}"
    );
    let brief = std::fs::read_to_string(dir.path().join("brief-1.1.md"))
        .expect("the template got the brief");
    assert!(
        brief.contains("# Task 1.1: Implement the parser")
            && brief.contains("A parser that never panics"),
        "{brief}"
    );

    // The gate fails (no retries): its dependent is blocked until an
    // operator fixes the cause and retries it.
    d.wait_task("1.2", "failed", 10);
    d.wait_task("1.3", "blocked", 5);
    std::fs::write(dir.path().join("go"), "").expect("write");
    assert_eq!(
        d.ctl_json(&["task", "retry", "1.2", "--json"])["state"],
        "ready"
    );
    d.wait_status(10, |s| s["state"] == "succeeded");
    assert!(dir.path().join("after-gate.txt").exists());
    // As stored: the operators' events name them, the loop's name nobody.
    let db = rusqlite::Connection::open(dir.path().join(".swarm/swarmd.db")).expect("open");
    let actor = |kind: &str, task: &str| -> Option<String> {
        db.query_row(
            "SELECT actor FROM swarm_events WHERE kind = ?1 AND IFNULL(task_id, '') = ?2 ORDER BY seq LIMIT 1",
            [kind, task],
            |r| r.get(0),
        )
        .expect("the event")
    };
    assert_eq!(
        actor("plan.paused", "").as_deref(),
        Some("admin (as Ann Lee)")
    );
    assert_eq!(actor("plan.resumed", "").as_deref(), Some("admin"));
    assert_eq!(actor("plan.loaded", "").as_deref(), Some("admin"));
    assert_eq!(actor("task.ready", "1.1"), None);
    assert_eq!(actor("attempt.offered", "1.3"), None);
}
