//! The merge queue's side of a task's end: a succeeded attempt's commits
//! queued for merging (the task `merging`), and what the merge worker
//! reports — opened, merged (the task succeeds and its dependents may
//! start), in conflict (a new attempt on top of the new head, or a failure
//! for an operator once `max_conflicts` re-runs are spent), or failed.

use swarm_memory::state::{merges_of_task, upsert_merge, upsert_workspace, MergeRow};

use crate::effects::Turn;
use crate::event::{Event, EventKind};
use crate::jobs::MergeNotice;
use crate::model::TaskState;
use crate::{CoreError, State};
use swarm_text::short_commit as short;

impl State {
    /// A succeeded attempt of task `task` in the workspace reported its
    /// commits (member order; empty: nothing changed). Queues them for the
    /// merge worker and makes the task `merging`; returns whether it did
    /// (with nothing to merge the task succeeds at once, as before).
    pub(crate) fn committed(
        &mut self,
        t: &mut Turn<'_>,
        task: usize,
        attempt: u64,
        number: u32,
        commits: Vec<String>,
    ) -> Result<bool, CoreError> {
        let Some(ws) = self.ws.as_ref() else {
            return Ok(false);
        };
        let id = self.task_id(task);
        let said = if commits.is_empty() {
            "changed nothing: nothing to merge".to_string()
        } else {
            let shown: Vec<&str> = commits.iter().map(|c| short(c)).collect();
            format!(
                "committed {} on {}",
                shown.join(", "),
                ws.attempt_branch(&id, number, None)
            )
        };
        t.emit(
            Event::new(EventKind::AttemptCommitted)
                .task(id.clone())
                .attempt(attempt)
                .number(number)
                .message(said),
        )?;
        if commits.is_empty() {
            if let Some(ws) = self.ws.as_mut() {
                ws.conflicts.remove(&task);
            }
            return Ok(false);
        }
        let plan_id = ws.plan_id;
        upsert_merge(
            t.db,
            &MergeRow {
                attempt,
                plan_id,
                task_idx: task as u32,
                commits,
                state: "queued".to_string(),
                merged: String::new(),
                files: Vec::new(),
                note: String::new(),
                queued_at: t.now,
                ended_at: None,
            },
        )?;
        if let Some(ws) = self.ws.as_mut() {
            ws.queued.insert(attempt, task);
        }
        self.pump_merges(t)?;
        let behind = self.ws.as_ref().map_or(0, |w| w.queue_len() - 1);
        let reason = match behind {
            0 => "its work is being merged".to_string(),
            n => format!("its work waits to be merged behind {n}"),
        };
        self.set_task(t, task, TaskState::Merging, Some(reason))?;
        Ok(true)
    }

    /// What the merge worker reports.
    pub(crate) fn merge_notice(
        &mut self,
        t: &mut Turn<'_>,
        notice: MergeNotice,
    ) -> Result<(), CoreError> {
        let plan_id = match &notice {
            MergeNotice::Opened { plan_id, .. }
            | MergeNotice::OpenFailed { plan_id, .. }
            | MergeNotice::Merged { plan_id, .. }
            | MergeNotice::Candidate { plan_id, .. }
            | MergeNotice::Conflict { plan_id, .. }
            | MergeNotice::Failed { plan_id, .. } => *plan_id,
        };
        if self.ws.as_ref().map(|w| w.plan_id) != Some(plan_id) {
            return Ok(());
        }
        self.answered(t, &notice)?;
        match notice {
            MergeNotice::Opened { head, .. } => self.opened(t, head),
            MergeNotice::OpenFailed { error, .. } => {
                if let Some(ws) = self.ws.as_mut() {
                    ws.failed = Some(error.clone());
                }
                let msg = format!("cannot open the integration branch: {error}");
                t.emit(Event::new(EventKind::WorkspaceFailed).message(msg))
            }
            MergeNotice::Merged {
                attempt,
                commit,
                head,
                files,
                found,
                ..
            } => self.merged(t, attempt, (commit, head), files, found),
            MergeNotice::Conflict {
                attempt,
                files,
                with,
                ..
            } => self.conflicted(t, attempt, files, with),
            MergeNotice::Failed { attempt, error, .. } => self.merge_failed(t, attempt, error),
            MergeNotice::Candidate {
                attempt,
                commit,
                branch,
                tip,
                ..
            } => self.candidate(t, attempt, commit, branch, tip),
        }?;
        self.pump_merges(t)
    }

