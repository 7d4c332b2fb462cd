//! The `git` command-line tool, driven for swarmd's workspaces.
//!
//! swarmd keeps a plan's work in one repository: an integration branch per
//! plan, a branch per attempt made in a worktree of the agent's own clone,
//! and merges done without a work tree (`git merge-tree --write-tree`, then
//! `commit-tree` and a compare-and-swap `update-ref`), so a crash between
//! two steps leaves refs that say exactly what was done.
//!
//! Everything goes through [`Repo::git`]: the user's `git` (their hooks
//! and credentials), in a clean environment — no pager, editor or prompt,
//! no `GIT_DIR` or `GIT_WORK_TREE` inherited from a hook, messages in the
//! C locale — with typed errors ([`GitError`]), each command stopped if it
//! runs past a time limit (ten minutes; [`Repo::with_limit`]).

mod cmd;
mod ops;
mod remote;
mod trailers;
mod wait;

pub use cmd::{GitError, Repo};
pub use ops::{Identity, Merge};
pub use trailers::{Trailer, TrailerLog};

/// A commit's (or tree's) object id, as git prints it in hex.
pub type Oid = String;

/// A short name for a repository's address that stays the same across
/// runs and versions (FNV-1a, 64 bits, in hex): the directory of a clone
/// of it, in swarmd's state and in each agent's.
pub fn repo_key(repo: &str) -> String {
    let hash = repo.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}
