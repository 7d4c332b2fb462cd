//! Results down the DAG, the shared-memory half: after the scheduler
//! commits a task's result (in `swarmd.db`, where dependents' briefs read
//! it), this copies it into the shared memory, namespace
//! [`NAMESPACE`], key = task id, where claude-flow, `swarmctl task result`
//! and tasks read it.

use swarm_core::jobs::{ResultJob, NAMESPACE};
use tokio::sync::mpsc;

use crate::workers::memory::{MemPut, MemoryCmd, MemoryHandle};

/// Copies results until the channel closes; a failure is logged (the
/// result stays in `swarmd.db` and in dependents' briefs).
/// Ends when the channel closes or `cancel` fires.
pub async fn run(
    mut jobs: mpsc::UnboundedReceiver<ResultJob>,
    memory: MemoryHandle,
    cancel: tokio_util::sync::CancellationToken,
) {
    while let Some(job) = super::next(&mut jobs, &cancel).await {
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
            Err(swarm_core::CoreError::CasMismatch(_)) if job.if_absent => {}
            Err(e) => tracing::warn!(
                "cannot copy the result of task {} into shared memory ({NAMESPACE}): {e}",
                job.task_id
            ),
        }
    }
}
