//! What `task show` and the web view tell of a task's work in the plan's
//! repository: each attempt's branch, commits and merge.

use rusqlite::Connection;
use swarm_memory::state::{merged_since, merges_of_task};

use crate::views::{AttemptView, AttemptWork};
use crate::{CoreError, State};

impl State {
    /// The merges into the integration branch that ended after `since`
    /// (wall ms), one line each, for a checkpoint's report; `None` without
    /// a repository.
    pub(crate) fn merged_since(
        &self,
        db: &Connection,
        since: i64,
    ) -> Result<Option<Vec<String>>, CoreError> {
        let (Some(ws), Some(plan)) = (self.ws.as_ref(), self.plan.as_ref()) else {
            return Ok(None);
        };
        let lines = merged_since(db, plan.id(), since)?
            .into_iter()
            .map(|m| {
                let i = m.task_idx as usize;
                format!(
                    "{} {} — merged as `{}` into `{}` ({})",
                    plan.task_id(i),
                    plan.spec(i).title,
                    swarm_text::short_commit(&m.merged),
                    ws.integration(),
                    swarm_text::count(m.files.len() as u64, "file")
                )
            })
            .collect();
        Ok(Some(lines))
    }

    /// `attempts` of task `i` with their work in the repository, and the
    /// repository and integration branch (empty without one).
    pub(crate) fn attempts_work(
        &self,
        db: &Connection,
        i: usize,
        mut attempts: Vec<AttemptView>,
    ) -> Result<(Vec<AttemptView>, String, String), CoreError> {
        let (Some(ws), Some(plan)) = (self.ws.as_ref(), self.plan.as_ref()) else {
            return Ok((attempts, String::new(), String::new()));
        };
        if !self.in_workspace(i) {
            return Ok((attempts, String::new(), String::new()));
        }
        let merges = merges_of_task(db, plan.id(), i as u32)?;
        let id = plan.task_id(i);
        for a in &mut attempts {
            let mut work = AttemptWork {
                branch: ws.attempt_branch(id, a.number, None),
                ..AttemptWork::default()
            };
            if let Some(m) = merges.iter().find(|m| m.attempt == a.attempt) {
                work.commits = m.commits.clone();
                work.merge = m.state.clone();
                work.merged_commit = m.merged.clone();
                work.files = m.files.clone();
                work.merged_at = m.ended_at.unwrap_or(0);
                work.note = m.note.clone();
            }
            a.work = Some(work);
        }
        Ok((attempts, ws.repo().to_string(), ws.integration()))
    }
}
