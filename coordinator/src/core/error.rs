//! Errors the scheduler loop answers with, mapped once to gRPC statuses.

use thiserror::Error;

/// Why a command was refused. Nothing was changed.
#[derive(Debug, Error)]
pub enum CoreError {
    /// Bad input: the message says what and what would be valid.
    #[error("{0}")]
    Invalid(String),
    /// No such task, agent, entry.
    #[error("{0}")]
    NotFound(String),
    /// Not possible in the current state (a plan already running, ...).
    #[error("{0}")]
    Conflict(String),
    /// A compare-and-swap did not match.
    #[error("{0}")]
    CasMismatch(String),
    /// The store failed; the daemon stops rather than lose a transition.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<CoreError> for tonic::Status {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Invalid(m) => tonic::Status::invalid_argument(m),
            CoreError::NotFound(m) => tonic::Status::not_found(m),
            CoreError::Conflict(m) => tonic::Status::failed_precondition(m),
            CoreError::CasMismatch(m) => tonic::Status::aborted(m),
            CoreError::Internal(m) => tonic::Status::internal(m),
        }
    }
}

impl From<swarm_memory::StoreError> for CoreError {
    fn from(e: swarm_memory::StoreError) -> Self {
        CoreError::Internal(e.to_string())
    }
}
