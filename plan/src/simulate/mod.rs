//! The what-if simulator: runs a compiled plan on simulated agents with its
//! planned durations and reports when it would finish, how busy each role
//! is and which roles hold it back.
//!
//! It is a discrete-event simulation driven by the coordinator's own
//! placement policy ([`crate::policy::place`]): at each event, ready tasks
//! in [`ready_key`](crate::policy::ready_key) order are offered to the free agents, each placement
//! holds its agents for the task's duration, and time jumps to the next
//! completion (or, staffed from the allocation matrix, the next day). Every
//! simulated agent has one slot and plays one role.
//!
//! Only the candidates that can change a round's outcome are handed to
//! `place`: of the ready tasks needing the same agents, the first `k + 1`
//! where `k` is how many of them the free agents could staff at once (later
//! ones either wait behind a failed one, which already claimed their roles,
//! or could not be staffed anyway). That keeps a round linear in the agents.
//! Not when claims or pools of a rate-limited API are in play: a task's
//! claims or its pool can hold it back whatever its place, so every ready
//! task is offered. Pools ([`ApiPools`]) hold as dispatch holds them; see
//! `api_pools.rs`.

mod accounting;
mod api_pools;
mod engine;
pub mod guide;
mod order;
mod pools;
mod replay;
mod state;

use std::collections::BTreeMap;

use crate::compile::CompiledPlan;
use crate::policy::{Guide, PriorityOrder};
pub use api_pools::{ApiPools, PoolLimit, PoolUse};
pub use replay::{replay, Replayed};

/// Most agents a simulation staffs at once.
pub const MAX_AGENTS: u64 = 10_000;

/// Most agents one task may need (the parsers' limit for one role too):
/// placing a gang costs more than linear time in its size.
pub const MAX_TASK_AGENTS: u64 = 1_000;

/// Who staffs a simulated run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Staffing {
    /// Agents appear whenever a ready task would wait, so nothing ever
    /// waits (up to [`MAX_AGENTS`] in all): the run takes exactly the
    /// critical path. Each role's figure is the most agents it needed at
    /// once; swarm tasks get agents of role `any`.
    Unlimited,
    /// This many agents per canonical role, for the whole run.
    Fixed(BTreeMap<String, u32>),
    /// Each plan day's row of the allocation matrix; agents leave at a day
    /// boundary only once idle.
    Matrix,
}

/// Why a simulation could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimulateError {
    /// Matrix staffing was asked for, but the plan has no matrix.
    #[error("the plan has no allocation matrix to staff the simulation from; add an 'Appendix: Agent Allocation Matrix' table (| Day | Phase | Agents Required | Specializations |) or give the agents per role")]
    NoMatrix,
    /// More agents than [`MAX_AGENTS`].
    #[error("{what} asks for {count} agents; a simulation staffs at most {MAX_AGENTS} agents, and at most {MAX_TASK_AGENTS} for one task")]
    TooManyAgents {
        /// Which task, matrix row or staffing asked.
        what: String,
        /// How many agents it asks for.
        count: u64,
    },
}

/// A business day: the plan clock's working hours by default, 09:00–17:00,
/// whatever work a plan's days say they hold (the seed's day 7 holds 6 h).
pub const BUSINESS_DAY_SECS: u64 = 8 * 3600;

/// What a simulated run did. Times are seconds of plan time from the start.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    /// When the last task that ran finished.
    pub makespan: u64,
    /// The critical path with unlimited agents, for comparison.
    pub critical_path: u64,
    /// Length of a business day: [`BUSINESS_DAY_SECS`].
    pub day_secs: u64,
    /// The makespan in working days, to two decimals.
    pub business_days: f64,
    /// Per role that had agents or work.
    pub roles: BTreeMap<String, RoleUse>,
    /// Per limited pool of a rate-limited API, by name (none without
    /// [`ApiPools`]).
    pub pools: BTreeMap<String, PoolUse>,
    /// Name of each simulated agent (`devops-2`), by agent id.
    pub agents: Vec<String>,
    /// Per task, indexed like the plan's tasks.
    pub tasks: Vec<TaskRun>,
    /// The roles that held the run back most, worst first.
    pub bottlenecks: Vec<Bottleneck>,
    /// Tasks that were ready but could never be staffed, in ready order.
    pub unrunnable: Vec<Stuck>,
    /// Tasks that never became ready because something before them could
    /// not run.
    pub blocked: Vec<usize>,
}

