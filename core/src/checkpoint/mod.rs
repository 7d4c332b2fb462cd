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
use super::model::PlanState;
use super::views::StandupView;
use super::{CoreError, State};
use crate::jobs::report::{ChecklistJob, CriterionJob, RoleRow};

mod actions;
mod snapshot;

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
        let since_wall = self
            .plan
            .as_ref()
            .map_or(0, |p| p.clock().wall_at(since.plan_time));
        job.merged = self.merged_since(t.db, since_wall)?;
        (job.actions, job.actions_total) = self.acted_since(t.db, since.event_seq)?;
        job.plan_changes = self.revisions_since(t.db, since_wall)?;
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

/// The day's exit criteria, each with whether the work it checks is done:
/// a criterion whose check is also a task's Check checks that task's work
/// (the seed's "Backups verified" and task 1.1 share `test -s
/// out/backups.txt`), so it counts once those tasks are done; any other
/// once every task of the day is done. Until then its check is not run:
/// a file half-written by a task still running must not tick it.
fn exit_criteria(plan: &ActivePlan, day: u32) -> Vec<CriterionJob> {
    let tasks = &plan.compiled().plan.tasks;
    let of_day: Vec<usize> = (0..tasks.len())
        .filter(|&i| tasks[i].day == Some(day))
        .collect();
    let done = |i: usize| plan.task(i).state.is_done();
    let day_done = of_day.iter().all(|&i| done(i));
    let work_done = |check: &Option<String>| {
        let Some(cmd) = check else {
            return day_done;
        };
        let checked: Vec<usize> = of_day
            .iter()
            .copied()
            .filter(|&i| tasks[i].checks.contains(cmd))
            .collect();
        if checked.is_empty() {
            day_done
        } else {
            checked.into_iter().all(done)
        }
    };
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
                    tasks_done: work_done(&c.check),
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
