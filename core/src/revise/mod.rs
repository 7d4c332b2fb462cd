//! Revising the running plan (`swarmctl plan apply FILE`): the revised
//! file, compiled off the loop like a plan to load, becomes the plan's
//! next version, or — a dry run — only says what would change.
//!
//! What a revision does to each task, matched by id:
//! - a succeeded (or skipped) task keeps its state and result; `--rerun`
//!   runs a finished one again on purpose;
//! - a running task finishes under the definition it started with (its
//!   agents already hold it); its next attempt uses the new one;
//!   `--restart` stops it and starts it again now, without using a retry;
//! - a task the new version lacks leaves the plan: its live attempt is
//!   stopped, its state is `removed` (kept in the history, never counted
//!   in the plan's outcome);
//! - a task that has not started is judged again against its (possibly
//!   new) dependencies: ready, pending, or blocked below a failure; a
//!   blocked task whose failed dependency left the plan runs again.
//!
//! The revision is one turn, so one transaction: its version, every task
//! row and the new dependencies are committed together, or nothing is.
//! A revision that does not compile never reaches the loop.

mod history;
mod report;
mod restore;
mod states;

pub use history::VersionView;

use swarm_memory::state::{insert_version, plan_versions, VersionRow, VersionText};
use swarm_plan::revise::{diff, PlanDiff};

use super::command::LoadPlan;
use super::effects::Turn;
use super::model::{PlanState, TaskState};
use super::{CoreError, State};

/// A revised plan to apply, compiled off the loop.
#[derive(Debug, Clone)]
pub struct ApplyPlan {
    /// The revised plan, compiled.
    pub plan: LoadPlan,
    /// Only say what would change.
    pub dry_run: bool,
    /// Finished tasks to run again.
    pub rerun: Vec<String>,
    /// Running tasks to stop and start again under the new version.
    pub restart: Vec<String>,
    /// Why, for the history, the event and the next report.
    pub reason: String,
    /// Who applies it.
    pub actor: crate::actor::Actor,
}

/// What a revision changed (or, dry, would change): what `swarmctl plan
/// apply` and the web view show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Revision {
    /// The plan's name (the new version's).
    pub plan: String,
    /// The version it made (dry: would make).
    pub version: u32,
    /// False for a dry run, or when nothing would change.
    pub applied: bool,
    /// "2 added, 1 removed, 3 changed".
    pub summary: String,
    /// One line per change (`+ task …`, `- task …`, `~ task … field: a → b`).
    pub changes: Vec<String>,
    /// Tasks added, removed and changed.
    pub added: u32,
    /// Tasks that left the plan.
    pub removed: u32,
    /// Tasks whose definition changed.
    pub changed: u32,
    /// Removed tasks whose live attempts were stopped.
    pub stopped: Vec<String>,
    /// Tasks stopped and started again (`--restart`).
    pub restarted: Vec<String>,
    /// Finished tasks that run again (`--rerun`).
    pub rerun: Vec<String>,
    /// The compiler's warnings about the new version.
    pub warnings: Vec<String>,
}

impl State {
    /// Applies a revised plan as the next version, or, dry, says what it
    /// would change. Refused whole, with nothing changed, when no plan
    /// runs or a task to rerun or restart cannot be.
    pub(crate) fn apply_revision(
        &mut self,
        t: &mut Turn<'_>,
        req: ApplyPlan,
    ) -> Result<Revision, CoreError> {
        let plan = self.plan.as_ref().ok_or_else(|| {
            CoreError::Conflict("no plan is loaded; load one with 'swarmctl plan load FILE'".into())
        })?;
        if plan.state() == PlanState::Cancelled {
            return Err(CoreError::Conflict(format!(
                "plan '{}' was cancelled; load the revised plan with 'swarmctl plan load FILE'",
                plan.name()
            )));
        }
        let new = req.plan.compiled();
        let change = diff(plan.compiled(), &|i| !plan.is_removed(i), new);
        self.check_picks(&req)?;
        let mut view = revision_view(&change, &req, self.plan_version() + 1);
        if req.dry_run || (change.is_empty() && req.rerun.is_empty() && req.restart.is_empty()) {
            return Ok(view);
        }
        self.record_version(t, &req, &change, view.version)?;
        let (stopped, restarted) = self.revise_plan(t, req.plan, &req.rerun, &req.restart)?;
        view.applied = true;
        view.stopped = stopped;
        view.restarted = restarted;
        let mut message = format!("version {}: {}", view.version, view.summary);
        if !req.reason.trim().is_empty() {
            message.push_str(&format!(" — {}", req.reason.trim()));
        }
        let event = crate::event::Event::new(crate::event::EventKind::PlanRevised);
        // The turn names the revision's actor (see `State::apply`).
        t.emit(event.message(message))?;
        self.projection.reset();
        self.guides.reset();
        self.refresh_guide(t.now, true);
        self.settle_plan(t)?;
        Ok(view)
    }