impl Simulation {
    /// Whether every task ran.
    pub fn complete(&self) -> bool {
        self.unrunnable.is_empty() && self.blocked.is_empty()
    }
}

/// One role over the run.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleUse {
    /// Most agents of the role in the pool at once.
    pub agents: u32,
    /// Agent-seconds spent on tasks.
    pub busy_secs: u64,
    /// `busy_secs / (agents × makespan)`, 0 when either is 0.
    pub utilisation: f64,
    /// Task-seconds ready tasks spent waiting for agents of this role.
    pub waiting_secs: u64,
    /// The part of `waiting_secs` when the pool had too few of the role
    /// at all (not merely busy ones).
    pub unstaffed_secs: u64,
}

/// One task's simulated run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskRun {
    /// When its dependencies were done.
    pub ready: Option<u64>,
    /// When it started.
    pub start: Option<u64>,
    /// When it finished.
    pub finish: Option<u64>,
    /// Agent ids (see [`Simulation::agents`]), lead first.
    pub agents: Vec<usize>,
    /// Seconds it waited while the pool lacked a role it needs.
    pub unstaffed_secs: u64,
    /// The roles it waited for that way.
    pub unstaffed_roles: Vec<String>,
}

/// A role that held the run back.
#[derive(Debug, Clone, PartialEq)]
pub struct Bottleneck {
    /// Canonical role (`any` for full-swarm tasks).
    pub role: String,
    /// Task-seconds spent waiting for it.
    pub waiting_secs: u64,
    /// The part of it when the pool lacked the role.
    pub unstaffed_secs: u64,
    /// The role's utilisation.
    pub utilisation: f64,
}

/// A ready task no agent could ever take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stuck {
    /// Its index in [`CompiledPlan::tasks`].
    pub task: usize,
    /// Per role it lacks: (role, agents needed, agents in the last pool).
    /// Empty for a task that needs no agent, which no policy places.
    pub missing: Vec<(String, u32, u32)>,
    /// Staffed from the allocation matrix: per role it needs, the plan
    /// days whose pool has enough of that role.
    pub staffed_days: Vec<(String, Vec<u32>)>,
    /// When its pool could never start it: (pool, members it starts
    /// with, the most the pool starts at once).
    pub pool: Option<(String, u32, u32)>,
}

/// Simulates the plan with this staffing under the default (slack-aware)
/// order.
pub fn simulate(plan: &CompiledPlan, staffing: &Staffing) -> Result<Simulation, SimulateError> {
    simulate_ordered(plan, staffing, PriorityOrder::default())
}

/// Simulates the plan with this staffing under this priority order and
/// this guide (see [`guide`]; the default for none):
/// one run, no search. What the coordinator projects with.
pub fn simulate_guided(
    plan: &CompiledPlan,
    staffing: &Staffing,
    order: PriorityOrder,
    guide: &Guide,
) -> Result<Simulation, SimulateError> {
    simulate_guided_pooled(plan, staffing, order, guide, &ApiPools::none())
}

/// [`simulate_guided`] with the pools of a rate-limited API in play.
pub fn simulate_guided_pooled(
    plan: &CompiledPlan,
    staffing: &Staffing,
    order: PriorityOrder,
    guide: &Guide,
    pools: &ApiPools,
) -> Result<Simulation, SimulateError> {
    engine::run(plan, staffing, true, order, guide, pools)
}

/// Simulates the plan with this staffing under this priority order, with
/// the best guide order [`guide::search`] finds: what the coordinator
/// would do with these agents.
pub fn simulate_ordered(
    plan: &CompiledPlan,
    staffing: &Staffing,
    order: PriorityOrder,
) -> Result<Simulation, SimulateError> {
    guide::search(plan, staffing, order).map(|(_, sim)| sim)
}

/// [`simulate_ordered`] with the pools of a rate-limited API holding
/// their tasks as the coordinator does: no pool runs more members than
/// its concurrency nor starts more than its rate in any minute.
pub fn simulate_pooled(
    plan: &CompiledPlan,
    staffing: &Staffing,
    order: PriorityOrder,
    pools: &ApiPools,
) -> Result<Simulation, SimulateError> {
    guide::search_pooled(plan, staffing, order, pools).map(|(_, sim)| sim)
}

#[cfg(test)]
mod pool_tests;
#[cfg(test)]
mod replay_tests;
#[cfg(test)]
mod tests;
