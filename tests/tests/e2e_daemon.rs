//! A daemon, agents and swarmctl, started separately as an operator would:
//! Run/Check tasks, a gang, retries, a failure that blocks its dependents
//! and an operator who skips it.

use swarm_tests::{free_port, task_states, write_plan, Daemon};

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
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(
        d.wait_task("1.1", "running", 1)["state"],
        "running",
        "a manual task runs until someone marks it"
    );
    let done = d.ctl_json(&["task", "done", "1.1", "--json"]);
    assert_eq!(done["state"], "succeeded");
    d.wait_status(10, |s| s["state"] == "succeeded");
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
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    assert_eq!(d.ctl_json(&["pause", "--json"])["state"], "paused");
    d.wait_task("1.1", "succeeded", 10);
    std::thread::sleep(std::time::Duration::from_millis(400));
    assert_eq!(
        d.wait_task("1.2", "ready", 1)["state"],
        "ready",
        "a paused plan dispatches nothing new"
    );
    assert_eq!(d.ctl_json(&["resume", "--json"])["state"], "running");
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
}
