//! Rebuilding the active plan from the store after a restart: its state,
//! its tasks' stored rows, its live attempts and its last checkpoint; then
//! everything that derives from them is recomputed.

use swarm_memory::state::TaskRow;

use super::{ActivePlan, CheckpointMark, Delayed};
use crate::model::{PlanState, TaskState};
use crate::CoreError;

/// Rebuilding a plan from the store after a restart.
impl ActivePlan {
    /// Restores the plan state, when it finished and, for a cancelled
    /// plan, why (the message of its `plan.cancelled` event).
    pub fn restore_state(
        &mut self,
        state: PlanState,
        finished_at: Option<i64>,
        cancelled_why: Option<String>,
    ) {
        self.state = state;
        self.finished_at = finished_at;
        self.cancelled_why = cancelled_why.filter(|_| state == PlanState::Cancelled);
    }

    /// Restores the last checkpoint and schedules the next after it.
    pub fn restore_checkpoint(&mut self, plan_time: i64, event_seq: u64) {
        self.last_checkpoint = CheckpointMark {
            plan_time,
            event_seq,
        };
        self.next_checkpoint = self.schedule_after(plan_time);
    }

    /// Restores a task's stored row (call [`ActivePlan::finish_restore`]
    /// after the last one).
    ///
    /// # Errors
    /// [`CoreError::Recovery`] when the stored state is not a task state.
    pub fn restore_task(&mut self, row: TaskRow) -> Result<(), CoreError> {
        let plan = self.id;
        let Some(t) = self.tasks.get_mut(row.idx as usize) else {
            return Ok(());
        };
        t.state = row.state.parse().map_err(|e| {
            CoreError::Recovery(format!("plan {plan}, task index {}: {e}", row.idx))
        })?;
        t.attempts = row.attempts;
        t.failures = row.failures;
        t.losses = row.losses;
        t.not_before = row.not_before;
        t.reason = row.reason;
        t.updated_at = row.updated_at;
        Ok(())
    }

    /// Restores task `i`'s live attempt.
    pub fn restore_current(&mut self, i: usize, attempt: u64, agents: Vec<String>) {
        self.tasks[i].current = Some(attempt);
        self.tasks[i].last_agents = agents;
    }

    /// Recomputes what derives from the tasks' states: dependencies left,
    /// the ready queue, the backoffs and the counters.
    pub fn finish_restore(&mut self) {
        self.ready.clear();
        self.ready.begin_batch();
        self.delayed.clear();
        for i in 0..self.tasks.len() {
            let done = self.compiled.tasks[i]
                .deps
                .iter()
                .filter(|&&d| self.tasks[d].state.is_done())
                .count();
            self.tasks[i].deps_left = (self.compiled.tasks[i].deps.len() - done) as u32;
            let state = self.tasks[i].state;
            self.ready.track(i, TaskState::Pending, state);
            match (state, self.tasks[i].not_before) {
                (TaskState::Ready, _) => {
                    let key = self.key(i);
                    self.ready.insert(key, &self.compiled.tasks[i].need);
                }
                (TaskState::Pending, Some(until)) => {
                    self.delayed.insert(Delayed { until, task: i });
                }
                _ => {}
            }
        }
        self.ready.end_batch();
        self.final_tasks = self.tasks.iter().filter(|t| t.state.is_final()).count();
        self.done_tasks = self.tasks.iter().filter(|t| t.state.is_done()).count();
        self.by_state = [0; 10];
        for t in &self.tasks {
            self.by_state[t.state.index()] += 1;
        }
    }
}
