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
        plan,
        tasks,
        order,
        matrix,
        warnings,
        claims,
    } = new;
    let mut by_id: HashMap<&str, usize> = HashMap::with_capacity(plan.tasks.len());
    for (i, t) in plan.tasks.iter().enumerate() {
        by_id.insert(t.id.as_str(), i);
    }
    // Where each task of `new` goes.
    let mut slot_of = vec![usize::MAX; plan.tasks.len()];
    let mut gone = Vec::new();
    for (slot, id) in ids.iter().enumerate() {
        match by_id.get(id) {
            Some(&i) => slot_of[i] = slot,
            None => gone.push(slot),
        }
    }
    let mut added = Vec::new();
    let mut next = ids.len();
    for s in slot_of.iter_mut().filter(|s| **s == usize::MAX) {
        *s = next;
        added.push(next);
        next += 1;
    }
    drop(by_id);
    let mut specs: Vec<Option<Task>> = vec![None; next];
    let mut compiled: Vec<Option<CompiledTask>> = vec![None; next];
    let mut plan = plan;
    for (i, (spec, task)) in std::mem::take(&mut plan.tasks)
        .into_iter()
        .zip(tasks)
        .enumerate()
    {
        let slot = slot_of[i];
        specs[slot] = Some(spec);
        compiled[slot] = Some(CompiledTask {
            need: task.need,
            deps: task.deps.iter().map(|&d| slot_of[d]).collect(),
            dependents: task.dependents.iter().map(|&d| slot_of[d]).collect(),
        });
    }
    for &slot in &gone {
        let (mut spec, need) = removed(slot);
        spec.window = None;
        spec.duration = PlanDuration(0);
        specs[slot] = Some(spec);
        compiled[slot] = Some(CompiledTask {
            need,
            deps: Vec::new(),
            dependents: Vec::new(),
        });
    }
    plan.tasks = specs.into_iter().map(Option::unwrap_or_default).collect();
    let tasks = compiled
        .into_iter()
        .map(|t| {
            t.unwrap_or(CompiledTask {
                need: Need::Roles(Vec::new()),
                deps: Vec::new(),
                dependents: Vec::new(),
            })
        })
        .collect();
    let order = order
        .iter()
        .map(|&i| slot_of[i])
        .chain(gone.iter().copied())
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
        removed: gone,
        added,
    }
}

#[cfg(test)]
mod tests;
