//! The merge queue: opens each plan's integration branch and merges each
//! succeeded attempt's commits into it, one job at a time in the order the
//! loop queued them, off the scheduler's loop. It works in a clone of its
//! own under `.swarm/repos/`, fetches what agents pushed, writes merges
//! without a work tree, and pushes the integration branch forward only
//! (never a force push); then it tells the loop what became of the job.
//!
//! A crash between the push and the loop's commit is safe: the queued job
//! is handed over again after the restart, and a merge already on the
//! branch is found by its `Swarm-Task` and `Swarm-Attempt` trailers, never
//! made twice.

use std::path::{Path, PathBuf};

use swarm_core::jobs::{MergeJob, MergeNotice, MergeWork};
use swarm_core::{Command, CoreHandle};
use swarm_git::{repo_key, GitError, Identity, Merge, Repo, Trailer};
use tokio::sync::mpsc;

/// Works through merge jobs until the channel closes or `cancel` fires.
pub async fn run(
    mut jobs: mpsc::UnboundedReceiver<MergeJob>,
    core: CoreHandle,
    state_dir: PathBuf,
    cancel: tokio_util::sync::CancellationToken,
) {
    let repos = state_dir.join("repos");
    while let Some(job) = super::next(&mut jobs, &cancel).await {
        let dir = repos.clone();
        let notice = tokio::task::spawn_blocking(move || work(&dir, job)).await;
        match notice {
            Ok(n) => core.tell(Command::Merge(n)),
            Err(e) => tracing::error!("the merge queue's job panicked: {e}"),
        }
    }
}

/// Does one job, blocking.
fn work(repos: &Path, job: MergeJob) -> MergeNotice {
    match job {
        MergeJob::Open {
            plan_id,
            repo,
            base,
            branch,
        } => match open(&clone_of(repos, &repo), &base, &branch) {
            Ok(head) => MergeNotice::Opened { plan_id, head },
            Err(e) => MergeNotice::OpenFailed {
                plan_id,
                error: format!("{repo}: {e}"),
            },
        },
        MergeJob::Merge(w) => {
            let (plan_id, attempt) = (w.plan_id, w.attempt);
            match merge(&clone_of(repos, &w.repo), &w) {
                Ok(n) => n,
                Err(e) => MergeNotice::Failed {
                    plan_id,
                    attempt,
                    error: e.to_string(),
                },
            }
        }
        MergeJob::Land {
            plan_id,
            repo,
            branch,
            attempt,
            commit,
            tip,
        } => match land(&clone_of(repos, &repo), &branch, &commit, &tip) {
            Ok(files) => MergeNotice::Merged {
                plan_id,
                attempt,
                commit: commit.clone(),
                head: commit,
                files,
                found: false,
            },
            Err(e) => MergeNotice::Failed {
                plan_id,
                attempt,
                error: e.to_string(),
            },
        },
    }
}

/// Moves the integration branch from `tip` to the verified candidate
/// `commit` (forward only); the files the merge changed.
fn land(
    clone: &Result<Repo, GitError>,
    branch: &str,
    commit: &str,
    tip: &str,
) -> Result<Vec<String>, GitError> {
    let clone = clone.as_ref().map_err(clone_error)?;
    let now = clone.resolve(&format!("refs/remotes/origin/{branch}"))?;
    if now.as_deref() != Some(tip) {
        return Err(GitError::Moved {
            dir: clone.dir().to_path_buf(),
            branch: branch.to_string(),
            expected: tip.to_string(),
            found: now.unwrap_or_default(),
        });
    }
    clone.push_forward("origin", commit, branch)?;
    clone.changed_files(tip, commit)
}

/// Where the coordinator keeps its clone of `repo`, under `state_dir`.
pub(crate) fn clone_dir(state_dir: &Path, repo: &str) -> PathBuf {
    state_dir.join("repos").join(repo_key(repo))
}

/// The coordinator's clone of `repo`, made (without a checkout) or
/// brought up to date.
fn clone_of(repos: &Path, repo: &str) -> Result<Repo, GitError> {
    let clone = Repo::at(repos.join(repo_key(repo)));
    if !clone.dir().join(".git").exists() {
        // A clone cut short by a crash leaves a directory git refuses.
        let _ = std::fs::remove_dir_all(clone.dir());
        clone.clone_from(repo)?;
    }
    clone.fetch("origin")?;
    Ok(clone)
}

/// The integration branch's head: where the repository has it, or made
/// there from `base`.
fn open(clone: &Result<Repo, GitError>, base: &str, branch: &str) -> Result<String, GitError> {
    let clone = clone.as_ref().map_err(clone_error)?;
    if let Some(head) = clone.resolve(&format!("refs/remotes/origin/{branch}"))? {
        return Ok(head);
    }
    let start = clone
        .resolve(&format!("refs/remotes/origin/{base}"))?
        .ok_or_else(|| GitError::Unexpected {
            dir: clone.dir().to_path_buf(),
            args: format!("rev-parse origin/{base}"),
            detail: format!("the repository has no branch '{base}' to start from (workspace.base)"),
        })?;
    clone.push_forward("origin", &start, branch)?;
    Ok(start)
}

