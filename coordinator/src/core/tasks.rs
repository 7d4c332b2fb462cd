//! Task transitions: results, lost attempts, retries with backoff,
//! releasing and blocking dependents, and the plan's completion.

use rusqlite::Connection;
use swarm_memory::now_ms;
use swarm_memory::state::{set_plan_state, upsert_attempt, upsert_task, TaskRow};

use super::agents::{attempt_row, outcome_name};
use super::command::{AttemptRef, Outcome, ToAgent};
use super::model::{PlanState, TaskState};
use super::{CoreError, Effects, State};

impl State {
    /// Persists task `i` and records the event `task.<state>`.
    pub(crate) fn set_task(
        &mut self,
        db: &Connection,
        i: usize,
        state: TaskState,
        reason: Option<String>,
        fx: &mut Effects,
    ) -> Result<(), CoreError> {
        let Some(plan) = self.plan.as_mut() else {
            return Ok(());
        };
        let key = plan.key(i);
        if plan.tasks[i].state == TaskState::Ready {
            plan.ready.remove(&key);
        }
        if let Some(nb) = plan.tasks[i].not_before.take() {
            plan.delayed.remove(&(nb, i));
        }
        // Under the calendar pace a task waits for its planned day.
        let mut state = state;
        if state == TaskState::Ready && self.cfg.pace == crate::config::Pace::Calendar {
            if let Some(day) = plan.compiled.plan.tasks[i].day {
                let opens = plan.clock.wall_at(plan.clock.day_starts(day));
                if opens > swarm_memory::now_ms() && plan.tasks[i].attempts == 0 {
                    state = TaskState::Pending;
                    plan.tasks[i].not_before = Some(opens);
                    plan.delayed.insert((opens, i));
                }
            }
        }
        plan.transition(i, state);
        let t = &mut plan.tasks[i];
        t.reason = reason.clone();
        t.updated_at = now_ms();
        if state == TaskState::Ready {
            plan.ready.insert(key);
        }
        self.save_task(db, i)?;
        let id = self.task_id(i);
        self.event(
            db,
            fx,
            &format!("task.{}", state.name()),
            Some(&id),
            None,
            None,
            reason.unwrap_or_default(),
        )
    }

    pub(crate) fn save_task(&self, db: &Connection, i: usize) -> Result<(), CoreError> {
        let Some(plan) = self.plan.as_ref() else {
            return Ok(());
        };
        let t = &plan.tasks[i];
        upsert_task(
            db,
            plan.id,
            &TaskRow {
                idx: i as u32,
                id: plan.compiled.plan.tasks[i].id.clone(),
                state: t.state.name().to_string(),
                attempts: t.attempts,
                failures: t.failures,
                losses: t.losses,
                not_before: t.not_before,
                reason: t.reason.clone(),
                updated_at: t.updated_at,
            },
        )?;
        Ok(())
    }

    pub(crate) fn task_id(&self, i: usize) -> String {
        self.plan
            .as_ref()
            .map(|p| p.compiled.plan.tasks[i].id.clone())
            .unwrap_or_default()
    }

