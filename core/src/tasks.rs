//! Task transitions: results, lost attempts and retries with backoff
//! (what a task's end does downstream: `dependents.rs`; the plan's
//! completion: `settle.rs`).

use swarm_memory::state::{upsert_attempt, upsert_task};

use super::command::{AttemptRef, AttemptReport, Outcome, ToAgent};
use super::effects::Turn;
use super::event::{AttemptEnd, Event, EventKind};
use super::model::TaskState;
use super::{CoreError, State};

/// What became of a result an agent sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResultVerdict {
    /// Applied: acknowledge it.
    Accepted,
    /// Not the current attempt, or not from a member that runs it.
    Rejected,
    /// A gang member's success while others still run: acknowledged when
    /// the attempt ends.
    Held,
}

/// A gang's commits in member order, and its attempt's number.
type GangWork = (Vec<String>, u32);

/// Longest attempt message stored, in characters.
const MAX_ATTEMPT_MESSAGE: usize = 4096;

/// Longest attempt message in an event, in characters.
const MAX_EVENT_MESSAGE: usize = 512;

impl State {
    /// Moves task `i` to `state`, persists it and records `task.<state>`.
    pub(crate) fn set_task(
        &mut self,
        t: &mut Turn<'_>,
        i: usize,
        state: TaskState,
        reason: Option<String>,
    ) -> Result<(), CoreError> {
        let Some(plan) = self.plan.as_mut() else {
            return Ok(());
        };
        let state = plan.set_state(i, state, reason.clone(), t.now);
        upsert_task(t.db, plan.id(), &plan.task_row(i))?;
        let id = plan.task_id(i).to_string();
        t.emit(
            Event::new(EventKind::Task(state))
                .task(id)
                .message(reason.unwrap_or_default()),
        )
    }

    /// Moves each of `tasks` to Ready (see [`State::set_task`]), indexing
    /// them in the ready queue all at once.
    pub(crate) fn ready_all(
        &mut self,
        t: &mut Turn<'_>,
        tasks: Vec<usize>,
    ) -> Result<(), CoreError> {
        if let Some(plan) = self.plan.as_mut() {
            plan.begin_ready_batch();
        }
        let readied =
            (tasks.into_iter()).try_for_each(|i| self.set_task(t, i, TaskState::Ready, None));
        if let Some(plan) = self.plan.as_mut() {
            plan.end_ready_batch();
        }
        readied
    }

    /// Persists task `i` as it is now (after a counter changed).
    pub(crate) fn save_task(&self, t: &Turn<'_>, i: usize) -> Result<(), CoreError> {
        if let Some(plan) = self.plan.as_ref() {
            upsert_task(t.db, plan.id(), &plan.task_row(i))?;
        }
        Ok(())
    }

    /// Task `i`'s id, or "" without a plan.
    pub(crate) fn task_id(&self, i: usize) -> String {
        self.plan
            .as_ref()
            .map(|p| p.task_id(i).to_string())
            .unwrap_or_default()
    }

    /// Whether `r` names the current attempt of its task.
    pub(crate) fn is_current(&self, r: &AttemptRef) -> bool {
        let (Some(a), Some(plan)) = (self.attempts.get(r.attempt), self.plan.as_ref()) else {
            return false;
        };
        plan.task(a.task).current == Some(a.id) && plan.task_id(a.task) == r.task_id
    }

