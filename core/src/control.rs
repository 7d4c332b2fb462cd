//! Operator commands: loading a plan, status, task actions, pause and
//! resume, draining an agent.

use swarm_memory::state::{insert_dependency, insert_plan, set_plan_state, upsert_task, PlanRow};

use super::active::ActivePlan;
use super::command::{LoadPlan, TaskAction};
use super::effects::Turn;
use super::event::{AttemptEnd, Event, EventKind};
use super::model::{AgentState, PlanState, TaskState, MARKED_DONE};
use super::views::{Loaded, PlanCancelled};
use super::{CoreError, State};

impl State {
    /// Persists and activates a plan compiled off the loop; refused while
    /// another plan runs or is paused.
    pub(crate) fn load_plan(
        &mut self,
        t: &mut Turn<'_>,
        req: LoadPlan,
    ) -> Result<Loaded, CoreError> {
        if let Some(plan) = &self.plan {
            if !plan.state().has_ended() {
                return Err(CoreError::Conflict(format!(
                    "plan '{}' is still {}; wait for it to finish, or cancel it with 'swarmctl plan cancel', before loading another",
                    plan.name(),
                    plan.state().name()
                )));
            }
        }
        let LoadPlan {
            source,
            compiled,
            profiles,
        } = req;
        self.profiles = profiles;
        let now = t.now;
        let clock = crate::clock::PlanClock {
            start: self.cfg.start.unwrap_or(now),
            wall0: now,
            time_scale: self.cfg.time_scale,
            day_start: self.cfg.day_start,
            day_end: self.cfg.day_end,
        };
        let row = PlanRow {
            id: 0,
            name: compiled.plan.name.clone(),
            file: source.file_name,
            format: if source.toml { "toml" } else { "markdown" }.to_string(),
            // Moved, not copied: a plan of a million tasks is tens of MiB.
            source: source.text,
            roles_toml: source.roles_toml,
            state: PlanState::Running.name().to_string(),
            loaded_at: now,
            finished_at: None,
            clock: serde_json::to_string(&clock).unwrap_or_default(),
        };
        let plan_id = insert_plan(t.db, &row)?;
        drop(row); // The text is stored: not kept while the plan is set up.
        self.open_trace(t, plan_id)?;
        let warnings: Vec<String> = compiled.warnings.iter().map(ToString::to_string).collect();
        let calendar = self.cfg.pace == crate::config::Pace::Calendar;
        let mut active = ActivePlan::new(
            plan_id,
            compiled,
            now,
            self.cfg.default_retries,
            clock,
            calendar,
        );
        if self.cfg.gates {
            active.enable_gates();
        }
        self.activate(t, active, warnings)
    }

    /// Stores `active`'s tasks and dependencies, makes it the plan and
    /// readies the tasks that wait for nothing.
    fn activate(
        &mut self,
        t: &mut Turn<'_>,
        active: ActivePlan,
        warnings: Vec<String>,
    ) -> Result<Loaded, CoreError> {
        let plan_id = active.id();
        for (i, task) in active.compiled().tasks.iter().enumerate() {
            for &d in &task.deps {
                insert_dependency(t.db, plan_id, i as u32, d as u32)?;
            }
        }
        let total = active.len();
        let name = active.name().to_string();
        let ready: Vec<usize> = (0..total)
            .filter(|&i| active.task(i).deps_left == 0)
            .collect();
        // The tasks made ready below are stored as they become so; the
        // rest as they are.
        for i in (0..total).filter(|&i| active.task(i).deps_left != 0) {
            upsert_task(t.db, plan_id, &active.task_row(i))?;
        }
        self.plan = Some(active);
        self.open_workspace(t)?;
        self.spend = Default::default();
        self.pools.reset();
        self.budget = Default::default();
        self.projection.reset();
        self.guides.reset();
        self.provisioning.set_shortfall(Vec::new());
        t.plan_id = Some(plan_id);
        let tasks = swarm_text::count(total as u64, "task");
        t.emit(Event::new(EventKind::PlanLoaded).message(format!("{name}: {tasks}")))?;
        self.ready_all(t, ready)?;
        self.settle_plan(t)?;
        Ok(Loaded {
            plan_id,
            name,
            tasks: total as u32,
            warnings,
        })
    }

    /// The index of task `id`, or an error naming tasks that exist.
    pub(crate) fn task_index(&self, id: &str) -> Result<usize, CoreError> {
        let plan = self.plan.as_ref().ok_or_else(|| {
            CoreError::NotFound("no plan is loaded; load one with 'swarmctl plan load FILE'".into())
        })?;
        plan.index_of(id.trim()).ok_or_else(|| {
            let ids = || plan.compiled().plan.tasks.iter().map(|t| t.id.as_str());
            let mut near: Vec<&str> = ids()
                .filter(|t| t.split('.').next() == id.split('.').next())
                .take(8)
                .collect();
            if near.is_empty() {
                near = ids().take(8).collect();
            }
            CoreError::NotFound(format!(
                "no task '{id}' in plan '{}'; tasks include {}",
                plan.name(),
                near.join(", ")
            ))
        })
    }

