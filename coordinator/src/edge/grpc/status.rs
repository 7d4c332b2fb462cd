//! The core's errors as gRPC statuses, mapped in one place.

use swarm_core::CoreError;

/// The one mapping of the core's errors to gRPC statuses.
pub fn status(e: CoreError) -> tonic::Status {
    match e {
        CoreError::Invalid(m) => tonic::Status::invalid_argument(m),
        CoreError::NotFound(m) => tonic::Status::not_found(m),
        CoreError::Conflict(m) => tonic::Status::failed_precondition(m),
        CoreError::CasMismatch(m) => tonic::Status::aborted(m),
        CoreError::Duplicate(m) => tonic::Status::already_exists(m),
        CoreError::Fatal(m) | CoreError::MemoryUnavailable(m) => tonic::Status::unavailable(m),
        CoreError::Stopped => tonic::Status::unavailable(e.to_string()),
        CoreError::Store(_) | CoreError::Recovery(_) | CoreError::Thread(_) => {
            tonic::Status::internal(e.to_string())
        }
    }
}
