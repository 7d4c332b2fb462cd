//! A task's `SWARM_TOKEN` is minted for its attempt: shared memory and its
//! own task, nothing else, and dead once the attempt ends. The agent's
//! token never reaches a task.

use swarm_tests::{free_port, write_plan, Daemon};

const PLAN: &str = "# Tokens\n\n### Day 1: Work\n\n**Task 1.1**: Try everything\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `printf %s \"$SWARM_TOKEN\" > token.txt; swarmctl memory put from-task yes >/dev/null && echo memory=ok >> ledger.txt; swarmctl pause >/dev/null 2>&1; echo pause=$? >> ledger.txt; swarmctl task show 1.1 --json >/dev/null 2>&1; echo own=$? >> ledger.txt; swarmctl task show 1.2 >/dev/null 2>&1; echo other=$? >> ledger.txt`\n\n**Task 1.2**: After\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: Task 1.1\n- **Run**: `true`\n";

#[test]
fn a_task_token_reaches_memory_and_its_own_task_and_dies_with_the_attempt() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let _a = d.agent("sre-1", &["sre"]);
    let plan = write_plan(dir.path(), "plan.md", PLAN);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    d.wait_status(30, |s| s["state"] == "succeeded");
    let ledger = std::fs::read_to_string(dir.path().join("ledger.txt")).expect("ledger");
    let lines: Vec<&str> = ledger.lines().collect();
    assert_eq!(lines[0], "memory=ok", "{ledger}");
    assert_ne!(
        lines[1], "pause=0",
        "a task cannot pause the plan: {ledger}"
    );
    assert_eq!(lines[2], "own=0", "a task reads its own task: {ledger}");
    assert_ne!(lines[3], "other=0", "but no other: {ledger}");
    assert_eq!(d.ctl_json(&["status", "--json"])["state"], "succeeded");

    let token = std::fs::read_to_string(dir.path().join("token.txt")).expect("token");
    let agent =
        std::fs::read_to_string(dir.path().join(".swarm/agent.token")).expect("agent token");
    let admin =
        std::fs::read_to_string(dir.path().join(".swarm/admin.token")).expect("admin token");
    assert!(!token.is_empty());
    assert_ne!(
        token.trim(),
        agent.trim(),
        "the agent's token never reaches a task"
    );
    assert_ne!(token.trim(), admin.trim());
    // The attempt is over: its token is dead.
    let after = std::process::Command::new(swarm_tests::workspace_binary("swarmctl"))
        .args(["--coordinator", &d.url(), "--token-file"])
        .arg(dir.path().join("token.txt"))
        .args(["memory", "get", "from-task"])
        .env_remove("SWARM_TOKEN")
        .output()
        .expect("swarmctl");
    assert!(!after.status.success(), "a dead token still works");
    assert!(
        String::from_utf8_lossy(&after.stderr).contains("invalid token"),
        "{}",
        String::from_utf8_lossy(&after.stderr)
    );
    assert_eq!(
        d.ctl_json(&["memory", "get", "from-task", "--json"])["value"],
        "yes"
    );
}