    /// An operator's done, fail, retry, skip or cancel; answers the task's
    /// new state.
    pub(crate) fn task_action(
        &mut self,
        t: &mut Turn<'_>,
        id: &str,
        action: TaskAction,
        reason: &str,
    ) -> Result<TaskState, CoreError> {
        let i = self.task_index(id)?;
        let Some(task) = self.plan.as_ref().map(|p| p.task(i)) else {
            return Err(CoreError::NotFound("no plan is loaded".into()));
        };
        let (state, current) = (task.state, task.current);
        // Rate limited too often in a row, it waits for an operator's retry.
        let held = task.not_before == Some(crate::pools::HELD_FOR_OPERATOR);
        let who = by_operator(reason);
        if let Some(plan) = self
            .plan
            .as_ref()
            .filter(|p| p.state() == PlanState::Cancelled)
        {
            return Err(CoreError::Conflict(format!(
                "plan '{}' was cancelled; its tasks stay as they are (load another plan with 'swarmctl plan load FILE')",
                plan.name()
            )));
        }
        if !(held && action == TaskAction::Retry) {
            refusal(id, action, state)?;
        }
        if let Some(current) = current {
            let end = match action {
                TaskAction::Done => AttemptEnd::Succeeded,
                TaskAction::Fail => AttemptEnd::Failed { exit_code: None },
                TaskAction::Retry | TaskAction::Skip | TaskAction::Cancel => AttemptEnd::Cancelled,
            };
            let message = format!("marked {} {who}", end.state_name());
            // Every member is told: their executors stop and report
            // nothing.
            self.end_attempt(t, current, end, &message)?;
        }
        self.apply_action(t, i, id, action, &who)?;
        self.settle_plan(t)?;
        match self.plan.as_ref() {
            Some(p) => Ok(p.task(i).state),
            None => Err(CoreError::NotFound("no plan is loaded".into())),
        }
    }

    /// Moves task `i` (`id`) where `action` puts it, with the reason `who`
    /// did it, and its dependents with it.
    fn apply_action(
        &mut self,
        t: &mut Turn<'_>,
        i: usize,
        id: &str,
        action: TaskAction,
        who: &str,
    ) -> Result<(), CoreError> {
        match action {
            TaskAction::Done => {
                self.set_task(
                    t,
                    i,
                    TaskState::Succeeded,
                    Some(format!("{MARKED_DONE} {who}")),
                )?;
                self.release_dependents(t, i)?;
            }
            TaskAction::Skip => {
                self.set_task(t, i, TaskState::Skipped, Some(format!("skipped {who}")))?;
                self.release_dependents(t, i)?;
                self.unblock(t)?;
            }
            TaskAction::Fail | TaskAction::Cancel => {
                let (next, verb) = if action == TaskAction::Fail {
                    (TaskState::Failed, "failed")
                } else {
                    (TaskState::Cancelled, "cancelled")
                };
                self.set_task(t, i, next, Some(format!("{verb} {who}")))?;
                self.block_dependents(t, i, &format!("dependency {id} was {verb} {who}"))?;
            }
            TaskAction::Retry => {
                let Some(plan) = self.plan.as_mut() else {
                    return Err(CoreError::NotFound("no plan is loaded".into()));
                };
                plan.reset_budgets(i);
                let deps = &plan.compiled().tasks[i].deps;
                let next = if deps.iter().any(|&d| plan.task(d).state.is_dead()) {
                    TaskState::Blocked
                } else if plan.task(i).deps_left == 0 {
                    TaskState::Ready
                } else {
                    TaskState::Pending
                };
                self.set_task(t, i, next, Some(format!("retried {who}")))?;
                self.unblock(t)?;
            }
        }
        Ok(())
    }

    /// An operator drains one agent.
    pub(crate) fn drain_agent(
        &mut self,
        t: &mut Turn<'_>,
        id: &str,
    ) -> Result<AgentState, CoreError> {
        let Some(agent) = self.roster.get(id) else {
            let known: Vec<&str> = self.roster.iter().map(|a| a.id.as_str()).take(10).collect();
            return Err(CoreError::NotFound(format!(
                "no agent '{id}'; agents: {}",
                known.join(", ")
            )));
        };
        if !matches!(agent.state, AgentState::Connected | AgentState::Draining) {
            return Err(CoreError::Conflict(format!(
                "agent {id} is {}, not connected",
                agent.state.name()
            )));
        }
        self.drain(t, id, "drained by an operator".into())?;
        Ok(AgentState::Draining)
    }

