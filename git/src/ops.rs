//! What swarmd asks of a repository: branches moved by compare-and-swap,
//! worktrees, a commit of everything an attempt changed, and merges made
//! without a work tree.

use crate::cmd::{GitError, Repo};
use crate::trailers::Trailer;
use crate::Oid;

/// Who a commit is by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The author's and committer's name.
    pub name: String,
    /// Their e-mail address.
    pub email: String,
}

/// What merging one branch into another came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merge {
    /// The merge commit, not yet on any branch.
    Clean(Oid),
    /// The branch is already in the target: nothing to merge.
    Already,
    /// The paths that conflict; nothing was written.
    Conflict(Vec<String>),
}

impl Repo {
    /// A new repository here (`bare` or with a work tree).
    ///
    /// # Errors
    /// As [`Repo::git`].
    pub fn init(&self, bare: bool) -> Result<(), GitError> {
        std::fs::create_dir_all(self.dir()).map_err(GitError::Missing)?;
        let mut args = vec!["init", "-q"];
        if bare {
            args.push("--bare");
        }
        self.git(&args).map(drop)
    }

    /// The commit `rev` names, or `None` when it names none.
    ///
    /// # Errors
    /// As [`Repo::git`], for anything but an unknown name.
    pub fn resolve(&self, rev: &str) -> Result<Option<Oid>, GitError> {
        let spec = format!("{rev}^{{commit}}");
        let args = ["rev-parse", "--verify", "--quiet", spec.as_str()];
        let out = self.output(&args)?;
        match out.status.code() {
            Some(0) => Ok(Some(self.text(&args, out.stdout)?.trim().to_string())),
            Some(1) => Ok(None),
            _ => Err(self.failed(&args, &out)),
        }
    }

    /// The tip of branch `name`, if it exists.
    ///
    /// # Errors
    /// As [`Repo::git`].
    pub fn branch_tip(&self, name: &str) -> Result<Option<Oid>, GitError> {
        self.resolve(&format!("refs/heads/{name}"))
    }

    /// Moves branch `name` to `to` only if it is at `from` (`None`: only if
    /// it does not exist yet) — a compare-and-swap, so two writers can
    /// never both believe they moved it.
    ///
    /// # Errors
    /// [`GitError::Moved`] when the branch was elsewhere; as [`Repo::git`].
    pub fn move_branch(&self, name: &str, to: &str, from: Option<&str>) -> Result<(), GitError> {
        let full = format!("refs/heads/{name}");
        let args = ["update-ref", full.as_str(), to, from.unwrap_or("")];
        let out = self.output(&args)?;
        if out.status.success() {
            return Ok(());
        }
        let found = self.branch_tip(name)?;
        if found.as_deref() != from {
            return Err(GitError::Moved {
                dir: self.dir().to_path_buf(),
                branch: name.to_string(),
                expected: from.unwrap_or_default().to_string(),
                found: found.unwrap_or_default(),
            });
        }
        Err(self.failed(&args, &out))
    }

    /// Whether `ancestor` is reachable from `of`.
    ///
    /// # Errors
    /// As [`Repo::git`].
    pub fn contains(&self, of: &str, ancestor: &str) -> Result<bool, GitError> {
        let args = ["merge-base", "--is-ancestor", ancestor, of];
        let out = self.output(&args)?;
        match out.status.code() {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(self.failed(&args, &out)),
        }
    }

    /// A worktree at `path` on a new branch `branch` starting at `at`. A
    /// worktree left at `path` by an earlier run is removed first, and the
    /// branch is reset to `at` if it exists.
    ///
    /// # Errors
    /// As [`Repo::git`].
    pub fn add_worktree(
        &self,
        path: &std::path::Path,
        branch: &str,
        at: &str,
    ) -> Result<Repo, GitError> {
        self.remove_worktree(path)?;
        let p = path.to_string_lossy();
        self.git(&["worktree", "add", "-q", "-B", branch, &p, at])?;
        Ok(Repo::at(path))
    }

