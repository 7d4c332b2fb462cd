//! Operator commands: loading a plan, queries, task actions, pause and
//! resume, draining an agent.

use super::setup::{compile, new_active_plan};
use rusqlite::Connection;
use swarm_memory::now_ms;
use swarm_memory::state::{insert_dependency, insert_plan, set_plan_state, PlanRow};

use super::command::{Command, LoadPlan, TaskAction, ToAgent};
use super::model::{PlanState, TaskState};
use super::views::{Counts, Loaded, Status};
use super::{CoreError, Effects, State};

/// Largest plan text accepted over the wire.
const MAX_PLAN_BYTES: usize = 8 * 1024 * 1024;

impl State {
    pub(crate) fn control(
        &mut self,
        db: &Connection,
        cmd: Command,
        fx: &mut Effects,
    ) -> Result<(), CoreError> {
        match cmd {
            Command::LoadPlan(req, reply) => {
                let r = self.load_plan(db, req, fx);
                fx.reply(reply, r);
            }
            Command::Status(reply) => fx.reply(reply, Ok(self.status())),
            Command::ListTasks(reply) => fx.reply(reply, Ok(self.task_views())),
            Command::GetTask(id, reply) => {
                let r = self.task_detail(db, &id);
                fx.reply(reply, r);
            }
            Command::Logs {
                task,
                attempt,
                reply,
            } => {
                let r = self.logs_of(db, &task, attempt);
                fx.reply(reply, r);
            }
            Command::TaskAction(id, action, reason, reply) => {
                let r = self.task_action(db, &id, action, &reason, fx);
                fx.reply(reply, r);
            }
            Command::ListAgents(reply) => fx.reply(reply, Ok(self.agent_views())),
            Command::DrainAgent(id, reply) => {
                let r = self.drain_agent(db, &id, fx);
                fx.reply(reply, r);
            }
            Command::Events(since, reply) => {
                let rx = self.events_tx.subscribe();
                let r = swarm_memory::state::events_after(db, since, 100_000)
                    .map(|rows| (rows, rx))
                    .map_err(CoreError::from);
                fx.reply(reply, r);
            }
            Command::SetPaused(paused, reply) => {
                let r = self.set_paused(db, paused, fx);
                fx.reply(reply, r);
            }
            other => self.memory(db, other, fx)?,
        }
        Ok(())
    }

    fn load_plan(
        &mut self,
        db: &Connection,
        req: LoadPlan,
        fx: &mut Effects,
    ) -> Result<Loaded, CoreError> {
        if let Some(plan) = &self.plan {
            if matches!(plan.state, PlanState::Running | PlanState::Paused) {
                return Err(CoreError::Conflict(format!(
                    "plan '{}' is still {}; wait for it to finish, or cancel its tasks, before loading another",
                    plan.compiled.plan.name,
                    plan.state.name()
                )));
            }
        }
        if req.text.len() > MAX_PLAN_BYTES {
            return Err(CoreError::Invalid(format!(
                "the plan is {} bytes; at most {MAX_PLAN_BYTES} are accepted",
                req.text.len()
            )));
        }
        let compiled = compile(&req, self.cfg.roles_file.as_deref())?;
        let now = now_ms();
        let row = PlanRow {
            id: 0,
            name: compiled.plan.name.clone(),
            file: req.file_name.clone(),
            format: if req.toml { "toml" } else { "markdown" }.to_string(),
            source: req.text.clone(),
            roles_toml: req.roles_toml.clone(),
            state: PlanState::Running.name().to_string(),
            loaded_at: now,
            finished_at: None,
            clock: String::new(),
        };
        let clock = crate::clock::PlanClock {
            start: self.cfg.start.unwrap_or(now),
            wall0: now,
            time_scale: self.cfg.time_scale,
            day_start: self.cfg.day_start,
            day_end: self.cfg.day_end,
        };
        let row = PlanRow {
            clock: serde_json::to_string(&clock).unwrap_or_default(),
            ..row
        };
        let plan_id = insert_plan(db, &row)?;
        let warnings: Vec<String> = compiled.warnings.iter().map(ToString::to_string).collect();
        let active = new_active_plan(plan_id, compiled, now, self.cfg.default_retries, clock);
        for (i, t) in active.compiled.tasks.iter().enumerate() {
            for &d in &t.deps {
                insert_dependency(db, plan_id, i as u32, d as u32)?;
            }
        }
        let total = active.tasks.len();
        let name = active.compiled.plan.name.clone();
        self.plan = Some(active);
        self.projection_text = None;
        self.shortfall.clear();
        for i in 0..total {
            self.save_task(db, i)?;
        }
        self.event(
            db,
            fx,
            "plan.loaded",
            None,
            None,
            None,
            format!("{name}: {total} tasks"),
        )?;
        let ready: Vec<usize> = (0..total)
            .filter(|&i| {
                self.plan
                    .as_ref()
                    .is_some_and(|p| p.tasks[i].deps_left == 0)
            })
            .collect();
        for i in ready {
            self.set_task(db, i, TaskState::Ready, None, fx)?;
        }
        self.settle_plan(db, fx)?;
        Ok(Loaded {
            plan_id,
            name,
            tasks: total as u32,
            warnings,
        })
    }

