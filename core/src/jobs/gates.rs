//! A gate for the gate checker: its Check commands, run off the loop.

use std::path::PathBuf;

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
