//! Errors the scheduler loop answers with (the gRPC edge maps them to
//! statuses in one place).

use thiserror::Error;

/// Why a command was refused, or why the loop cannot go on.
#[derive(Debug, Error)]
pub enum CoreError {
    /// Bad input: the message says what and what would be valid. Nothing
    /// was changed.
    #[error("{0}")]
    Invalid(String),
    /// No such task, agent, entry. Nothing was changed.
    #[error("{0}")]
    NotFound(String),
    /// Not possible in the current state (a plan already running, ...).
    /// Nothing was changed.
    #[error("{0}")]
    Conflict(String),
    /// Something with this identity is already live (a second agent with
    /// the id of a live session). Nothing was changed.
    #[error("{0}")]
    Duplicate(String),
    /// A compare-and-swap did not match. Nothing was changed.
    #[error("{0}")]
    CasMismatch(String),
    /// The store failed; the daemon stops rather than lose a transition.
    #[error("the store failed: {0}")]
    Store(#[from] swarm_memory::StoreError),
    /// The stored state cannot be brought back (a plan that no longer
    /// compiles, an unknown state name).
    #[error("cannot recover the stored state: {0}")]
    Recovery(String),
    /// The store failed and the daemon is stopping; the message names the
    /// file, what happened and the cure.
    #[error("{0}")]
    Fatal(String),
    /// The shared memory file cannot be used for now (locked by another
    /// process, being rewritten, being rebuilt); scheduling goes on.
    #[error("{0}")]
    MemoryUnavailable(String),
    /// The scheduler loop is not running (any more).
    #[error("swarmd is shutting down: the scheduler has stopped")]
    Stopped,
    /// The scheduler thread could not be started.
    #[error("cannot start the scheduler thread: {0}")]
    Thread(#[source] std::io::Error),
}

impl From<rusqlite::Error> for CoreError {
    fn from(e: rusqlite::Error) -> Self {
        CoreError::Store(e.into())
    }
}