    /// A result from `agent`: accepted (and acknowledged), rejected
    /// (recorded as `attempt.rejected`, never applied), or — a gang
    /// member's success while others still run — held: acknowledged only
    /// when the attempt ends, so after a restart the agent sends it again.
    pub(crate) fn result(
        &mut self,
        t: &mut Turn<'_>,
        agent: &str,
        r: &AttemptRef,
        report: &AttemptReport,
    ) -> Result<ResultVerdict, CoreError> {
        // An executor that could not start failed, whatever the outcome
        // says: never a loss, never a success.
        let outcome = if report.not_started {
            Outcome::Failed
        } else {
            report.outcome
        };
        let (exit_code, message) = (report.exit_code, &report.message);
        let runs = self.attempts.get(r.attempt).is_some_and(|a| a.runs(agent));
        if !runs || !self.is_current(r) {
            return self.reject_result(t, agent, r, report, outcome);
        }
        if let Some(usage) = &report.usage {
            self.record_usage(t, agent, r, usage)?;
        }
        if let (Some(limit), Outcome::Failed) = (&report.rate_limit, outcome) {
            self.rate_limited(t, agent, r, report, limit.reset_at)?;
            return Ok(ResultVerdict::Accepted);
        }
        let end = match outcome {
            Outcome::Cancelled => {
                let why = format!("cancelled on agent {agent}: {message}");
                self.lose_attempt(t, r.attempt, &why)?;
                return Ok(ResultVerdict::Accepted);
            }
            Outcome::Succeeded => AttemptEnd::Succeeded,
            Outcome::Failed => AttemptEnd::Failed { exit_code },
            Outcome::TimedOut => AttemptEnd::TimedOut,
        };
        let mut written = report.result.clone();
        let mut commits = (Vec::new(), 0);
        if end == AttemptEnd::Succeeded {
            match self.member_success(agent, r.attempt, report) {
                Err(verdict) => return Ok(verdict),
                Ok((result, gang_commits)) => (written, commits) = (result, gang_commits),
            }
        }
        // Whether it printed anything: a result from its output needs a
        // look at the store only then.
        let printed = self.attempts.get(r.attempt).is_some_and(|a| a.log_seq > 0);
        let verifies = self.attempts.get(r.attempt).is_some_and(|a| a.verifies);
        let message = self.end_message(agent, r.attempt, report, end);
        let dropped = report.output_dropped;
        let ended = self.end_attempt_with(t, r.attempt, end, &message, dropped, Some(agent))?;
        let Some(task) = ended else {
            return Ok(ResultVerdict::Accepted);
        };
        if verifies {
            let passed = end == AttemptEnd::Succeeded;
            self.verified(t, r.attempt, passed, &message)?;
            return Ok(ResultVerdict::Accepted);
        }
        match end {
            AttemptEnd::Succeeded => {
                self.record_result(t, r, written.as_deref(), printed)?;
                let (commits, number) = commits;
                // In a workspace, done once its work is merged.
                if !(self.in_workspace(task)
                    && self.committed(t, task, r.attempt, number, commits)?)
                {
                    self.set_task(t, task, TaskState::Succeeded, None)?;
                    self.release_dependents(t, task)?;
                }
            }
            AttemptEnd::Failed { .. }
            | AttemptEnd::TimedOut
            | AttemptEnd::Cancelled
            | AttemptEnd::Lost
            | AttemptEnd::RateLimited => self.fail_attempt(t, task, &message)?,
        }
        Ok(ResultVerdict::Accepted)
    }

    /// A member's success: held while others of its gang still run (the
    /// verdict), else what the gang wrote and committed (its commits in
    /// member order, and the attempt's number).
    fn member_success(
        &mut self,
        agent: &str,
        attempt: u64,
        report: &AttemptReport,
    ) -> Result<(Option<String>, GangWork), ResultVerdict> {
        let (result, commit) = (report.result.clone(), report.commit.clone());
        let done = (self.attempts).member_succeeded(attempt, agent, result, commit);
        let Some(a) = self.attempts.get(attempt) else {
            return Err(ResultVerdict::Rejected);
        };
        if done < a.runners() {
            return Err(ResultVerdict::Held);
        }
        Ok((a.gang_result(), (a.member_commits(), a.number)))
    }

    /// How an attempt's end reads in its event: the agent's message,
    /// marked when the executor could not start, and naming the gang
    /// member whose failure ended it.
    fn end_message(
        &self,
        agent: &str,
        attempt: u64,
        report: &AttemptReport,
        end: AttemptEnd,
    ) -> String {
        let message = if report.not_started {
            format!("could not start: {}", report.message)
        } else {
            report.message.clone()
        };
        let gang = self
            .attempts
            .get(attempt)
            .filter(|a| a.runners() > 1)
            .and_then(|a| a.members.iter().find(|m| m.agent == agent))
            .map(|m| format!("{} ({})", m.agent, m.role));
        match (gang, end != AttemptEnd::Succeeded) {
            (Some(who), true) => format!("gang member {who}: {message}"),
            _ => message,
        }
    }

    /// Ends a live attempt: records how, frees its agents (telling the
    /// members that did not report that it is over), clears the task's
    /// current attempt. Returns the task index.
    pub(crate) fn end_attempt(
        &mut self,
        t: &mut Turn<'_>,
        attempt: u64,
        end: AttemptEnd,
        message: &str,
    ) -> Result<Option<usize>, CoreError> {
        self.end_attempt_with(t, attempt, end, message, 0, None)
    }

