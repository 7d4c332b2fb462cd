//! The worktree an attempt works in when its assignment names a
//! repository: one clone per repository under the agent's own directory,
//! a worktree of it per attempt on the attempt's branch, and, when the
//! attempt ends, a commit pushed back (on success) and the worktree gone.
//!
//! Layout, in the agent's directory `.swarm-agent/<id>/`:
//!
//! - `repos/<key>/`: the clone of one repository (`key`: a stable hash
//!   of its address), made without a checkout; agents sharing a workdir
//!   never share a clone.
//! - `work/<task>-<fence>/`: an attempt's worktree, on its branch from
//!   the base commit. Nothing under `work/` outlives its attempt; what a
//!   killed agent left there is swept at the next start ([`Workspaces::sweep`]).
//!
//! Every function here runs `git` and blocks: the async callers run them
//! with `spawn_blocking`. Commands touching a clone's shared state (clone,
//! fetch, adding and removing worktrees) hold that clone's lock, so two
//! attempts of one repository can start and end at once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use swarm_git::{repo_key, GitError, Identity, Oid, Repo, Trailer};

use super::AttemptRef;
use crate::home::dir_name;

/// Where an attempt works, from its assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    /// Where to clone from and push to: a path on this host or a URL.
    pub repo: String,
    /// The commit the attempt starts from.
    pub base_commit: String,
    /// The attempt's branch.
    pub branch: String,
    /// The plan, for the `Swarm-Plan` trailer.
    pub plan: String,
    /// Only the task's Checks run, on a candidate merge: nothing is
    /// committed or pushed, whatever they leave in the worktree.
    pub checks_only: bool,
}

/// The step of a workspace that failed, as users read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Cloning the repository.
    Clone,
    /// Fetching from it.
    Fetch,
    /// Making the attempt's worktree.
    Worktree,
    /// Committing the attempt's work.
    Commit,
    /// Pushing the attempt's branch.
    Push,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::Clone => "clone the repository",
            Step::Fetch => "fetch from the repository",
            Step::Worktree => "make the attempt's worktree",
            Step::Commit => "commit the attempt's work",
            Step::Push => "push the attempt's branch",
        })
    }
}

/// Why an attempt's workspace could not be made or handed back.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// A git command failed.
    #[error("task {task} (fence {fence}): cannot {step} ({repo}, branch {branch}): {source}")]
    Git {
        /// What was being done.
        step: Step,
        /// The task.
        task: String,
        /// The attempt's fencing number.
        fence: u64,
        /// The repository's address.
        repo: String,
        /// The attempt's branch.
        branch: String,
        /// What git said (boxed: errors travel in `Result`s).
        source: Box<GitError>,
    },
    /// The base commit is not in the repository, even after a fetch.
    #[error(
        "task {task} (fence {fence}): base commit {commit} is not in {repo} \
         (fetched all its branches)"
    )]
    NoBase {
        /// The task.
        task: String,
        /// The attempt's fencing number.
        fence: u64,
        /// The commit asked for.
        commit: String,
        /// The repository's address.
        repo: String,
    },
}

/// The workspaces of one agent; cheap to clone, shared by its attempts.
#[derive(Debug, Clone)]
pub struct Workspaces {
    /// The agent's directory, `.swarm-agent/<id>/`.
    dir: PathBuf,
    /// The agent's id, for the commits' author.
    agent_id: String,
    /// One lock per clone, by key; held while its shared state changes.
    locks: Arc<Mutex<HashMap<String, Arc<Mutex<()>>>>>,
    /// The user and group tasks run as (`--run-as`): clones and worktrees
    /// are handed to them, so tasks (and the git an AI agent runs) can
    /// write there.
    owner: Option<(u32, u32)>,
}

impl Workspaces {
    /// The workspaces kept in `agent_dir` for agent `agent_id`.
    pub fn new(agent_dir: PathBuf, agent_id: &str) -> Workspaces {
        Workspaces {
            dir: agent_dir,
            agent_id: agent_id.to_string(),
            locks: Arc::default(),
            owner: None,
        }
    }