    /// The version of the plan that runs (0: none).
    fn plan_version(&self) -> u32 {
        self.plan.as_ref().map_or(0, |p| p.version())
    }

    /// Refuses a rerun of a task that has not finished or a restart of
    /// one that does not run, and either of a task the revision lacks.
    fn check_picks(&self, req: &ApplyPlan) -> Result<(), CoreError> {
        let new = req.plan.compiled();
        let picks =
            (req.rerun.iter().map(|id| (id, true))).chain(req.restart.iter().map(|id| (id, false)));
        for (id, rerun) in picks {
            let flag = if rerun { "--rerun" } else { "--restart" };
            if new.index_of(id).is_none() {
                return Err(CoreError::NotFound(format!(
                    "{flag} {id}: the revised plan has no task '{id}'"
                )));
            }
            let Some(state) =
                (self.plan.as_ref()).and_then(|p| Some(p.task(p.index_of(id)?).state))
            else {
                return Err(CoreError::NotFound(format!(
                    "{flag} {id}: the running plan has no task '{id}' yet (a new task runs anyway)"
                )));
            };
            let ok = if rerun {
                state.is_final() && state != TaskState::Removed
            } else {
                state == TaskState::Running
            };
            if !ok {
                let wanted = if rerun {
                    "a finished task (succeeded, skipped, failed, blocked or cancelled)"
                } else {
                    "a running task"
                };
                return Err(CoreError::Conflict(format!(
                    "{flag} {id}: task {id} is {}; {flag} takes {wanted}",
                    state.name()
                )));
            }
        }
        Ok(())
    }

    /// Stores the new version (and version 1, the plan as loaded, before
    /// the first revision).
    fn record_version(
        &mut self,
        t: &mut Turn<'_>,
        req: &ApplyPlan,
        change: &PlanDiff,
        version: u32,
    ) -> Result<(), CoreError> {
        let Some(plan) = self.plan.as_ref() else {
            return Ok(());
        };
        if plan_versions(t.db, plan.id())?.is_empty() {
            insert_version(t.db, &history::first_version(t.db, plan)?)?;
        }
        let source = req.plan.source();
        let row = VersionRow {
            plan_id: plan.id(),
            version,
            at: t.now,
            actor: req.actor.to_string(),
            reason: req.reason.trim().to_string(),
            summary: change.summary(),
            changes: change.lines(),
            text: Some(VersionText {
                file: source.file_name.clone(),
                format: if source.toml { "toml" } else { "markdown" }.into(),
                source: source.text.clone(),
                roles_toml: source.roles_toml.clone(),
            }),
        };
        insert_version(t.db, &row)?;
        Ok(())
    }
}

/// The view of `change` before it is applied.
fn revision_view(change: &PlanDiff, req: &ApplyPlan, version: u32) -> Revision {
    Revision {
        plan: req.plan.compiled().plan.name.clone(),
        version,
        applied: false,
        summary: change.summary(),
        changes: change.lines(),
        added: change.added.len() as u32,
        removed: change.removed.len() as u32,
        changed: change.changed.len() as u32,
        stopped: Vec::new(),
        restarted: Vec::new(),
        rerun: req.rerun.clone(),
        warnings: (req.plan.compiled().warnings.iter())
            .map(ToString::to_string)
            .collect(),
    }
}
