//! The docker executor against a real engine.
//!
//! The test image is built here, offline: a `FROM scratch` image holding the
//! host's static busybox as `/bin/busybox` and `/bin/sh`, tagged
//! `swarm-test-busybox:latest`. Without `/bin/busybox`, the `docker` CLI or a
//! reachable engine the tests print why and pass, unless
//! `SWARM_REQUIRE_DOCKER` is set, in which case they fail.

use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use swarm_agent::exec::{execute, ExecSpec, LogChunk, Outcome, Stream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const IMAGE: &str = "swarm-test-busybox:latest";
const BUSYBOX: &str = "/bin/busybox";

/// Runs the docker CLI; `Err` carries what went wrong.
fn docker(args: &[&str]) -> Result<String, String> {
    let out = Command::new("docker")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run the docker CLI: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "docker {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn prepare() -> Result<(), String> {
    docker(&["version", "--format", "{{.Server.Version}}"])
        .map_err(|e| format!("no reachable Docker engine ({e})"))?;
    if !std::path::Path::new(BUSYBOX).exists() {
        return Err(format!("{BUSYBOX} is missing (install busybox-static)"));
    }
    let context = tempfile::tempdir().map_err(|e| e.to_string())?;
    for name in ["busybox", "sh"] {
        std::fs::copy(BUSYBOX, context.path().join(name)).map_err(|e| e.to_string())?;
    }
    let dockerfile = "FROM scratch\nCOPY busybox /bin/busybox\nCOPY sh /bin/sh\n";
    std::fs::write(context.path().join("Dockerfile"), dockerfile).map_err(|e| e.to_string())?;
    let dir = context.path().to_string_lossy().into_owned();
    docker(&["build", "-q", "-t", IMAGE, &dir]).map(|_| ())
}

/// Builds the test image once; `false` (after saying why) when the tests
/// cannot run here.
fn docker_ready() -> bool {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    match READY.get_or_init(prepare) {
        Ok(()) => true,
        Err(reason) if std::env::var_os("SWARM_REQUIRE_DOCKER").is_some() => {
            panic!("SWARM_REQUIRE_DOCKER is set but docker tests cannot run: {reason}")
        }
        Err(reason) => {
            eprintln!("skipping docker test: {reason}");
            false
        }
    }
}

fn containers_labelled(task: &str) -> String {
    docker(&[
        "ps",
        "-a",
        "-q",
        "--filter",
        &format!("label=swarm.task={task}"),
    ])
    .expect("docker ps")
    .trim()
    .to_string()
}

fn container_task(task: &str, run: &str) -> (ExecSpec, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = ExecSpec {
        task_id: format!("{task}-{}", std::process::id()),
        attempt: 7,
        attempt_no: 1,
        role: "builder".into(),
        title: "in a container".into(),
        run: Some(run.into()),
        image: Some(IMAGE.into()),
        workdir: dir.path().to_path_buf(),
        ..ExecSpec::default()
    };
    (spec, dir)
}

async fn run_collect(spec: ExecSpec) -> (Outcome, Vec<LogChunk>) {
    let (tx, mut rx) = mpsc::channel(16);
    let collector = tokio::spawn(async move {
        let mut chunks = Vec::new();
        while let Some(chunk) = rx.recv().await {
            chunks.push(chunk);
        }
        chunks
    });
    let outcome = execute(spec, tx, CancellationToken::new()).await;
    (outcome, collector.await.expect("collector"))
}

fn text(chunks: &[LogChunk], stream: Stream) -> String {
    let bytes: Vec<u8> = chunks
        .iter()
        .filter(|c| c.stream == stream)
        .flat_map(|c| c.data.clone())
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test]
async fn docker_task_streams_logs_reports_exit_code_and_is_removed() {
    if !docker_ready() {
        return;
    }
    let (spec, _dir) = container_task("docker-fail", "echo hello; echo oops >&2; exit 3");
    let task = spec.task_id.clone();
    let (outcome, chunks) = run_collect(spec).await;
    match outcome {
        Outcome::Failed {
            exit_code: Some(3),
            message,
        } => {
            assert!(message.contains("exited with code 3"), "{message}");
            assert!(message.contains(IMAGE), "{message}");
        }
        other => panic!("expected Failed with code 3, got {other:?}"),
    }
    assert_eq!(text(&chunks, Stream::Stdout), "hello\n");
    assert_eq!(text(&chunks, Stream::Stderr), "oops\n");
    assert_eq!(containers_labelled(&task), "", "container left behind");
}

#[tokio::test]
async fn docker_task_sees_env_and_host_checks_run_after() {
    if !docker_ready() {
        return;
    }
    let (mut spec, dir) = container_task("docker-ok", "echo \"$SWARM_TASK_ID/$SWARM_ROLE\"");
    spec.env = vec![
        ("SWARM_TASK_ID".into(), spec.task_id.clone()),
        ("SWARM_ROLE".into(), "builder".into()),
    ];
    spec.checks = vec!["touch checked".into()];
    let task = spec.task_id.clone();
    let (outcome, chunks) = run_collect(spec).await;
    assert_eq!(outcome, Outcome::Succeeded);
    assert_eq!(text(&chunks, Stream::Stdout), format!("{task}/builder\n"));
    assert!(dir.path().join("checked").exists());
    assert_eq!(containers_labelled(&task), "", "container left behind");
}

#[tokio::test]
async fn docker_timeout_stops_and_removes_the_container() {
    if !docker_ready() {
        return;
    }
    let (mut spec, _dir) = container_task("docker-timeout", "echo started; sleep 300");
    spec.timeout = Some(Duration::from_millis(300));
    let task = spec.task_id.clone();
    let (outcome, _) = run_collect(spec).await;
    assert!(matches!(outcome, Outcome::TimedOut { .. }), "{outcome:?}");
    assert_eq!(containers_labelled(&task), "", "container left behind");
}

#[tokio::test]
async fn docker_cancel_stops_and_removes_the_container() {
    if !docker_ready() {
        return;
    }
    let (spec, _dir) = container_task("docker-cancel", "echo started; sleep 300");
    let task = spec.task_id.clone();
    let (tx, mut rx) = mpsc::channel(16);
    let cancel = CancellationToken::new();
    let running = tokio::spawn(execute(spec, tx, cancel.clone()));
    let first = rx.recv().await.expect("output before the end");
    assert_eq!(first.data, b"started\n");
    cancel.cancel();
    assert_eq!(running.await.unwrap(), Outcome::Cancelled);
    assert_eq!(containers_labelled(&task), "", "container left behind");
}

#[tokio::test]
async fn docker_missing_image_fails_clearly() {
    if !docker_ready() {
        return;
    }
    let (mut spec, _dir) = container_task("docker-missing", "true");
    spec.image = Some("swarm-test-no-such-image:never".into());
    let (outcome, _) = run_collect(spec).await;
    match outcome {
        Outcome::NotStarted { message } => {
            assert!(
                message.contains("swarm-test-no-such-image:never"),
                "{message}"
            );
            assert!(message.contains("not present"), "{message}");
        }
        other => panic!("expected NotStarted, got {other:?}"),
    }
}