    /// The same workspaces, handed to `owner` (uid, gid) when given.
    pub fn owned_by(mut self, owner: Option<(u32, u32)>) -> Workspaces {
        self.owner = owner;
        self
    }

    /// The repository at `dir`, trusted by git when it is handed to the
    /// tasks' user.
    fn repo(&self, dir: impl Into<PathBuf>) -> Repo {
        let repo = Repo::at(dir);
        if self.owner.is_some() {
            repo.trusted()
        } else {
            repo
        }
    }

    /// Removes the worktrees an earlier process of this agent left (it
    /// was killed mid-attempt) and has each clone forget them. Returns
    /// the worktrees removed.
    pub fn sweep(&self) -> Vec<PathBuf> {
        let mut removed = Vec::new();
        for entry in read_dir(&self.dir.join("work")) {
            match std::fs::remove_dir_all(&entry) {
                Ok(()) => removed.push(entry),
                Err(e) => tracing::warn!("cannot remove {}: {e}", entry.display()),
            }
        }
        for clone in read_dir(&self.dir.join("repos")) {
            if let Err(e) = self.repo(&clone).git(&["worktree", "prune"]) {
                tracing::warn!("{e}");
            }
        }
        removed
    }

    /// Makes the worktree attempt `r` of a task works in: the clone of
    /// `ws.repo` (made, or fetched when it lacks the base commit), and a
    /// worktree of it on `ws.branch` at `ws.base_commit`. `role` and
    /// `title` go into the commit [`Prepared::finish`] makes.
    ///
    /// # Errors
    /// The step that failed, with what git said.
    pub fn prepare(
        &self,
        r: &AttemptRef,
        role: &str,
        title: &str,
        ws: &Workspace,
    ) -> Result<Prepared, WorkspaceError> {
        let fail = |step| {
            let (task, repo, branch) = (r.task_id.clone(), ws.repo.clone(), ws.branch.clone());
            move |source| WorkspaceError::Git {
                step,
                task,
                fence: r.attempt,
                repo,
                branch,
                source: Box::new(source),
            }
        };
        let key = repo_key(&ws.repo);
        let clone = self.repo(self.dir.join("repos").join(&key));
        let path = self
            .dir
            .join("work")
            .join(format!("{}-{}", dir_name(&r.task_id), r.attempt));
        let lock = self.lock(&key);
        let _held = lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !clone.dir().join(".git").exists() {
            // A clone cut short by a kill leaves a directory git refuses.
            let _ = std::fs::remove_dir_all(clone.dir());
            clone.clone_from(&ws.repo).map_err(fail(Step::Clone))?;
        }
        let present = |c: &Repo| c.resolve(&ws.base_commit).map_err(fail(Step::Fetch));
        if present(&clone)?.is_none() {
            clone.fetch("origin").map_err(fail(Step::Fetch))?;
            if present(&clone)?.is_none() {
                return Err(WorkspaceError::NoBase {
                    task: r.task_id.clone(),
                    fence: r.attempt,
                    commit: ws.base_commit.clone(),
                    repo: ws.repo.clone(),
                });
            }
        }
        let tree = clone
            .add_worktree(&path, &ws.branch, &ws.base_commit)
            .map_err(fail(Step::Worktree))?;
        let tree = self.repo(tree.dir());
        if let Some((uid, gid)) = self.owner {
            for dir in [clone.dir(), tree.dir()] {
                hand_over(dir, uid, gid).map_err(|e| {
                    fail(Step::Worktree)(GitError::Missing(std::io::Error::new(
                        e.kind(),
                        format!("cannot hand {} to uid {uid}: {e}", dir.display()),
                    )))
                })?;
            }
        }
        Ok(Prepared {
            owner: self.clone(),
            key,
            attempt: r.clone(),
            role: role.to_string(),
            title: title.to_string(),
            ws: ws.clone(),
            clone,
            tree,
        })
    }

