//! Answers to read-only questions: tasks, one task's history, logs,
//! agents.

use rusqlite::Connection;
use swarm_memory::state::{attempts_of_task, logs, pick_attempt, usage_of_task, AttemptPick};

use super::active::ActivePlan;
use super::command::TaskLogs;
use super::views::{AgentView, AttemptView, TaskDetail, TaskView};
use super::{CoreError, State};

impl State {
    /// The loaded plan's row id.
    pub(crate) fn plan_id(&self) -> Option<i64> {
        self.plan.as_ref().map(ActivePlan::id)
    }

    pub(crate) fn task_detail(
        &self,
        db: &Connection,
        id: &str,
        now: i64,
    ) -> Result<TaskDetail, CoreError> {
        let i = self.task_index(id)?;
        let Some(plan) = &self.plan else {
            return Err(CoreError::NotFound("no plan".into()));
        };
        let spent = usage_of_task(db, plan.id(), id)?;
        let attempts = attempts_of_task(db, plan.id(), i as u32)?
            .into_iter()
            .map(|a| {
                let (usage, session_id) = crate::spend::of_attempt(&spent, a.id);
                let state = a.state.parse().map_err(|e| {
                    CoreError::Recovery(format!("attempt {} of task {id}: {e}", a.number))
                })?;
                Ok(AttemptView {
                    attempt: a.id,
                    number: a.number,
                    agents: a.agents,
                    roles: a.roles,
                    state,
                    created_at: a.created_at,
                    ended_at: a.ended_at.unwrap_or(0),
                    exit_code: a.exit_code,
                    message: a.message,
                    output_dropped: a.output_dropped,
                    work: None,
                    usage,
                    session_id,
                })
            })
            .collect::<Result<Vec<AttemptView>, CoreError>>()?;
        let (attempts, repo, integration) = self.attempts_work(db, i, attempts)?;
        let t = plan.spec(i);
        Ok(TaskDetail {
            task: self.view_of(plan, i, now),
            attempts,
            depends_on: plan.compiled().tasks[i]
                .deps
                .iter()
                .map(|&d| plan.task_id(d).to_string())
                .collect(),
            run: t.run.clone().unwrap_or_default(),
            checks: t.checks.clone(),
            image: t.image.clone().unwrap_or_default(),
            repo,
            integration,
            spend: self.spend.task(id),
        })
    }

    /// The output so far of the attempt of task `id` that `pick` means,
    /// and a feed of what follows.
    pub(crate) fn logs_of(
        &self,
        db: &Connection,
        id: &str,
        pick: AttemptPick,
    ) -> Result<TaskLogs, CoreError> {
        let i = self.task_index(id)?;
        let Some(plan) = &self.plan else {
            return Err(CoreError::NotFound("no plan".into()));
        };
        let history = attempts_of_task(db, plan.id(), i as u32)?;
        let chosen = pick_attempt(plan.task_id(i), &history, pick)
            .map_err(|e| CoreError::NotFound(e.to_string()))?;
        Ok(TaskLogs {
            fence: chosen.id,
            number: chosen.number,
            chunks: logs(db, chosen.id)?,
            feed: self.out.logs.subscribe(),
        })
    }

    pub(crate) fn agent_views(&self) -> Vec<AgentView> {
        self.roster
            .iter()
            .map(|a| AgentView {
                id: a.id.clone(),
                roles: a.roles.clone(),
                active_role: a.active_role.clone(),
                slots: a.slots,
                busy: a.busy.len() as u32,
                host: a.host.clone(),
                state: a.state,
                last_seen: a.last_seen,
                labels: a.labels.clone(),
                running: a
                    .busy
                    .iter()
                    .filter_map(|&att| self.attempts.get(att).map(|x| (self.task_id(x.task), att)))
                    .collect(),
                sandbox: a.sandbox.clone(),
            })
            .collect()
    }

    /// Running tasks that wait for an operator, in plan order.
    pub(crate) fn waiting_for_operator(&self) -> Vec<String> {
        let mut tasks: Vec<usize> = self
            .attempts
            .iter()
            .filter(|a| a.waits_for_operator)
            .map(|a| a.task)
            .collect();
        tasks.sort_unstable();
        tasks.into_iter().map(|i| self.task_id(i)).collect()
    }
}

impl State {
    /// Task `i`'s view at `now`: a ready task that a spent budget holds
    /// says so in its reason.
    pub(crate) fn view_of(&self, plan: &ActivePlan, i: usize, now: i64) -> TaskView {
        let mut v = task_view(plan, i, self.waits_for_operator(i));
        if v.state == crate::model::TaskState::Ready {
            if let Some(why) = self.budget_blocks(i, now) {
                v.reason = format!("waits: {why}");
            }
        }
        v
    }
}

pub(crate) fn task_view(plan: &ActivePlan, i: usize, waits_for_operator: bool) -> TaskView {
    let t = plan.spec(i);
    let rt = plan.task(i);
    TaskView {
        id: t.id.clone(),
        title: t.title.clone(),
        state: rt.state,
        attempts: rt.attempts,
        agents: rt.last_agents.clone(),
        priority: t.priority.to_string(),
        duration_hours: t.duration.hours(),
        roles: plan.compiled().tasks[i].need.role_slots(),
        reason: rt.reason.clone().unwrap_or_default(),
        day: t.day.unwrap_or(0),
        updated_at: rt.updated_at,
        waits_for_operator,
    }
}
