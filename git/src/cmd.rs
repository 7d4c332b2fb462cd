//! Running `git`: one [`Repo`], one way to start the tool, typed errors.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Variables that point git at another repository, index or work tree; a
/// hook or a task's shell may have set them, and they would send every
/// command somewhere else.
const LOCATING: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_COMMITTER_DATE",
];

/// The longest one git command runs before it is stopped: ten minutes, a
/// clone of a large repository over a slow link included.
const DEFAULT_LIMIT: std::time::Duration = std::time::Duration::from_secs(600);

/// What went wrong running git.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// git could not be started at all.
    #[error("cannot run git: {0} (is git installed and on PATH?)")]
    Missing(#[source] std::io::Error),
    /// git ran and said no.
    #[error("`git {args}` in {dir} failed ({status}): {stderr}")]
    Failed {
        /// The repository or worktree it ran in.
        dir: PathBuf,
        /// Its arguments, space-separated.
        args: String,
        /// How it ended (an exit code or a signal).
        status: String,
        /// What it said, trimmed.
        stderr: String,
    },
    /// git's output was not what the command promises.
    #[error("`git {args}` in {dir} printed what it should not: {detail}")]
    Unexpected {
        /// The repository or worktree it ran in.
        dir: PathBuf,
        /// Its arguments, space-separated.
        args: String,
        /// What was wrong with the output.
        detail: String,
    },
    /// git ran past its time limit and was stopped.
    #[error(
        "`git {args}` in {dir} ran past {secs} s and was stopped (a remote that does not answer?)"
    )]
    TimedOut {
        /// The repository or worktree it ran in.
        dir: PathBuf,
        /// Its arguments, space-separated.
        args: String,
        /// The limit, seconds.
        secs: u64,
    },
    /// A branch was not where the caller last saw it: someone else moved
    /// it (compare-and-swap refused).
    #[error("branch {branch} in {dir} moved: expected it at {expected}, it is at {found}")]
    Moved {
        /// The repository.
        dir: PathBuf,
        /// The branch's short name.
        branch: String,
        /// Where the caller expected it (empty: absent).
        expected: String,
        /// Where it is (empty: absent).
        found: String,
    },
}

/// A repository (or a worktree of one) on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    dir: PathBuf,
    /// The longest one git command may run.
    limit: std::time::Duration,
    /// Whether git may work here though another user owns it
    /// (`safe.directory`).
    trusted: bool,
}

impl Repo {
    /// The repository (or worktree) at `dir`; nothing is checked until a
    /// command runs.
    pub fn at(dir: impl Into<PathBuf>) -> Repo {
        Repo {
            dir: dir.into(),
            limit: DEFAULT_LIMIT,
            trusted: false,
        }
    }

    /// Where it is.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The same repository, which git works in though another user owns
    /// it: an agent's own clone and worktrees, handed to the user its
    /// tasks run as (`swarm-agent --run-as`).
    pub fn trusted(mut self) -> Repo {
        self.trusted = true;
        self
    }

    /// The same repository with git commands stopped after `limit`
    /// (default ten minutes).
    pub fn with_limit(mut self, limit: std::time::Duration) -> Repo {
        self.limit = limit;
        self
    }

    /// `git` in this repository, in a clean environment; not started yet.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new("git");
        for var in LOCATING {
            cmd.env_remove(var);
        }
        cmd.arg("-C").arg(&self.dir).args([
            "-c",
            "core.quotepath=off",
            "-c",
            "advice.detachedHead=false",
        ]);
        if self.trusted {
            cmd.args(["-c", "safe.directory=*"]);
        }
        cmd.args(args)
            .env("LC_ALL", "C")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_PAGER", "cat")
            .env("PAGER", "cat")
            .env("GIT_EDITOR", "true")
            .env("GIT_MERGE_AUTOEDIT", "no")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs git with `args` and returns its output, whatever its exit.
    ///
    /// # Errors
    /// [`GitError::Missing`] when git cannot be started.
    pub fn output(&self, args: &[&str]) -> Result<Output, GitError> {
        self.run(self.command(args), args, None)
    }

