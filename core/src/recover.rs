//! Recovery after a restart: the active plan, its tasks and live attempts
//! and the agents are rebuilt from the store. Agents get a grace period to
//! reconnect and resume their attempts; those that do not come back are
//! lost like any other, and their attempts re-queued. Nothing that
//! succeeded runs again.

use swarm_memory::state::{agents, attempts_of_plan, latest_plan, max_attempt_id, tasks};

use super::active::ActivePlan;
use super::attempts::{Attempt, LiveAttempts, Member};
use super::effects::Turn;
use super::event::{Event, EventKind};
use super::model::{AttemptState, PlanState};
use super::{CoreError, State};

impl State {
    /// Rebuilds the state from the store, in the first turn.
    pub(crate) fn recover(&mut self, t: &mut Turn<'_>) -> Result<(), CoreError> {
        self.attempts = LiveAttempts::starting_at(max_attempt_id(t.db)? + 1);
        // An agent seen before the restart counts as seen now: its lease
        // restarts with the grace period added.
        let grace = self.cfg.reconnect_grace.as_millis() as i64;
        for row in agents(t.db)? {
            self.provisioning.saw_id(&row.id);
            self.roster.restore(row, t.now + grace)?;
        }
        let Some(row) = latest_plan(t.db)? else {
            return t.emit(Event::new(EventKind::CoordinatorStarted).message("no plan"));
        };
        let mut plan = self.rebuild_plan(t, &row)?;
        self.open_trace(t, row.id)?;
        self.restore_attempts(t, &mut plan)?;
        let message = format!(
            "recovered plan '{}' with {}",
            plan.name(),
            swarm_text::count(self.attempts.len() as u64, "live attempt")
        );
        t.plan_id = Some(plan.id());
        // A result committed just before a crash may not have reached the
        // shared memory: offer each again, copied only where missing.
        for (task_id, result) in swarm_memory::state::results_of_plan(t.db, plan.id())? {
            t.share_result(crate::jobs::ResultJob {
                task_id,
                result,
                if_absent: true,
            });
        }
        let spent = swarm_memory::state::usage_of_plan(t.db, plan.id())?;
        self.spend = crate::spend::Spend::from_rows(&spent);
        self.restore_budgets(t, plan.id())?;
        self.plan = Some(plan);
        self.restore_workspace(t)?;
        t.emit(Event::new(EventKind::CoordinatorStarted).message(message))
    }

    /// The stored plan `row`, compiled again from its text, with its
    /// state, last checkpoint, tasks and gates.
    fn rebuild_plan(
        &mut self,
        t: &mut Turn<'_>,
        row: &swarm_memory::state::PlanRow,
    ) -> Result<ActivePlan, CoreError> {
        let state: PlanState = row
            .state
            .parse()
            .map_err(|e| CoreError::Recovery(format!("plan {}: {e}", row.id)))?;
        // The newest version, on the positions the tasks are stored at.
        let stored = tasks(t.db, row.id)?;
        let (compiled, profiles, version) = self.compile_stored(t.db, row, &stored)?;
        self.profiles = profiles;
        let clock = serde_json::from_str(&row.clock).unwrap_or(crate::clock::PlanClock {
            start: row.loaded_at,
            wall0: row.loaded_at,
            time_scale: self.cfg.time_scale,
            day_start: self.cfg.day_start,
            day_end: self.cfg.day_end,
        });
        let calendar = self.cfg.pace == crate::config::Pace::Calendar;
        let mut plan = ActivePlan::new(
            row.id,
            compiled,
            row.loaded_at,
            self.cfg.default_retries,
            clock,
            calendar,
        );
        plan.restore_version(version);
        if self.cfg.gates {
            plan.enable_gates();
        }
        if let Some(last) = swarm_memory::state::checkpoints(t.db, Some(row.id))?.last() {
            let seq = swarm_memory::state::last_event_seq(t.db)?;
            plan.restore_checkpoint(last.plan_time, seq);
        }
        let cancelled_why = if state == PlanState::Cancelled {
            let kind = EventKind::Plan(PlanState::Cancelled).name();
            swarm_memory::state::event_messages(t.db, row.id, kind)?.pop()
        } else {
            None
        };
        plan.restore_state(state, row.finished_at, cancelled_why);
        for task in stored {
            plan.restore_task(task)?;
        }
        plan.finish_restore();
        let opened = swarm_memory::state::event_messages(
            t.db,
            row.id,
            super::event::EventKind::GateOpened.name(),
        )?;
        let waited = swarm_memory::state::event_messages(
            t.db,
            row.id,
            super::event::EventKind::GateWaiting.name(),
        )?;
        plan.restore_gates(&opened, &waited);
        Ok(plan)
    }

    /// The stored plan's live attempts, their agents and grants; the
    /// tasks' rate-limit streaks, from every attempt.
    fn restore_attempts(
        &mut self,
        t: &mut Turn<'_>,
        plan: &mut ActivePlan,
    ) -> Result<(), CoreError> {
        let plan_id = plan.id();
        let all = attempts_of_plan(t.db, plan_id)?;
        (self.pools).restore_streaks(all.iter().map(|a| (a.task_idx as usize, a.state.as_str())));
        let live = [AttemptState::Offered.name(), AttemptState::Running.name()];
        for a in all.into_iter().filter(|a| live.contains(&a.state.as_str())) {
            let task = a.task_idx as usize;
            let attempt_state: AttemptState = a.state.parse().map_err(|e| {
                CoreError::Recovery(format!("attempt {} (task index {task}): {e}", a.id))
            })?;
            if task >= plan.len() {
                continue;
            }
            plan.restore_current(task, a.id, a.agents.clone());
            for agent in &a.agents {
                self.roster.occupy(agent, a.id);
            }
            let log_seq = swarm_memory::state::next_log_seq(t.db, a.id)?;
            if !a.token.is_empty() {
                self.grants.grant(
                    a.token.clone(),
                    crate::grants::Grant {
                        task_id: plan.task_id(task).to_string(),
                        attempt: a.id,
                    },
                );
            }
            self.attempts.insert(Attempt {
                id: a.id,
                task,
                number: a.number,
                members: a
                    .agents
                    .into_iter()
                    .enumerate()
                    .map(|(k, agent)| Member {
                        agent,
                        role: a.roles.get(k).cloned().unwrap_or_default(),
                    })
                    .collect(),
                gang: plan.spec(task).gang,
                succeeded: Vec::new(),
                commits: Vec::new(),
                // A merging task's live attempt checks a candidate made
                // before the restart: its word no longer counts.
                verifies: plan.task(task).state == crate::model::TaskState::Merging,
                state: attempt_state,
                created_at: a.created_at,
                started_at: a.started_at,
                log_seq,
                token: a.token.clone(),
                // Known again when the lead resumes it.
                waits_for_operator: false,
            });
        }
        Ok(())
    }
}
