//! Results down the DAG, the shared-memory half: after the scheduler
//! commits a task's result (in `swarmd.db`, where dependents' briefs read
//! it), this copies it into the shared memory, namespace
//! [`NAMESPACE`], key = task id, where claude-flow, `swarmctl task result`
//! and tasks read it.

use tokio::sync::mpsc;

use crate::shared_memory::{MemPut, MemoryCmd, MemoryHandle};

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

/// Copies results until the channel closes; a failure is logged (the
/// result stays in `swarmd.db` and in dependents' briefs).
pub async fn run(mut jobs: mpsc::UnboundedReceiver<ResultJob>, memory: MemoryHandle) {
    while let Some(job) = jobs.recv().await {
        let put = MemPut {
            namespace: NAMESPACE.to_string(),
            key: job.task_id.clone(),
            value: job.result,
            ttl_seconds: 0,
            expect_absent: job.if_absent,
            expect_value: None,
            tags: vec!["swarm-result".to_string()],
            owner: "swarmd".to_string(),
        };
        match memory.ask(|reply| MemoryCmd::Put(put, reply)).await {
            Ok(_) => {}
            // Already there (a restart's offer): nothing to do.
            Err(crate::core::CoreError::CasMismatch(_)) if job.if_absent => {}
            Err(e) => tracing::warn!(
                "cannot copy the result of task {} into shared memory ({NAMESPACE}): {e}",
                job.task_id
            ),
        }
    }
}
