//! The workers the core hands jobs to after its commit, each off the
//! scheduler's thread: checkpoint reports ([`report`]), gate checks
//! ([`gates`]), guide searches ([`guides`]), result copies ([`results`]),
//! the shared memory file ([`memory`]), periodic backups ([`backups`]),
//! the merge queue of a plan's repository ([`merge`]), trace export
//! ([`traces`], with an OTLP endpoint) and notifications ([`notify`],
//! with `[[notify]]` entries). Each has one entry point that
//! takes its receiver, a handle to the core (the result copier: to the
//! shared memory) and a cancellation token, and is started through the
//! task registry ([`crate::daemon::tasks`]).

pub mod backups;
pub mod gates;
pub mod guides;
pub mod memory;
pub mod merge;
pub mod notify;
pub mod report;
pub mod results;
pub mod traces;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The next job, or `None` once the channel closes or `cancel` fires (a
/// job in hand is finished first: cancellation is only seen here).
pub(crate) async fn next<T>(
    jobs: &mut mpsc::UnboundedReceiver<T>,
    cancel: &CancellationToken,
) -> Option<T> {
    tokio::select! {
        biased;
        () = cancel.cancelled() => None,
        job = jobs.recv() => job,
    }
}
