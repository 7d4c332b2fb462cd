//! One host command: `sh -c SCRIPT` in its own process group (and its
//! sandbox), its output streamed as [`LogChunk`]s, stopped on deadline or
//! cancellation.

use std::future::pending;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{ChildStdin, Command};
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;

use super::group::ProcessGroup;
use super::host::Launch;
use super::sandbox::RoleSandbox;
use super::{Host, LogChunk, Stream, MAX_CHUNK};

/// How long output still in the pipes may take to arrive once the group has
/// stopped. Only a process that escaped the group can hold a pipe longer.
const DRAIN: Duration = Duration::from_secs(2);

/// What to run and where.
pub(crate) struct Script<'a> {
    /// Passed to `sh -c`.
    pub script: &'a str,
    /// Written to the command's stdin, which is then closed; `None` gives
    /// the command a null stdin.
    pub stdin: Option<Vec<u8>>,
    /// Added to the agent's own environment.
    pub env: &'a [(String, String)],
    /// The command's working directory; empty means the agent's own.
    pub workdir: &'a Path,
    /// How it is started.
    pub host: &'a Host,
    /// The attempt it belongs to, under which its group is recorded.
    pub attempt: u64,
    /// Its role's sandbox overrides.
    pub sandbox: &'a RoleSandbox,
    /// Writable in the sandbox besides `workdir`.
    pub grants: &'a [std::path::PathBuf],
}

/// How a command ended.
#[derive(Debug)]
pub(crate) enum StepEnd {
    /// It exited (or was killed by a signal not of our sending).
    Exited(ExitStatus),
    /// The deadline passed; the group was stopped.
    TimedOut,
    /// The token fired; the group was stopped.
    Cancelled,
    /// It could not be started.
    NotStarted(std::io::Error),
    /// The sandbox it must run in cannot be made: why.
    Refused(String),
    /// It could not be waited for.
    Broken(std::io::Error),
}

/// Runs `script` to its end, streaming its output to `logs`.
///
/// Whatever the outcome, the command's process group is stopped before this
/// returns (SIGTERM, then SIGKILL), so nothing it left in the background
/// outlives it.
pub(crate) async fn run_step(
    script: Script<'_>,
    logs: &Sender<LogChunk>,
    deadline: Option<Instant>,
    cancel: &CancellationToken,
) -> StepEnd {
    let launch = Launch {
        workdir: script.workdir,
        env: script.env,
        role: script.sandbox,
        grants: script.grants,
    };
    let mut command: Command = match script.host.command("sh", &["-c", script.script], &launch) {
        Ok(command) => command,
        Err(why) => return StepEnd::Refused(why),
    };
    command
        .stdin(if script.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match script.host.spawn(command).await {
        Ok(child) => child,
        Err(err) => return StepEnd::NotStarted(err),
    };
    let Some(pid) = child.id() else {
        return StepEnd::NotStarted(std::io::Error::other("spawned process has no pid"));
    };
    // Declared before the group, so it is dropped after it: the record goes
    // once the group is stopped (or SIGKILLed by its drop).
    let _record = script.host.record(script.attempt, pid);
    let Some(mut group) = ProcessGroup::new(pid) else {
        return StepEnd::NotStarted(std::io::Error::other(format!(
            "spawned process has an invalid pid {pid}"
        )));
    };

    // Background helpers, each aborted when this function returns (a pump
    // or feeder may be blocked on a pipe that a stray process holds open).
    let mut helpers = Helpers(Vec::new());
    if let Some(out) = child.stdout.take() {
        helpers
            .0
            .push(tokio::spawn(pump(out, Stream::Stdout, logs.clone())));
    }
    if let Some(err) = child.stderr.take() {
        helpers
            .0
            .push(tokio::spawn(pump(err, Stream::Stderr, logs.clone())));
    }
    if let (Some(input), Some(data)) = (child.stdin.take(), script.stdin) {
        helpers.0.push(tokio::spawn(feed(input, data)));
    }

    let end = tokio::select! {
        biased;
        () = cancel.cancelled() => StepEnd::Cancelled,
        () = sleep_until_opt(deadline) => StepEnd::TimedOut,
        status = child.wait() => match status {
            Ok(status) => StepEnd::Exited(status),
            Err(err) => StepEnd::Broken(err),
        },
    };
    group.stop(&mut child).await;
    helpers.drain().await;
    end
}

/// Sleeps until `deadline`, or forever when there is none.
pub(crate) async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(at) => sleep_until(at).await,
        None => pending().await,
    }
}

/// Spawned helper tasks of one command.
struct Helpers(Vec<JoinHandle<()>>);

impl Helpers {
    /// Lets the helpers finish (pumps reach end of file once the group is
    /// gone), for at most [`DRAIN`].
    async fn drain(&mut self) {
        let deadline = Instant::now() + DRAIN;
        for handle in &mut self.0 {
            if tokio::time::timeout_at(deadline, handle).await.is_err() {
                tracing::debug!(
                    "output pipe still open after the command ended; dropping the rest"
                );
                break;
            }
        }
    }
}

impl Drop for Helpers {
    fn drop(&mut self) {
        for handle in &self.0 {
            handle.abort();
        }
    }
}

/// Copies one output pipe into `logs` until end of file. A closed receiver
/// does not stop the copying: the command must never block on a full pipe.
async fn pump(mut pipe: impl AsyncRead + Unpin, stream: Stream, logs: Sender<LogChunk>) {
    let mut buf = vec![0u8; MAX_CHUNK];
    let mut receiver_open = true;
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) => return,
            Ok(n) => {
                if receiver_open {
                    let chunk = LogChunk {
                        stream,
                        data: buf[..n].to_vec(),
                    };
                    receiver_open = logs.send(chunk).await.is_ok();
                }
            }
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => {
                tracing::debug!(?stream, %err, "reading command output failed");
                return;
            }
        }
    }
}

/// Writes `data` to the command's stdin and closes it. A command that exits
/// without reading it all is not an error.
async fn feed(mut input: ChildStdin, data: Vec<u8>) {
    if let Err(err) = input.write_all(&data).await {
        if err.kind() != std::io::ErrorKind::BrokenPipe {
            tracing::debug!(%err, "writing the brief to the command's stdin failed");
        }
    }
    let _ = input.shutdown().await;
}
