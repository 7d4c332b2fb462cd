//! The plan's repository, when tasks work in one (`[workspace]`): the
//! integration branch each plan gets, the branch each attempt works on,
//! and the merge queue the loop feeds — the attempts whose work waits to
//! be merged, in the order they succeeded. The git work itself is done
//! off the loop by the merge worker (`jobs::merge`); what it reports comes
//! back as [`crate::jobs::MergeNotice`]s ([`notices`]).
//!
//! Branch names: `swarm/<plan-slug>-<plan-id>/integration`, and beside it
//! `swarm/<plan-slug>-<plan-id>/attempts/<task>/a<N>` (a `Gang: all`
//! member's with `-<role>` added): git cannot hold a branch `swarm/x` and
//! a branch `swarm/x/…` at once.

mod notices;
mod verify;
mod views;

use std::collections::{BTreeMap, HashMap};

use swarm_memory::state::{
    merges_of_plan, merges_of_task, upsert_workspace, workspace_of, WorkspaceRow,
};

use crate::config::Verify;

use crate::effects::Turn;
use crate::jobs::{MergeJob, MergeWork};
use crate::{CoreError, State};

/// The repository of the running plan and its merge queue.
#[derive(Debug, Clone)]
pub(crate) struct PlanWorkspace {
    plan_id: i64,
    repo: String,
    base: String,
    /// `<plan-slug>-<plan-id>`.
    label: String,
    /// The integration branch's head; `None` until the merge worker has
    /// opened it.
    head: Option<String>,
    /// Why it could not be opened, while it cannot.
    failed: Option<String>,
    /// Where a task's Checks pass before its merge.
    verify: Verify,
    max_conflicts: u32,
    /// The attempt whose merge the worker has in hand: one at a time, so
    /// a candidate being checked is never overtaken.
    in_flight: Option<u64>,
    /// A candidate merge waiting for its checks (`verify = "merged"`).
    verifying: Option<verify::Verifying>,
    /// Attempts whose work waits to be merged, by fencing number (the
    /// order they were queued in), with their task.
    queued: BTreeMap<u64, usize>,
    /// Merge conflicts per task: how many, and the last one's words.
    conflicts: HashMap<usize, (u32, String)>,
}

impl PlanWorkspace {
    /// The integration branch.
    pub(crate) fn integration(&self) -> String {
        format!("swarm/{}/integration", self.label)
    }

    /// The branch of attempt `number` of `task` (`role`: a `Gang: all`
    /// member's).
    pub(crate) fn attempt_branch(&self, task: &str, number: u32, role: Option<&str>) -> String {
        let mut b = format!("swarm/{}/attempts/{}/a{number}", self.label, ref_part(task));
        if let Some(role) = role {
            b.push('-');
            b.push_str(&ref_part(role));
        }
        b
    }

    /// The head attempts start from, once the branch is open.
    pub(crate) fn head(&self) -> Option<&str> {
        self.head.as_deref()
    }

    /// The repository's address.
    pub(crate) fn repo(&self) -> &str {
        &self.repo
    }

    /// `<plan-slug>-<plan-id>`.
    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    /// What status says of the repository: where the integration branch
    /// is and what waits to be merged, or why it cannot be used; once the
    /// plan has ended, the command that shows its work against the base.
    pub(crate) fn status_line(&self, ended: bool) -> String {
        let branch = self.integration();
        if let Some(why) = &self.failed {
            return format!("{branch} cannot be used: {why}");
        }
        let Some(head) = &self.head else {
            return format!("opening {branch} in {} (from {})", self.repo, self.base);
        };
        let at = format!(
            "{branch} at {} in {}",
            swarm_text::short_commit(head),
            self.repo
        );
        if ended {
            let see = if crate::config::is_url(&self.repo) {
                format!(
                    "git fetch {} {branch} && git log --oneline --graph {}..FETCH_HEAD",
                    self.repo, self.base
                )
            } else {
                format!(
                    "git -C {} log --oneline --graph {}..{branch}",
                    self.repo, self.base
                )
            };
            return format!("{at}; see its work against {}: {see}", self.base);
        }
        match self.queued.len() {
            0 => at,
            n => format!(
                "{at}; {} waiting to be merged",
                swarm_text::count(n as u64, "task")
            ),
        }
    }

    /// Tasks whose work waits in the merge queue (their claims are held).
    pub(crate) fn merging_tasks(&self) -> impl Iterator<Item = usize> + '_ {
        self.queued.values().copied()
    }

    /// How many merges wait.
    pub(crate) fn queue_len(&self) -> usize {
        self.queued.len()
    }

    /// The last merge conflict of `task`, for its next attempt's brief.
    pub(crate) fn conflict_note(&self, task: usize) -> Option<&str> {
        self.conflicts.get(&task).map(|(_, note)| note.as_str())
    }

    fn row(&self) -> WorkspaceRow {
        WorkspaceRow {
            plan_id: self.plan_id,
            repo: self.repo.clone(),
            base: self.base.clone(),
            label: self.label.clone(),
            head: self.head.clone().unwrap_or_default(),
        }
    }

    fn open_job(&self) -> MergeJob {
        MergeJob::Open {
            plan_id: self.plan_id,
            repo: self.repo.clone(),
            base: self.base.clone(),
            branch: self.integration(),
        }
    }
}