    pub(crate) fn status(&self) -> Status {
        let Some(plan) = &self.plan else {
            return Status {
                state: "idle".into(),
                agents: self.connected_agents(),
                ..Status::default()
            };
        };
        let plan_now = plan.clock.plan_at(swarm_memory::now_ms());
        let n = |s: TaskState| plan.by_state[s.index()];
        let c = Counts {
            total: plan.tasks.len() as u32,
            pending: n(TaskState::Pending),
            ready: n(TaskState::Ready),
            running: n(TaskState::Running),
            succeeded: n(TaskState::Succeeded),
            failed: n(TaskState::Failed),
            blocked: n(TaskState::Blocked),
            skipped: n(TaskState::Skipped),
            cancelled: n(TaskState::Cancelled),
        };
        Status {
            plan_id: plan.id,
            plan: plan.compiled.plan.name.clone(),
            state: plan.state.name().to_string(),
            counts: c,
            agents: self.connected_agents(),
            loaded_at: plan.loaded_at,
            finished_at: plan.finished_at.unwrap_or(0),
            unstaffed_roles: self.unstaffed.clone(),
            plan_time: plan.clock.label(plan_now),
            plan_day: plan.clock.plan_day(plan_now),
            projected: self.projection(),
            shortfall: self.shortfall.clone(),
            next_checkpoint: plan
                .next_checkpoint
                .map(|(t, i)| format!("{} at {}", plan.checkpoints[i].0, plan.clock.label(t)))
                .unwrap_or_default(),
        }
    }

    fn connected_agents(&self) -> u32 {
        self.agents
            .values()
            .filter(|a| a.state == super::model::AgentState::Connected)
            .count() as u32
    }

    pub(crate) fn task_index(&self, id: &str) -> Result<usize, CoreError> {
        let plan = self.plan.as_ref().ok_or_else(|| {
            CoreError::NotFound("no plan is loaded; load one with 'swarmctl plan load FILE'".into())
        })?;
        plan.index.get(id.trim()).copied().ok_or_else(|| {
            let mut near: Vec<&str> = plan
                .compiled
                .plan
                .tasks
                .iter()
                .map(|t| t.id.as_str())
                .filter(|t| t.split('.').next() == id.split('.').next())
                .take(8)
                .collect();
            if near.is_empty() {
                near = plan
                    .compiled
                    .plan
                    .tasks
                    .iter()
                    .map(|t| t.id.as_str())
                    .take(8)
                    .collect();
            }
            CoreError::NotFound(format!(
                "no task '{id}' in plan '{}'; tasks include {}",
                plan.compiled.plan.name,
                near.join(", ")
            ))
        })
    }

