//! The web view's picture of the running plan in one answer: every task
//! with its dependencies, critical-path mark and planned slot, every
//! attempt as a bar on the plan clock, and the checkpoints planned and
//! held. Times are working hours from the opening of Day 1
//! ([`crate::clock::PlanClock::working_hours`]).

use rusqlite::Connection;
use swarm_memory::state::{attempts_of_plan, checkpoints};

use super::active::ActivePlan;
use super::model::{AttemptState, StatusState, TaskState};
use super::{CoreError, State};

/// The whole picture; empty when no plan is loaded.
#[derive(Debug, Clone, Default)]
pub struct Board {
    /// The plan's name.
    pub plan: String,
    /// Idle, or the plan's state.
    pub state: StatusState,
    /// The plan clock now, as a person reads it.
    pub plan_time: String,
    /// Now, in working hours.
    pub now_hours: f64,
    /// Working hours per plan day.
    pub day_hours: f64,
    /// Every task, in the plan's order.
    pub tasks: Vec<BoardTask>,
    /// Every attempt, oldest first.
    pub runs: Vec<BoardRun>,
    /// Checkpoints due by the plan's protocol, for each plan day shown.
    pub planned_checkpoints: Vec<BoardCheckpoint>,
    /// Checkpoints held.
    pub held_checkpoints: Vec<BoardCheckpoint>,
}

/// One task.
#[derive(Debug, Clone)]
pub struct BoardTask {
    /// Task id as the plan gives it.
    pub id: String,
    /// Title from the plan.
    pub title: String,
    /// Its state.
    pub state: TaskState,
    /// Planned day, 0 when none.
    pub day: u32,
    /// Role slots it needs.
    pub roles: Vec<String>,
    /// `P0`, `P1`, ...
    pub priority: String,
    /// Indices (into [`Board::tasks`]) of its dependencies.
    pub deps: Vec<usize>,
    /// On the plan's critical path.
    pub critical: bool,
    /// Planned start: its day's window (if any), or later when its
    /// dependencies at their planned durations end later.
    pub planned_start: f64,
    /// Planned duration, hours.
    pub planned_hours: f64,
    /// Agents of its last attempt, lead first.
    pub agents: Vec<String>,
    /// Why it is failed, blocked, waiting, ...
    pub reason: String,
}

/// One attempt as a bar.
#[derive(Debug, Clone)]
pub struct BoardRun {
    /// Index into [`Board::tasks`].
    pub task: usize,
    /// Its number within its task.
    pub number: u32,
    /// Its agents, lead first.
    pub agents: Vec<String>,
    /// Live, or how it ended.
    pub state: AttemptState,
    /// Started (or offered), working hours.
    pub start: f64,
    /// Ended; `None` while it runs.
    pub end: Option<f64>,
}

/// A checkpoint mark.
#[derive(Debug, Clone)]
pub struct BoardCheckpoint {
    /// Its name (`Daily Standup`).
    pub kind: String,
    /// When, working hours.
    pub at: f64,
}

impl State {
    pub(crate) fn board(&self, db: &Connection, now: i64) -> Result<Board, CoreError> {
        let Some(plan) = &self.plan else {
            return Ok(Board {
                state: StatusState::Idle,
                ..Board::default()
            });
        };
        let clock = plan.clock();
        let hours = |wall: i64| clock.working_hours(clock.plan_at(wall));
        let tasks = board_tasks(plan);
        let runs = attempts_of_plan(db, plan.id())?
            .into_iter()
            .filter(|a| (a.task_idx as usize) < tasks.len())
            .map(|a| {
                let state = a.state.parse().map_err(|e| {
                    CoreError::Recovery(format!(
                        "attempt {} (task index {}): {e}",
                        a.id, a.task_idx
                    ))
                })?;
                Ok(BoardRun {
                    task: a.task_idx as usize,
                    number: a.number,
                    agents: a.agents,
                    end: a.ended_at.map(hours),
                    start: hours(a.started_at.unwrap_or(a.created_at)),
                    state,
                })
            })
            .collect::<Result<_, CoreError>>()?;
        let held_checkpoints = checkpoints(db, Some(plan.id()))?
            .into_iter()
            .map(|c| BoardCheckpoint {
                kind: c.kind,
                at: clock.working_hours(c.plan_time),
            })
            .collect();
        let now_plan = clock.plan_at(now);
        let now_hours = clock.working_hours(now_plan);
        let day_hours = clock.day_hours();
        let last_planned = tasks
            .iter()
            .map(|t| t.planned_start + t.planned_hours)
            .fold(now_hours, f64::max);
        let days = if day_hours > 0.0 {
            (last_planned / day_hours).ceil().max(1.0) as u32
        } else {
            1
        };
        let mut planned_checkpoints = Vec::new();
        for n in 0..days {
            for c in plan.checkpoints() {
                let into = f64::from(c.minute) - f64::from(clock.day_start);
                if into >= 0.0 && into <= day_hours * 60.0 {
                    planned_checkpoints.push(BoardCheckpoint {
                        kind: c.name.clone(),
                        at: f64::from(n) * day_hours + into / 60.0,
                    });
                }
            }
        }
        Ok(Board {
            plan: plan.name().to_string(),
            state: StatusState::Plan(plan.state()),
            plan_time: clock.label(now_plan),
            now_hours,
            day_hours,
            tasks,
            runs,
            planned_checkpoints,
            held_checkpoints,
        })
    }
}

/// Every task with its planned slot: the later of its day's window and
/// the planned end of its dependencies (the plan's order is topological).
fn board_tasks(plan: &ActivePlan) -> Vec<BoardTask> {
    let compiled = plan.compiled();
    let analysis = plan.analysis();
    let day_hours = plan.clock().day_hours();
    let critical: std::collections::HashSet<usize> =
        analysis.critical_path.iter().copied().collect();
    let mut planned_end = vec![0.0f64; plan.len()];
    for &i in &compiled.order {
        let t = plan.spec(i);
        let c = &compiled.tasks[i];
        let window = t.day.map(|d| {
            let offset = compiled
                .plan
                .days
                .iter()
                .find(|day| day.number == d)
                .and_then(|day| t.window.and_then(|w| day.windows.get(w)))
                .map(|w| w.offset.0 as f64 / 3600.0)
                .unwrap_or(0.0);
            f64::from(d.saturating_sub(1)) * day_hours + offset
        });
        let after_deps = c.deps.iter().map(|&d| planned_end[d]).fold(0.0, f64::max);
        let start = window.unwrap_or(0.0).max(after_deps);
        planned_end[i] = start + t.duration.hours();
    }
    let mut out = Vec::with_capacity(plan.len());
    for (i, end) in planned_end.into_iter().enumerate() {
        let t = plan.spec(i);
        let rt = plan.task(i);
        let hours = t.duration.hours();
        out.push(BoardTask {
            id: t.id.clone(),
            title: t.title.clone(),
            state: rt.state,
            day: t.day.unwrap_or(0),
            roles: compiled.tasks[i].need.role_slots(),
            priority: t.priority.to_string(),
            deps: compiled.tasks[i].deps.clone(),
            critical: critical.contains(&i),
            planned_start: end - hours,
            planned_hours: hours,
            agents: rt.last_agents.clone(),
            reason: rt.reason.clone().unwrap_or_default(),
        });
    }
    out
}
