//! What a checkpoint report says, taken from the loop's state at the
//! checkpoint: what finished since the last one, what runs, what stands in
//! the way, the criteria, the critical path and the projection.

use super::exit_criteria;
use crate::active::ActivePlan;
use crate::command::Reply;
use crate::jobs::report::{InProgress, ReportJob};
use crate::model::TaskState;
use crate::remaining::{began_at, remaining_critical_path};
use crate::views::StandupView;
use crate::State;

/// Longest list of finished tasks a report spells out.
const MAX_LISTED: usize = 200;

/// "1.2 Title".
fn title(plan: &ActivePlan, i: usize) -> String {
    let t = &plan.compiled().plan.tasks[i];
    format!("{} {}", t.id, t.title)
}

/// Tasks done since `since_plan_time`, oldest first (the first
/// [`MAX_LISTED`]), and how many there were.
fn finished_since(plan: &ActivePlan, since_plan_time: i64) -> (Vec<String>, usize) {
    let title = |i: usize| title(plan, i);
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
    (finished, done.len())
}

impl State {
    /// What the report needs, taken at `now`.
    pub(super) fn snapshot(
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
        let (finished, finished_total) = finished_since(plan, since_plan_time);
        let (in_progress, mut blockers) = self.running_and_blocked(plan, now);
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
            finished_total,
            merged: None,
            in_progress,
            blockers,
            checklists: Vec::new(),
            criteria_day: day,
            criteria,
            remaining_path: path.iter().map(|&i| tasks[i].id.clone()).collect(),
            remaining_hours: remaining_ms as f64 / 3_600_000.0,
            projected: crate::projection::projected_label(
                &clock.label(projected),
                assessment.cannot_finish.is_some(),
            ),
            planned_end: clock.label(planned_end),
            behind_hours: (projected - planned_end) as f64 / 3_600_000.0,
            allocation: self.allocation_rows(day),
            spend: self.spend.view(day, clock.working_hours(plan_time)),
            decisions,
            actions: Vec::new(),
            plan_changes: Vec::new(),
            actions_total: 0,
            workdir: self.cfg.workdir.clone(),
            report_path: self.cfg.report_path.clone(),
            reply,
        })
    }

    /// The running tasks, and what stands in the way: overruns, failures,
    /// blocks and ready tasks whose role nobody plays.
    fn running_and_blocked(&self, plan: &ActivePlan, now: i64) -> (Vec<InProgress>, Vec<String>) {
        let tasks = &plan.compiled().plan.tasks;
        let title = |i: usize| title(plan, i);
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
                | TaskState::Merging
                | TaskState::Succeeded
                | TaskState::Skipped
                | TaskState::Cancelled
                | TaskState::Removed => {}
            }
        }
        (in_progress, blockers)
    }
}
