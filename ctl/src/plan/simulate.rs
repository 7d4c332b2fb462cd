//! `swarmctl plan simulate` (being written).

use swarm_plan::CompiledPlan;

/// Runs the simulation command.
pub(crate) fn run(_plan: &CompiledPlan, _agents: Option<&str>, _matrix: bool, _json: bool) -> u8 {
    eprintln!("swarmctl: plan simulate is being written");
    crate::exit::FAILED
}
