//! What operators did since the last checkpoint, for its report: every
//! event an operator's command caused, with who, when (plan clock) and
//! what.

use rusqlite::Connection;

use crate::error::CoreError;
use crate::State;

/// Lines a report lists at most (the rest are counted).
const MOST: usize = 50;

impl State {
    /// The report's lines for the operators' actions after event `since`,
    /// and how many there were.
    pub(super) fn acted_since(
        &self,
        db: &Connection,
        since: u64,
    ) -> Result<(Vec<String>, usize), CoreError> {
        let Some(plan) = self.plan.as_ref() else {
            return Ok((Vec::new(), 0));
        };
        let (rows, total) = swarm_memory::state::acted_after(db, plan.id(), since, MOST)?;
        let clock = plan.clock();
        let lines = rows
            .iter()
            .map(|e| {
                let mut line = format!(
                    "{} — {} — `{}`",
                    clock.label(clock.plan_at(e.at)),
                    e.actor.as_deref().unwrap_or_default(),
                    e.kind
                );
                if let Some(task) = &e.task_id {
                    line.push_str(&format!(" {task}"));
                }
                if !e.message.is_empty() {
                    line.push_str(&format!(": {}", e.message));
                }
                line
            })
            .collect();
        Ok((lines, total as usize))
    }
}
