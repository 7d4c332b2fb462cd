//! Commit messages with trailers (`Swarm-Task: 1.2`), written and read
//! back: after a crash, the trailers on a branch say what is already on it.

use std::process::Command;

use crate::cmd::{GitError, Repo};
use crate::Oid;

/// One `Key: value` line at the end of a commit message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trailer {
    /// The key, such as `Swarm-Task`.
    pub key: String,
    /// Its value, on one line.
    pub value: String,
}

impl Trailer {
    /// A trailer; line breaks in `value` become spaces, so it stays one.
    pub fn new(key: &str, value: &str) -> Trailer {
        Trailer {
            key: key.to_string(),
            value: value.replace(['\n', '\r'], " "),
        }
    }
}

/// A commit's subject and its trailers, as one message.
pub(crate) fn message(subject: &str, trailers: &[Trailer]) -> String {
    let subject = subject.replace(['\n', '\r'], " ");
    let mut m = format!("{}\n", subject.trim());
    if !trailers.is_empty() {
        m.push('\n');
        for t in trailers {
            m.push_str(&format!("{}: {}\n", t.key, t.value));
        }
    }
    m
}

/// Runs `cmd` (whose arguments are `args`, for errors) with `input` on
/// its standard input; its standard output, trimmed.
pub(crate) fn run_with_input(
    repo: &Repo,
    cmd: Command,
    args: &[&str],
    input: &str,
) -> Result<String, GitError> {
    let out = repo.run(cmd, args, Some(input))?;
    if !out.status.success() {
        return Err(repo.failed(args, &out));
    }
    Ok(repo.text(args, out.stdout)?.trim().to_string())
}

/// Each commit of a history with its trailers, newest first.
pub type TrailerLog = Vec<(Oid, Vec<Trailer>)>;

impl Repo {
    /// The commits reachable from `tip` (following first parents only
    /// when `first_parent`), newest first, each with its trailers.
    ///
    /// # Errors
    /// As [`Repo::git`].
    pub fn trailers(&self, tip: &str, first_parent: bool) -> Result<TrailerLog, GitError> {
        let mut args = vec!["log", "-z", "--format=%H%x1f%(trailers:only,unfold)"];
        if first_parent {
            args.push("--first-parent");
        }
        args.push(tip);
        args.push("--");
        let text = self.git(&args)?;
        let mut log = Vec::new();
        for record in text.split('\0').filter(|r| !r.trim().is_empty()) {
            let (oid, block) = record
                .split_once('\u{1f}')
                .ok_or_else(|| self.unexpected(&args, "a record without its separator"))?;
            let trailers = block
                .lines()
                .filter_map(|l| l.split_once(": "))
                .map(|(k, v)| Trailer::new(k.trim(), v.trim()))
                .collect();
            log.push((oid.trim().to_string(), trailers));
        }
        Ok(log)
    }
}
