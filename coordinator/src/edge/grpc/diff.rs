//! `TaskDiff`: what a task's work changed in the plan's repository — its
//! merge into the integration branch, or, while it is not merged, the
//! commits its attempt pushed — as `git diff --patch-with-stat` prints it,
//! read from the coordinator's own clone.

use std::path::Path;

use swarm_core::command::Query;
use swarm_core::views::{AttemptView, TaskDetail};
use swarm_core::CoreHandle;
use swarm_git::Repo;
use swarm_proto::v1 as pb;
use swarm_text::short_commit as short;
use tonic::Status;

/// Largest diff sent, in bytes; the rest is cut with a note.
const MAX_DIFF_BYTES: usize = 8 * 1024 * 1024;

/// The diff of task `req.id`'s work.
pub(crate) async fn task_diff(
    core: &CoreHandle,
    state_dir: &Path,
    req: pb::TaskDiffRequest,
) -> Result<pb::TaskDiffReply, Status> {
    let id = req.id.clone();
    let d = core
        .ask(|reply| Query::GetTask(id, reply).into())
        .await
        .map_err(super::status)?;
    let (number, what, ranges) = pick(&d, req.number)?;
    let clone = crate::workers::merge::clone_dir(state_dir, &d.repo);
    let diff = tokio::task::spawn_blocking(move || diff_of(&clone, &ranges))
        .await
        .map_err(|e| Status::internal(format!("the diff stopped: {e}")))??;
    Ok(pb::TaskDiffReply { number, what, diff })
}

/// Commit ranges to diff: (from, to).
type Ranges = Vec<(String, String)>;

/// The attempt whose work to show, what it is in words, and the ranges
/// to diff.
fn pick(d: &TaskDetail, number: u32) -> Result<(u32, String, Ranges), Status> {
    let id = &d.task.id;
    if d.repo.is_empty() {
        return Err(Status::failed_precondition(format!(
            "task {id} does not work in a repository (no [workspace] repo, or Workspace: none)"
        )));
    }
    let committed = |a: &&AttemptView| a.work.as_ref().is_some_and(|w| !w.commits.is_empty());
    let attempt = if number > 0 {
        d.attempts
            .iter()
            .find(|a| a.number == number)
            .ok_or_else(|| Status::not_found(format!("task {id} has no attempt {number}")))?
    } else {
        d.attempts.iter().rev().find(committed).ok_or_else(|| {
            Status::not_found(format!(
                "task {id} has no work to show yet: no attempt of it committed a change"
            ))
        })?
    };
    let w = attempt.work.clone().unwrap_or_default();
    if w.merge == "merged" && !w.merged_commit.is_empty() {
        let m = w.merged_commit.clone();
        let what = format!("merge {} on {}", short(&m), d.integration);
        return Ok((attempt.number, what, vec![(format!("{m}^1"), m)]));
    }
    if w.commits.is_empty() {
        return Err(Status::not_found(format!(
            "attempt {} of task {id} committed nothing",
            attempt.number
        )));
    }
    let shown: Vec<&str> = w.commits.iter().map(|c| short(c)).collect();
    let what = format!(
        "{} on {} (not merged{})",
        if shown.len() == 1 {
            format!("commit {}", shown[0])
        } else {
            format!("commits {}", shown.join(", "))
        },
        w.branch,
        if w.merge.is_empty() {
            String::new()
        } else {
            format!(": {}", w.merge)
        }
    );
    let ranges = w
        .commits
        .iter()
        .map(|c| (format!("{c}^1"), c.clone()))
        .collect();
    Ok((attempt.number, what, ranges))
}

/// `git diff --patch-with-stat` of each range, in the clone (fetched
/// first when it lacks a commit).
fn diff_of(clone: &Path, ranges: &[(String, String)]) -> Result<String, Status> {
    let repo = Repo::at(clone);
    let missing = |r: &Repo| {
        ranges
            .iter()
            .any(|(_, to)| !matches!(r.resolve(to), Ok(Some(_))))
    };
    if missing(&repo) {
        repo.fetch("origin")
            .map_err(|e| Status::unavailable(format!("cannot fetch the repository: {e}")))?;
    }
    let mut out = String::new();
    for (from, to) in ranges {
        let text = repo
            .git(&["diff", "--no-color", "--patch-with-stat", from, to])
            .map_err(|e| Status::unavailable(e.to_string()))?;
        out.push_str(&text);
        if out.len() > MAX_DIFF_BYTES {
            let mut cut = MAX_DIFF_BYTES;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            out.push_str("\n[the diff is longer than 8 MiB; see the rest with git]\n");
            break;
        }
    }
    Ok(out)
}
