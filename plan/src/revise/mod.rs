//! Revisions of a running plan: what changed from one version to the
//! next ([`diff`]), and the plan a revision runs ([`arrange`]).
//!
//! A running plan's tasks are known by their position (the store's rows,
//! live attempts and the ready queue all use it), so a revision keeps
//! every position: a task of both versions stays where it was with its
//! new definition, a removed task stays as a stub without edges (it has
//! left the plan; its state says so), and the new version's other tasks
//! follow in its order. Matching is by task id.

mod diff;

pub use diff::{diff, FieldChange, PlanDiff, TaskChange};

use std::collections::HashMap;
use std::sync::Arc;

use crate::compile::{CompiledPlan, CompiledTask, Need};
use crate::model::{PlanDuration, Task};

/// The plan a revision runs, position by position.
#[derive(Debug, Clone)]
pub struct Arranged {
    /// The new version, its tasks in the running plan's positions.
    pub plan: CompiledPlan,
    /// Positions whose task the new version does not have.
    pub removed: Vec<usize>,
    /// Positions of the new version's tasks the running plan did not
    /// have (appended, in the new version's order).
    pub added: Vec<usize>,
}

/// Arranges `new` on the positions of a running plan whose task ids, by
/// position, are `ids`. A position whose id `new` lacks keeps the stub
/// `removed(position)` gives (its old definition and need): no
/// dependencies, no dependents, no window and no duration, so it weighs
/// nothing in the analysis.
pub fn arrange(
    ids: &[&str],
    removed: &mut dyn FnMut(usize) -> (Task, Need),
    new: CompiledPlan,
) -> Arranged {
    let CompiledPlan {
        mut plan,
        tasks,
        order,
        matrix,
        warnings,
        claims,
    } = new;
    let places = Places::of(ids, &plan.tasks);
    let mut specs: Vec<Option<Task>> = vec![None; places.len];
    let mut compiled: Vec<Option<CompiledTask>> = vec![None; places.len];
    let specs_of_new = std::mem::take(&mut plan.tasks);
    for (i, (spec, task)) in specs_of_new.into_iter().zip(tasks).enumerate() {
        let slot = places.slot_of[i];
        specs[slot] = Some(spec);
        compiled[slot] = Some(CompiledTask {
            need: task.need,
            deps: task.deps.iter().map(|&d| places.slot_of[d]).collect(),
            dependents: task.dependents.iter().map(|&d| places.slot_of[d]).collect(),
        });
    }
    for &slot in &places.gone {
        let (mut spec, need) = removed(slot);
        spec.window = None;
        spec.duration = PlanDuration(0);
        specs[slot] = Some(spec);
        compiled[slot] = Some(stub(need));
    }
    plan.tasks = specs.into_iter().map(Option::unwrap_or_default).collect();
    let tasks = (compiled.into_iter())
        .map(|t| t.unwrap_or_else(|| stub(Need::Roles(Arc::from([])))))
        .collect();
    let order = (order.iter().map(|&i| places.slot_of[i]))
        .chain(places.gone.iter().copied())
        .collect();
    Arranged {
        plan: CompiledPlan {
            plan,
            tasks,
            order,
            matrix,
            warnings,
            claims,
        },
        removed: places.gone,
        added: places.added,
    }
}

/// A task without edges.
fn stub(need: Need) -> CompiledTask {
    CompiledTask {
        need,
        deps: Vec::new(),
        dependents: Vec::new(),
    }
}

/// Where the tasks of a new version go among a running plan's positions.
struct Places {
    /// Position of each task of the new version.
    slot_of: Vec<usize>,
    /// Positions whose task the new version lacks.
    gone: Vec<usize>,
    /// Positions appended for the new version's other tasks.
    added: Vec<usize>,
    /// Positions in all.
    len: usize,
}

impl Places {
    fn of(ids: &[&str], tasks: &[Task]) -> Places {
        let by_id: HashMap<&str, usize> = (tasks.iter().enumerate())
            .map(|(i, t)| (t.id.as_str(), i))
            .collect();
        let mut slot_of = vec![usize::MAX; tasks.len()];
        let mut gone = Vec::new();
        for (slot, id) in ids.iter().enumerate() {
            match by_id.get(id) {
                Some(&i) => slot_of[i] = slot,
                None => gone.push(slot),
            }
        }
        let mut added = Vec::new();
        let mut len = ids.len();
        for s in slot_of.iter_mut().filter(|s| **s == usize::MAX) {
            *s = len;
            added.push(len);
            len += 1;
        }
        Places {
            slot_of,
            gone,
            added,
            len,
        }
    }
}

#[cfg(test)]
mod tests;
