//! Results down the DAG: what a succeeded task produced is kept (in
//! `swarmd.db`, in the same transaction as its success) and handed to the
//! tasks that depend on it, in their briefs; a copy goes to the shared
//! memory after the commit (see `crate::results`).
//!
//! A result is what the task wrote to the file `$SWARM_RESULT`, if it
//! wrote one, else the last [`TAIL_BYTES`] of its output; a task that
//! wrote and printed nothing has none.

use swarm_memory::state::{log_tail, put_result, result_of};

use super::command::AttemptRef;
use super::effects::Turn;
use super::{CoreError, State};

/// The tail of the output kept when a task wrote no result file.
pub(crate) const TAIL_BYTES: usize = 4096;

/// The longest result kept (what the agent sends is capped there too).
pub(crate) const MAX_RESULT_BYTES: usize = 1024 * 1024;

/// The most of one dependency's result a brief shows.
const BRIEF_EACH_BYTES: usize = 8 * 1024;

/// The most all dependencies' results take in one brief.
const BRIEF_TOTAL_BYTES: usize = 64 * 1024;

impl State {
    /// Keeps the result of `r`, which just succeeded: `written` is what
    /// the task wrote to `$SWARM_RESULT`, if anything; `printed`, whether
    /// it had any output (without either there is no result, and the
    /// store is not read).
    pub(crate) fn record_result(
        &mut self,
        t: &mut Turn<'_>,
        r: &AttemptRef,
        written: Option<&str>,
        printed: bool,
    ) -> Result<(), CoreError> {
        let Some(plan_id) = t.plan_id else {
            return Ok(());
        };
        let (from_file, mut text) = match written {
            Some(w) => (true, w.to_string()),
            None if !printed => return Ok(()),
            None => {
                let tail = log_tail(t.db, r.attempt, TAIL_BYTES)?;
                (false, String::from_utf8_lossy(&tail).into_owned())
            }
        };
        truncate_at_char(&mut text, MAX_RESULT_BYTES);
        if text.is_empty() {
            // Nothing written, nothing printed: no result to hand down.
            return Ok(());
        }
        put_result(t.db, plan_id, &r.task_id, r.attempt, from_file, &text)?;
        t.share_result(crate::jobs::ResultJob {
            task_id: r.task_id.clone(),
            result: text,
            if_absent: false,
        });
        Ok(())
    }

    /// The "Upstream results" section of task `task`'s brief: each direct
    /// dependency's result, capped; empty when none is recorded.
    pub(crate) fn upstream_results(&self, t: &Turn<'_>, task: usize) -> Result<String, CoreError> {
        let (Some(plan), Some(plan_id)) = (self.plan.as_ref(), t.plan_id) else {
            return Ok(String::new());
        };
        let mut out = String::new();
        let mut used = 0;
        for &dep in &plan.compiled().tasks[task].deps {
            let id = plan.task_id(dep);
            let Some(result) = result_of(t.db, plan_id, id)? else {
                continue;
            };
            let title = &plan.spec(dep).title;
            out.push_str(&format!("\n### Task {id}: {title}\n"));
            let room = BRIEF_EACH_BYTES.min(BRIEF_TOTAL_BYTES.saturating_sub(used));
            let mut shown = result.clone();
            truncate_at_char(&mut shown, room);
            used += shown.len();
            if !shown.is_empty() {
                out.push_str(shown.trim_end());
                out.push('\n');
            }
            if shown.len() < result.len() {
                out.push_str(&format!(
                    "[{} of {} bytes shown; all of it: swarmctl task result {id}]\n",
                    shown.len(),
                    result.len()
                ));
            }
        }
        if out.is_empty() {
            return Ok(out);
        }
        Ok(format!("\n## Upstream results\n{out}"))
    }
}

/// Cuts `s` to at most `max` bytes, on a character boundary.
fn truncate_at_char(s: &mut String, max: usize) {
    if s.len() <= max {
        return;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
}