    /// The worker is done with the merge it had in hand (a candidate
    /// stays in hand until its checks say).
    fn answered(&mut self, t: &mut Turn<'_>, notice: &MergeNotice) -> Result<(), CoreError> {
        let attempt = match notice {
            MergeNotice::Merged { attempt, .. }
            | MergeNotice::Conflict { attempt, .. }
            | MergeNotice::Failed { attempt, .. } => *attempt,
            MergeNotice::Opened { .. }
            | MergeNotice::OpenFailed { .. }
            | MergeNotice::Candidate { .. } => return Ok(()),
        };
        if let Some(ws) = self.ws.as_mut() {
            if ws.in_flight == Some(attempt) {
                ws.in_flight = None;
                ws.verifying = None;
            }
        }
        let _ = t;
        Ok(())
    }

    fn opened(&mut self, t: &mut Turn<'_>, head: String) -> Result<(), CoreError> {
        let Some(ws) = self.ws.as_mut() else {
            return Ok(());
        };
        let first = ws.head.is_none();
        ws.failed = None;
        ws.head = Some(head.clone());
        upsert_workspace(t.db, &ws.row())?;
        let msg = format!(
            "{} at {} ({}, from {})",
            ws.integration(),
            short(&head),
            ws.repo,
            ws.base
        );
        if first {
            t.emit(Event::new(EventKind::WorkspaceOpened).message(msg))?;
        }
        Ok(())
    }

    /// The merge row of `attempt`, as queued.
    fn queued_row(&self, t: &Turn<'_>, task: usize, attempt: u64) -> Result<MergeRow, CoreError> {
        let plan_id = self.ws.as_ref().map_or(0, |w| w.plan_id);
        let rows = merges_of_task(t.db, plan_id, task as u32)?;
        Ok(rows
            .into_iter()
            .find(|m| m.attempt == attempt)
            .unwrap_or(MergeRow {
                attempt,
                plan_id,
                task_idx: task as u32,
                commits: Vec::new(),
                state: String::new(),
                merged: String::new(),
                files: Vec::new(),
                note: String::new(),
                queued_at: t.now,
                ended_at: None,
            }))
    }

    /// Takes `attempt` off the queue and records how its merge ended;
    /// returns its task when it was queued.
    pub(super) fn dequeue(
        &mut self,
        t: &mut Turn<'_>,
        attempt: u64,
        state: &str,
        merged: &str,
        files: &[String],
        note: &str,
    ) -> Result<Option<usize>, CoreError> {
        let Some(task) = self.ws.as_mut().and_then(|w| w.queued.remove(&attempt)) else {
            return Ok(None);
        };
        let mut row = self.queued_row(t, task, attempt)?;
        row.state = state.to_string();
        row.merged = merged.to_string();
        row.files = files.to_vec();
        row.note = note.to_string();
        row.ended_at = Some(t.now);
        upsert_merge(t.db, &row)?;
        Ok(Some(task))
    }

    /// Whether task `task` still waits for this merge (an operator may
    /// have skipped or cancelled it meanwhile).
    fn still_merging(&self, task: usize) -> bool {
        self.plan
            .as_ref()
            .is_some_and(|p| p.task(task).state == TaskState::Merging)
    }

