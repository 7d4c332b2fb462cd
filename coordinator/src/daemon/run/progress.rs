//! `swarmd run`'s live progress: one line per event a person cares about
//! and, on a terminal, a bar of tasks done beneath them, until the plan
//! settles and its final report is written.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use swarm_client::progress::{Progress, Tally};
use swarm_core::model::{PlanState, TaskState};
use swarm_core::{AttemptEnd, EventKind};
use swarm_plan::CompiledPlan;
use swarm_proto::v1 as pb;

use super::wire::{self, RunEvent};

/// What the progress display knows of the plan.
pub(crate) struct Follow {
    /// Task titles by id.
    titles: BTreeMap<String, String>,
    /// Tasks with nothing to run: they wait for an operator.
    manual: Vec<String>,
    /// Whether the agents run a command template (then nothing waits).
    exec: bool,
    /// The report file, for the line that says it was written.
    report_path: PathBuf,
    /// The swarmctl command line that reaches this run, for the operator.
    swarmctl: String,
    /// When the run started.
    started: Instant,
    /// The last state each task's events gave.
    states: BTreeMap<String, TaskState>,
}

impl Follow {
    /// The display for `compiled`, started now.
    pub(crate) fn new(
        compiled: &CompiledPlan,
        exec: bool,
        report_path: PathBuf,
        swarmctl: String,
    ) -> Follow {
        let tasks = &compiled.plan.tasks;
        Follow {
            titles: tasks
                .iter()
                .map(|t| (t.id.clone(), t.title.clone()))
                .collect(),
            manual: tasks
                .iter()
                .filter(|t| t.run.is_none() && t.image.is_none())
                .map(|t| t.id.clone())
                .collect(),
            exec,
            report_path,
            swarmctl,
            started: Instant::now(),
            states: BTreeMap::new(),
        }
    }

    /// Seconds since the run started.
    pub(crate) fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Shows `events` until the plan settled and its last report was
    /// written (or the stream ends); answers whether it succeeded, `None`
    /// when it never settled.
    pub(crate) async fn run(
        &mut self,
        events: &mut tonic::Streaming<pb::Event>,
    ) -> anyhow::Result<Option<bool>> {
        let mut outcome = None;
        let progress = Progress::new();
        while let Some(e) = events.message().await? {
            // The daemon is this binary: every kind it sends is known.
            let Ok(e) = wire::event(e) else {
                continue;
            };
            if let EventKind::Task(state) = e.kind {
                self.states.insert(e.task_id.clone(), state);
                progress.show(self.tally());
            }
            if let EventKind::Plan(state) = e.kind {
                if state.has_ended() {
                    outcome = Some(state == PlanState::Succeeded);
                }
            }
            if let Some(line) = self.line(&e) {
                // Titles and messages come from the plan and the tasks.
                progress.line(&swarm_text::printable(&line));
            }
            if e.kind == EventKind::CheckpointReported && outcome.is_some() {
                break;
            }
        }
        progress.finish();
        Ok(outcome)
    }

    /// The line `e` shows, if any.
    fn line(&self, e: &RunEvent) -> Option<String> {
        let at = format!("{:>7.1}s", self.elapsed());
        let id = &e.task_id;
        let title = self.titles.get(id).map(String::as_str).unwrap_or("");
        match e.kind {
            EventKind::Task(state) => task_line(&at, id, title, state, &e.message),
            EventKind::AttemptEnded(AttemptEnd::Lost | AttemptEnd::RateLimited) => {
                Some(format!("{at}  ↻ {id} {}", e.message))
            }
            EventKind::AttemptStarted if !self.exec && self.manual.contains(id) => Some(format!(
                "{at}  … {id} waits for an operator: {} task done {id}",
                self.swarmctl
            )),
            EventKind::AgentRoleSwitched
            | EventKind::AgentProvisioned
            | EventKind::AgentDraining => Some(format!("{at}  ⇄ {}", e.message)),
            EventKind::PlanRevised => Some(format!("{at}  ✎ plan revised: {}", e.message)),
            EventKind::Plan(PlanState::Cancelled) => {
                Some(format!("{at}  ✗ the plan was {}", e.message))
            }
            EventKind::CheckpointReported => Some(format!(
                "{at}  ☰ {} — report appended to {}",
                e.message,
                self.report_path.display()
            )),
            EventKind::TaskMerged => Some(format!("{at}  ⤵ {id} {}", e.message)),
            EventKind::TaskConflict => Some(format!("{at}  ⚠ {id} {}", e.message)),
            EventKind::WorkspaceOpened => Some(format!("{at}  ⎇ {}", e.message)),
            EventKind::WorkspaceFailed => Some(format!("{at}  ✗ {id} {}", e.message)),
            // Everything else is in `swarmctl events`.
            EventKind::AttemptCommitted
            | EventKind::AttemptEnded(
                AttemptEnd::Succeeded
                | AttemptEnd::Failed { .. }
                | AttemptEnd::TimedOut
                | AttemptEnd::Cancelled,
            )
            | EventKind::AttemptStarted
            | EventKind::CoordinatorStarted
            | EventKind::CoordinatorStopping
            | EventKind::PlanLoaded
            | EventKind::PlanPaused
            | EventKind::PlanResumed
            | EventKind::Plan(
                PlanState::Running | PlanState::Paused | PlanState::Succeeded | PlanState::Failed,
            )
            | EventKind::AttemptOffered
            | EventKind::AttemptRejected
            | EventKind::AgentConnected
            | EventKind::AgentReconnected
            | EventKind::AgentDisconnected
            | EventKind::AgentLost
            | EventKind::AgentGone
            | EventKind::AgentProvisionFailed
            | EventKind::CheckpointStarted
            | EventKind::GateOpened
            | EventKind::MemoryReconciled
            | EventKind::MemoryRebuilt
            | EventKind::MemoryUnavailable
            | EventKind::MemoryAvailable
            | EventKind::BudgetWarning
            | EventKind::BudgetReached
            | EventKind::BudgetSet
            | EventKind::GateWaiting
            | EventKind::TaskWaitingOperator => None,
        }
    }

    /// Tasks done, running and failed, from the last state each task's
    /// events gave.
    fn tally(&self) -> Tally {
        let count =
            |f: fn(&TaskState) -> bool| self.states.values().filter(|s| f(s)).count() as u64;
        Tally {
            done: count(|s| s.is_done()),
            total: self.titles.len() as u64,
            running: count(|s| *s == TaskState::Running),
            failed: count(|s| *s == TaskState::Failed),
        }
    }
}

/// The line a task's new state shows, if any.
fn task_line(at: &str, id: &str, title: &str, state: TaskState, message: &str) -> Option<String> {
    match state {
        TaskState::Running => Some(format!("{at}  ▶ {id} {title}")),
        TaskState::Succeeded => Some(format!("{at}  ✓ {id} {title}")),
        TaskState::Failed => Some(format!("{at}  ✗ {id} {title}: {message}")),
        TaskState::Blocked => Some(format!("{at}  ⊘ {id} blocked: {message}")),
        TaskState::Pending if !message.is_empty() => Some(format!("{at}  ↻ {id} {message}")),
        // Everything else is in `swarmctl events`.
        TaskState::Pending
        | TaskState::Ready
        | TaskState::Merging
        | TaskState::Skipped
        | TaskState::Cancelled
        | TaskState::Removed => None,
    }
}