    fn task_action(
        &mut self,
        db: &Connection,
        id: &str,
        action: TaskAction,
        reason: &str,
        fx: &mut Effects,
    ) -> Result<String, CoreError> {
        let i = self.task_index(id)?;
        let state = self
            .plan
            .as_ref()
            .map(|p| p.tasks[i].state)
            .unwrap_or(TaskState::Pending);
        let who = if reason.is_empty() {
            "by an operator".to_string()
        } else {
            format!("by an operator: {reason}")
        };
        match action {
            TaskAction::Done | TaskAction::Fail | TaskAction::Cancel | TaskAction::Skip
                if state.is_done() =>
            {
                return Err(CoreError::Conflict(format!(
                    "task {id} is already {}",
                    state.name()
                )));
            }
            TaskAction::Retry if !state.is_dead() => {
                return Err(CoreError::Conflict(format!(
                    "task {id} is {}; only failed, blocked or cancelled tasks can be retried",
                    state.name()
                )));
            }
            _ => {}
        }
        if let Some(current) = self.plan.as_ref().and_then(|p| p.tasks[i].current) {
            let end = match action {
                TaskAction::Done => "succeeded",
                TaskAction::Fail => "failed",
                _ => "cancelled",
            };
            self.end_attempt(db, current, end, None, &format!("marked {end} {who}"), fx)?;
            // Tell the lead too: its executor stops and reports nothing.
            self.cancel_lead(current, id, fx);
        }
        match action {
            TaskAction::Done => {
                self.set_task(
                    db,
                    i,
                    TaskState::Succeeded,
                    Some(format!("marked done {who}")),
                    fx,
                )?;
                self.release_dependents(db, i, fx)?;
            }
            TaskAction::Skip => {
                self.set_task(
                    db,
                    i,
                    TaskState::Skipped,
                    Some(format!("skipped {who}")),
                    fx,
                )?;
                self.release_dependents(db, i, fx)?;
                self.unblock(db, fx)?;
            }
            TaskAction::Fail | TaskAction::Cancel => {
                let (next, verb) = if action == TaskAction::Fail {
                    (TaskState::Failed, "failed")
                } else {
                    (TaskState::Cancelled, "cancelled")
                };
                self.set_task(db, i, next, Some(format!("{verb} {who}")), fx)?;
                self.block_dependents(db, i, &format!("dependency {id} was {verb} {who}"), fx)?;
            }
            TaskAction::Retry => {
                let next = {
                    let Some(plan) = self.plan.as_mut() else {
                        return Err(CoreError::Internal("no plan".into()));
                    };
                    plan.tasks[i].failures = 0;
                    plan.tasks[i].losses = 0;
                    if plan.tasks[i].deps_left == 0 {
                        TaskState::Ready
                    } else {
                        TaskState::Pending
                    }
                };
                let blocked_by_dead = self.plan.as_ref().is_some_and(|p| {
                    p.compiled.tasks[i]
                        .deps
                        .iter()
                        .any(|&d| p.tasks[d].state.is_dead())
                });
                let next = if blocked_by_dead {
                    TaskState::Blocked
                } else {
                    next
                };
                self.set_task(db, i, next, Some(format!("retried {who}")), fx)?;
                self.unblock(db, fx)?;
            }
        }
        self.settle_plan(db, fx)?;
        Ok(self
            .plan
            .as_ref()
            .map(|p| p.tasks[i].state.name().to_string())
            .unwrap_or_default())
    }

    fn cancel_lead(&self, attempt: u64, task_id: &str, fx: &mut Effects) {
        let lead = self.plan.as_ref().and_then(|p| {
            let i = p.index.get(task_id)?;
            p.tasks[*i].last_agents.first().cloned()
        });
        if let Some(agent) = lead.and_then(|l| self.agents.get(&l)) {
            fx.send(
                &agent.tx,
                ToAgent::Cancel(
                    super::command::AttemptRef {
                        task_id: task_id.to_string(),
                        attempt,
                    },
                    "resolved by an operator".into(),
                ),
            );
        }
    }

    fn drain_agent(
        &mut self,
        db: &Connection,
        id: &str,
        fx: &mut Effects,
    ) -> Result<String, CoreError> {
        let Some(agent) = self.agents.get_mut(id) else {
            let known: Vec<&str> = self.agents.keys().map(String::as_str).take(10).collect();
            return Err(CoreError::NotFound(format!(
                "no agent '{id}'; agents: {}",
                known.join(", ")
            )));
        };
        if !matches!(
            agent.state,
            super::model::AgentState::Connected | super::model::AgentState::Draining
        ) {
            return Err(CoreError::Conflict(format!(
                "agent {id} is {}, not connected",
                agent.state.name()
            )));
        }
        self.drain(db, fx, id, "drained by an operator".into())?;
        Ok("draining".into())
    }

    fn set_paused(
        &mut self,
        db: &Connection,
        paused: bool,
        fx: &mut Effects,
    ) -> Result<String, CoreError> {
        let Some(plan) = self.plan.as_mut() else {
            return Err(CoreError::Conflict("no plan is loaded".into()));
        };
        let next = match (plan.state, paused) {
            (PlanState::Running, true) => PlanState::Paused,
            (PlanState::Paused, false) => PlanState::Running,
            (PlanState::Paused, true) | (PlanState::Running, false) => {
                return Ok(plan.state.name().into())
            }
            (s, _) => {
                return Err(CoreError::Conflict(format!(
                    "the plan has {}; there is nothing to {}",
                    s.name(),
                    if paused { "pause" } else { "resume" }
                )))
            }
        };
        plan.state = next;
        set_plan_state(db, plan.id, next.name(), None)?;
        self.event(
            db,
            fx,
            if paused {
                "plan.paused"
            } else {
                "plan.resumed"
            },
            None,
            None,
            None,
            String::new(),
        )?;
        Ok(next.name().into())
    }
}
