//! A clone and the remote it came from: cloning without a checkout,
//! fetching what the remote has, and pushing one branch back.

use crate::cmd::{GitError, Repo};

impl Repo {
    /// Clones `url` (a path on this host or a URL) into this repository's
    /// directory, which must not exist yet or be empty, without checking
    /// anything out: the clone only serves worktrees. The remote is
    /// `origin`.
    ///
    /// # Errors
    /// As [`Repo::git`]; [`GitError::Missing`] when the parent directory
    /// cannot be made.
    pub fn clone_from(&self, url: &str) -> Result<(), GitError> {
        let parent = self.dir().parent().unwrap_or(self.dir());
        std::fs::create_dir_all(parent).map_err(GitError::Missing)?;
        let dir = self.dir().to_string_lossy();
        let args = ["clone", "-q", "--no-checkout", "--", url, dir.as_ref()];
        Repo::at(parent).git(&args).map(drop)
    }

    /// Fetches every branch of `remote` (its configured refspec), dropping
    /// remote-tracking branches it no longer has.
    ///
    /// # Errors
    /// As [`Repo::git`].
    pub fn fetch(&self, remote: &str) -> Result<(), GitError> {
        self.git(&["fetch", "-q", "--prune", remote]).map(drop)
    }

    /// Pushes local branch `branch` to the branch of the same name in
    /// `remote`, replacing whatever is there (`+`): an attempt's branch is
    /// its own, and a retry of the same attempt starts it over.
    ///
    /// # Errors
    /// As [`Repo::git`] (a remote hook refusing included).
    pub fn push_branch(&self, remote: &str, branch: &str) -> Result<(), GitError> {
        let spec = format!("+refs/heads/{branch}:refs/heads/{branch}");
        self.git(&["push", "-q", remote, &spec]).map(drop)
    }

    /// Sets branch `branch` of `remote` to `commit` only if that moves it
    /// forward (or makes it): never a force push, so a branch someone
    /// else moved since is refused, not overwritten.
    ///
    /// # Errors
    /// As [`Repo::git`] (a refused push included).
    pub fn push_forward(&self, remote: &str, commit: &str, branch: &str) -> Result<(), GitError> {
        let spec = format!("{commit}:refs/heads/{branch}");
        self.git(&["push", "-q", remote, &spec]).map(drop)
    }

    /// Sets branch `branch` of `remote` to `commit`, whatever it held (a
    /// branch of swarmd's own, such as a merge candidate).
    ///
    /// # Errors
    /// As [`Repo::git`].
    pub fn push_branch_at(&self, remote: &str, commit: &str, branch: &str) -> Result<(), GitError> {
        let spec = format!("+{commit}:refs/heads/{branch}");
        self.git(&["push", "-q", remote, &spec]).map(drop)
    }
}
