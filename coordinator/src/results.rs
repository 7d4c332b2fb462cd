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
            expect_absent: false,
            expect_value: None,
            tags: vec!["swarm-result".to_string()],
            owner: "swarmd".to_string(),
        };
        if let Err(e) = memory.ask(|reply| MemoryCmd::Put(put, reply)).await {
            tracing::warn!(
                "cannot copy the result of task {} into shared memory ({NAMESPACE}): {e}",
                job.task_id
            );
        }
    }
}
