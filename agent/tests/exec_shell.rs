//! The shell executor: exit codes, checks, environment, log streaming,
//! timeouts and cancellation, all through the public `exec::execute`.

use std::path::Path;
use std::time::Duration;

use swarm_agent::exec::{execute, ExecSpec, LogChunk, Outcome, Stream, MAX_CHUNK};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn shell(dir: &Path, run: &str) -> ExecSpec {
    ExecSpec {
        task_id: "d1.build".into(),
        attempt: 41,
        attempt_no: 1,
        role: "coder".into(),
        title: "Build".into(),
        run: Some(run.into()),
        workdir: dir.to_path_buf(),
        ..ExecSpec::default()
    }
}

/// Runs `spec` to its end and returns the outcome and all output per stream.
async fn run_collect(spec: ExecSpec) -> (Outcome, Vec<u8>, Vec<u8>) {
    let (tx, rx) = mpsc::channel(16);
    let collector = tokio::spawn(collect(rx));
    let outcome = execute(spec, tx, CancellationToken::new()).await;
    let (out, err) = collector.await.expect("collector");
    (outcome, out, err)
}

async fn collect(mut rx: mpsc::Receiver<LogChunk>) -> (Vec<u8>, Vec<u8>) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    while let Some(chunk) = rx.recv().await {
        assert!(
            chunk.data.len() <= MAX_CHUNK,
            "chunk of {} bytes",
            chunk.data.len()
        );
        match chunk.stream {
            Stream::Stdout => out.extend(chunk.data),
            Stream::Stderr => err.extend(chunk.data),
        }
    }
    (out, err)
}

fn pids_in(output: &[u8]) -> Vec<i32> {
    String::from_utf8_lossy(output)
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect()
}

/// Whether `pid` is gone (or a zombie nobody reaps), waiting a little for a
/// SIGKILL to land.
async fn is_dead(pid: i32) -> bool {
    for _ in 0..250 {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(stat) => {
                let state = stat
                    .rsplit(')')
                    .next()
                    .and_then(|s| s.split_whitespace().next());
                if matches!(state, Some("Z" | "X")) {
                    return true;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn success_streams_stdout_and_stderr_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let script = "i=0; while [ $i -lt 300 ]; do echo out$i; echo err$i >&2; i=$((i+1)); done";
    let (outcome, out, err) = run_collect(shell(dir.path(), script)).await;
    assert_eq!(outcome, Outcome::Succeeded);
    let want = |prefix: &str| {
        (0..300)
            .map(|i| format!("{prefix}{i}\n"))
            .collect::<String>()
    };
    assert_eq!(String::from_utf8(out).unwrap(), want("out"));
    assert_eq!(String::from_utf8(err).unwrap(), want("err"));
}

#[tokio::test]
async fn large_output_arrives_whole_in_bounded_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let (outcome, out, _) = run_collect(shell(dir.path(), "head -c 300000 /dev/zero")).await;
    assert_eq!(outcome, Outcome::Succeeded);
    assert_eq!(out.len(), 300_000);
}

#[tokio::test]
async fn failure_carries_exit_code_and_names_run() {
    let dir = tempfile::tempdir().unwrap();
    let (outcome, _, _) = run_collect(shell(dir.path(), "echo hi; exit 7")).await;
    assert_eq!(
        outcome,
        Outcome::Failed {
            exit_code: Some(7),
            message: "run exited with code 7".into()
        }
    );
}

#[tokio::test]
async fn death_by_signal_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (outcome, _, _) = run_collect(shell(dir.path(), "kill -KILL $$")).await;
    match outcome {
        Outcome::Failed {
            exit_code: None,
            message,
        } => {
            assert_eq!(message, "run was killed by signal 9 (SIGKILL)")
        }
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[tokio::test]
async fn second_check_failure_names_it_and_stops_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = shell(dir.path(), "touch ran");
    spec.checks = vec![
        "touch check1".into(),
        "test -e nothing-here".into(),
        "touch check3".into(),
    ];
    let (outcome, _, _) = run_collect(spec).await;
    assert_eq!(
        outcome,
        Outcome::Failed {
            exit_code: Some(1),
            message: "check 2: test -e nothing-here exited with code 1".into()
        }
    );
    assert!(dir.path().join("ran").exists());
    assert!(dir.path().join("check1").exists());
    assert!(!dir.path().join("check3").exists());
}

#[tokio::test]
async fn checks_do_not_run_after_a_failed_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = shell(dir.path(), "exit 2");
    spec.checks = vec!["touch checked".into()];
    let (outcome, _, _) = run_collect(spec).await;
    assert!(
        matches!(
            outcome,
            Outcome::Failed {
                exit_code: Some(2),
                ..
            }
        ),
        "{outcome:?}"
    );
    assert!(!dir.path().join("checked").exists());
}

#[tokio::test]
async fn env_and_workdir_are_visible_to_run_and_checks() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = shell(
        dir.path(),
        r#"echo "$SWARM_TASK_ID $SWARM_ROLE $SWARM_ATTEMPT"; pwd"#,
    );
    spec.env = vec![
        ("SWARM_TASK_ID".into(), "d1.build".into()),
        ("SWARM_ROLE".into(), "coder".into()),
        ("SWARM_ATTEMPT".into(), "41".into()),
    ];
    spec.checks = vec![r#"test "$SWARM_ROLE" = coder"#.into()];
    let (outcome, out, _) = run_collect(spec).await;
    assert_eq!(outcome, Outcome::Succeeded);
    let here = dir.path().canonicalize().unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!("d1.build coder 41\n{}\n", here.display())
    );
}

