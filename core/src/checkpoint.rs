//! Checkpoints: when one is due on the plan clock (or an operator asks),
//! the loop reallocates agents, takes a snapshot of the run for the report,
//! and hands it to the reporter, which runs the exit-criteria checks and
//! writes the report; the loop then records it.

use rusqlite::Connection;
use swarm_memory::state::{checkpoints, insert_checkpoint, CheckpointRow};

use super::active::ActivePlan;
use super::command::Reply;
use super::effects::Turn;
use super::event::{Event, EventKind};
use super::model::{PlanState, TaskState};
use super::projection::{began_at, remaining_critical_path};
use super::views::StandupView;
use super::{CoreError, State};
use crate::jobs::report::{ChecklistJob, CriterionJob, InProgress, ReportJob, RoleRow};

/// Longest list of finished tasks a report spells out.
const MAX_LISTED: usize = 200;

/// At most this many due checkpoints are reported in one turn.
const MAX_DUE: usize = 8;

impl State {
    /// Fires the checkpoints that are due on the plan clock.
    pub(crate) fn due_checkpoints(&mut self, t: &mut Turn<'_>) -> Result<(), CoreError> {
        for _ in 0..MAX_DUE {
            let Some(plan) = self.plan.as_ref() else {
                return Ok(());
            };
            if !matches!(plan.state(), PlanState::Running | PlanState::Paused) {
                return Ok(());
            }
            let Some(next) = plan.next_checkpoint() else {
                return Ok(());
            };
            if next.at > plan.clock().plan_at(t.now) {
                return Ok(());
            }
            let kind = plan.checkpoints()[next.index].name.clone();
            self.checkpoint(t, next.at, &kind, None)?;
        }
        Ok(())
    }