    /// A result from an agent. Returns whether it was accepted (the attempt
    /// is live, current, and the agent is its lead).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn result(
        &mut self,
        db: &Connection,
        agent: &str,
        r: &AttemptRef,
        outcome: Outcome,
        exit_code: Option<i32>,
        message: &str,
        fx: &mut Effects,
    ) -> Result<bool, CoreError> {
        let current = self.attempts.get(&r.attempt).is_some_and(|a| {
            a.agents.first().is_some_and(|(lead, _)| lead == agent)
                && self.plan.as_ref().is_some_and(|p| {
                    p.tasks[a.task].current == Some(a.id)
                        && p.compiled.plan.tasks[a.task].id == r.task_id
                })
        });
        if !current {
            self.event(
                db,
                fx,
                "attempt.rejected",
                Some(&r.task_id),
                Some(r.attempt),
                Some(agent),
                format!(
                    "late or foreign result ({}) ignored: not the current attempt",
                    outcome_name(outcome)
                ),
            )?;
            return Ok(false);
        }
        if outcome == Outcome::Cancelled {
            self.lose_attempt(
                db,
                r.attempt,
                &format!("cancelled on agent {agent}: {message}"),
                fx,
            )?;
            return Ok(true);
        }
        let Some(task) =
            self.end_attempt(db, r.attempt, outcome_name(outcome), exit_code, message, fx)?
        else {
            return Ok(true);
        };
        match outcome {
            Outcome::Succeeded => self.succeed(db, task, fx)?,
            _ => self.fail_attempt(db, task, message, fx)?,
        }
        Ok(true)
    }

    /// Ends a live attempt: records its final state, frees its agents
    /// (telling the other gang members), clears the task's current attempt.
    /// Returns the task index.
    pub(crate) fn end_attempt(
        &mut self,
        db: &Connection,
        attempt: u64,
        state: &str,
        exit_code: Option<i32>,
        message: &str,
        fx: &mut Effects,
    ) -> Result<Option<usize>, CoreError> {
        let Some(a) = self.attempts.remove(&attempt) else {
            return Ok(None);
        };
        let Some(plan) = self.plan.as_mut() else {
            return Ok(None);
        };
        let mut row = attempt_row(plan.id, &a, state);
        row.ended_at = Some(now_ms());
        row.exit_code = exit_code;
        row.message = message.chars().take(4096).collect();
        upsert_attempt(db, &row)?;
        plan.tasks[a.task].current = None;
        let task_id = plan.compiled.plan.tasks[a.task].id.clone();
        for (k, (agent_id, _)) in a.agents.iter().enumerate() {
            if let Some(agent) = self.agents.get_mut(agent_id) {
                agent.busy.remove(&attempt);
                // The lead reported (or is gone); the others hold a slot
                // for the attempt and are told it is over.
                if k > 0 || state == "lost" || state == "cancelled" {
                    let tx = agent.tx.clone();
                    fx.send(
                        &tx,
                        ToAgent::Cancel(
                            AttemptRef {
                                task_id: task_id.clone(),
                                attempt,
                            },
                            format!("attempt {state}"),
                        ),
                    );
                }
            }
        }
        self.event(
            db,
            fx,
            &format!("attempt.{state}"),
            Some(&task_id),
            Some(attempt),
            a.agents.first().map(|(id, _)| id.as_str()),
            message.chars().take(512).collect(),
        )?;
        Ok(Some(a.task))
    }

    /// An attempt lost with its agent (or released): re-queue the task
    /// without using its retry budget, unless it keeps losing agents.
    pub(crate) fn lose_attempt(
        &mut self,
        db: &Connection,
        attempt: u64,
        why: &str,
        fx: &mut Effects,
    ) -> Result<(), CoreError> {
        let Some(task) = self.end_attempt(db, attempt, "lost", None, why, fx)? else {
            return Ok(());
        };
        let max = self.cfg.max_losses;
        let Some(plan) = self.plan.as_mut() else {
            return Ok(());
        };
        plan.tasks[task].losses += 1;
        if plan.tasks[task].state != TaskState::Running {
            return self.save_task(db, task);
        }
        if plan.tasks[task].losses >= max {
            let reason = format!("lost its agent {max} times (last: {why})");
            self.set_task(db, task, TaskState::Failed, Some(reason.clone()), fx)?;
            self.block_dependents(db, task, &reason, fx)
        } else {
            self.set_task(
                db,
                task,
                TaskState::Ready,
                Some(format!("re-queued: {why}")),
                fx,
            )
        }
    }

    fn succeed(&mut self, db: &Connection, task: usize, fx: &mut Effects) -> Result<(), CoreError> {
        self.set_task(db, task, TaskState::Succeeded, None, fx)?;
        self.release_dependents(db, task, fx)
    }

    /// Dependents whose last dependency this was become ready.
    pub(crate) fn release_dependents(
        &mut self,
        db: &Connection,
        task: usize,
        fx: &mut Effects,
    ) -> Result<(), CoreError> {
        let Some(plan) = self.plan.as_mut() else {
            return Ok(());
        };
        let mut now_ready = Vec::new();
        for &d in &plan.compiled.tasks[task].dependents {
            let t = &mut plan.tasks[d];
            t.deps_left = t.deps_left.saturating_sub(1);
            if t.deps_left == 0 && t.state == TaskState::Pending {
                now_ready.push(d);
            }
        }
        for d in now_ready {
            self.set_task(db, d, TaskState::Ready, None, fx)?;
        }
        Ok(())
    }

    fn fail_attempt(
        &mut self,
        db: &Connection,
        task: usize,
        message: &str,
        fx: &mut Effects,
    ) -> Result<(), CoreError> {
        let (base, cap) = (
            self.cfg.retry_backoff.as_millis() as i64,
            self.cfg.retry_backoff_max.as_millis() as i64,
        );
        let Some(plan) = self.plan.as_mut() else {
            return Ok(());
        };
        let t = &mut plan.tasks[task];
        t.failures += 1;
        if t.failures <= plan.retries[task] {
            let delay = base
                .saturating_mul(1i64 << (t.failures - 1).min(30))
                .min(cap);
            let not_before = now_ms() + delay;
            let reason = format!(
                "attempt failed ({}), retry {} of {} in {} ms",
                clip(message),
                t.failures,
                plan.retries[task],
                delay
            );
            self.set_task(db, task, TaskState::Pending, Some(reason), fx)?;
            if let Some(plan) = self.plan.as_mut() {
                plan.tasks[task].not_before = Some(not_before);
                plan.delayed.insert((not_before, task));
            }
            self.save_task(db, task)
        } else {
            let reason = format!("failed: {}", clip(message));
            self.set_task(db, task, TaskState::Failed, Some(reason.clone()), fx)?;
            let id = self.task_id(task);
            self.block_dependents(db, task, &format!("dependency {id} {reason}"), fx)
        }
    }

    /// Every task downstream of `task` that has not finished is blocked.
    pub(crate) fn block_dependents(
        &mut self,
        db: &Connection,
        task: usize,
        reason: &str,
        fx: &mut Effects,
    ) -> Result<(), CoreError> {
        let mut stack = vec![task];
        let mut seen = std::collections::HashSet::new();
        while let Some(t) = stack.pop() {
            let Some(plan) = self.plan.as_ref() else {
                return Ok(());
            };
            let deps: Vec<usize> = plan.compiled.tasks[t].dependents.clone();
            for d in deps {
                if !seen.insert(d) {
                    continue;
                }
                let state = self.plan.as_ref().map(|p| p.tasks[d].state);
                if matches!(state, Some(TaskState::Pending | TaskState::Ready)) {
                    self.set_task(db, d, TaskState::Blocked, Some(reason.to_string()), fx)?;
                }
                stack.push(d);
            }
        }
        Ok(())
    }

    /// After an operator retried or skipped a task: blocked tasks whose
    /// dependencies are all alive again become pending or ready.
    pub(crate) fn unblock(&mut self, db: &Connection, fx: &mut Effects) -> Result<(), CoreError> {
        let Some(plan) = self.plan.as_ref() else {
            return Ok(());
        };
        let order = plan.compiled.order.clone();
        for i in order {
            let Some(plan) = self.plan.as_ref() else {
                return Ok(());
            };
            if plan.tasks[i].state != TaskState::Blocked {
                continue;
            }
            let deps = &plan.compiled.tasks[i].deps;
            if deps.iter().any(|&d| plan.tasks[d].state.is_dead()) {
                continue;
            }
            let next = if plan.tasks[i].deps_left == 0 {
                TaskState::Ready
            } else {
                TaskState::Pending
            };
            self.set_task(db, i, next, None, fx)?;
        }
        Ok(())
    }

    /// Moves due retries to ready and settles the plan's state.
    pub(crate) fn tick(
        &mut self,
        db: &Connection,
        now: i64,
        fx: &mut Effects,
    ) -> Result<(), CoreError> {
        self.expire_leases(db, now, fx)?;
        let due: Vec<usize> = match self.plan.as_ref() {
            Some(plan) => plan
                .delayed
                .iter()
                .take_while(|(t, _)| *t <= now)
                .map(|&(_, i)| i)
                .collect(),
            None => return Ok(()),
        };
        for i in due {
            let Some(plan) = self.plan.as_mut() else {
                break;
            };
            if let Some(nb) = plan.tasks[i].not_before.take() {
                plan.delayed.remove(&(nb, i));
            }
            if plan.tasks[i].state == TaskState::Pending && plan.tasks[i].deps_left == 0 {
                self.set_task(db, i, TaskState::Ready, None, fx)?;
            }
        }
        self.due_checkpoints(db, now, fx)?;
        self.settle_plan(db, fx)
    }

    /// A plan whose every task is final has succeeded or failed.
    pub(crate) fn settle_plan(
        &mut self,
        db: &Connection,
        fx: &mut Effects,
    ) -> Result<(), CoreError> {
        let Some(plan) = self.plan.as_mut() else {
            return Ok(());
        };
        let all_final = plan.final_tasks == plan.tasks.len();
        let next = match (plan.state, all_final) {
            (PlanState::Running | PlanState::Paused, true) => {
                if plan.done_tasks == plan.tasks.len() {
                    PlanState::Succeeded
                } else {
                    PlanState::Failed
                }
            }
            (PlanState::Succeeded | PlanState::Failed, false) => PlanState::Running,
            _ => return Ok(()),
        };
        plan.state = next;
        plan.finished_at = matches!(next, PlanState::Succeeded | PlanState::Failed).then(now_ms);
        set_plan_state(db, plan.id, next.name(), plan.finished_at)?;
        let name = plan.compiled.plan.name.clone();
        if matches!(next, PlanState::Succeeded | PlanState::Failed) {
            // The last report says how it ended.
            let at = plan.clock.plan_at(now_ms());
            self.checkpoint(db, at, "Final Review", None, fx)?;
        }
        self.event(
            db,
            fx,
            &format!("plan.{}", next.name()),
            None,
            None,
            None,
            name,
        )
    }
}

fn clip(s: &str) -> String {
    let first = s.lines().next().unwrap_or("").trim();
    let mut out: String = first.chars().take(200).collect();
    if out.is_empty() {
        out = "no message".to_string();
    }
    out
}
