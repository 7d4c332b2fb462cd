//! Applying a revision to the loop's state: the arranged plan replaces
//! the running one, then each task's state is decided again (see the
//! module doc of `crate::revise`) and every task row and dependency is
//! stored.

use swarm_memory::state::{delete_dependencies, insert_dependency, set_plan_name, upsert_task};
use swarm_plan::revise::arrange;

use crate::command::LoadPlan;
use crate::effects::Turn;
use crate::event::AttemptEnd;
use crate::model::TaskState;
use crate::{CoreError, State};

/// Why a task moved with a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pick {
    /// Judged again like any task that has not started.
    None,
    /// Run again on purpose (`--rerun`).
    Rerun,
    /// Stopped and started again (`--restart`).
    Restart,
}

impl State {
    /// Runs `load` as the plan's next version; returns the removed tasks
    /// whose attempts were stopped, and the tasks restarted.
    pub(super) fn revise_plan(
        &mut self,
        t: &mut Turn<'_>,
        load: LoadPlan,
        rerun: &[String],
        restart: &[String],
    ) -> Result<(Vec<String>, Vec<String>), CoreError> {
        let LoadPlan {
            compiled, profiles, ..
        } = load;
        let default_retries = self.cfg.default_retries;
        let Some(plan) = self.plan.as_mut() else {
            return Ok(Default::default());
        };
        let version = plan.version() + 1;
        let ids: Vec<String> = plan.ids().into_iter().map(str::to_string).collect();
        let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let arranged = arrange(
            &id_refs,
            &mut |i| (plan.spec(i).clone(), plan.compiled().tasks[i].need.clone()),
            compiled,
        );
        let renamed = arranged.plan.plan.name != plan.name();
        plan.revise(arranged.plan, version, default_retries, t.now);
        self.profiles = profiles;
        let (plan_id, name) = (plan.id(), plan.name().to_string());
        if renamed {
            set_plan_name(t.db, plan_id, &name)?;
        }
        let stopped = self.remove_tasks(t, &arranged.removed, version)?;
        let mut restarted = Vec::new();
        for id in restart {
            let Some(attempt) = self.live_attempt(id) else {
                continue;
            };
            let why = format!("restarted with plan version {version}");
            self.end_attempt(t, attempt, AttemptEnd::Cancelled, &why)?;
            restarted.push(id.clone());
        }
        let pick = |id: &str| {
            if rerun.iter().any(|r| r == id) {
                Pick::Rerun
            } else if restart.iter().any(|r| r == id) {
                Pick::Restart
            } else {
                Pick::None
            }
        };
        let picks: Vec<Pick> = ids_now(self).iter().map(|id| pick(id)).collect();
        self.judge_again(t, &picks, &arranged.removed, version)?;
        self.store_revised(t)?;
        Ok((stopped, restarted))
    }

    /// Task `id`'s live attempt.
    fn live_attempt(&self, id: &str) -> Option<u64> {
        let plan = self.plan.as_ref()?;
        plan.task(plan.index_of(id)?).current
    }

    /// The tasks at `removed` leave the plan: live attempts stopped,
    /// state `removed`. Returns the ids of those that were running.
    fn remove_tasks(
        &mut self,
        t: &mut Turn<'_>,
        removed: &[usize],
        version: u32,
    ) -> Result<Vec<String>, CoreError> {
        let mut stopped = Vec::new();
        for &i in removed {
            let Some(task) = self.plan.as_ref().map(|p| p.task(i).clone()) else {
                break;
            };
            if task.state == TaskState::Removed {
                continue;
            }
            let why = format!("removed with plan version {version}");
            if let Some(attempt) = task.current {
                self.end_attempt(t, attempt, AttemptEnd::Cancelled, &why)?;
                stopped.push(self.task_id(i));
            }
            let was = task.state.name();
            self.set_task(t, i, TaskState::Removed, Some(format!("{why} (was {was})")))?;
        }
        Ok(stopped)
    }

    /// Decides again the state of every task that has not started (and
    /// of those picked to run again), against its dependencies now.
    fn judge_again(
        &mut self,
        t: &mut Turn<'_>,
        picks: &[Pick],
        removed: &[usize],
        version: u32,
    ) -> Result<(), CoreError> {
        let Some(order) = self.plan.as_ref().map(|p| p.compiled().order.clone()) else {
            return Ok(());
        };
        for i in order {
            let Some(plan) = self.plan.as_mut() else {
                return Ok(());
            };
            // A task run again counts as not done for those after it.
            plan.recount_deps(i);
            let task = plan.task(i).clone();
            let pick = picks.get(i).copied().unwrap_or(Pick::None);
            let back = task.state == TaskState::Removed && !removed.contains(&i);
            let open = matches!(
                task.state,
                TaskState::Pending | TaskState::Ready | TaskState::Blocked
            );
            if !(open || back || pick != Pick::None) {
                continue;
            }
            // A retry's backoff or the calendar's wait is kept.
            if task.state == TaskState::Pending && task.not_before.is_some() && pick == Pick::None {
                continue;
            }
            let deps = &plan.compiled().tasks[i].deps;
            let dead = deps.iter().copied().find(|&d| plan.task(d).state.is_dead());
            let (next, reason) = match dead {
                Some(d) => (
                    TaskState::Blocked,
                    Some(format!(
                        "dependency {} is {}",
                        plan.task_id(d),
                        plan.task(d).state.name()
                    )),
                ),
                None if task.deps_left == 0 => (TaskState::Ready, None),
                None => (TaskState::Pending, None),
            };
            let reason = match pick {
                Pick::Rerun => Some(format!("run again with plan version {version}")),
                Pick::Restart => Some(format!("restarted with plan version {version}")),
                Pick::None if back => Some(format!("back in the plan with version {version}")),
                Pick::None => reason,
            };
            if pick == Pick::Rerun {
                plan.reset_budgets(i);
            }
            if next != task.state || pick != Pick::None || back {
                self.set_task(t, i, next, reason)?;
            }
        }
        Ok(())
    }

    /// Stores every task row and the dependencies as they are now.
    fn store_revised(&mut self, t: &mut Turn<'_>) -> Result<(), CoreError> {
        let Some(plan) = self.plan.as_ref() else {
            return Ok(());
        };
        delete_dependencies(t.db, plan.id())?;
        for (i, task) in plan.compiled().tasks.iter().enumerate() {
            for &d in &task.deps {
                insert_dependency(t.db, plan.id(), i as u32, d as u32)?;
            }
            upsert_task(t.db, plan.id(), &plan.task_row(i))?;
        }
        Ok(())
    }
}

/// Task ids by position.
fn ids_now(state: &State) -> Vec<String> {
    (state.plan.as_ref())
        .map(|p| p.ids().into_iter().map(str::to_string).collect())
        .unwrap_or_default()
}
