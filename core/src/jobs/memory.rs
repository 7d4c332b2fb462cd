//! What the shared-memory worker tells the loop.

use swarm_memory::shared::{Backlog, Repair};

/// What the worker tells the scheduler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Another tool's changes were merged, or the file was rebuilt.
    Repaired(Repair),
    /// The file has been out of step for a while (the reason); calls are
    /// still answered from swarmd's copy.
    Unavailable(String),
    /// In step again after being out of step.
    Available,
    /// Writes still pending for the file, and the last merge (status only).
    Backlog(Backlog),
}