    /// [`State::end_attempt`], recording the output its agent shed;
    /// `reporter` is the member whose result ended it (it needs no
    /// Cancel).
    pub(crate) fn end_attempt_with(
        &mut self,
        t: &mut Turn<'_>,
        attempt: u64,
        end: AttemptEnd,
        message: &str,
        output_dropped: u64,
        reporter: Option<&str>,
    ) -> Result<Option<usize>, CoreError> {
        let Some(a) = self.attempts.remove(attempt) else {
            return Ok(None);
        };
        self.grants.revoke(&a.token);
        self.note_attempt_end(a.task, end);
        let Some(plan) = self.plan.as_mut() else {
            return Ok(None);
        };
        let mut row = a.row(plan.id(), end.state_name());
        row.ended_at = Some(t.now);
        row.exit_code = end.exit_code();
        row.message = message.chars().take(MAX_ATTEMPT_MESSAGE).collect();
        row.output_dropped = output_dropped;
        upsert_attempt(t.db, &row)?;
        // A task that ran past its plan changes what the rest will take:
        // the next dispatch searches a new guide.
        let planned = plan.spec(a.task).duration.secs();
        if planned > 0 && plan.planned_rest(a.task, t.now) == 0 {
            self.guides.overran = true;
        }
        plan.end_attempt(a.task);
        let task_id = plan.task_id(a.task).to_string();
        // The reporter is answered by its Ack. Members whose success was
        // held get theirs now (accepted only if the attempt succeeded);
        // every other member is told the attempt is over.
        for m in &a.members {
            let tx = self.roster.release(&m.agent, attempt);
            let r = AttemptRef {
                task_id: task_id.clone(),
                attempt,
            };
            if reporter == Some(m.agent.as_str()) {
                continue;
            }
            if a.succeeded.iter().any(|(who, _)| *who == m.agent) {
                let accepted = end == AttemptEnd::Succeeded;
                let reason = if accepted {
                    String::new()
                } else {
                    format!("attempt {}", end.state_name())
                };
                t.send(
                    tx,
                    ToAgent::Ack {
                        attempt: r,
                        accepted,
                        reason,
                    },
                );
            } else {
                t.send(
                    tx,
                    ToAgent::Cancel(r, format!("attempt {}", end.state_name())),
                );
            }
        }
        let mut event = Event::new(EventKind::AttemptEnded(end))
            .task(task_id)
            .attempt(attempt)
            .number(a.number)
            .message(message.chars().take(MAX_EVENT_MESSAGE).collect::<String>());
        if let Some(lead) = a.lead() {
            event = event.agent(lead);
        }
        t.emit(event)?;
        Ok(Some(a.task))
    }

    /// An attempt lost with its agent (or handed back): re-queue the task
    /// without using its retry budget, unless it keeps losing agents.
    pub(crate) fn lose_attempt(
        &mut self,
        t: &mut Turn<'_>,
        attempt: u64,
        why: &str,
    ) -> Result<(), CoreError> {
        if self.attempts.get(attempt).is_some_and(|a| a.verifies) {
            self.verification_lost(attempt);
        }
        let Some(task) = self.end_attempt(t, attempt, AttemptEnd::Lost, why)? else {
            return Ok(());
        };
        let max = self.cfg.max_losses;
        let Some(plan) = self.plan.as_mut() else {
            return Ok(());
        };
        let losses = plan.count_loss(task);
        if plan.task(task).state != TaskState::Running {
            return self.save_task(t, task);
        }
        if losses >= max {
            let reason = format!("lost its agent {max} times (last: {why})");
            self.set_task(t, task, TaskState::Failed, Some(reason.clone()))?;
            self.block_dependents(t, task, &reason)
        } else {
            self.set_task(t, task, TaskState::Ready, Some(format!("re-queued: {why}")))
        }
    }

    /// A failed attempt uses the retry budget: retried after an exponential
    /// backoff, or failed for good with its dependents blocked.
    fn fail_attempt(
        &mut self,
        t: &mut Turn<'_>,
        task: usize,
        message: &str,
    ) -> Result<(), CoreError> {
        let (base, cap) = (
            self.cfg.retry_backoff.as_millis() as i64,
            self.cfg.retry_backoff_max.as_millis() as i64,
        );
        let Some(plan) = self.plan.as_mut() else {
            return Ok(());
        };
        let failures = plan.count_failure(task);
        let retries = plan.retries(task);
        if failures <= retries {
            let delay = base.saturating_mul(1i64 << (failures - 1).min(30)).min(cap);
            let reason = format!(
                "attempt failed ({}), retry {failures} of {retries} in {delay} ms",
                clip(message),
            );
            self.set_task(t, task, TaskState::Pending, Some(reason))?;
            if let Some(plan) = self.plan.as_mut() {
                plan.delay(task, t.now + delay);
            }
            self.save_task(t, task)
        } else {
            // The state says "failed"; the reason says why, once.
            let reason = clip(message);
            self.set_task(t, task, TaskState::Failed, Some(reason.clone()))?;
            let id = self.task_id(task);
            self.block_dependents(t, task, &format!("dependency {id} failed: {reason}"))
        }
    }
}

/// The first line of a message, at most 200 characters, for reasons.
fn clip(s: &str) -> String {
    let first = s.lines().next().unwrap_or("").trim();
    let mut out: String = first.chars().take(200).collect();
    if out.is_empty() {
        out = "no message".to_string();
    }
    out
}