    /// An operator's `standup run`.
    pub(crate) fn standup_now(
        &mut self,
        t: &mut Turn<'_>,
        kind: Option<String>,
        reply: Reply<StandupView>,
    ) -> Result<(), CoreError> {
        let Some(plan) = self.plan.as_ref() else {
            t.reply(
                reply,
                Err(CoreError::Conflict(
                    "no plan is loaded; nothing to report".into(),
                )),
            );
            return Ok(());
        };
        let kind = match kind {
            Some(k) => match plan
                .checkpoints()
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(k.trim()))
            {
                Some(c) => c.name.clone(),
                None => {
                    let names: Vec<&str> =
                        plan.checkpoints().iter().map(|c| c.name.as_str()).collect();
                    t.reply(
                        reply,
                        Err(CoreError::Invalid(format!(
                            "no checkpoint '{k}' in this plan; its checkpoints: {}",
                            names.join(", ")
                        ))),
                    );
                    return Ok(());
                }
            },
            None => plan
                .next_checkpoint()
                .map(|next| plan.checkpoints()[next.index].name.clone())
                .unwrap_or_else(|| "Checkpoint".into()),
        };
        let at = plan.clock().plan_at(t.now);
        self.checkpoint(t, at, &kind, Some(reply))
    }

    /// Reallocates, snapshots, and queues the report.
    pub(crate) fn checkpoint(
        &mut self,
        t: &mut Turn<'_>,
        plan_time: i64,
        kind: &str,
        reply: Option<Reply<StandupView>>,
    ) -> Result<(), CoreError> {
        let decisions = self.reallocate(t)?;
        self.refresh_guide(t.now, true);
        let Some(plan) = self.plan.as_mut() else {
            return Ok(());
        };
        let since = plan.mark_checkpoint(plan_time, swarm_memory::state::last_event_seq(t.db)?);
        let Some(mut job) =
            self.snapshot(t.now, plan_time, since.plan_time, kind, decisions, reply)
        else {
            return Ok(());
        };
        // The day's first report shows its checklists: the previous
        // checkpoint fell on another day, or there was none (the mark a
        // load leaves has event 0; a real checkpoint follows plan.loaded).
        if let Some(plan) = self.plan.as_ref() {
            if since.event_seq == 0 || plan.clock().plan_day(since.plan_time) != job.plan_day {
                job.checklists = checklists(plan, job.plan_day);
            }
        }
        t.emit(
            Event::new(EventKind::CheckpointStarted)
                .message(format!("{kind} at {}", job.plan_time_label)),
        )?;
        t.report(job);
        Ok(())
    }

    /// What the report needs, taken at `now`.
    fn snapshot(
        &self,
        now: i64,
        plan_time: i64,
        since_plan_time: i64,
        kind: &str,
        decisions: Vec<String>,
        reply: Option<Reply<StandupView>>,
    ) -> Option<ReportJob> {
        let plan = self.plan.as_ref()?;
        let tasks = &plan.compiled().plan.tasks;
        let title = |i: usize| format!("{} {}", tasks[i].id, tasks[i].title);
        // Tasks done since the last checkpoint, oldest first.
        let since_wall = plan.clock().wall_at(since_plan_time);
        let mut done: Vec<(i64, usize)> = plan
            .tasks()
            .iter()
            .enumerate()
            .filter(|(_, t)| t.state.is_done() && t.updated_at >= since_wall)
            .map(|(i, t)| (t.updated_at, i))
            .collect();
        done.sort_unstable();
        let finished: Vec<String> = done
            .iter()
            .take(MAX_LISTED)
            .map(|&(_, i)| {
                format!(
                    "{}{}",
                    title(i),
                    if plan.task(i).state == TaskState::Skipped {
                        " (skipped)"
                    } else {
                        ""
                    }
                )
            })
            .collect();
        let mut in_progress = Vec::new();
        let mut blockers = Vec::new();
        for (i, t) in plan.tasks().iter().enumerate() {
            let planned_h = tasks[i].duration.hours();
            match t.state {
                TaskState::Running => {
                    let started = began_at(plan, &self.attempts, i, now);
                    let elapsed_h = plan.clock().scale(now - started) as f64 / 3_600_000.0;
                    if elapsed_h > 1.5 * planned_h && planned_h > 0.0 {
                        blockers.push(format!(
                            "{} is running past 1.5× its plan: {elapsed_h:.1} h of {planned_h} h",
                            title(i)
                        ));
                    }
                    in_progress.push(InProgress {
                        task: title(i),
                        agents: t.last_agents.clone(),
                        elapsed_h,
                        planned_h,
                    });
                }
                TaskState::Failed => blockers.push(format!(
                    "{} failed: {}",
                    title(i),
                    t.reason.clone().unwrap_or_default()
                )),
                TaskState::Blocked => blockers.push(format!(
                    "{} is blocked: {}",
                    title(i),
                    t.reason.clone().unwrap_or_default()
                )),
                TaskState::Ready => {
                    let missing: Vec<String> = plan.compiled().tasks[i]
                        .need
                        .role_slots()
                        .into_iter()
                        .filter(|r| {
                            r != swarm_plan::ANY_ROLE
                                && !self.roster.connected().any(|a| a.roles.contains(r))
                        })
                        .collect();
                    if !missing.is_empty() {
                        blockers.push(format!(
                            "{} waits for a role nobody plays: {}",
                            title(i),
                            missing.join(", ")
                        ));
                    }
                }
                TaskState::Pending
                | TaskState::Succeeded
                | TaskState::Skipped
                | TaskState::Cancelled => {}
            }
        }
        let day = plan.clock().plan_day(plan_time);
        let criteria = exit_criteria(plan, day);
        let (path, remaining_ms) = remaining_critical_path(plan, &self.attempts, now);
        // Projected by simulating the rest with the agents present; the
        // critical path alone when that cannot finish. The verdict is the
        // one status gives.
        let clock = plan.clock();
        let assessment = self.assess(now, plan_time, true, &format!("simulated at the {kind}"))?;
        if let Some(why) = &assessment.cannot_finish {
            blockers.push(format!("the projection assumes unlimited agents: {why}"));
        }
        let (projected, planned_end) = (assessment.projected, assessment.planned_end);
        Some(ReportJob {
            projection_text: assessment.line.clone(),
            verdict: assessment.judgement.verdict,
            verdict_reason: assessment.judgement.reason.clone(),
            plan_id: plan.id(),
            kind: kind.to_string(),
            at: now,
            plan_time,
            plan_time_label: clock.label(plan_time),
            plan_day: day,
            plan_name: plan.name().to_string(),
            state: plan.state(),
            counts: self.counts(plan),
            finished,
            finished_total: done.len(),
            in_progress,
            blockers,
            checklists: Vec::new(),
            criteria_day: day,
            criteria,
            remaining_path: path.iter().map(|&i| tasks[i].id.clone()).collect(),
            remaining_hours: remaining_ms as f64 / 3_600_000.0,
            projected: clock.label(projected),
            planned_end: clock.label(planned_end),
            behind_hours: (projected - planned_end) as f64 / 3_600_000.0,
            allocation: self.allocation_rows(day),
            decisions,
            workdir: self.cfg.workdir.clone(),
            report_path: self.cfg.report_path.clone(),
            reply,
        })
    }

    /// A written report comes back: record it and answer the operator.
    pub(crate) fn store_standup(
        &mut self,
        t: &mut Turn<'_>,
        row: CheckpointRow,
        reply: Option<Reply<StandupView>>,
    ) -> Result<(), CoreError> {
        let mut row = row;
        row.id = insert_checkpoint(t.db, &row)?;
        t.emit(
            Event::new(EventKind::CheckpointReported).message(format!("{} #{}", row.kind, row.id)),
        )?;
        if let Some(reply) = reply {
            let view = self.standup_view(&row);
            t.reply(reply, Ok(view));
        }
        Ok(())
    }

    pub(crate) fn standup_view(&self, row: &CheckpointRow) -> StandupView {
        let label = self
            .plan
            .as_ref()
            .map(|p| p.clock().label(row.plan_time))
            .unwrap_or_default();
        StandupView {
            id: row.id,
            kind: row.kind.clone(),
            at: row.at,
            plan_time: label,
            plan_day: row.plan_day,
            report: row.report.clone(),
            decisions: serde_json::from_str(&row.decisions).unwrap_or_default(),
        }
    }

    /// Every checkpoint of the plan.
    pub(crate) fn standups(&self, db: &Connection) -> Result<Vec<StandupView>, CoreError> {
        Ok(checkpoints(db, self.plan_id())?
            .iter()
            .map(|r| self.standup_view(r))
            .collect())
    }

    /// Checkpoint number `id`; 0 for the latest.
    pub(crate) fn standup(&self, db: &Connection, id: i64) -> Result<StandupView, CoreError> {
        let all = self.standups(db)?;
        let found = if id == 0 {
            all.last().cloned()
        } else {
            all.iter().find(|s| s.id == id).cloned()
        };
        found.ok_or_else(|| {
            CoreError::NotFound(if id == 0 {
                "no checkpoint has run yet".into()
            } else {
                format!("no checkpoint #{id}; there are {}", all.len())
            })
        })
    }
}

