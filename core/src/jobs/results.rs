//! A result for the result copier, which copies committed results into
//! the shared memory.

/// The shared-memory namespace of task results.
pub const NAMESPACE: &str = "swarm:results";

/// A result to copy into the shared memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultJob {
    /// The task.
    pub task_id: String,
    /// What it produced.
    pub result: String,
    /// Copy only if the memory has no entry for the task: after a
    /// restart every recorded result is offered again, so one committed
    /// just before a crash, whose copy was lost with the process, reaches
    /// the memory, and none already there is written twice.
    pub if_absent: bool,
}
