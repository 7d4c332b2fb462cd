//! Results that are not applied: a result for an attempt that is not
//! current (late, a zombie's) or from an agent that does not run it is
//! recorded as `attempt.rejected` and changes nothing — except that what
//! a member of the attempt says it spent is recorded all the same, since
//! the money was spent. A foreign result (another task's id, an agent
//! that was never a member) records nothing.

use swarm_memory::state::{attempts_of_task, Usage, UsageRow};

use super::command::{AttemptRef, AttemptReport, Outcome};
use super::effects::Turn;
use super::event::{Event, EventKind};
use super::tasks::ResultVerdict;
use super::{CoreError, State};

impl State {
    /// A result that is not the current attempt's, or not from a member
    /// that runs it: recorded as `attempt.rejected`, never applied — but
    /// the money a member of the attempt says it spent was spent, and is
    /// recorded (`spend.rs`).
    pub(crate) fn reject_result(
        &mut self,
        t: &mut Turn<'_>,
        agent: &str,
        r: &AttemptRef,
        report: &AttemptReport,
        outcome: Outcome,
    ) -> Result<ResultVerdict, CoreError> {
        let spent = match &report.usage {
            Some(usage) => self.record_late_usage(t, agent, r, usage)?,
            None => false,
        };
        let why = format!(
            "late or foreign result ({}) ignored: not the current attempt{}",
            outcome.name(),
            if spent {
                "; what it spent is recorded"
            } else {
                ""
            }
        );
        let e = Event::new(EventKind::AttemptRejected).task(r.task_id.clone());
        t.emit(e.attempt(r.attempt).agent(agent).message(why))?;
        Ok(ResultVerdict::Rejected)
    }

    /// What a rejected result (late, or from a member that does not run
    /// the attempt) said it spent: recorded all the same, since the money
    /// was spent, when `agent` is a member of attempt `r` of this plan's
    /// task `r` names — a live attempt's members, else the stored
    /// attempt's agents. Returns whether it was recorded.
    pub(crate) fn record_late_usage(
        &mut self,
        t: &mut Turn<'_>,
        agent: &str,
        r: &AttemptRef,
        usage: &Usage,
    ) -> Result<bool, CoreError> {
        let Some(plan) = self.plan.as_ref() else {
            return Ok(false);
        };
        let Some(task) = plan.index_of(&r.task_id) else {
            return Ok(false);
        };
        if let Some(a) = self.attempts.get(r.attempt) {
            if a.task != task || !a.members.iter().any(|m| m.agent == agent) {
                return Ok(false);
            }
            self.record_usage(t, agent, r, usage)?;
            return Ok(true);
        }
        let stored = attempts_of_task(t.db, plan.id(), task as u32)?;
        let Some(a) = stored.into_iter().find(|a| a.id == r.attempt) else {
            return Ok(false);
        };
        let Some(k) = a.agents.iter().position(|id| id == agent) else {
            return Ok(false);
        };
        let role = (a.roles.get(k).filter(|role| !role.is_empty()).cloned())
            .or_else(|| self.roster.get(agent).map(|g| g.active_role.clone()))
            .unwrap_or_default();
        let clock = plan.clock();
        let began = a.started_at.unwrap_or(a.created_at);
        let row = UsageRow {
            attempt: r.attempt,
            agent_id: agent.to_string(),
            plan_id: plan.id(),
            task_id: r.task_id.clone(),
            role,
            plan_day: clock.plan_day(clock.plan_at(began)),
            at: t.now,
            usage: usage.clone(),
        };
        self.store_usage(t, &row)?;
        Ok(true)
    }
}
