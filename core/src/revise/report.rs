//! The "Plan changes" of a checkpoint's report: each revision applied
//! since the last checkpoint — when (plan clock), which version, by whom,
//! why, what changed.

use rusqlite::Connection;
use swarm_memory::state::plan_versions;

use crate::{CoreError, State};

/// Change lines a report quotes per revision (the rest are counted).
const MOST_CHANGES: usize = 12;

impl State {
    /// One line per revision applied after wall time `since` (ms).
    pub(crate) fn revisions_since(
        &self,
        db: &Connection,
        since: i64,
    ) -> Result<Vec<String>, CoreError> {
        let Some(plan) = self.plan.as_ref() else {
            return Ok(Vec::new());
        };
        let clock = plan.clock();
        let lines = plan_versions(db, plan.id())?
            .into_iter()
            .filter(|v| v.version > 1 && v.at > since)
            .map(|v| {
                let who = if v.actor.is_empty() {
                    "an operator"
                } else {
                    &v.actor
                };
                let mut line = format!(
                    "{} — version {} by {who}",
                    clock.label(clock.plan_at(v.at)),
                    v.version
                );
                if !v.reason.is_empty() {
                    line.push_str(&format!(" ({})", v.reason));
                }
                line.push_str(&format!(": {}", v.summary));
                let shown: Vec<&str> = (v.changes.iter().take(MOST_CHANGES))
                    .map(String::as_str)
                    .collect();
                if !shown.is_empty() {
                    line.push_str(&format!(" — {}", shown.join("; ")));
                }
                if v.changes.len() > MOST_CHANGES {
                    let more = v.changes.len() - MOST_CHANGES;
                    line.push_str(&format!("; {more} more ('swarmctl plan diff')"));
                }
                line
            })
            .collect();
        Ok(lines)
    }
}
