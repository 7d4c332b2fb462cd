//! The gRPC edge: each service checks the caller's token, converts the
//! request to a command for the scheduler loop, and converts the answer
//! back. Handlers never touch state themselves.

mod agent;
mod backup;
mod control;
pub(crate) mod convert;
mod diff;
mod lists;
mod logs;
mod memory;
mod plan_upload;
pub(crate) mod revise;
mod roles;
mod status;
mod streams;

pub use agent::AgentSvc;
pub use control::ControlSvc;
pub use memory::MemorySvc;
pub use status::status;

use std::pin::Pin;

use tokio_stream::Stream;

/// A boxed server stream.
pub type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, tonic::Status>> + Send + 'static>>;