    /// Removes the worktree at `path`, whatever it holds; nothing to do if
    /// there is none.
    ///
    /// # Errors
    /// As [`Repo::git`].
    pub fn remove_worktree(&self, path: &std::path::Path) -> Result<(), GitError> {
        if path.exists() {
            let p = path.to_string_lossy();
            let args = ["worktree", "remove", "--force", "--force", p.as_ref()];
            let out = self.output(&args)?;
            if !out.status.success() {
                // Not a worktree git knows (a plain directory left over):
                // it goes all the same.
                std::fs::remove_dir_all(path).map_err(GitError::Missing)?;
            }
        }
        self.git(&["worktree", "prune"]).map(drop)
    }

    /// Commits everything changed in this worktree — new, changed and
    /// deleted files — by `who`, with `subject` and `trailers`. `None`
    /// when nothing changed (no commit is made).
    ///
    /// # Errors
    /// As [`Repo::git`] (a failing commit hook included).
    pub fn commit_all(
        &self,
        who: &Identity,
        subject: &str,
        trailers: &[Trailer],
    ) -> Result<Option<Oid>, GitError> {
        self.git(&["add", "-A"])?;
        let args = ["diff", "--cached", "--quiet"];
        let out = self.output(&args)?;
        match out.status.code() {
            Some(0) => return Ok(None),
            Some(1) => {}
            _ => return Err(self.failed(&args, &out)),
        }
        let message = crate::trailers::message(subject, trailers);
        let mut cmd = self.command(["commit", "-q", "-F", "-"]);
        cmd.env("GIT_AUTHOR_NAME", &who.name)
            .env("GIT_AUTHOR_EMAIL", &who.email)
            .env("GIT_COMMITTER_NAME", &who.name)
            .env("GIT_COMMITTER_EMAIL", &who.email);
        crate::trailers::run_with_input(self, cmd, &["commit", "-q", "-F", "-"], &message)?;
        self.resolve("HEAD")
    }

    /// Merges `theirs` into `ours` without touching any work tree: the
    /// merge commit (by `who`, with `subject` and `trailers`) is written
    /// but no branch moves; [`Repo::move_branch`] does that.
    ///
    /// # Errors
    /// As [`Repo::git`].
    pub fn merge(
        &self,
        ours: &str,
        theirs: &str,
        who: &Identity,
        subject: &str,
        trailers: &[Trailer],
    ) -> Result<Merge, GitError> {
        if self.contains(ours, theirs)? {
            return Ok(Merge::Already);
        }
        let args = [
            "merge-tree",
            "--write-tree",
            "--name-only",
            "--no-messages",
            ours,
            theirs,
        ];
        let out = self.output(&args)?;
        let text = self.text(&args, out.stdout.clone())?;
        let mut lines = text.lines();
        let tree = lines
            .next()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| self.unexpected(&args, "no tree"))?
            .to_string();
        match out.status.code() {
            Some(0) => {}
            Some(1) => {
                let files = lines
                    .take_while(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect();
                return Ok(Merge::Conflict(files));
            }
            _ => return Err(self.failed(&args, &out)),
        }
        let message = crate::trailers::message(subject, trailers);
        let ct = [
            "commit-tree",
            tree.as_str(),
            "-p",
            ours,
            "-p",
            theirs,
            "-F",
            "-",
        ];
        let mut cmd = self.command(ct);
        cmd.env("GIT_AUTHOR_NAME", &who.name)
            .env("GIT_AUTHOR_EMAIL", &who.email)
            .env("GIT_COMMITTER_NAME", &who.name)
            .env("GIT_COMMITTER_EMAIL", &who.email);
        let commit = crate::trailers::run_with_input(self, cmd, &ct, &message)?;
        Ok(Merge::Clean(commit))
    }

    /// The paths that differ between two commits.
    ///
    /// # Errors
    /// As [`Repo::git`].
    pub fn changed_files(&self, from: &str, to: &str) -> Result<Vec<String>, GitError> {
        let args = ["diff", "--name-only", "-z", from, to];
        let out = self.git(&args)?;
        Ok(out
            .split('\0')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect())
    }
}
