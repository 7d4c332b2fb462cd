//! What attempts spent (`swarm_usage`): one row per attempt and agent
//! that ran it, written in the turn that receives the agent's result and
//! read back whole after a restart, to rebuild the sums.

use rusqlite::{params, Connection, OptionalExtension as _};

use crate::store::StoreError;

/// Cost, tokens, turns and session of one attempt on one agent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    /// US dollars.
    pub cost_usd: f64,
    /// Input tokens, cache reads and writes not included.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Input tokens written to the prompt cache.
    pub cache_creation_tokens: u64,
    /// Input tokens read from the prompt cache.
    pub cache_read_tokens: u64,
    /// Conversation turns.
    pub turns: u32,
    /// The AI CLI's session id (empty: none said).
    pub session_id: String,
    /// The model (empty: none said).
    pub model: String,
}

/// One row of `swarm_usage`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageRow {
    /// The attempt's fencing number.
    pub attempt: u64,
    /// The agent that ran it (each gang member reports its own).
    pub agent_id: String,
    /// The plan.
    pub plan_id: i64,
    /// The task's id.
    pub task_id: String,
    /// The role the agent played in it.
    pub role: String,
    /// The day on the plan clock when the attempt ran (began).
    pub plan_day: u32,
    /// When the result arrived, wall ms.
    pub at: i64,
    /// What it spent.
    pub usage: Usage,
}

/// Records what an attempt spent on one agent; a result sent again
/// replaces its row, never adds to it.
pub fn put_usage(conn: &Connection, row: &UsageRow) -> Result<(), StoreError> {
    let u = &row.usage;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO swarm_usage (attempt, agent_id, plan_id, task_id, role, plan_day,
           at, cost_usd, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens,
           turns, session_id, model)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(params![
        row.attempt as i64,
        row.agent_id,
        row.plan_id,
        row.task_id,
        row.role,
        row.plan_day,
        row.at,
        u.cost_usd,
        u.input_tokens as i64,
        u.output_tokens as i64,
        u.cache_creation_tokens as i64,
        u.cache_read_tokens as i64,
        u.turns,
        u.session_id,
        u.model,
    ])?;
    Ok(())
}

/// Every usage row of a plan, in the order they were written.
pub fn usage_of_plan(conn: &Connection, plan_id: i64) -> Result<Vec<UsageRow>, StoreError> {
    usage_where(conn, "plan_id = ?1 AND ?2 = ''", plan_id, "")
}

/// The usage rows of one task of a plan, in the order they were written.
pub fn usage_of_task(
    conn: &Connection,
    plan_id: i64,
    task_id: &str,
) -> Result<Vec<UsageRow>, StoreError> {
    usage_where(conn, "plan_id = ?1 AND task_id = ?2", plan_id, task_id)
}

fn usage_where(
    conn: &Connection,
    filter: &str,
    plan_id: i64,
    task_id: &str,
) -> Result<Vec<UsageRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT attempt, agent_id, plan_id, task_id, role, plan_day, at, cost_usd, input_tokens,
           output_tokens, cache_creation_tokens, cache_read_tokens, turns, session_id, model
         FROM swarm_usage WHERE {filter} ORDER BY rowid"
    ))?;
    let rows = stmt.query_map(params![plan_id, task_id], |r| {
        Ok(UsageRow {
            attempt: r.get::<_, i64>(0)? as u64,
            agent_id: r.get(1)?,
            plan_id: r.get(2)?,
            task_id: r.get(3)?,
            role: r.get(4)?,
            plan_day: r.get(5)?,
            at: r.get(6)?,
            usage: Usage {
                cost_usd: r.get(7)?,
                input_tokens: r.get::<_, i64>(8)? as u64,
                output_tokens: r.get::<_, i64>(9)? as u64,
                cache_creation_tokens: r.get::<_, i64>(10)? as u64,
                cache_read_tokens: r.get::<_, i64>(11)? as u64,
                turns: r.get(12)?,
                session_id: r.get(13)?,
                model: r.get(14)?,
            },
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The session id the last attempt of a task that said one reported
/// (for `{session}`); `None` when none did.
pub fn last_session(
    conn: &Connection,
    plan_id: i64,
    task_id: &str,
) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT session_id FROM swarm_usage
             WHERE plan_id = ?1 AND task_id = ?2 AND session_id != ''
             ORDER BY attempt DESC, rowid DESC LIMIT 1",
        )?
        .query_row(params![plan_id, task_id], |r| r.get(0))
        .optional()?)
}

/// Sets budget `scope` (`plan`, `day`, `role:NAME`) of plan `plan_id` to
/// `usd` dollars.
pub fn put_budget(
    conn: &Connection,
    plan_id: i64,
    scope: &str,
    usd: f64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO swarm_budgets (plan_id, scope, usd) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![plan_id, scope, usd])?;
    Ok(())
}

/// The budgets set for plan `plan_id`: (scope, usd), by scope.
pub fn budgets_of_plan(conn: &Connection, plan_id: i64) -> Result<Vec<(String, f64)>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT scope, usd FROM swarm_budgets WHERE plan_id = ?1 ORDER BY scope")?;
    let rows = stmt.query_map([plan_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(attempt: u64, agent: &str, cost: f64, session: &str) -> UsageRow {
        UsageRow {
            attempt,
            agent_id: agent.into(),
            plan_id: 1,
            task_id: "1.1".into(),
            role: "sre".into(),
            plan_day: 2,
            at: 5,
            usage: Usage {
                cost_usd: cost,
                input_tokens: 10,
                output_tokens: 20,
                session_id: session.into(),
                ..Usage::default()
            },
        }
    }

    #[test]
    fn rows_replace_per_attempt_and_agent_and_sessions_come_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crate::Store::open(&dir.path().join("swarmd.db")).expect("open");
        let conn = store.conn();
        put_usage(conn, &row(3, "a", 1.0, "s1")).expect("put");
        put_usage(conn, &row(3, "a", 1.0, "s1")).expect("sent again");
        put_usage(conn, &row(3, "b", 0.5, "")).expect("gang member");
        put_usage(conn, &row(4, "a", 0.25, "s2")).expect("retry");
        let rows = usage_of_plan(conn, 1).expect("read");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows.iter().map(|r| r.usage.cost_usd).sum::<f64>(), 1.75);
        assert_eq!(rows[0], row(3, "a", 1.0, "s1"));
        assert_eq!(usage_of_task(conn, 1, "1.1").expect("read").len(), 3);
        assert!(usage_of_task(conn, 1, "1.2").expect("read").is_empty());
        assert_eq!(
            last_session(conn, 1, "1.1").expect("read").as_deref(),
            Some("s2")
        );
        assert_eq!(last_session(conn, 1, "9.9").expect("read"), None);
        put_budget(conn, 1, "day", 50.0).expect("put");
        put_budget(conn, 1, "day", 60.0).expect("raised");
        put_budget(conn, 2, "plan", 9.0).expect("another plan");
        assert_eq!(
            budgets_of_plan(conn, 1).expect("read"),
            [("day".to_string(), 60.0)]
        );
    }
}