/// Merges an attempt's commits (a gang's folded in member order first)
/// into the integration branch and pushes it.
fn merge(clone: &Result<Repo, GitError>, w: &MergeWork) -> Result<MergeNotice, GitError> {
    let clone = clone.as_ref().map_err(clone_error)?;
    let (plan_id, attempt) = (w.plan_id, w.attempt);
    let tip = clone
        .resolve(&format!("refs/remotes/origin/{}", w.branch))?
        .ok_or_else(|| GitError::Unexpected {
            dir: clone.dir().to_path_buf(),
            args: format!("rev-parse origin/{}", w.branch),
            detail: "the integration branch is gone from the repository".to_string(),
        })?;
    if let Some(done) = merged_already(clone, &tip, w)? {
        let files = clone.changed_files(&format!("{done}^1"), &done)?;
        return Ok(MergeNotice::Merged {
            plan_id,
            attempt,
            commit: done,
            head: tip,
            files,
            found: true,
        });
    }
    let who = Identity {
        name: "swarmd".to_string(),
        email: "swarmd@swarm.invalid".to_string(),
    };
    let Some((first, rest)) = w.commits.split_first() else {
        return Ok(MergeNotice::Merged {
            plan_id,
            attempt,
            commit: tip.clone(),
            head: tip,
            files: Vec::new(),
            found: false,
        });
    };
    let mut work = first.clone();
    for other in rest {
        let subject = format!("Gang of task {}: member work combined", w.task_id);
        match clone.merge(&work, other, &who, &subject, &[])? {
            Merge::Clean(m) => work = m,
            Merge::Already => {}
            Merge::Conflict(files) => {
                return Ok(MergeNotice::Conflict {
                    plan_id,
                    attempt,
                    files,
                    with: vec![format!("{} (another gang member)", w.task_id)],
                })
            }
        }
    }
    merge_into(clone, tip, &work, w)
}

/// Merges `work` (an attempt's commit, or its gang's combined) into the
/// integration branch at `tip`: pushed, made a candidate, or in conflict.
fn merge_into(
    clone: &Repo,
    tip: String,
    work: &str,
    w: &MergeWork,
) -> Result<MergeNotice, GitError> {
    let (plan_id, attempt) = (w.plan_id, w.attempt);
    let who = Identity {
        name: "swarmd".to_string(),
        email: "swarmd@swarm.invalid".to_string(),
    };
    let subject = format!("Merge task {}: {}", w.task_id, w.title);
    let trailers = [
        Trailer::new("Swarm-Task", &w.task_id),
        Trailer::new("Swarm-Attempt", &attempt.to_string()),
        Trailer::new("Swarm-Plan", &w.label),
    ];
    match clone.merge(&tip, work, &who, &subject, &trailers)? {
        Merge::Clean(m) if w.verify => {
            // Checked on the merged tree first: the candidate waits on a
            // branch of its own, beside the attempts'.
            let branch = w.branch.replace("/integration", "/candidates/")
                + &format!("{}-a{attempt}", w.task_id.replace(['/', ' '], "-"));
            clone.push_branch_at("origin", &m, &branch)?;
            Ok(MergeNotice::Candidate {
                plan_id,
                attempt,
                commit: m,
                branch,
                tip,
            })
        }
        Merge::Clean(m) => {
            clone.push_forward("origin", &m, &w.branch)?;
            let files = clone.changed_files(&tip, &m)?;
            Ok(MergeNotice::Merged {
                plan_id,
                attempt,
                commit: m.clone(),
                head: m,
                files,
                found: false,
            })
        }
        Merge::Already => Ok(MergeNotice::Merged {
            plan_id,
            attempt,
            commit: tip.clone(),
            head: tip,
            files: Vec::new(),
            found: false,
        }),
        Merge::Conflict(files) => {
            let with = changed_by(clone, &tip, work, &files)?;
            Ok(MergeNotice::Conflict {
                plan_id,
                attempt,
                files,
                with,
            })
        }
    }
}

/// The merge of this attempt on the integration branch, if one is there
/// (made before a crash).
fn merged_already(clone: &Repo, tip: &str, w: &MergeWork) -> Result<Option<String>, GitError> {
    let attempt = w.attempt.to_string();
    let has = |ts: &[Trailer], k: &str, v: &str| ts.iter().any(|t| t.key == k && t.value == v);
    Ok(clone
        .trailers(tip, true)?
        .into_iter()
        .find(|(_, ts)| has(ts, "Swarm-Task", &w.task_id) && has(ts, "Swarm-Attempt", &attempt))
        .map(|(oid, _)| oid))
}

/// The tasks whose merges changed any of `files` on the integration
/// branch since `work` left it.
fn changed_by(
    clone: &Repo,
    tip: &str,
    work: &str,
    files: &[String],
) -> Result<Vec<String>, GitError> {
    let base = clone.git(&["merge-base", tip, work])?;
    let base = base.trim();
    let mut tasks: Vec<String> = Vec::new();
    for (oid, trailers) in clone.trailers(tip, true)? {
        if oid == base {
            break;
        }
        let Some(task) = trailers.iter().find(|t| t.key == "Swarm-Task") else {
            continue;
        };
        let changed = clone.changed_files(&format!("{oid}^1"), &oid)?;
        if changed.iter().any(|f| files.contains(f)) && !tasks.contains(&task.value) {
            tasks.push(task.value.clone());
        }
    }
    Ok(tasks)
}

/// The clone's failure, as a new error (the original stays with the
/// caller's `Result`).
fn clone_error(e: &GitError) -> GitError {
    GitError::Unexpected {
        dir: PathBuf::new(),
        args: "clone or fetch".to_string(),
        detail: e.to_string(),
    }
}

#[cfg(test)]
mod tests;
