//! `swarmctl task logs ID [--attempt N] [--follow | --workdir DIR]`: an
//! attempt's output, from the daemon or, with `--workdir`, straight from
//! its store (`DIR/.swarm/swarmd.db`, opened read-only), so the output of a
//! failed run can be read after the daemon stopped. Both print the same:
//! the chunks in order, stdout to stdout and stderr to stderr, and the
//! same words when there is nothing to print.

use std::io::Write;
use std::path::{Path, PathBuf};

use swarm_memory::state::{stored_logs, AttemptPick, PickError};
use swarm_memory::Store;
use swarm_proto::v1 as pb;

use super::{Failure, Result, Target};
use crate::exit;

/// Prints the output of attempt `attempt` (its number within the task;
/// None: the latest) of task `id`.
pub(crate) async fn run(
    target: &Target,
    id: String,
    follow: bool,
    attempt: Option<u32>,
    workdir: Option<PathBuf>,
) -> Result<()> {
    read(target, id, follow, attempt, workdir.as_deref(), print_chunk).await
}

/// Hands each chunk of the attempt's output to `sink` in order, with
/// whether the task wrote it to standard error: from the daemon, or from
/// the store in `workdir` when given.
pub(crate) async fn read(
    target: &Target,
    id: String,
    follow: bool,
    attempt: Option<u32>,
    workdir: Option<&Path>,
    sink: impl FnMut(bool, &[u8]),
) -> Result<()> {
    let pick = attempt.map_or(AttemptPick::Latest, AttemptPick::Number);
    match workdir {
        Some(dir) => offline(dir, &id, pick, sink),
        None => online(target, id, follow, attempt.unwrap_or(0), sink).await,
    }
}

async fn online(
    target: &Target,
    id: String,
    follow: bool,
    number: u32,
    mut sink: impl FnMut(bool, &[u8]),
) -> Result<()> {
    let mut stream = target
        .control()
        .await?
        .task_logs(pb::TaskLogsRequest {
            id,
            attempt: 0,
            follow,
            number,
        })
        .await?
        .into_inner();
    while let Some(line) = stream.message().await? {
        sink(line.stream == pb::LogStream::Stderr as i32, &line.data);
    }
    Ok(())
}

fn offline(
    dir: &Path,
    id: &str,
    pick: AttemptPick,
    mut sink: impl FnMut(bool, &[u8]),
) -> Result<()> {
    let db = dir.join(".swarm").join("swarmd.db");
    if !db.is_file() {
        return Err(Failure(
            exit::USAGE,
            format!(
                "no swarmd store at {}: --workdir takes the directory swarmd ran in (its --workdir)",
                db.display()
            ),
        ));
    }
    let store = Store::open_read_only(&db)
        .map_err(|e| Failure(exit::FAILED, format!("cannot read {}: {e}", db.display())))?;
    let (_, chunks) = stored_logs(store.conn(), id, pick).map_err(|e| match e {
        PickError::Store(e) => Failure(exit::FAILED, format!("cannot read {}: {e}", db.display())),
        PickError::NotRun { .. }
        | PickError::NoSuchAttempt { .. }
        | PickError::NoPlan
        | PickError::NoTask { .. } => Failure(exit::NOT_FOUND, e.to_string()),
    })?;
    for c in &chunks {
        sink(c.stream == 1, &c.data);
    }
    Ok(())
}

/// Writes one chunk of output where the task wrote it.
fn print_chunk(stderr: bool, data: &[u8]) {
    if stderr {
        let _ = std::io::stderr().write_all(data);
    } else {
        crate::out::bytes(data);
    }
}