    /// An operator abandons the plan: every task it has not finished is
    /// cancelled (live attempts are stopped on their agents, which report
    /// nothing more), the plan ends `cancelled` with `reason` in its
    /// event, and another plan can be loaded. Answers how many tasks were
    /// cancelled.
    pub(crate) fn cancel_plan(
        &mut self,
        t: &mut Turn<'_>,
        reason: &str,
    ) -> Result<PlanCancelled, CoreError> {
        let Some(plan) = self.plan.as_ref() else {
            return Err(CoreError::Conflict(
                "no plan is loaded; there is nothing to cancel".into(),
            ));
        };
        if plan.state().has_ended() {
            return Err(CoreError::Conflict(format!(
                "plan '{}' {}; there is nothing to cancel",
                plan.name(),
                plan.state().phrase()
            )));
        }
        let who = by_operator(reason);
        let open: Vec<(usize, Option<u64>)> = (0..plan.len())
            .map(|i| (i, plan.task(i)))
            .filter(|(_, task)| !task.state.is_final())
            .map(|(i, task)| (i, task.current))
            .collect();
        let why = format!("cancelled with the plan {who}");
        for &(i, current) in &open {
            if let Some(attempt) = current {
                // Its agents are told: their executors stop.
                self.end_attempt(t, attempt, AttemptEnd::Cancelled, &why)?;
            }
            self.set_task(t, i, TaskState::Cancelled, Some(why.clone()))?;
        }
        let Some(plan) = self.plan.as_mut() else {
            return Err(CoreError::NotFound("no plan is loaded".into()));
        };
        let name = plan.name().to_string();
        let message = format!("cancelled {who}");
        plan.set_cancelled(message.clone(), t.now);
        set_plan_state(
            t.db,
            plan.id(),
            PlanState::Cancelled.name(),
            plan.finished_at(),
        )?;
        let at = plan.clock().plan_at(t.now);
        t.emit(Event::new(EventKind::Plan(PlanState::Cancelled)).message(message))?;
        // The last report says how it ended.
        self.checkpoint(t, at, "Final Review", None)?;
        Ok(PlanCancelled {
            name,
            tasks: open.len() as u32,
        })
    }

    /// Pauses or resumes dispatch; answers the plan's state.
    pub(crate) fn set_paused(
        &mut self,
        t: &mut Turn<'_>,
        paused: bool,
    ) -> Result<PlanState, CoreError> {
        let Some(plan) = self.plan.as_mut() else {
            return Err(CoreError::Conflict("no plan is loaded".into()));
        };
        let next = match (plan.state(), paused) {
            (PlanState::Running, true) => PlanState::Paused,
            (PlanState::Paused, false) => PlanState::Running,
            (PlanState::Paused, true) | (PlanState::Running, false) => return Ok(plan.state()),
            (s @ (PlanState::Succeeded | PlanState::Failed | PlanState::Cancelled), _) => {
                return Err(CoreError::Conflict(format!(
                    "the plan {}; there is nothing to {}",
                    s.phrase(),
                    if paused { "pause" } else { "resume" }
                )))
            }
        };
        plan.set_plan_state(next, t.now);
        set_plan_state(t.db, plan.id(), next.name(), None)?;
        let kind = if paused {
            EventKind::PlanPaused
        } else {
            EventKind::PlanResumed
        };
        t.emit(Event::new(kind))?;
        Ok(next)
    }
}

/// `by an operator`, with the operator's reason when one was given.
fn by_operator(reason: &str) -> String {
    let reason = reason.trim();
    if reason.is_empty() {
        "by an operator".to_string()
    } else {
        format!("by an operator: {reason}")
    }
}

/// Why `action` cannot be taken on task `id` in `state`, if it cannot.
fn refusal(id: &str, action: TaskAction, state: TaskState) -> Result<(), CoreError> {
    if state == TaskState::Removed {
        return Err(CoreError::Conflict(format!(
            "task {id} left the plan with a revision ('swarmctl plan history'); apply a revision that has it to bring it back"
        )));
    }
    match action {
        TaskAction::Done | TaskAction::Fail | TaskAction::Cancel | TaskAction::Skip
            if state.is_done() =>
        {
            Err(CoreError::Conflict(format!(
                "task {id} is already {}",
                state.name()
            )))
        }
        TaskAction::Retry if !state.is_dead() => Err(CoreError::Conflict(format!(
            "task {id} is {}; only failed, blocked or cancelled tasks can be retried",
            state.name()
        ))),
        TaskAction::Done
        | TaskAction::Fail
        | TaskAction::Cancel
        | TaskAction::Skip
        | TaskAction::Retry => Ok(()),
    }
}
