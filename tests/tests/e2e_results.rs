//! Results down the DAG with the real binaries: a task's `$SWARM_RESULT`
//! file (or else the tail of its output) is kept, shown in its dependents'
//! briefs under "Upstream results", stored in shared memory
//! (`swarm:results`, readable in `.swarm/memory.db` with plain SQLite) and
//! printed by `swarmctl task result ID`.

use swarm_tests::{free_port, write_plan, Agent, Daemon};

const PLAN: &str = "# Results\n\n### Day 1: Load and tune\n\n\
**Task 3.1**: Load test the search API\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n\
- **Run**: `echo 'p99 420 ms on /search; slowest query: orders_by_user' > \"$SWARM_RESULT\"; echo progress noise`\n\n\
**Task 3.3**: Count the slow queries\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n\
- **Run**: `echo first line; echo 3 slow queries`\n\n\
**Task 3.2**: Optimise the slow queries\n- **Agent**: Backend\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: Task 3.1, Task 3.3\n";

#[test]
fn results_reach_dependents_briefs_shared_memory_and_swarmctl() {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path();
    let d = Daemon::start(work, free_port());
    let plan = write_plan(work, "plan.md", PLAN);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let _sre = d.agent("sre-1", &["SRE"]);
    // The backend agent's template keeps the brief it is fed.
    let _backend = Agent::start(
        &d.url(),
        work,
        "backend-1",
        &["Backend"],
        &["--exec", "cat > \"brief-$SWARM_TASK_ID.md\""],
    );
    let status = d.wait_status(60, |s| s["state"] == "succeeded" || s["state"] == "failed");
    assert_eq!(status["state"], "succeeded", "{status}");

    let brief = std::fs::read_to_string(work.join("brief-3.2.md")).expect("3.2's brief");
    let upstream = brief
        .split_once("## Upstream results")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("no upstream section in:\n{brief}"));
    assert!(
        upstream.contains("### Task 3.1: Load test the search API\np99 420 ms on /search; slowest query: orders_by_user\n"),
        "the result file, not the output: {upstream}"
    );
    assert!(!upstream.contains("progress noise"), "{upstream}");
    assert!(
        upstream.contains("### Task 3.3: Count the slow queries\nfirst line\n3 slow queries\n"),
        "no result file: the tail of the output: {upstream}"
    );

    let out = d.ctl(&["task", "result", "3.1"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "p99 420 ms on /search; slowest query: orders_by_user\n"
    );
    let none = d.ctl(&["task", "result", "3.2"]);
    assert_eq!(none.status.code(), Some(4), "3.2 printed nothing");
    let why = String::from_utf8_lossy(&none.stderr);
    assert!(
        why.contains("task 3.2 succeeded but wrote nothing to $SWARM_RESULT and printed nothing"),
        "{why}"
    );

    // claude-flow reads the same rows.
    let db = rusqlite::Connection::open_with_flags(
        work.join(".swarm/memory.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("memory.db");
    let value: String = db
        .query_row(
            "SELECT content FROM memory_entries WHERE namespace = 'swarm:results' AND key = '3.3'",
            [],
            |r| r.get(0),
        )
        .expect("3.3's result in memory.db");
    assert_eq!(value, "first line\n3 slow queries\n");
}
