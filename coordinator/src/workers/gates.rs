//! The gate checker: runs a gate's Check commands (outside the scheduler
//! loop, like the reporter runs exit-criteria checks) and tells the loop
//! whether they all passed.

use swarm_core::jobs::GateJob;

use tokio::sync::mpsc;

use swarm_core::jobs::CriterionJob;
use swarm_core::{Command, CoreHandle};

/// Checks gates until the channel closes or `cancel` fires.
pub async fn run(
    mut jobs: mpsc::UnboundedReceiver<GateJob>,
    core: CoreHandle,
    cancel: tokio_util::sync::CancellationToken,
) {
    while let Some(job) = super::next(&mut jobs, &cancel).await {
        let mut passed = true;
        let mut said = Vec::new();
        for check in &job.checks {
            let criterion = CriterionJob {
                text: String::new(),
                check: Some(check.clone()),
                tasks_done: true,
            };
            let (ok, detail) = crate::workers::report::evaluate(&criterion, &job.workdir).await;
            said.push(detail);
            if !ok {
                passed = false;
                break;
            }
        }
        core.tell(Command::GateChecked {
            gate: job.gate,
            passed,
            detail: said.join("; "),
        });
    }
}
