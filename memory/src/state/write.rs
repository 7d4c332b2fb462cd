//! Writes to the `swarm_*` tables. Each takes the turn's transaction (or
//! any connection) and uses cached prepared statements: these run on the
//! dispatch hot path.

use rusqlite::{params, Connection, OptionalExtension};

use super::rows::{AgentRow, AttemptRow, CheckpointRow, EventRow, LogRow, PlanRow, TaskRow};
use crate::StoreError;

/// Inserts a plan and returns its id.
pub fn insert_plan(conn: &Connection, plan: &PlanRow) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO swarm_plans (name, file, format, source, roles_toml, state, loaded_at, finished_at, clock)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        plan.name,
        plan.file,
        plan.format,
        plan.source,
        plan.roles_toml,
        plan.state,
        plan.loaded_at,
        plan.finished_at,
        plan.clock
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Sets a plan's state (and finish time).
pub fn set_plan_state(
    conn: &Connection,
    plan_id: i64,
    state: &str,
    finished_at: Option<i64>,
) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE swarm_plans SET state = ?2, finished_at = ?3 WHERE id = ?1")?
        .execute(params![plan_id, state, finished_at])?;
    Ok(())
}

/// Inserts a task's row, or updates the one it has in place (an upsert:
/// a replace would delete and insert the row and its key).
pub fn upsert_task(conn: &Connection, plan_id: i64, task: &TaskRow) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO swarm_tasks
         (plan_id, idx, id, state, attempts, failures, losses, not_before, reason, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (plan_id, idx) DO UPDATE SET id = excluded.id, state = excluded.state,
         attempts = excluded.attempts, failures = excluded.failures, losses = excluded.losses,
         not_before = excluded.not_before, reason = excluded.reason,
         updated_at = excluded.updated_at",
    )?
    .execute(params![
        plan_id,
        task.idx,
        task.id,
        task.state,
        task.attempts,
        task.failures,
        task.losses,
        task.not_before,
        task.reason,
        task.updated_at
    ])?;
    Ok(())
}

/// Records one dependency edge.
pub fn insert_dependency(
    conn: &Connection,
    plan_id: i64,
    task_idx: u32,
    dep_idx: u32,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO swarm_dependencies (plan_id, task_idx, dep_idx) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![plan_id, task_idx, dep_idx])?;
    Ok(())
}

/// Inserts an attempt's row, or updates the one it has in place (an
/// upsert: a replace would delete and insert the row and its index
/// entry).
pub fn upsert_attempt(conn: &Connection, a: &AttemptRow) -> Result<(), StoreError> {
    let agents = serde_json::to_string(&a.agents).unwrap_or_else(|_| "[]".to_string());
    let roles = serde_json::to_string(&a.roles).unwrap_or_else(|_| "[]".to_string());
    conn.prepare_cached(
        "INSERT INTO swarm_attempts
         (id, plan_id, task_idx, number, agents, state, created_at, started_at, ended_at, exit_code, message, output_dropped, token, roles)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (id) DO UPDATE SET number = excluded.number, agents = excluded.agents,
         state = excluded.state, created_at = excluded.created_at,
         started_at = excluded.started_at, ended_at = excluded.ended_at,
         exit_code = excluded.exit_code, message = excluded.message,
         output_dropped = excluded.output_dropped, token = excluded.token, roles = excluded.roles",
    )?
    .execute(params![
        a.id as i64,
        a.plan_id,
        a.task_idx,
        a.number,
        agents,
        a.state,
        a.created_at,
        a.started_at,
        a.ended_at,
        a.exit_code,
        a.message,
        a.output_dropped.min(i64::MAX as u64) as i64,
        a.token,
        roles
    ])?;
    Ok(())
}

/// The highest attempt number (fencing number) ever issued.
pub fn max_attempt_id(conn: &Connection) -> Result<u64, StoreError> {
    let max: Option<i64> = conn
        .query_row("SELECT MAX(id) FROM swarm_attempts", [], |r| r.get(0))
        .optional()?
        .flatten();
    Ok(max.unwrap_or(0).max(0) as u64)
}

/// Inserts or replaces an agent's row.
pub fn upsert_agent(conn: &Connection, a: &AgentRow) -> Result<(), StoreError> {
    let roles = serde_json::to_string(&a.roles).unwrap_or_else(|_| "[]".to_string());
    conn.prepare_cached(
        "INSERT OR REPLACE INTO swarm_agents
         (id, roles, active_role, slots, host, labels, state, registered_at, last_seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        a.id,
        roles,
        a.active_role,
        a.slots,
        a.host,
        a.labels,
        a.state,
        a.registered_at,
        a.last_seen
    ])?;
    Ok(())
}

/// Appends an event and returns its sequence number.
pub fn append_event(conn: &Connection, e: &EventRow) -> Result<u64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO swarm_events (at, kind, plan_id, task_id, attempt, agent_id, message, actor)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        e.at,
        e.kind,
        e.plan_id,
        e.task_id,
        e.attempt.map(|a| a as i64),
        e.agent_id,
        e.message,
        e.actor
    ])?;
    Ok(conn.last_insert_rowid() as u64)
}

/// Appends a log chunk, then drops the oldest chunks of the attempt while
/// it holds more than `cap_bytes` (the tail is kept).
pub fn append_log(conn: &Connection, log: &LogRow, cap_bytes: u64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO swarm_logs (attempt, seq, stream, data) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        log.attempt as i64,
        log.seq as i64,
        log.stream,
        log.data
    ])?;
    let total: i64 = conn
        .prepare_cached("SELECT COALESCE(SUM(LENGTH(data)), 0) FROM swarm_logs WHERE attempt = ?1")?
        .query_row([log.attempt as i64], |r| r.get(0))?;
    let mut excess = total - cap_bytes as i64;
    while excess > 0 {
        let oldest: Option<(i64, i64)> = conn
            .prepare_cached(
                "SELECT seq, LENGTH(data) FROM swarm_logs WHERE attempt = ?1 ORDER BY seq LIMIT 1",
            )?
            .query_row([log.attempt as i64], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((seq, len)) = oldest else { break };
        if seq == log.seq as i64 {
            break;
        }
        conn.prepare_cached("DELETE FROM swarm_logs WHERE attempt = ?1 AND seq = ?2")?
            .execute(params![log.attempt as i64, seq])?;
        excess -= len;
    }
    Ok(())
}

/// Records a checkpoint and returns its number.
pub fn insert_checkpoint(conn: &Connection, c: &CheckpointRow) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO swarm_checkpoints (plan_id, kind, at, plan_day, report, plan_time, decisions)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        c.plan_id,
        c.kind,
        c.at,
        c.plan_day,
        c.report,
        c.plan_time,
        c.decisions
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Records what a succeeded task produced (`from_file`: the task wrote
/// `$SWARM_RESULT`; otherwise the tail of its output).
pub fn put_result(
    conn: &Connection,
    plan_id: i64,
    task_id: &str,
    attempt: u64,
    from_file: bool,
    result: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO swarm_results (plan_id, task_id, attempt, from_file, result)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![plan_id, task_id, attempt as i64, from_file, result])?;
    Ok(())
}
