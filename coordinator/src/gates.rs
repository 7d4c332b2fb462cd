//! The gate checker: runs a gate's Check commands (outside the scheduler
//! loop, like the reporter runs exit-criteria checks) and tells the loop
//! whether they all passed.

use std::path::PathBuf;

use tokio::sync::mpsc;

use crate::core::{Command, CoreHandle};
use crate::report::CriterionJob;

/// One gate to check.
#[derive(Debug, Clone)]
pub struct GateJob {
    /// Index of the gate in the plan.
    pub gate: usize,
    /// Its Check commands, run in order until one fails.
    pub checks: Vec<String>,
    /// Where they run.
    pub workdir: PathBuf,
}

/// Checks gates until the channel closes.
pub async fn run(mut jobs: mpsc::UnboundedReceiver<GateJob>, core: CoreHandle) {
    while let Some(job) = jobs.recv().await {
        let mut passed = true;
        let mut said = Vec::new();
        for check in &job.checks {
            let criterion = CriterionJob {
                text: String::new(),
                check: Some(check.clone()),
                tasks_done: true,
            };
            let (ok, detail) = crate::report::evaluate(&criterion, &job.workdir).await;
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