#[tokio::test]
async fn invalid_env_or_workdir_fails_without_running() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = shell(dir.path(), "touch ran");
    spec.env = vec![("BAD=NAME".into(), "x".into())];
    let (outcome, _, _) = run_collect(spec).await;
    assert!(matches!(outcome, Outcome::NotStarted { ref message } if message.contains("BAD=NAME")));

    let missing = dir.path().join("no-such-dir");
    let (outcome, _, _) = run_collect(shell(&missing, "true")).await;
    match outcome {
        Outcome::NotStarted { message } => {
            assert!(message.contains("no-such-dir"), "{message}")
        }
        other => panic!("expected NotStarted, got {other:?}"),
    }
    assert!(!dir.path().join("ran").exists());
}

#[tokio::test]
async fn timeout_kills_the_whole_group_including_grandchildren() {
    let dir = tempfile::tempdir().unwrap();
    // $$ is the leader; $! a child; the inner sh prints its own background
    // sleep, a grandchild of the leader.
    let script =
        r#"echo $$; sleep 300 & echo $!; sh -c 'sleep 300 & echo $!; wait' & echo $!; wait"#;
    let mut spec = shell(dir.path(), script);
    spec.timeout = Some(Duration::from_secs(1));
    spec.checks = vec!["touch checked".into()];
    let (outcome, out, _) = run_collect(spec).await;
    match outcome {
        Outcome::TimedOut { message } => assert!(message.contains("during run"), "{message}"),
        other => panic!("expected TimedOut, got {other:?}"),
    }
    let pids = pids_in(&out);
    assert_eq!(pids.len(), 4, "expected 4 pids, got {out:?}");
    for pid in pids {
        assert!(is_dead(pid).await, "process {pid} survived the timeout");
    }
    assert!(!dir.path().join("checked").exists());
}

#[tokio::test]
async fn sigterm_is_followed_by_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = shell(
        dir.path(),
        "trap '' TERM; echo $$; sleep 300 & echo $!; wait",
    );
    spec.timeout = Some(Duration::from_millis(300));
    let (outcome, out, _) = run_collect(spec).await;
    assert!(matches!(outcome, Outcome::TimedOut { .. }), "{outcome:?}");
    for pid in pids_in(&out) {
        assert!(is_dead(pid).await, "process {pid} survived SIGKILL");
    }
}

#[tokio::test]
async fn timeout_covers_the_checks() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = shell(dir.path(), "true");
    spec.checks = vec!["true".into(), "sleep 300".into()];
    spec.timeout = Some(Duration::from_millis(300));
    let (outcome, _, _) = run_collect(spec).await;
    match outcome {
        Outcome::TimedOut { message } => {
            assert!(message.contains("check 2: sleep 300"), "{message}")
        }
        other => panic!("expected TimedOut, got {other:?}"),
    }
}

#[tokio::test]
async fn cancel_stops_the_running_command() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, mut rx) = mpsc::channel(16);
    let cancel = CancellationToken::new();
    let task = tokio::spawn(execute(
        shell(dir.path(), "echo $$; sleep 300 & echo $!; wait"),
        tx,
        cancel.clone(),
    ));
    let mut out = Vec::new();
    while pids_in(&out).len() < 2 {
        let chunk = rx.recv().await.expect("output before the end");
        out.extend(chunk.data);
    }
    cancel.cancel();
    assert_eq!(task.await.unwrap(), Outcome::Cancelled);
    for pid in pids_in(&out) {
        assert!(is_dead(pid).await, "process {pid} survived cancellation");
    }
}

#[tokio::test]
async fn cancelled_before_start_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, _rx) = mpsc::channel(16);
    let cancel = CancellationToken::new();
    cancel.cancel();
    let outcome = execute(shell(dir.path(), "touch ran"), tx, cancel).await;
    assert_eq!(outcome, Outcome::Cancelled);
    assert!(!dir.path().join("ran").exists());
}

#[tokio::test]
async fn closed_log_receiver_does_not_stop_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, rx) = mpsc::channel(1);
    drop(rx);
    let spec = shell(
        dir.path(),
        "head -c 1000000 /dev/zero; echo done > finished",
    );
    assert_eq!(
        execute(spec, tx, CancellationToken::new()).await,
        Outcome::Succeeded
    );
    assert!(dir.path().join("finished").exists());
}

#[tokio::test]
async fn background_leftovers_of_a_finished_run_are_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let (outcome, out, _) = run_collect(shell(dir.path(), "sleep 300 & echo $!")).await;
    assert_eq!(outcome, Outcome::Succeeded);
    let pids = pids_in(&out);
    assert_eq!(pids.len(), 1);
    assert!(
        is_dead(pids[0]).await,
        "background process {} outlived the task",
        pids[0]
    );
}
