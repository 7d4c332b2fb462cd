//! What a task's end does downstream: dependents released when their last
//! dependency succeeded, blocked below a failure, and unblocked again
//! after an operator retried or skipped it.

use super::effects::Turn;
use super::model::TaskState;
use super::{CoreError, State};

impl State {
    /// Dependents whose last dependency this was become ready.
    pub(crate) fn release_dependents(
        &mut self,
        t: &mut Turn<'_>,
        task: usize,
    ) -> Result<(), CoreError> {
        let Some(plan) = self.plan.as_mut() else {
            return Ok(());
        };
        let dependents = plan.compiled().tasks[task].dependents.clone();
        let now_ready: Vec<usize> = dependents
            .into_iter()
            .filter(|&d| plan.dependency_done(d))
            .collect();
        for d in now_ready {
            self.set_task(t, d, TaskState::Ready, None)?;
        }
        Ok(())
    }

    /// Every task downstream of `task` that has not started is blocked.
    pub(crate) fn block_dependents(
        &mut self,
        t: &mut Turn<'_>,
        task: usize,
        reason: &str,
    ) -> Result<(), CoreError> {
        let mut stack = vec![task];
        let mut seen = std::collections::HashSet::new();
        while let Some(at) = stack.pop() {
            let Some(plan) = self.plan.as_ref() else {
                return Ok(());
            };
            let dependents = plan.compiled().tasks[at].dependents.clone();
            for d in dependents {
                if !seen.insert(d) {
                    continue;
                }
                let state = self.plan.as_ref().map(|p| p.task(d).state);
                if matches!(state, Some(TaskState::Pending | TaskState::Ready)) {
                    self.set_task(t, d, TaskState::Blocked, Some(reason.to_string()))?;
                }
                stack.push(d);
            }
        }
        Ok(())
    }

    /// After an operator retried or skipped a task: blocked tasks whose
    /// dependencies are all alive again become pending or ready.
    pub(crate) fn unblock(&mut self, t: &mut Turn<'_>) -> Result<(), CoreError> {
        let Some(plan) = self.plan.as_ref() else {
            return Ok(());
        };
        let order = plan.compiled().order.clone();
        for i in order {
            let Some(plan) = self.plan.as_ref() else {
                return Ok(());
            };
            let task = plan.task(i);
            if task.state != TaskState::Blocked {
                continue;
            }
            let deps = &plan.compiled().tasks[i].deps;
            if deps.iter().any(|&d| plan.task(d).state.is_dead()) {
                continue;
            }
            let next = if task.deps_left == 0 {
                TaskState::Ready
            } else {
                TaskState::Pending
            };
            self.set_task(t, i, next, None)?;
        }
        Ok(())
    }
}
