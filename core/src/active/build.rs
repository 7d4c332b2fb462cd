//! A fresh active plan for a compiled plan: every task pending, the
//! checkpoint times (the plan's own, else the seed's three), the id index,
//! the retry budgets.

use std::collections::BTreeSet;

use swarm_plan::CompiledPlan;

use super::schedule::DEFAULT_CHECKPOINTS;
use super::{queue, ActivePlan, CheckpointMark, CheckpointTime, TaskRt};
use crate::clock::PlanClock;
use crate::model::{PlanState, TaskState};

impl ActivePlan {
    /// Fresh runtime state for a compiled plan: nothing run yet, every
    /// task pending.
    pub fn new(
        id: i64,
        compiled: CompiledPlan,
        now: i64,
        default_retries: u32,
        clock: PlanClock,
        calendar: bool,
    ) -> ActivePlan {
        let checkpoints = checkpoint_times(&compiled);
        let analysis = swarm_plan::analyse(&compiled);
        let tasks = pending_tasks(&compiled, now);
        let by_id = ids_sorted(&compiled);
        let retries = compiled
            .plan
            .tasks
            .iter()
            .map(|t| t.retries.unwrap_or(default_retries))
            .collect();
        let mut by_state = [0; 10];
        by_state[TaskState::Pending.index()] = tasks.len() as u32;
        let mut plan = ActivePlan {
            id,
            compiled,
            analysis,
            state: PlanState::Running,
            tasks,
            ready: queue::ReadyQueue::default(),
            guide: Default::default(),
            delayed: BTreeSet::new(),
            loaded_at: now,
            finished_at: None,
            by_id,
            retries,
            final_tasks: 0,
            done_tasks: 0,
            by_state,
            last_checkpoint: CheckpointMark {
                plan_time: clock.plan_at(now),
                event_seq: 0,
            },
            clock,
            calendar,
            gates: Vec::new(),
            held: BTreeSet::new(),
            checkpoints,
            next_checkpoint: None,
            cancelled_why: None,
            version: 1,
        };
        plan.next_checkpoint = plan.schedule_after(plan.clock.plan_at(now) - 1);
        plan
    }
}

/// The plan's checkpoints by time of day, or the seed's three when it
/// names none.
pub(super) fn checkpoint_times(compiled: &CompiledPlan) -> Vec<CheckpointTime> {
    let own: Vec<CheckpointTime> = compiled
        .plan
        .checkpoints
        .iter()
        .map(|c| CheckpointTime {
            name: c.name.clone(),
            minute: c.minute_of_day,
        })
        .collect();
    if !own.is_empty() {
        return own;
    }
    DEFAULT_CHECKPOINTS
        .iter()
        .map(|(name, minute)| CheckpointTime {
            name: name.to_string(),
            minute: *minute,
        })
        .collect()
}

/// Every task pending, waiting for all its dependencies.
fn pending_tasks(compiled: &CompiledPlan, now: i64) -> Vec<TaskRt> {
    compiled
        .tasks
        .iter()
        .map(|t| pending_task(t, now))
        .collect()
}

/// A task that never ran, waiting for all its dependencies.
pub(super) fn pending_task(t: &swarm_plan::CompiledTask, now: i64) -> TaskRt {
    TaskRt {
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
    }
}

/// Task indexes sorted by task id, for finding a task by id by binary
/// search (4 bytes a task).
pub(super) fn ids_sorted(compiled: &CompiledPlan) -> Vec<u32> {
    let mut by_id: Vec<u32> = (0..compiled.plan.tasks.len() as u32).collect();
    by_id.sort_unstable_by(|&a, &b| {
        compiled.plan.tasks[a as usize]
            .id
            .cmp(&compiled.plan.tasks[b as usize].id)
    });
    by_id
}