    fn merged(
        &mut self,
        t: &mut Turn<'_>,
        attempt: u64,
        (commit, head): (String, String),
        files: Vec<String>,
        found: bool,
    ) -> Result<(), CoreError> {
        // The branch moved whatever became of the task.
        if let Some(ws) = self.ws.as_mut() {
            ws.head = Some(head);
            upsert_workspace(t.db, &ws.row())?;
        }
        let Some(task) = self.dequeue(t, attempt, "merged", &commit, &files, "")? else {
            return Ok(());
        };
        let branch = self
            .ws
            .as_ref()
            .map(|w| w.integration())
            .unwrap_or_default();
        let changed = swarm_text::count(files.len() as u64, "file");
        t.emit(
            Event::new(EventKind::TaskMerged)
                .task(self.task_id(task))
                .attempt(attempt)
                .message(format!(
                    "merged as {} into {branch}: {changed} changed{}",
                    short(&commit),
                    if found {
                        " (found on the branch after a restart, not merged again)"
                    } else {
                        ""
                    }
                )),
        )?;
        if let Some(ws) = self.ws.as_mut() {
            ws.conflicts.remove(&task);
        }
        if self.still_merging(task) {
            self.set_task(t, task, TaskState::Succeeded, None)?;
            self.release_dependents(t, task)?;
        }
        Ok(())
    }

    fn conflicted(
        &mut self,
        t: &mut Turn<'_>,
        attempt: u64,
        files: Vec<String>,
        with: Vec<String>,
    ) -> Result<(), CoreError> {
        let by = if with.is_empty() {
            String::new()
        } else {
            format!(", changed by task {}", with.join(", "))
        };
        let what = format!("merge conflict in {}{by}", files.join(", "));
        self.rerun_on_top(t, attempt, &files, &what)
    }

    /// The work of `attempt` cannot land (`what`: a conflict in `files`,
    /// or checks that fail on the merged tree): its task runs again on top
    /// of the integration branch, without using a retry, or fails for an
    /// operator once its re-runs are spent.
    pub(super) fn rerun_on_top(
        &mut self,
        t: &mut Turn<'_>,
        attempt: u64,
        files: &[String],
        what: &str,
    ) -> Result<(), CoreError> {
        let what = what.to_string();
        let Some(task) = self.dequeue(t, attempt, "conflict", "", files, &what)? else {
            return Ok(());
        };
        let Some(ws) = self.ws.as_mut() else {
            return Ok(());
        };
        let max = ws.max_conflicts;
        let entry = ws.conflicts.entry(task).or_default();
        *entry = (entry.0 + 1, what.clone());
        let n = entry.0;
        t.emit(
            Event::new(EventKind::TaskConflict)
                .task(self.task_id(task))
                .attempt(attempt)
                .message(format!("{what} ({n} of {max})")),
        )?;
        if !self.still_merging(task) {
            return Ok(());
        }
        if n <= max {
            let reason = format!(
                "{what}: re-running on top of the integration branch ({n} of {max}, no retry used)"
            );
            self.set_task(t, task, TaskState::Ready, Some(reason))
        } else {
            let reason = format!(
                "{what}: still conflicting after {max} re-runs; resolve it on the branch and mark the task done, or retry it"
            );
            self.set_task(t, task, TaskState::Failed, Some(reason.clone()))?;
            let id = self.task_id(task);
            self.block_dependents(t, task, &format!("dependency {id} failed: {reason}"))
        }
    }

    fn merge_failed(
        &mut self,
        t: &mut Turn<'_>,
        attempt: u64,
        error: String,
    ) -> Result<(), CoreError> {
        let Some(task) = self.dequeue(t, attempt, "failed", "", &[], &error)? else {
            return Ok(());
        };
        let id = self.task_id(task);
        t.emit(
            Event::new(EventKind::WorkspaceFailed)
                .task(id.clone())
                .attempt(attempt)
                .message(format!("cannot merge: {error}")),
        )?;
        if !self.still_merging(task) {
            return Ok(());
        }
        let reason = format!("cannot merge its work: {error}");
        self.set_task(t, task, TaskState::Failed, Some(reason.clone()))?;
        self.block_dependents(t, task, &format!("dependency {id} failed: {reason}"))
    }
}