/// The windows of `day` that hold a checklist and no tasks.
fn checklists(plan: &ActivePlan, day: u32) -> Vec<ChecklistJob> {
    let plan = &plan.compiled().plan;
    let Some(d) = plan.days.iter().find(|d| d.number == day) else {
        return Vec::new();
    };
    d.windows
        .iter()
        .enumerate()
        .filter(|(w, window)| {
            !window.checklist.is_empty()
                && !plan
                    .tasks
                    .iter()
                    .any(|t| t.day == Some(day) && t.window == Some(*w))
        })
        .map(|(_, window)| ChecklistJob {
            window: window.name.clone(),
            items: window
                .checklist
                .iter()
                .map(|c| (c.done, c.text.clone()))
                .collect(),
        })
        .collect()
}

/// The day's exit criteria, with whether the day's tasks are all done.
fn exit_criteria(plan: &ActivePlan, day: u32) -> Vec<CriterionJob> {
    let tasks_done = plan
        .compiled()
        .plan
        .tasks
        .iter()
        .enumerate()
        .filter(|(_, t)| t.day == Some(day))
        .all(|(i, _)| plan.task(i).state.is_done());
    plan.compiled()
        .plan
        .days
        .iter()
        .find(|d| d.number == day)
        .map(|d| {
            d.exit_criteria
                .iter()
                .map(|c| CriterionJob {
                    text: c.text.clone(),
                    check: c.check.clone(),
                    tasks_done,
                })
                .collect()
        })
        .unwrap_or_default()
}

impl State {
    /// Per role: planned agents today, present, demand.
    fn allocation_rows(&self, day: u32) -> Vec<RoleRow> {
        let Some(plan) = self.plan.as_ref() else {
            return Vec::new();
        };
        let planned = plan.compiled().matrix.iter().find(|a| a.day == day);
        let demand = self.demand();
        let mut roles: std::collections::BTreeSet<String> = demand.keys().cloned().collect();
        if let Some(p) = planned {
            roles.extend(p.roles.keys().cloned());
        }
        for a in self.roster.connected() {
            roles.insert(a.active_role.clone());
        }
        roles
            .into_iter()
            .map(|r| RoleRow {
                planned: planned.and_then(|p| p.roles.get(&r).copied()),
                present: self
                    .roster
                    .connected()
                    .filter(|a| a.active_role == r)
                    .count() as u32,
                demand_h: demand.get(&r).map_or(0.0, |d| d.weight_h),
                role: r,
            })
            .collect()
    }
}
