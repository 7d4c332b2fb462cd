//! The parent-death guard and the agent's host: a command started through
//! the guard dies with the process that started it, and the agent's host
//! records each command's process group while it runs.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use swarm_agent::exec::{execute_with, ExecSpec, Host, Outcome, Sandbox};
use swarm_agent::home::Home;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const AGENT: &str = env!("CARGO_BIN_EXE_swarm-agent");

fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        Ok(stat) => !matches!(
            stat.rsplit(')')
                .next()
                .and_then(|s| s.split_whitespace().next()),
            Some("Z" | "X")
        ),
    }
}

fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_guarded_command_dies_with_its_parent() {
    // sh starts the guard in the background, prints its pid and exits; the
    // guarded `sleep` must not survive it.
    let script = format!("'{AGENT}' __swarm-guard $$ -- sleep 30 & echo $!; sleep 0.3");
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdout(Stdio::piped())
        .output()
        .expect("sh");
    let pid: i32 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a pid");
    wait_until("the guarded sleep to die with its parent", || !alive(pid));
}

/// Pids of live processes whose command line holds `marker`.
fn with_marker(marker: &str) -> Vec<i32> {
    let entries = std::fs::read_dir("/proc").expect("proc");
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| alive(*pid))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker))
        })
        .collect()
}

/// A command that starts a daemon in its own session (`sleep MARKER`),
/// waits until it runs (file `up`), then runs `then`.
fn daemon_then(dir: &Path, marker: &str, then: &str) -> String {
    let up = dir.join("up");
    format!(
        "setsid -f sh -c \"touch {up}; exec sleep {marker}\"; \
         while [ ! -e {up} ]; do sleep 0.05; done; {then}",
        up = up.display()
    )
}

#[test]
fn a_resident_guard_ends_a_setsid_daemon_when_its_parent_dies() {
    // As above, with a command that leaves a daemon in its own session:
    // the resident guard, its subreaper, ends it when the parent dies.
    let dir = tempfile::tempdir().expect("tmp");
    let marker = format!("31.{}", std::process::id());
    let command = daemon_then(dir.path(), &marker, "sleep 30");
    let script = format!(
        "'{AGENT}' __swarm-guard $$ --resident -- sh -c '{command}' & \
         while [ ! -e {up} ]; do sleep 0.05; done",
        up = dir.path().join("up").display()
    );
    let status = Command::new("sh")
        .arg("-c")
        .arg(script)
        .status()
        .expect("sh");
    assert!(status.success());
    wait_until("the daemon to die with the guard's parent", || {
        with_marker(&format!("sleep\0{marker}")).is_empty()
    });
}

#[test]
fn a_resident_guard_exits_as_its_command_and_ends_what_it_left() {
    let dir = tempfile::tempdir().expect("tmp");
    let marker = format!("32.{}", std::process::id());
    let parent = std::process::id().to_string();
    let out = Command::new(AGENT)
        .args(["__swarm-guard", &parent, "--resident", "--", "sh", "-c"])
        .arg(daemon_then(dir.path(), &marker, "exit 3"))
        .output()
        .expect("guard");
    assert_eq!(out.status.code(), Some(3));
    assert!(dir.path().join("up").exists(), "the daemon ran");
    assert!(with_marker(&format!("sleep\0{marker}")).is_empty());
}

#[test]
fn the_guard_refuses_to_run_for_a_parent_already_gone() {
    let dir = tempfile::tempdir().expect("tmp");
    let marker = dir.path().join("ran");
    let status = Command::new(AGENT)
        .args(["__swarm-guard", "1", "--", "touch"])
        .arg(&marker)
        .status()
        .expect("guard");
    assert_eq!(status.code(), Some(137));
    assert!(!marker.exists());
}

#[test]
fn a_guard_that_cannot_exec_says_so() {
    let parent = std::process::id().to_string();
    let out = Command::new(AGENT)
        .args(["__swarm-guard", &parent, "--", "/nonexistent/swarm-cmd"])
        .output()
        .expect("guard");
    assert_eq!(out.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/swarm-cmd"));
}

fn shell(dir: &Path, run: &str) -> ExecSpec {
    ExecSpec {
        task_id: "t".into(),
        attempt: 5,
        attempt_no: 1,
        run: Some(run.into()),
        workdir: dir.to_path_buf(),
        ..ExecSpec::default()
    }
}

#[tokio::test]
async fn the_agents_host_runs_commands_and_records_their_groups_while_they_run() {
    let dir = tempfile::tempdir().expect("tmp");
    let home = Home::open(dir.path(), "sre-1").expect("home");
    let host =
        Host::guarded(AGENT.into(), home.groups().clone(), None, Sandbox::none()).expect("host");
    let record = dir.path().join(".swarm-agent/sre-1/pgids/5");
    let probe = format!("cat '{}' > seen; echo ok", record.display());
    let (tx, mut rx) = mpsc::channel(16);
    let outcome = execute_with(
        &host,
        shell(dir.path(), &probe),
        tx,
        CancellationToken::new(),
    )
    .await;
    assert_eq!(outcome, Outcome::Succeeded);
    assert_eq!(rx.recv().await.map(|c| c.data), Some(b"ok\n".to_vec()));
    let seen = std::fs::read_to_string(dir.path().join("seen")).expect("seen");
    let pgid: i32 = seen
        .split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a pgid in the record");
    assert!(pgid > 1, "{seen}");
    assert!(!record.exists(), "the record goes when the command ends");
}

#[tokio::test]
async fn a_command_too_long_for_the_os_never_starts() {
    let dir = tempfile::tempdir().expect("tmp");
    let home = Home::open(dir.path(), "a").expect("home");
    let host =
        Host::guarded(AGENT.into(), home.groups().clone(), None, Sandbox::none()).expect("host");
    let long = format!("echo {} > ran", "x".repeat(5 * 1024 * 1024));
    let (tx, _rx) = mpsc::channel(16);
    let outcome = execute_with(
        &host,
        shell(dir.path(), &long),
        tx,
        CancellationToken::new(),
    )
    .await;
    match outcome {
        Outcome::NotStarted { message } => {
            assert!(message.contains("too long"), "{message}")
        }
        other => panic!("expected NotStarted, got {other:?}"),
    }
    assert!(!dir.path().join("ran").exists());
}
