//! A plan larger than one gRPC message (the old 8 MiB plan and 16 MiB
//! message limits) loads through `swarmctl plan load`, which streams it in
//! chunks, and runs; a plan over the daemon's `max_plan_bytes` is refused
//! with both sizes named, and changes nothing.

use swarm_tests::{free_port, write_plan, Daemon};

/// Bytes of background prose before the tasks: what makes the plan big
/// without making the test slow to compile it.
fn plan(filler_bytes: usize) -> String {
    let line = format!("{}\n", "Background notes the agents may read. ".repeat(3));
    let mut s = String::with_capacity(filler_bytes + 4096);
    s.push_str("# Big plan\n\n## Background\n\n");
    while s.len() < filler_bytes {
        s.push_str(&line);
    }
    s.push_str("\n### Day 1: Work\n\n");
    for i in 1..=3 {
        s.push_str(&format!(
            "**Task 1.{i}**: Step {i}\n- **Agent**: Coder\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `echo step {i}`\n\n"
        ));
    }
    s
}

const MIB: usize = 1024 * 1024;

#[test]
fn a_plan_over_the_old_message_limits_loads_and_one_over_max_plan_bytes_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("swarmd.toml");
    std::fs::write(&config, format!("max_plan_bytes = {}\n", 24 * MIB)).expect("config");
    let d = Daemon::start_with(
        dir.path(),
        free_port(),
        &["--config", &config.display().to_string()],
    );

    // 25 MiB: over the daemon's 24 MiB.
    let too_big = write_plan(dir.path(), "too-big.md", &plan(25 * MIB));
    let size = std::fs::metadata(&too_big).expect("size").len();
    let out = d.ctl(&["plan", "load", &too_big.display().to_string()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the plan is {size} bytes; at most {} are accepted",
            24 * MIB
        )) && stderr.contains("max_plan_bytes"),
        "{stderr}"
    );
    let status = d.ctl_json(&["status", "--json"]);
    assert_eq!(status["state"], "idle", "{status}");

    // 20 MiB: over 8 MiB (the old plan limit) and 16 MiB (the old gRPC
    // message limit).
    let big = write_plan(dir.path(), "big.md", &plan(20 * MIB));
    assert!(std::fs::metadata(&big).expect("size").len() > 16 * MIB as u64);
    let loaded = d.ctl_json(&["plan", "load", &big.display().to_string(), "--json"]);
    assert_eq!(loaded["tasks"], 3, "{loaded}");
    // The refused plan left no row behind: this is the first plan.
    assert_eq!(loaded["plan_id"], 1, "{loaded}");

    let _agent = d.agent("coder-1", &["coder"]);
    let done = d.wait_status(60, |s| s["state"] == "succeeded");
    assert_eq!(done["tasks"]["succeeded"], 3, "{done}");
}

/// A plan of `tasks` independent tasks, two to a role.
fn many_tasks(tasks: usize) -> String {
    let mut s = String::with_capacity(tasks * 110);
    s.push_str("# Many tasks\n\n### Day 1: Work\n\n");
    for i in 1..=tasks {
        s.push_str(&format!(
            "**Task 1.{i}**: Step {i}\n- **Agent**: Coder\n- **Duration**: 1 hour\n- **Dependencies**: None\n\n"
        ));
    }
    s
}

#[test]
fn the_daemon_answers_while_a_large_plan_compiles() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("swarmd.toml");
    std::fs::write(&config, format!("max_plan_bytes = {}\n", 64 * MIB)).expect("config");
    let d = Daemon::start_with(
        dir.path(),
        free_port(),
        &["--config", &config.display().to_string()],
    );
    let big = write_plan(dir.path(), "many.md", &many_tasks(200_000));
    let mut load = d
        .ctl_command(&["plan", "load", &big.display().to_string(), "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start swarmctl plan load");
    // While the load is in flight, status keeps answering: the plan is
    // compiled on a blocking thread, not on the scheduler's. Had it been
    // compiled on the scheduler's thread, every status asked during the
    // compile would wait for it and then say "running".
    let mut idle_while_loading = 0;
    while load.try_wait().expect("swarmctl").is_none() {
        let status = d.ctl_json(&["status", "--json"]);
        if status["state"] == "idle" && load.try_wait().expect("swarmctl").is_none() {
            idle_while_loading += 1;
        }
    }
    let out = load.wait_with_output().expect("swarmctl plan load");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let loaded: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(loaded["tasks"], 200_000, "{loaded}");
    assert!(
        idle_while_loading >= 3,
        "status answered idle only {idle_while_loading} time(s) while the plan loaded"
    );
    let status = d.ctl_json(&["status", "--json"]);
    assert_eq!(status["tasks"]["total"], 200_000, "{status}");
}
