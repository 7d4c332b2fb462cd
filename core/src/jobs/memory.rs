//! What the shared-memory worker tells the loop.

use swarm_memory::shared::Repair;

/// What the worker tells the scheduler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The file was repaired.
    Repaired(Repair),
    /// The file cannot be used for now (the reason); calls fail clearly.
    Unavailable(String),
    /// Usable again after being unavailable.
    Available,
}
