//! The docker executor: the task in a container from a locally present image.
//!
//! The container gets `sh -c RUN` as its command when the task has a run
//! (else the image's default command), the spec's environment, and labels
//! `swarm.task=<id>` and `swarm.attempt=<fencing number>`. Its logs are
//! followed as they are written. Whatever happens, the container is removed
//! afterwards; on timeout or cancellation it is first stopped (SIGTERM, then
//! SIGKILL after [`KILL_GRACE`]). Images are never pulled: a missing image
//! fails the attempt. Checks run on the host shell after the container exits
//! with status 0, under the same deadline.

use std::collections::HashMap;
use std::time::Duration;

use bollard::container::LogOutput;
use bollard::errors::Error as DockerError;
use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{
    LogsOptionsBuilder, RemoveContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use bollard::Docker;
use futures_util::StreamExt;
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;

use super::process::sleep_until_opt;
use super::shell::Run;
use super::{LogChunk, Outcome, Stream, KILL_GRACE, MAX_CHUNK};

/// How long logs may keep arriving after the container has exited.
const LOG_DRAIN: Duration = Duration::from_secs(5);

/// Upper bound on the stop and remove calls during cleanup.
const CLEANUP_LIMIT: Duration = Duration::from_secs(30);

/// How the container part of an attempt ended.
enum End {
    Exited(i64),
    /// The container could not be created or started.
    NotStarted(String),
    /// It started, and then following it failed.
    Failed(String),
    TimedOut,
    Cancelled,
}

/// Runs the attempt with the engine named by `DOCKER_HOST` (or the default
/// local socket).
pub(crate) async fn execute(run: &Run<'_>) -> Outcome {
    execute_on(run, None).await
}

/// Runs the attempt with the engine at `host`, or the default one if `None`.
async fn execute_on(run: &Run<'_>, host: Option<&str>) -> Outcome {
    let image = run.spec.image.as_deref().unwrap_or_default().trim();
    let label = format!("run in a container from image `{image}`");
    if let Some(stop) = run.interrupted(&label) {
        return stop;
    }
    let docker = tokio::select! {
        biased;
        () = run.cancel.cancelled() => return Outcome::Cancelled,
        () = sleep_until_opt(run.deadline) => return run.timed_out(&label),
        docker = connect(host) => match docker {
            Ok(docker) => docker,
            Err(message) => return Outcome::not_started(message),
        },
    };

    let mut container = None;
    let end = tokio::select! {
        biased;
        () = run.cancel.cancelled() => End::Cancelled,
        () = sleep_until_opt(run.deadline) => End::TimedOut,
        end = drive(&docker, run, image, &mut container) => end,
    };
    if let Some(guard) = container {
        guard
            .remove(matches!(end, End::TimedOut | End::Cancelled))
            .await;
    }
    match end {
        End::Exited(0) => run.checks().await,
        End::Exited(code) => Outcome::Failed {
            exit_code: i32::try_from(code).ok(),
            message: format!("{label} exited with code {code}"),
        },
        End::NotStarted(message) => Outcome::not_started(message),
        End::Failed(message) => Outcome::Failed {
            exit_code: None,
            message,
        },
        End::TimedOut => run.timed_out(&label),
        End::Cancelled => Outcome::Cancelled,
    }
}

/// Connects and agrees on an API version, so older engines work too.
async fn connect(host: Option<&str>) -> Result<Docker, String> {
    let shown = host
        .map(str::to_string)
        .or_else(|| std::env::var("DOCKER_HOST").ok())
        .unwrap_or_else(|| "the default local socket".to_string());
    let unreachable = |err: DockerError| {
        format!(
            "cannot reach the Docker engine at {shown}: {err}; start the engine \
             or point DOCKER_HOST at a running one"
        )
    };
    let docker = match host {
        Some(host) => Docker::connect_with_host(host),
        None => Docker::connect_with_defaults(),
    }
    .map_err(unreachable)?;
    docker.negotiate_version().await.map_err(unreachable)
}

/// Checks the image, creates and starts the container, follows its logs and
/// waits for it to exit. The created container is put in `slot` at once, so
/// the caller removes it however this ends.
async fn drive(docker: &Docker, run: &Run<'_>, image: &str, slot: &mut Option<Container>) -> End {
    let spec = run.spec;
    match docker.inspect_image(image).await {
        Ok(_) => {}
        Err(DockerError::DockerResponseServerError {
            status_code: 404, ..
        }) => {
            return End::NotStarted(format!(
                "image `{image}` is not present on this Docker host; build or pull \
                 it there first (the agent never pulls images)"
            ))
        }
        Err(err) => return End::NotStarted(format!("cannot inspect image `{image}`: {err}")),
    }

    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        cmd: spec
            .run
            .as_ref()
            .filter(|r| !r.trim().is_empty())
            .map(|r| vec!["sh".to_string(), "-c".to_string(), r.clone()]),
        env: Some(spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        labels: Some(HashMap::from([
            ("swarm.task".to_string(), spec.task_id.clone()),
            ("swarm.attempt".to_string(), spec.attempt.to_string()),
        ])),
        host_config: host_config(spec),
        // In a workspace the task works in its worktree, as on the host.
        working_dir: (!spec.grants.is_empty()).then(|| spec.workdir.display().to_string()),
        ..ContainerCreateBody::default()
    };
    let id = match docker.create_container(None, body).await {
        Ok(created) => created.id,
        Err(err) => {
            return End::NotStarted(format!(
                "cannot create a container from image `{image}`: {err}"
            ))
        }
    };
    let container = slot.insert(Container {
        docker: docker.clone(),
        id,
        armed: true,
    });
    let id = container.id.clone();
    if let Err(err) = docker.start_container(&id, None).await {
        return End::NotStarted(format!(
            "cannot start container {id} from image `{image}`: {err}"
        ));
    }

    let options = LogsOptionsBuilder::new()
        .follow(true)
        .stdout(true)
        .stderr(true)
        .build();
    let logs = docker.logs(&id, Some(options));
    let pump = AbortOnDrop(tokio::spawn(pump(logs, run.logs.clone())));

    let end = match docker.wait_container(&id, None).next().await {
        Some(Ok(status)) => End::Exited(status.status_code),
        Some(Err(DockerError::DockerContainerWaitError { code, .. })) => End::Exited(code),
        Some(Err(err)) => End::Failed(format!("waiting for container {id} failed: {err}")),
        None => End::Failed(format!(
            "waiting for container {id} ended without an exit status"
        )),
    };
    let mut pump = pump;
    if tokio::time::timeout(LOG_DRAIN, &mut pump.0).await.is_err() {
        tracing::debug!(container = %id, "container logs still open after exit; dropping the rest");
    }
    end
}

/// Copies container output into `logs`; a closed receiver just drops it.
async fn pump(
    mut stream: impl futures_util::Stream<Item = Result<LogOutput, DockerError>> + Unpin,
    logs: Sender<LogChunk>,
) {
    let mut receiver_open = true;
    while let Some(item) = stream.next().await {
        let (kind, bytes) = match item {
            Ok(LogOutput::StdOut { message } | LogOutput::Console { message }) => {
                (Stream::Stdout, message)
            }
            Ok(LogOutput::StdErr { message }) => (Stream::Stderr, message),
            Ok(LogOutput::StdIn { .. }) => continue,
            Err(err) => {
                tracing::debug!(%err, "following container logs failed");
                return;
            }
        };
        for piece in bytes.chunks(MAX_CHUNK) {
            if receiver_open {
                let chunk = LogChunk {
                    stream: kind,
                    data: piece.to_vec(),
                };
                receiver_open = logs.send(chunk).await.is_ok();
            }
        }
    }
}

/// A container this attempt created. Dropping it without [`Container::remove`]
/// (the attempt's future was dropped) force-removes it in the background.
struct Container {
    docker: Docker,
    id: String,
    armed: bool,
}

impl Container {
    /// Removes the container, stopping it first if `stop` (SIGTERM, then
    /// SIGKILL after [`KILL_GRACE`]). Failures are logged, not returned: the
    /// attempt's outcome is already decided.
    async fn remove(mut self, stop: bool) {
        self.armed = false;
        if stop {
            let grace = i32::try_from(KILL_GRACE.as_secs()).unwrap_or(2);
            let options = StopContainerOptionsBuilder::new().t(grace).build();
            let stopped = tokio::time::timeout(
                CLEANUP_LIMIT,
                self.docker.stop_container(&self.id, Some(options)),
            )
            .await;
            if let Ok(Err(err)) = stopped {
                tracing::debug!(container = %self.id, %err, "stopping container failed; removing it by force");
            }
        }
        let options = RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(true)
            .build();
        match tokio::time::timeout(
            CLEANUP_LIMIT,
            self.docker.remove_container(&self.id, Some(options)),
        )
        .await
        {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::warn!(container = %self.id, %err, "removing container failed"),
            Err(_) => tracing::warn!(container = %self.id, "removing container timed out"),
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let docker = self.docker.clone();
            let id = std::mem::take(&mut self.id);
            runtime.spawn(async move {
                let options = RemoveContainerOptionsBuilder::new()
                    .force(true)
                    .v(true)
                    .build();
                if let Err(err) = docker.remove_container(&id, Some(options)).await {
                    tracing::warn!(container = %id, %err, "removing abandoned container failed");
                }
            });
        }
    }
}

/// A spawned task that is aborted when this handle is dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What the container mounts, each at the same path as on the host (with
/// a local engine; a remote one has no such paths): the agent's runtime
/// directory (the task's `$SWARM_RESULT` file and, under mTLS, the socket
/// its `SWARM_COORDINATOR` names) and, for an attempt in a workspace, its
/// worktree and the clone's git directory (the spec's grants).
fn host_config(spec: &super::ExecSpec) -> Option<bollard::models::HostConfig> {
    let mut binds: Vec<String> = runtime_dir(&spec.env).into_iter().collect();
    if !spec.grants.is_empty() {
        binds.extend(
            std::iter::once(&spec.workdir)
                .chain(&spec.grants)
                .filter_map(|dir| dir.to_str())
                .map(str::to_string),
        );
    }
    if binds.is_empty() {
        return None;
    }
    Some(bollard::models::HostConfig {
        binds: Some(binds.iter().map(|dir| format!("{dir}:{dir}")).collect()),
        ..Default::default()
    })
}

/// The directory of the task's `$SWARM_RESULT` file.
fn runtime_dir(env: &[(String, String)]) -> Option<String> {
    let file = env
        .iter()
        .rev()
        .find(|(k, _)| k == "SWARM_RESULT")
        .map(|(_, v)| v)?;
    let dir = std::path::Path::new(file).parent()?.to_str()?;
    (!dir.is_empty()).then(|| dir.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::ExecSpec;
    use tokio_util::sync::CancellationToken;

    #[tokio::test]
    async fn unreachable_engine_fails_with_a_clear_message() {
        let spec = ExecSpec {
            task_id: "t".into(),
            image: Some("anything".into()),
            run: Some("true".into()),
            ..ExecSpec::default()
        };
        let (tx, _rx) = tokio::sync::mpsc::channel(8);
        let cancel = CancellationToken::new();
        let run = Run {
            spec: &spec,
            logs: &tx,
            deadline: None,
            timeout: None,
            cancel: &cancel,
            host: &crate::exec::Host::plain(),
        };
        let outcome = execute_on(&run, Some("unix:///nonexistent/swarm-test.sock")).await;
        match outcome {
            Outcome::NotStarted { message } => {
                assert!(
                    message.contains("cannot reach the Docker engine"),
                    "{message}"
                );
                assert!(
                    message.contains("/nonexistent/swarm-test.sock"),
                    "{message}"
                );
            }
            other => panic!("expected NotStarted, got {other:?}"),
        }
    }

    #[test]
    fn a_workspace_is_mounted_at_its_own_paths() {
        let plain = ExecSpec {
            env: vec![("SWARM_RESULT".into(), "/run/a/result-3".into())],
            workdir: "/w".into(),
            ..ExecSpec::default()
        };
        let binds = |spec: &ExecSpec| host_config(spec).and_then(|h| h.binds);
        assert_eq!(binds(&plain), Some(vec!["/run/a:/run/a".to_string()]));
        let in_workspace = ExecSpec {
            workdir: "/w/.swarm-agent/a/work/t-3".into(),
            grants: vec!["/w/.swarm-agent/a/repos/k/.git".into()],
            ..plain
        };
        assert_eq!(
            binds(&in_workspace),
            Some(vec![
                "/run/a:/run/a".to_string(),
                "/w/.swarm-agent/a/work/t-3:/w/.swarm-agent/a/work/t-3".to_string(),
                "/w/.swarm-agent/a/repos/k/.git:/w/.swarm-agent/a/repos/k/.git".to_string(),
            ])
        );
        assert_eq!(binds(&ExecSpec::default()), None);
    }
}
