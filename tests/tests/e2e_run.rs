//! `swarmd run` on the example plan, as the README tells a new user to.

use std::process::Command;

use swarm_tests::{assert_no_escape_codes, examples_dir, workspace_binary};

#[test]
fn swarmd_run_executes_the_example_plan_to_the_end() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = Command::new(workspace_binary("swarmd"))
        .arg("run")
        .arg(examples_dir().join("release-rehearsal.md"))
        .arg("--workdir")
        .arg(dir.path())
        .env("SWARM_RETRY_BACKOFF_MS", "100")
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR")
        .env_remove("SWARM_LISTEN")
        .output()
        .expect("swarmd run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("8/8 tasks succeeded"), "{stdout}");
    assert!(
        stdout.contains("↻ 2.3 attempt failed"),
        "the flaky task retried: {stdout}"
    );
    // Output into pipes and logs into files: plain text, even with colour
    // allowed.
    assert_no_escape_codes("swarmd run's stdout", &stdout);
    assert_no_escape_codes("swarmd run's stderr", &String::from_utf8_lossy(&out.stderr));
    let logs = dir.path().join(".swarm/agents");
    let mut agent_logs = 0;
    for entry in std::fs::read_dir(&logs).expect("agent logs") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("log");
        assert!(text.contains("INFO"), "{}: {text}", path.display());
        assert_no_escape_codes(&path.display().to_string(), &text);
        agent_logs += 1;
    }
    assert_eq!(agent_logs, 6, "one local agent per role");
    assert!(dir.path().join("out/deployed.txt").exists());
    // Task 1.2 wrote shared memory with `swarmctl memory put` from inside
    // the task; it sits in claude-flow's memory_entries layout.
    let db = rusqlite::Connection::open(dir.path().join(".swarm/memory.db")).expect("db");
    let (content, id): (String, String) = db
        .query_row("SELECT content, id FROM memory_entries WHERE namespace = 'devops' AND key = 'release/config'", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("entry written by the task");
    assert_eq!(content, "env=prod db=primary");
    assert!(id.starts_with("entry_"), "{id}");
    let state = rusqlite::Connection::open(dir.path().join(".swarm/swarmd.db")).expect("db");
    let succeeded: i64 = state
        .query_row(
            "SELECT COUNT(*) FROM swarm_tasks WHERE state = 'succeeded'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(succeeded, 8);
}

#[test]
fn swarmd_run_refuses_an_invalid_plan_with_its_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let plan = swarm_tests::write_plan(
        dir.path(),
        "bad.md",
        "# Bad\n\n**Task 1.1**: x\n- **Agent**: Wizard\n- **Duration**: 1h\n",
    );
    let out = Command::new(workspace_binary("swarmd"))
        .arg("run")
        .arg(&plan)
        .arg("--workdir")
        .arg(dir.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.md:4: error: task 1.1: unknown role 'Wizard'"),
        "{err}"
    );
}
