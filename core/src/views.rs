//! Read-only views the loop answers queries with.

use std::collections::BTreeMap;

use crate::model::{AgentState, AttemptState, StatusState, TaskState};
use crate::verdict::Verdict;

/// A plan was loaded.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The plan's row id.
    pub plan_id: i64,
    /// Its title.
    pub name: String,
    /// Number of tasks.
    pub tasks: u32,
    /// Warnings from validation.
    pub warnings: Vec<String>,
}

/// A plan was cancelled.
#[derive(Debug, Clone)]
pub struct PlanCancelled {
    /// Its title.
    pub name: String,
    /// How many of its tasks were unfinished and are now cancelled.
    pub tasks: u32,
}

/// Task counts by state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Every task of the plan.
    pub total: u32,
    /// Waiting for dependencies.
    pub pending: u32,
    /// Ready to run.
    pub ready: u32,
    /// Running now.
    pub running: u32,
    /// Succeeded, their work waiting in the merge queue.
    pub merging: u32,
    /// Done.
    pub succeeded: u32,
    /// Failed for good.
    pub failed: u32,
    /// Blocked by a failed dependency.
    pub blocked: u32,
    /// Skipped by an operator.
    pub skipped: u32,
    /// Cancelled by an operator.
    pub cancelled: u32,
    /// Left the plan with a revision (not in `total`).
    pub removed: u32,
}

impl Counts {
    /// Each state's name and count, in the order of the task's life.
    pub fn by_state(&self) -> [(TaskState, u32); 10] {
        TaskState::ALL.map(|state| (state, self.of(state)))
    }

    /// The count of tasks in `state`.
    pub fn of(&self, state: TaskState) -> u32 {
        match state {
            TaskState::Pending => self.pending,
            TaskState::Ready => self.ready,
            TaskState::Running => self.running,
            TaskState::Merging => self.merging,
            TaskState::Succeeded => self.succeeded,
            TaskState::Failed => self.failed,
            TaskState::Blocked => self.blocked,
            TaskState::Skipped => self.skipped,
            TaskState::Cancelled => self.cancelled,
            TaskState::Removed => self.removed,
        }
    }
}

/// The daemon's status.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// Plan id (0: none).
    pub plan_id: i64,
    /// The plan's title.
    pub plan: String,
    /// Idle, or the plan's state.
    pub state: StatusState,
    /// Tasks per state.
    pub counts: Counts,
    /// Connected agents.
    pub agents: u32,
    /// Loaded at, ms.
    pub loaded_at: i64,
    /// Finished at, ms (0: not yet).
    pub finished_at: i64,
    /// Roles ready tasks need that no connected agent plays.
    pub unstaffed_roles: Vec<String>,
    /// The plan clock's reading.
    pub plan_time: String,
    /// The plan day.
    pub plan_day: u32,
    /// Projected completion and its comparison with the plan's end.
    pub projected: String,
    /// Agents missing per role at the last checkpoint.
    pub shortfall: Vec<String>,
    /// The next checkpoint.
    pub next_checkpoint: String,
    /// The shared memory's last repair or trouble, if any.
    pub memory: String,
    /// The plan's repository: its integration branch and merge queue
    /// (empty when tasks work in their agents' directories).
    pub workspace: String,
    /// The verdict; none without a plan.
    pub verdict: Option<Verdict>,
    /// Why, in a sentence.
    pub verdict_reason: String,
    /// Closed day gates, each with what it waits for.
    pub gates: Vec<String>,
    /// Running tasks that wait for an operator (`swarmctl task done ID`),
    /// in plan order.
    pub waiting_for_operator: Vec<String>,
    /// What the plan's attempts spent.
    pub spend: SpendView,
    /// Paused pools, each with until when and why.
    pub pools: Vec<String>,
    /// Budgets 80 % spent or more, each in a sentence.
    pub budgets: Vec<String>,
}

pub use crate::spend::Tally;

/// One line of a spend breakdown: a role, a plan day ("Day 3") or an
/// agent, and its sums.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpendLine {
    /// What it is about.
    pub name: String,
    /// Its sums.
    pub tally: Tally,
}

/// What the plan spent: in all, today (the plan day of the status), the
/// rate per working hour of the plan, and per role, day and agent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpendView {
    /// In all.
    pub total: Tally,
    /// On today's plan day.
    pub today: Tally,
    /// Dollars per working hour of the plan so far (0 before Day 1).
    pub usd_per_plan_hour: f64,
    /// Per role, by name.
    pub by_role: Vec<SpendLine>,
    /// Per plan day, in order.
    pub by_day: Vec<SpendLine>,
    /// Per agent, by id.
    pub by_agent: Vec<SpendLine>,
}