    /// The lock of clone `key`.
    fn lock(&self, key: &str) -> Arc<Mutex<()>> {
        let mut locks = self
            .locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        locks.entry(key.to_string()).or_default().clone()
    }
}

/// An attempt's worktree, made and not yet handed back.
#[derive(Debug)]
pub struct Prepared {
    owner: Workspaces,
    key: String,
    attempt: AttemptRef,
    role: String,
    title: String,
    ws: Workspace,
    clone: Repo,
    tree: Repo,
}

impl Prepared {
    /// The worktree: the attempt's working directory.
    pub fn dir(&self) -> &Path {
        self.tree.dir()
    }

    /// The clone's git directory, which git in the worktree writes to
    /// (objects, the branch, the worktree's index).
    pub fn git_dir(&self) -> PathBuf {
        self.clone.dir().join(".git")
    }

    /// Ends the attempt's workspace. After a success everything in the
    /// worktree is committed and the branch pushed to the repository; the
    /// commit is returned (`None`: nothing changed, nothing pushed).
    /// After anything else nothing is committed or pushed. Either way the
    /// worktree is removed.
    ///
    /// # Errors
    /// A commit or push that failed (a hook refusing it included); the
    /// worktree is removed all the same.
    pub fn finish(self, succeeded: bool) -> Result<Option<Oid>, WorkspaceError> {
        let handed = if succeeded && !self.ws.checks_only {
            self.commit_and_push()
        } else {
            Ok(None)
        };
        self.remove();
        handed
    }

    /// Commits everything and pushes the branch if there was a change.
    fn commit_and_push(&self) -> Result<Option<Oid>, WorkspaceError> {
        let fail = |step| {
            move |source| WorkspaceError::Git {
                step,
                task: self.attempt.task_id.clone(),
                fence: self.attempt.attempt,
                repo: self.ws.repo.clone(),
                branch: self.ws.branch.clone(),
                source: Box::new(source),
            }
        };
        let id = &self.owner.agent_id;
        let who = Identity {
            name: format!("{id} ({})", self.role),
            email: format!("{}@swarm-agent.invalid", dir_name(id)),
        };
        let subject = format!("{} {}", self.attempt.task_id, self.title);
        let trailers = [
            Trailer::new("Swarm-Task", &self.attempt.task_id),
            Trailer::new("Swarm-Attempt", &self.attempt.attempt.to_string()),
            Trailer::new("Swarm-Plan", &self.ws.plan),
        ];
        let commit = self
            .tree
            .commit_all(&who, &subject, &trailers)
            .map_err(fail(Step::Commit))?;
        if commit.is_some() {
            self.clone
                .push_branch("origin", &self.ws.branch)
                .map_err(fail(Step::Push))?;
        }
        Ok(commit)
    }

    /// Removes the worktree and the local branch (it is in the repository
    /// now, or was never to go there); a failure is only logged.
    fn remove(&self) {
        let lock = self.owner.lock(&self.key);
        let _held = lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(e) = self.clone.remove_worktree(self.dir()) {
            tracing::warn!(
                "cannot remove the worktree of task {}: {e}",
                self.attempt.task_id
            );
        }
        if let Err(e) = self.clone.git(&["branch", "-q", "-D", &self.ws.branch]) {
            tracing::warn!("{e}");
        }
    }
}

/// Makes `uid:gid` the owner of `path` and everything under it (symbolic
/// links themselves, never what they point to).
fn hand_over(path: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))?;
    if std::fs::symlink_metadata(path)?.is_dir() {
        for entry in std::fs::read_dir(path)? {
            hand_over(&entry?.path(), uid, gid)?;
        }
    }
    Ok(())
}

/// The entries of `dir`; none when it does not exist.
fn read_dir(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
pub(super) mod tests;
