//! The guide searcher: searches the rest of a plan for its guide order
//! ([`swarm_plan::simulate::guide`]) outside the scheduler loop, on a
//! blocking thread, and tells the loop what it found. Only the newest
//! request counts: one that waited behind a search is dropped for a later
//! one.

use swarm_core::jobs::GuideJob;

use tokio::sync::mpsc;

use swarm_core::{Command, CoreHandle};

/// Searches until the channel closes or `cancel` fires.
pub async fn run(
    mut jobs: mpsc::UnboundedReceiver<GuideJob>,
    core: CoreHandle,
    cancel: tokio_util::sync::CancellationToken,
) {
    while let Some(mut job) = super::next(&mut jobs, &cancel).await {
        while let Ok(newer) = jobs.try_recv() {
            job = newer;
        }
        let plan = job.plan;
        let Ok(guide) = tokio::task::spawn_blocking(move || job.search()).await else {
            continue;
        };
        core.tell(Command::Guide { plan, guide });
    }
}