impl State {
    /// At plan load: the plan's repository, when the config names one and
    /// some task works in it; its integration branch is opened off the
    /// loop, and attempts in it wait until it is.
    pub(crate) fn open_workspace(&mut self, t: &mut Turn<'_>) -> Result<(), CoreError> {
        self.ws = None;
        let (Some(cfg), Some(plan)) = (self.cfg.workspace.as_ref(), self.plan.as_ref()) else {
            return Ok(());
        };
        let uses = plan
            .compiled()
            .plan
            .tasks
            .iter()
            .any(|task| task.workspace == swarm_plan::claims::Workspace::Repo);
        if !uses {
            return Ok(());
        }
        let ws = PlanWorkspace {
            plan_id: plan.id(),
            repo: cfg.repo.clone(),
            base: cfg.base.clone(),
            label: format!("{}-{}", slug(plan.name()), plan.id()),
            head: None,
            failed: None,
            verify: cfg.verify,
            max_conflicts: cfg.max_conflicts,
            in_flight: None,
            verifying: None,
            queued: BTreeMap::new(),
            conflicts: HashMap::new(),
        };
        upsert_workspace(t.db, &ws.row())?;
        t.merge(ws.open_job());
        self.ws = Some(ws);
        Ok(())
    }

    /// After a restart: the plan's repository as stored, its branch opened
    /// again (found where it was) and every merge still queued handed to
    /// the merge worker again, in order. A merge that was made before the
    /// crash is found on the branch by its trailers, never made twice.
    pub(crate) fn restore_workspace(&mut self, t: &mut Turn<'_>) -> Result<(), CoreError> {
        self.ws = None;
        let Some(plan) = self.plan.as_ref() else {
            return Ok(());
        };
        let Some(row) = workspace_of(t.db, plan.id())? else {
            return Ok(());
        };
        let (verify, max_conflicts) = (self.cfg.workspace.as_ref())
            .map_or((Verify::Merged, 3), |c| (c.verify, c.max_conflicts));
        let mut ws = PlanWorkspace {
            plan_id: row.plan_id,
            repo: row.repo,
            base: row.base,
            label: row.label,
            head: Some(row.head).filter(|h| !h.is_empty()),
            failed: None,
            verify,
            max_conflicts,
            in_flight: None,
            verifying: None,
            queued: BTreeMap::new(),
            conflicts: HashMap::new(),
        };
        for m in merges_of_plan(t.db, plan.id())? {
            let task = m.task_idx as usize;
            match m.state.as_str() {
                // A candidate checked when swarmd stopped is made again.
                "queued" | "verifying" => {
                    ws.queued.insert(m.attempt, task);
                }
                "conflict" => {
                    let c = ws.conflicts.entry(task).or_default();
                    *c = (c.0 + 1, m.note);
                }
                _ => {
                    ws.conflicts.remove(&task);
                }
            }
        }
        if !plan.state().has_ended() {
            t.merge(ws.open_job());
        }
        self.ws = Some(ws);
        self.pump_merges(t)
    }

    /// Whether task `i` works in the plan's repository.
    pub(crate) fn in_workspace(&self, i: usize) -> bool {
        self.ws.is_some()
            && self.plan.as_ref().is_some_and(|p| {
                p.compiled().plan.tasks[i].workspace == swarm_plan::claims::Workspace::Repo
            })
    }

    /// Hands the merge worker the next queued merge, when it has none in
    /// hand.
    pub(crate) fn pump_merges(&mut self, t: &mut Turn<'_>) -> Result<(), CoreError> {
        let Some(ws) = self.ws.as_ref() else {
            return Ok(());
        };
        if ws.in_flight.is_some() {
            return Ok(());
        }
        let Some((&attempt, &task)) = ws.queued.iter().next() else {
            return Ok(());
        };
        let plan_id = ws.plan_id;
        let Some(m) = merges_of_task(t.db, plan_id, task as u32)?
            .into_iter()
            .find(|m| m.attempt == attempt)
        else {
            return Ok(());
        };
        let work = self.merge_work(ws, task, attempt, m.commits);
        t.merge(MergeJob::Merge(Box::new(work)));
        if let Some(ws) = self.ws.as_mut() {
            ws.in_flight = Some(attempt);
        }
        Ok(())
    }

    /// The work of attempt `attempt` of task `task` to merge.
    fn merge_work(
        &self,
        ws: &PlanWorkspace,
        task: usize,
        attempt: u64,
        commits: Vec<String>,
    ) -> MergeWork {
        let (task_id, title, checks) = self
            .plan
            .as_ref()
            .map(|p| {
                let spec = p.spec(task);
                (
                    p.task_id(task).to_string(),
                    spec.title.clone(),
                    !spec.checks.is_empty(),
                )
            })
            .unwrap_or_default();
        MergeWork {
            plan_id: ws.plan_id,
            repo: ws.repo.clone(),
            branch: ws.integration(),
            label: ws.label.clone(),
            task_id,
            title,
            attempt,
            commits,
            verify: checks && ws.verify == Verify::Merged,
        }
    }
}

/// A plan's name as a branch name part: lower-case letters, digits and
/// single dashes, at most 40 characters, `plan` if nothing is left.
pub(crate) fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 40 {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "plan".to_string()
    } else {
        out
    }
}

/// A task id or role as one part of a branch name: what git allows in a
/// ref (letters, digits, `.`, `_`, `-`; no `..`, no leading `.` or `-`,
/// no trailing `.lock`), every other character a `-`.
pub(crate) fn ref_part(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    while out.contains("..") {
        out = out.replace("..", ".");
    }
    let out = out.trim_start_matches(['.', '-']).trim_end_matches('.');
    let out = out.strip_suffix(".lock").unwrap_or(out);
    if out.is_empty() {
        "x".to_string()
    } else {
        out.to_string()
    }
}

#[cfg(test)]
mod tests;
