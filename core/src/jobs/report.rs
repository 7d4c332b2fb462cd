//! What a checkpoint report says, snapshotted by the loop and handed to
//! the reporter, which runs the exit-criteria checks, renders and writes
//! the report, and hands it back to be recorded.

use std::path::PathBuf;

use crate::command::Reply;
use crate::model::PlanState;
use crate::verdict::Verdict;
use crate::views::{Counts, StandupView};

/// A running task, for the report.
#[derive(Debug, Clone)]
pub struct InProgress {
    /// "1.2 Title".
    pub task: String,
    /// Ids of the agents holding its attempt (several for a gang).
    pub agents: Vec<String>,
    /// Plan hours since it started.
    pub elapsed_h: f64,
    /// Its planned duration, hours.
    pub planned_h: f64,
}

/// An exit criterion to evaluate.
#[derive(Debug, Clone)]
pub struct CriterionJob {
    /// What must hold.
    pub text: String,
    /// A command that checks it.
    pub check: Option<String>,
    /// Whether the work it checks is done: the tasks whose Check is its
    /// check, else every task of its day. Its check runs only then.
    pub tasks_done: bool,
}

/// A window of the day that holds a checklist and no tasks (the seed's
/// `Pre-Launch Checklist`), shown in the day's first report.
#[derive(Debug, Clone, PartialEq)]
pub struct ChecklistJob {
    /// The window's name.
    pub window: String,
    /// Its items as (ticked in the plan, text).
    pub items: Vec<(bool, String)>,
}

/// One role's row of the allocation table.
#[derive(Debug, Clone)]
pub struct RoleRow {
    /// Canonical role name.
    pub role: String,
    /// Planned by the matrix today.
    pub planned: Option<u32>,
    /// Connected agents playing it.
    pub present: u32,
    /// Rank-weighted demand hours.
    pub demand_h: f64,
}

/// Everything a report says, snapshotted by the loop.
pub struct ReportJob {
    /// Projected completion, one line (for `swarmctl status`).
    pub projection_text: String,
    /// The verdict, the one status gives.
    pub verdict: Verdict,
    /// Why, in a sentence.
    pub verdict_reason: String,
    /// The plan's row id in the store; the checkpoint row refers to it.
    pub plan_id: i64,
    /// The checkpoint's name as the plan gives it (e.g. `Standup`); the
    /// report's heading.
    pub kind: String,
    /// Wall time, ms.
    pub at: i64,
    /// Plan time, ms.
    pub plan_time: i64,
    /// `plan_time` as the plan clock shows it, e.g. `Day 2 11:00`.
    pub plan_time_label: String,
    /// The plan day the checkpoint falls on, from 1.
    pub plan_day: u32,
    /// The plan's title, for the summary line.
    pub plan_name: String,
    /// The plan's state; `succeeded` gives the report its done verdict.
    pub state: PlanState,
    /// Tasks per state at the checkpoint.
    pub counts: Counts,
    /// Finished since the last checkpoint (the first few hundred).
    pub finished: Vec<String>,
    /// How many finished since the last checkpoint.
    pub finished_total: usize,
    /// Work merged into the plan's integration branch since the last
    /// checkpoint, one line a merge (`None`: the plan has no repository).
    pub merged: Option<Vec<String>>,
    /// Tasks running at the checkpoint.
    pub in_progress: Vec<InProgress>,
    /// What stands in the way.
    pub blockers: Vec<String>,
    /// The day's checklists; only in the day's first report.
    pub checklists: Vec<ChecklistJob>,
    /// Day of the criteria.
    pub criteria_day: u32,
    /// The day's exit criteria.
    pub criteria: Vec<CriterionJob>,
    /// Remaining critical path, task ids.
    pub remaining_path: Vec<String>,
    /// Its length, working hours.
    pub remaining_hours: f64,
    /// Projected completion, plan clock.
    pub projected: String,
    /// The plan's end, plan clock.
    pub planned_end: String,
    /// Projected minus planned end, hours (negative: ahead).
    pub behind_hours: f64,
    /// One row per role: planned, present, demand.
    pub allocation: Vec<RoleRow>,
    /// What the plan spent, in all and by role and day.
    pub spend: crate::views::SpendView,
    /// What operators did since the last checkpoint (who, when, what), the
    /// first few of them.
    pub actions: Vec<String>,
    /// How many events operators caused since the last checkpoint.
    pub actions_total: usize,
    /// Each revision of the plan applied since the last checkpoint: when,
    /// which version, by whom, why, what changed.
    pub plan_changes: Vec<String>,
    /// What this checkpoint's reallocation did, one sentence each; stored
    /// with the checkpoint as a JSON list.
    pub decisions: Vec<String>,
    /// Where criteria checks run and `report_path` is resolved.
    pub workdir: PathBuf,
    /// Report file, relative to the workdir.
    pub report_path: PathBuf,
    /// Who waits for it.
    pub reply: Option<Reply<StandupView>>,
}
