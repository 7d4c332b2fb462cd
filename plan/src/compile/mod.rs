//! Validation: turns a parsed plan into a [`CompiledPlan`], a DAG whose
//! roles are canonical and whose dependencies are task indexes, or reports
//! every error found, each at its line.
//!
//! Dependencies, written and implicit (a task without a Dependencies field
//! waits for the nearest earlier window of its day with tasks, else the
//! previous day), are expanded in `deps.rs`.

mod deps;
mod rest;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use swarm_roles::Catalogue;

use crate::diagnostic::{Diagnostic, PlanErrors, Severity, Sink, TaskLines};
use crate::model::{Agents, Plan, RoleLists};
use crate::Parsed;
use deps::{expand_dependencies, topological_order, warn_long_windows, DayIndex};

/// Most dependency edges a plan may expand to; beyond this it is refused
/// rather than left to exhaust memory (`Days 1-500` on 100,000 tasks).
pub const MAX_EDGES: usize = 2_000_000;

/// Who a task needs, with canonical role names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// One agent per entry, all at once; the first is the lead. Tasks
    /// needing the same roles share the list.
    Roles(Arc<[String]>),
    /// At least `min` agents of any role.
    Swarm {
        /// Fewest agents.
        min: u32,
        /// Most agents it can use.
        max: Option<u32>,
    },
    /// Every connected agent, at least one.
    Monitoring,
}

impl Need {
    /// Fewest agents the task can start with.
    pub fn min_agents(&self) -> u32 {
        match self {
            Need::Roles(r) => r.len() as u32,
            Need::Swarm { min, .. } => *min,
            Need::Monitoring => 1,
        }
    }

    /// Canonical role per agent, lead first; `any` for swarm agents.
    pub fn role_slots(&self) -> Vec<String> {
        match self {
            Need::Roles(r) => r.to_vec(),
            other => vec![crate::ANY_ROLE.to_string(); other.min_agents() as usize],
        }
    }
}

/// A task after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledTask {
    /// Who it needs.
    pub need: Need,
    /// Indexes of the tasks it waits for, explicit and expanded.
    pub deps: Vec<usize>,
    /// Indexes of the tasks that wait for it.
    pub dependents: Vec<usize>,
}

/// One day's planned staffing, with canonical role names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    /// The plan day the row staffs, from 1.
    pub day: u32,
    /// Planned agents per canonical role.
    pub roles: BTreeMap<String, u32>,
    /// The row activates the whole swarm rather than listing roles.
    pub swarm: bool,
}

/// A valid plan: the model, its DAG and its allocation matrix resolved.
#[derive(Debug, Clone)]
pub struct CompiledPlan {
    /// The plan as written.
    pub plan: Plan,
    /// Per task, in the plan's order.
    pub tasks: Vec<CompiledTask>,
    /// Task indexes in an order where every task follows its dependencies.
    pub order: Vec<usize>,
    /// The allocation matrix, resolved.
    pub matrix: Vec<Allocation>,
    /// Warnings: the plan runs, but maybe not as meant.
    pub warnings: Vec<Diagnostic>,
    /// Whether any task claims repository paths (`**Touches**`): only
    /// then does placement look at claims.
    pub claims: bool,
}

impl CompiledPlan {
    /// Index of the task with this id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.plan.tasks.iter().position(|t| t.id == id)
    }
}

/// Longest Run or Check command accepted, in bytes: a longer script
/// belongs in a file the command runs.
pub const MAX_COMMAND_BYTES: usize = 64 * 1024;

/// A Run or Check over [`MAX_COMMAND_BYTES`] is an error at the task.
fn check_command_sizes(task: &crate::Task, line: usize, sink: &mut Sink) {
    let commands = task
        .run
        .iter()
        .map(|c| ("Run command", c))
        .chain(task.checks.iter().map(|c| ("Check command", c)));
    for (what, command) in commands {
        if command.len() > MAX_COMMAND_BYTES {
            sink.error(
                line,
                format!(
                    "task {}: its {what} is {} bytes; at most {MAX_COMMAND_BYTES} are accepted (put a long script in a file and run that)",
                    task.id,
                    command.len()
                ),
            );
        }
    }
}

/// Validates a parsed plan against the role catalogue.
///
/// Checks run in a fixed order (tasks, ids, commands, days, roles,
/// dependencies, matrix, cycles), so diagnostics on one line keep their
/// order.
pub fn compile(parsed: Parsed, catalogue: &Catalogue) -> Result<CompiledPlan, PlanErrors> {
    let Parsed {
        plan,
        map,
        diagnostics,
    } = parsed;
    let mut sink = Sink::new(&map.file);
    sink.found = diagnostics;
    let line_of = |i: usize| map.tasks.get(i).copied().unwrap_or_default();

    if plan.tasks.is_empty() && !sink.found.iter().any(|d| d.severity == Severity::Error) {
        sink.error(1, "the plan has no tasks; a task is a line like '**Task 1.1**: Title' followed by '- **Agent**:', '- **Priority**:' and '- **Duration**:' bullets");
    }
    let index = task_index(&plan, &line_of, &mut sink);
    for (i, task) in plan.tasks.iter().enumerate() {
        check_command_sizes(task, line_of(i).header, &mut sink);
    }
    let day_lines = day_lines(&plan, &map.days, &mut sink);
    let needs = resolve_needs(&plan, catalogue, &line_of, &mut sink);

    let days = DayIndex::new(&plan, day_lines);
    warn_long_windows(&plan, &map.days, &mut sink);
    let deps = expand_dependencies(&plan, &index, &days, &line_of, &mut sink);
    let known_day = |d: u32| days.known(d);

    let matrix = resolve_matrix(&plan, catalogue, &mut sink, &map.matrix, &known_day);

    let tasks = link(needs, deps);
    let order = order_or_cycle(&plan, &tasks, &line_of, &mut sink);

    let mut found = sink.found;
    found.sort_by_key(|d| (d.line, d.severity));
    if found.iter().any(|d| d.severity == Severity::Error) {
        return Err(PlanErrors(found));
    }
    let claims = plan.tasks.iter().any(|t| !t.touches.is_empty());
    Ok(CompiledPlan {
        plan,
        tasks,
        order,
        matrix,
        warnings: found,
        claims,
    })
}

