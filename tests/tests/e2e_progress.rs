//! Live progress on a terminal: `swarmd run` and `swarmctl status --watch`
//! under a pseudo-terminal (util-linux `script`) draw a bar of tasks done;
//! into a pipe they print plain lines (e2e_run and e2e_daemon check that
//! no escape code gets there).

use std::process::Command;

use swarm_tests::{examples_dir, free_port, workspace_binary, write_plan, Daemon};

/// Runs `shell` (a `sh -c` line) on a pseudo-terminal; its exit status
/// and everything it printed.
fn on_terminal(shell: &str, env: &[(&str, &str)]) -> (bool, String) {
    let out = Command::new("script")
        .args(["-qefc", shell, "/dev/null"])
        .envs(env.iter().copied())
        .env("TERM", "xterm")
        .env("COLUMNS", "120")
        .env_remove("SWARM_LISTEN")
        .output()
        .expect("script (util-linux) runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn swarmd_run_draws_a_bar_of_tasks_done_on_a_terminal() {
    let dir = tempfile::tempdir().expect("tmp");
    let swarmd = workspace_binary("swarmd").display().to_string();
    let plan = examples_dir()
        .join("release-rehearsal.md")
        .display()
        .to_string();
    let workdir = dir.path().display().to_string();
    let (ok, out) = on_terminal(
        r#""$SWARMD" run "$PLAN" --workdir "$WORKDIR""#,
        &[
            ("SWARMD", &swarmd),
            ("PLAN", &plan),
            ("WORKDIR", &workdir),
            ("SWARM_RETRY_BACKOFF_MS", "100"),
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains("tasks done"), "a bar on the terminal: {out}");
    assert!(out.contains("8/8 tasks succeeded"), "{out}");
    assert!(
        out.contains("✓ 1.1"),
        "the lines still scroll above it: {out}"
    );
}

#[test]
fn status_watch_draws_a_bar_on_a_terminal() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let file = write_plan(
        dir.path(),
        "plan.md",
        "# Watch\n\n### Day 1: Work\n\n**Task 1.1**: One\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `true`\n",
    );
    d.ctl_json(&["plan", "load", &file.display().to_string(), "--json"]);
    let ctl = workspace_binary("swarmctl").display().to_string();
    let url = d.url();
    let token = dir.path().join(".swarm/admin.token").display().to_string();
    // `timeout` ends the watch after its first pages (exit 124).
    let (_, out) = on_terminal(
        r#"timeout 3 "$CTL" --coordinator "$URL" --token-file "$TOKEN" status --watch"#,
        &[("CTL", &ctl), ("URL", &url), ("TOKEN", &token)],
    );
    assert!(out.contains("plan: Watch"), "{out}");
    assert!(
        out.contains("0/1 tasks done"),
        "a bar beneath the page: {out}"
    );
}
