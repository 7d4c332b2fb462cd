//! Another process holding a write lock is never fatal: on the
//! scheduler's store (`swarmd.db`) it is waited out and the plan completes;
//! on the shared memory (`memory.db`) memory calls are answered from
//! swarmd's copy in `swarmd.db` and reach the file once the lock is gone,
//! while scheduling goes on.

use std::time::{Duration, Instant};

use swarm_tests::{free_port, write_plan, Daemon};

#[test]
fn a_ten_second_foreign_write_lock_is_waited_out() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut d = Daemon::start(dir.path(), free_port());
    let _a = d.agent("sre-1", &["sre"]);
    let mut plan = String::from("# Lock\n\n### Day 1: Work\n\n");
    for i in 1..=4 {
        let deps = if i == 1 {
            "None".to_string()
        } else {
            format!("Task 1.{}", i - 1)
        };
        plan.push_str(&format!(
            "**Task 1.{i}**: Step {i}\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: {deps}\n- **Run**: `sleep 1; echo 1.{i} >> ledger.txt; swarmctl memory put step-{i} done`\n\n"
        ));
    }
    let plan = write_plan(dir.path(), "plan.md", &plan);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    d.wait_task("1.1", "running", 10);

    // A writer that behaves like any other tool on the file: it takes the
    // write lock and sits on it.
    let db = rusqlite::Connection::open(dir.path().join(".swarm/swarmd.db")).expect("open");
    db.execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    let held = Instant::now();
    std::thread::sleep(Duration::from_secs(10));
    assert!(
        d.child.try_wait().expect("poll").is_none(),
        "swarmd still runs after {} s of a foreign lock",
        held.elapsed().as_secs()
    );
    db.execute_batch("COMMIT").expect("release");

    d.wait_status(60, |s| s["state"] == "succeeded");
    let ledger = std::fs::read_to_string(dir.path().join("ledger.txt")).unwrap_or_default();
    assert_eq!(
        ledger.lines().collect::<Vec<_>>(),
        ["1.1", "1.2", "1.3", "1.4"],
        "every step ran once, in order"
    );
    for i in 1..=4 {
        let got = d.ctl_json(&["memory", "get", &format!("step-{i}"), "--json"]);
        assert_eq!(got["value"], "done", "{got}");
    }
    let log = std::fs::read_to_string(dir.path().join("swarmd.log")).unwrap_or_default();
    assert!(
        log.contains("is locked by another process"),
        "the wait is logged"
    );
    d.stop();
}

#[test]
fn a_locked_memory_db_never_fails_a_memory_call_and_scheduling_goes_on() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut d = Daemon::start(dir.path(), free_port());
    let _a = d.agent("sre-1", &["sre"]);
    d.ctl_json(&["memory", "put", "before", "lock", "--json"]);
    let file = dir.path().join(".swarm/memory.db");
    let db = rusqlite::Connection::open(&file).expect("open");
    db.execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    let plan = write_plan(
        dir.path(),
        "plan.md",
        "# Go on\n\n### Day 1: Work\n\n**Task 1.1**: Work without memory\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Run**: `echo ran >> ledger.txt`\n",
    );
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    d.wait_status(20, |s| s["state"] == "succeeded");
    // The lock holds the file, not swarmd: the write is acknowledged from
    // swarmd's copy and read back at once.
    let out = d.ctl(&["memory", "put", "during", "lock"]);
    assert!(
        out.status.success(),
        "a write under a foreign lock is answered: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        d.ctl_json(&["memory", "get", "during", "--json"])["value"],
        "lock"
    );
    db.execute_batch("COMMIT").expect("release");
    drop(db);
    // Once the lock is gone the write reaches the file, read with plain
    // SQLite.
    swarm_tests::wait_for("the write to reach memory.db", 30, || {
        rusqlite::Connection::open(&file)
            .and_then(|c| {
                c.query_row(
                    "SELECT content FROM memory_entries WHERE key = 'during'",
                    [],
                    |r| r.get::<_, String>(0),
                )
            })
            .is_ok_and(|v| v == "lock")
    });
    d.ctl_json(&["memory", "put", "after", "lock", "--json"]);
    assert_eq!(
        d.ctl_json(&["memory", "get", "before", "--json"])["value"],
        "lock"
    );
    d.stop();
}