/// Task index by id; a duplicate id is an error at its header that names
/// the first definition.
fn task_index<'p>(
    plan: &'p Plan,
    line_of: &dyn Fn(usize) -> TaskLines,
    sink: &mut Sink,
) -> HashMap<&'p str, usize> {
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(plan.tasks.len());
    for (i, task) in plan.tasks.iter().enumerate() {
        if let Some(&first) = index.get(task.id.as_str()) {
            sink.error(
                line_of(i).header,
                format!(
                    "duplicate task id {} (first defined at line {})",
                    task.id,
                    line_of(first).header
                ),
            );
        } else {
            index.insert(&task.id, i);
        }
    }
    index
}

/// Heading line per day number; a day defined twice is an error at the
/// second, and the first stays.
fn day_lines(plan: &Plan, lines: &[usize], sink: &mut Sink) -> HashMap<u32, usize> {
    let mut day_lines: HashMap<u32, usize> = HashMap::new();
    for (i, day) in plan.days.iter().enumerate() {
        let line = lines.get(i).copied().unwrap_or(1);
        if let Some(first) = day_lines.insert(day.number, line) {
            sink.error(
                line,
                format!(
                    "day {} is defined twice (first at line {first})",
                    day.number
                ),
            );
            day_lines.insert(day.number, first);
        }
    }
    day_lines
}

/// Each task's need, its roles resolved through the catalogue.
fn resolve_needs(
    plan: &Plan,
    catalogue: &Catalogue,
    line_of: &dyn Fn(usize) -> TaskLines,
    sink: &mut Sink,
) -> Vec<Need> {
    let mut lists = RoleLists::default();
    plan.tasks
        .iter()
        .enumerate()
        .map(|(i, task)| {
            let line = line_of(i).agents;
            resolve_need(&task.agents, catalogue, sink, line, &task.id, &mut lists)
        })
        .collect()
}

/// The compiled tasks: each need with its dependencies, and every task's
/// dependents in the order the dependencies list them.
fn link(needs: Vec<Need>, deps: Vec<Vec<usize>>) -> Vec<CompiledTask> {
    let mut tasks: Vec<CompiledTask> = needs
        .into_iter()
        .zip(deps)
        .map(|(need, deps)| CompiledTask {
            need,
            deps,
            dependents: Vec::new(),
        })
        .collect();
    for i in 0..tasks.len() {
        for k in 0..tasks[i].deps.len() {
            let j = tasks[i].deps[k];
            tasks[j].dependents.push(i);
        }
    }
    tasks
}

/// A topological order of the tasks, or, for a cycle, an error at the
/// first task's Dependencies line naming the cycle (and no order).
fn order_or_cycle(
    plan: &Plan,
    tasks: &[CompiledTask],
    line_of: &dyn Fn(usize) -> TaskLines,
    sink: &mut Sink,
) -> Vec<usize> {
    match topological_order(tasks) {
        Ok(order) => order,
        Err(cycle) => {
            let ids: Vec<&str> = cycle.iter().map(|&i| plan.tasks[i].id.as_str()).collect();
            sink.error(
                line_of(cycle[0]).depends,
                format!(
                    "dependency cycle: {} (each task waits for the next)",
                    ids.join(" → ")
                ),
            );
            Vec::new()
        }
    }
}

fn resolve_need(
    agents: &Agents,
    catalogue: &Catalogue,
    sink: &mut Sink,
    line: usize,
    id: &str,
    lists: &mut RoleLists,
) -> Need {
    match agents {
        Agents::Roles(phrases) => {
            let mut roles = Vec::with_capacity(phrases.len());
            for phrase in phrases.iter() {
                match catalogue.resolve(phrase) {
                    Ok(role) => roles.push(role.to_string()),
                    Err(unknown) => sink.error(line, format!("task {id}: {unknown}")),
                }
            }
            Need::Roles(lists.share(&roles))
        }
        Agents::Swarm { min, max } => Need::Swarm {
            min: (*min).max(1),
            max: *max,
        },
        Agents::Monitoring => Need::Monitoring,
    }
}

fn resolve_matrix(
    plan: &Plan,
    catalogue: &Catalogue,
    sink: &mut Sink,
    lines: &[usize],
    known_day: &dyn Fn(u32) -> bool,
) -> Vec<Allocation> {
    let mut out = Vec::new();
    for (i, row) in plan.matrix.iter().enumerate() {
        let line = lines.get(i).copied().unwrap_or(1);
        if !known_day(row.day) {
            sink.warning(
                line,
                format!(
                    "the allocation matrix plans day {}, which has no tasks",
                    row.day
                ),
            );
        }
        let mut roles = BTreeMap::new();
        for (phrase, count) in &row.roles {
            match catalogue.resolve(phrase) {
                Ok(role) => {
                    let n = roles.entry(role.to_string()).or_insert(0u32);
                    *n = n.saturating_add(*count);
                }
                Err(unknown) => sink.error(
                    line,
                    format!("allocation matrix, day {}: {unknown}", row.day),
                ),
            }
        }
        out.push(Allocation {
            day: row.day,
            roles,
            swarm: row.swarm.is_some(),
        });
    }
    out
}