/// A checkpoint and its report.
#[derive(Debug, Clone, Default)]
pub struct StandupView {
    /// Number.
    pub id: i64,
    /// Name.
    pub kind: String,
    /// Wall time, ms.
    pub at: i64,
    /// Plan clock reading.
    pub plan_time: String,
    /// Plan day.
    pub plan_day: u32,
    /// The report, markdown.
    pub report: String,
    /// Reallocation decisions.
    pub decisions: Vec<String>,
}

/// One task.
#[derive(Debug, Clone)]
pub struct TaskView {
    /// Task id.
    pub id: String,
    /// Title from the plan.
    pub title: String,
    /// Its state.
    pub state: TaskState,
    /// Attempts made.
    pub attempts: u32,
    /// Agents of the current or last attempt.
    pub agents: Vec<String>,
    /// P0..P3.
    pub priority: String,
    /// Planned hours.
    pub duration_hours: f64,
    /// Canonical roles, one per agent.
    pub roles: Vec<String>,
    /// Why failed/blocked/skipped/cancelled.
    pub reason: String,
    /// Plan day (0: none).
    pub day: u32,
    /// Last change, ms.
    pub updated_at: i64,
    /// Running, and waiting for an operator (`swarmctl task done ID`).
    pub waits_for_operator: bool,
}

/// One attempt.
#[derive(Debug, Clone)]
pub struct AttemptView {
    /// Fencing number.
    pub attempt: u64,
    /// 1-based number.
    pub number: u32,
    /// Agents that held it (several for a gang).
    pub agents: Vec<String>,
    /// The role each of them played, in the same order (empty when not
    /// recorded).
    pub roles: Vec<String>,
    /// Its state.
    pub state: AttemptState,
    /// Created, ms.
    pub created_at: i64,
    /// Ended, ms (0: not yet).
    pub ended_at: i64,
    /// The executor's exit code, when it had one.
    pub exit_code: Option<i32>,
    /// How it ended, in words.
    pub message: String,
    /// Output bytes the agent shed under pressure.
    pub output_dropped: u64,
    /// What it spent, summed over its agents (none: nobody said).
    pub usage: Option<Tally>,
    /// The AI CLI session it reported last, if any.
    pub session_id: String,
    /// Its work in the plan's repository, if the task works in one.
    pub work: Option<AttemptWork>,
}

/// An attempt's work in the plan's repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttemptWork {
    /// Its branch.
    pub branch: String,
    /// The commits its members pushed, in member order.
    pub commits: Vec<String>,
    /// `queued`, `merged`, `conflict` or `failed`; empty: nothing to
    /// merge.
    pub merge: String,
    /// The merge commit, once merged.
    pub merged_commit: String,
    /// The files it changed (merged) or that conflicted.
    pub files: Vec<String>,
    /// When the merge ended, ms (0: not yet).
    pub merged_at: i64,
    /// The conflict or the error.
    pub note: String,
}

/// One task with its history.
#[derive(Debug, Clone)]
pub struct TaskDetail {
    /// The task.
    pub task: TaskView,
    /// Its attempts, oldest first.
    pub attempts: Vec<AttemptView>,
    /// Ids it depends on.
    pub depends_on: Vec<String>,
    /// Run command.
    pub run: String,
    /// Checks.
    pub checks: Vec<String>,
    /// Image.
    pub image: String,
    /// The plan's repository (empty: none).
    pub repo: String,
    /// Its integration branch (empty: none).
    pub integration: String,
    /// What all its attempts spent.
    pub spend: Tally,
}

/// One agent.
#[derive(Debug, Clone)]
pub struct AgentView {
    /// Agent id.
    pub id: String,
    /// Every role it can play.
    pub roles: Vec<String>,
    /// Active role.
    pub active_role: String,
    /// Attempts it may run at once.
    pub slots: u32,
    /// Busy slots.
    pub busy: u32,
    /// Host it registered from.
    pub host: String,
    /// Its state.
    pub state: AgentState,
    /// Last seen, ms.
    pub last_seen: i64,
    /// Labels it registered with.
    pub labels: BTreeMap<String, String>,
    /// Running attempts.
    pub running: Vec<(String, u64)>,
    /// The sandbox its tasks run in ("bwrap", "none"; empty: not known).
    pub sandbox: String,
}