    /// Runs `cmd` (whose arguments are `args`, for errors) with `input`
    /// on its standard input, within the time limit.
    pub(crate) fn run(
        &self,
        cmd: Command,
        args: &[&str],
        input: Option<&str>,
    ) -> Result<Output, GitError> {
        crate::wait::run(cmd, input, self.limit)
            .map_err(GitError::Missing)?
            .ok_or_else(|| GitError::TimedOut {
                dir: self.dir.clone(),
                args: args.join(" "),
                secs: self.limit.as_secs(),
            })
    }

    /// Runs git with `args`; its standard output with the trailing newline
    /// removed.
    ///
    /// # Errors
    /// [`GitError::Missing`], or [`GitError::Failed`] on a non-zero exit.
    pub fn git(&self, args: &[&str]) -> Result<String, GitError> {
        let out = self.output(args)?;
        if !out.status.success() {
            return Err(self.failed(args, &out));
        }
        Ok(self.text(args, out.stdout)?.trim_end().to_string())
    }

    /// The error for a command that ended with `out`.
    pub(crate) fn failed(&self, args: &[&str], out: &Output) -> GitError {
        GitError::Failed {
            dir: self.dir.clone(),
            args: args.join(" "),
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        }
    }

    /// Output read as UTF-8.
    pub(crate) fn text(&self, args: &[&str], bytes: Vec<u8>) -> Result<String, GitError> {
        String::from_utf8(bytes).map_err(|_| self.unexpected(args, "output that is not UTF-8"))
    }

    /// The error for output that breaks the command's promise.
    pub(crate) fn unexpected(&self, args: &[&str], detail: &str) -> GitError {
        GitError::Unexpected {
            dir: self.dir.clone(),
            args: args.join(" "),
            detail: detail.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_names_the_command_the_place_and_what_git_said() {
        let dir = tempfile::tempdir().expect("tmp");
        let repo = Repo::at(dir.path());
        let err = repo
            .git(&["rev-parse", "--verify", "HEAD"])
            .expect_err("no repository here");
        let text = err.to_string();
        assert!(text.contains("git rev-parse --verify HEAD"), "{text}");
        assert!(text.contains(&dir.path().display().to_string()), "{text}");
        assert!(text.contains("not a git repository"), "{text}");
    }

    #[test]
    fn a_command_past_its_limit_is_stopped_and_said_so() {
        let dir = tempfile::tempdir().expect("tmp");
        let repo = Repo::at(dir.path()).with_limit(std::time::Duration::from_millis(300));
        repo.init(false).expect("init");
        // A git alias that runs a shell command which never ends.
        repo.git(&["config", "alias.hang", "!sleep 30"])
            .expect("alias");
        let started = std::time::Instant::now();
        let err = repo.git(&["hang"]).expect_err("stopped");
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        assert!(matches!(err, GitError::TimedOut { secs: 0, .. }), "{err:?}");
        assert!(err.to_string().contains("ran past"), "{err}");
    }

    #[test]
    fn variables_that_locate_another_repository_are_removed() {
        let cmd = Repo::at("/x").command(["status"]);
        let removed: Vec<String> = cmd
            .get_envs()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        for var in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_AUTHOR_NAME",
        ] {
            assert!(removed.iter().any(|r| r == var), "{var} kept: {removed:?}");
        }
        let set: Vec<(String, String)> = cmd
            .get_envs()
            .filter_map(|(k, v)| {
                Some((
                    k.to_string_lossy().into_owned(),
                    v?.to_string_lossy().into_owned(),
                ))
            })
            .collect();
        assert!(set.contains(&("GIT_TERMINAL_PROMPT".into(), "0".into())));
        assert!(set.contains(&("LC_ALL".into(), "C".into())));
    }
}
