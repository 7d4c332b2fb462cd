//! Each turn's clock work — leases expired, waits that came due, due
//! checkpoints and gates — and the plan's completion: a plan whose every
//! task is final has succeeded or failed.

use swarm_memory::state::set_plan_state;

use super::effects::Turn;
use super::event::{Event, EventKind};
use super::model::{PlanState, TaskState};
use super::{CoreError, State};

impl State {
    /// Expires leases, moves due waits to ready, fires due checkpoints and
    /// settles the plan's state.
    pub(crate) fn tick(&mut self, t: &mut Turn<'_>) -> Result<(), CoreError> {
        self.expire_leases(t)?;
        let Some(plan) = self.plan.as_mut() else {
            return Ok(());
        };
        for i in plan.take_due(t.now) {
            self.set_task(t, i, TaskState::Ready, None)?;
        }
        self.due_checkpoints(t)?;
        self.due_gates(t)?;
        self.settle_plan(t)
    }

    /// A plan whose every task is final has succeeded or failed; one with
    /// an unfinished task again (an operator's retry) runs again.
    pub(crate) fn settle_plan(&mut self, t: &mut Turn<'_>) -> Result<(), CoreError> {
        let Some(plan) = self.plan.as_mut() else {
            return Ok(());
        };
        // A cancelled plan stays cancelled: nothing of it runs again.
        let next = match (plan.state(), plan.completion()) {
            (PlanState::Running | PlanState::Paused, Some(true)) => PlanState::Succeeded,
            (PlanState::Running | PlanState::Paused, Some(false)) => PlanState::Failed,
            (PlanState::Succeeded | PlanState::Failed, None) => PlanState::Running,
            (PlanState::Running | PlanState::Paused, None)
            | (PlanState::Succeeded | PlanState::Failed, Some(_))
            | (PlanState::Cancelled, _) => return Ok(()),
        };
        plan.set_plan_state(next, t.now);
        set_plan_state(t.db, plan.id(), next.name(), plan.finished_at())?;
        let name = plan.name().to_string();
        if matches!(next, PlanState::Succeeded | PlanState::Failed) {
            // The last report says how it ended.
            let at = plan.clock().plan_at(t.now);
            self.checkpoint(t, at, "Final Review", None)?;
        }
        t.emit(Event::new(EventKind::Plan(next)).message(name))
    }
}
