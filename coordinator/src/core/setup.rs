//! Setting a plan up: compiling what was sent, and the fresh runtime state
//! of a compiled plan.

use std::collections::{BTreeSet, HashMap};

use swarm_plan::{analyse, Catalogue, Format};

use super::command::LoadPlan;
use super::model::{ActivePlan, PlanState, TaskRt, TaskState};
use super::CoreError;

/// Compiles a plan sent over the wire.
pub(crate) fn compile(
    req: &LoadPlan,
    roles_file: Option<&std::path::Path>,
) -> Result<swarm_plan::CompiledPlan, CoreError> {
    let mut catalogue = Catalogue::builtin();
    if let Some(path) = roles_file {
        catalogue
            .extend_from_file(path)
            .map_err(|e| CoreError::Invalid(e.to_string()))?;
    }
    if !req.roles_toml.is_empty() {
        catalogue
            .extend_from_toml(&req.roles_toml, "roles")
            .map_err(|e| CoreError::Invalid(e.to_string()))?;
    }
    let format = if req.toml {
        Format::Toml
    } else {
        Format::Markdown
    };
    let name = if req.file_name.is_empty() {
        "plan"
    } else {
        &req.file_name
    };
    swarm_plan::load_text(&req.text, name, format, &catalogue)
        .map_err(|e| CoreError::Invalid(e.to_string()))
}

/// The seed's three checkpoints, for plans whose Coordination Protocol
/// names none.
const DEFAULT_CHECKPOINTS: [(&str, u16); 3] = [
    ("Daily Standup", 540),
    ("Mid-Day Check", 780),
    ("End-of-Day Review", 1020),
];

/// Fresh runtime state for a compiled plan: nothing run yet.
pub(crate) fn new_active_plan(
    id: i64,
    compiled: swarm_plan::CompiledPlan,
    now: i64,
    default_retries: u32,
    clock: crate::clock::PlanClock,
) -> ActivePlan {
    let mut checkpoints: Vec<(String, u16)> = compiled
        .plan
        .checkpoints
        .iter()
        .map(|c| (c.name.clone(), c.minute_of_day))
        .collect();
    if checkpoints.is_empty() {
        checkpoints = DEFAULT_CHECKPOINTS
            .iter()
            .map(|(n, m)| (n.to_string(), *m))
            .collect();
    }
    let times: Vec<u16> = checkpoints.iter().map(|c| c.1).collect();
    let next_checkpoint = clock.next_checkpoint(clock.plan_at(now) - 1, &times);
    let analysis = analyse(&compiled);
    let compiled_len = compiled.tasks.len();
    let tasks = compiled
        .tasks
        .iter()
        .map(|t| TaskRt {
            state: TaskState::Pending,
            attempts: 0,
            failures: 0,
            losses: 0,
            not_before: None,
            reason: None,
            current: None,
            last_agents: Vec::new(),
            deps_left: t.deps.len() as u32,
            updated_at: now,
        })
        .collect();
    let index: HashMap<String, usize> = compiled
        .plan
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.clone(), i))
        .collect();
    let retries = compiled
        .plan
        .tasks
        .iter()
        .map(|t| t.retries.unwrap_or(default_retries))
        .collect();
    ActivePlan {
        id,
        compiled,
        analysis,
        state: PlanState::Running,
        tasks,
        ready: BTreeSet::new(),
        delayed: BTreeSet::new(),
        loaded_at: now,
        finished_at: None,
        index,
        retries,
        final_tasks: 0,
        done_tasks: 0,
        by_state: [compiled_len as u32, 0, 0, 0, 0, 0, 0, 0],
        last_checkpoint: (clock.plan_at(now), 0),
        clock,
        checkpoints,
        next_checkpoint,
    }
}
