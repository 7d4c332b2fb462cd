//! Reads of the `swarm_*` tables: recovery after a restart, and the
//! history `swarmctl` asks for (events, attempts, logs).

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::rows::{AgentRow, AttemptRow, CheckpointRow, EventRow, LogRow, PlanRow, TaskRow};
use crate::StoreError;

fn json_list(table: &'static str, text: String) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
        table,
        detail: format!("'{text}' is not a JSON list of strings: {e}"),
    })
}

/// The most recently loaded plan.
pub fn latest_plan(conn: &Connection) -> Result<Option<PlanRow>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT id, name, file, format, source, roles_toml, state, loaded_at, finished_at, clock
             FROM swarm_plans ORDER BY id DESC LIMIT 1",
            [],
            |r| {
                Ok(PlanRow {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    file: r.get(2)?,
                    format: r.get(3)?,
                    source: r.get(4)?,
                    roles_toml: r.get(5)?,
                    state: r.get(6)?,
                    loaded_at: r.get(7)?,
                    finished_at: r.get(8)?,
                    clock: r.get(9)?,
                })
            },
        )
        .optional()?)
}

/// Every task row of a plan, by index.
pub fn tasks(conn: &Connection, plan_id: i64) -> Result<Vec<TaskRow>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT idx, id, state, attempts, failures, losses, not_before, reason, updated_at
         FROM swarm_tasks WHERE plan_id = ?1 ORDER BY idx",
    )?;
    let rows = stmt.query_map([plan_id], |r| {
        Ok(TaskRow {
            idx: r.get(0)?,
            id: r.get(1)?,
            state: r.get(2)?,
            attempts: r.get(3)?,
            failures: r.get(4)?,
            losses: r.get(5)?,
            not_before: r.get(6)?,
            reason: r.get(7)?,
            updated_at: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn attempt_from(r: &Row<'_>) -> rusqlite::Result<(AttemptRow, [String; 2])> {
    Ok((
        AttemptRow {
            id: r.get::<_, i64>(0)? as u64,
            plan_id: r.get(1)?,
            task_idx: r.get(2)?,
            number: r.get(3)?,
            agents: Vec::new(),
            roles: Vec::new(),
            state: r.get(5)?,
            created_at: r.get(6)?,
            started_at: r.get(7)?,
            ended_at: r.get(8)?,
            exit_code: r.get(9)?,
            message: r.get(10)?,
            output_dropped: r.get::<_, i64>(11)?.max(0) as u64,
            token: r.get(12)?,
        },
        [r.get(4)?, r.get(13)?],
    ))
}

const ATTEMPT_COLUMNS: &str =
    "id, plan_id, task_idx, number, agents, state, created_at, started_at, ended_at, exit_code, message, output_dropped, token, roles";

fn collect_attempts(
    rows: impl Iterator<Item = rusqlite::Result<(AttemptRow, [String; 2])>>,
) -> Result<Vec<AttemptRow>, StoreError> {
    let mut out = Vec::new();
    for row in rows {
        let (mut a, [agents, roles]) = row?;
        a.agents = json_list("swarm_attempts", agents)?;
        a.roles = json_list("swarm_attempts", roles)?;
        out.push(a);
    }
    Ok(out)
}

/// Attempts of a plan in one of the given states (recovery: `offered`,
/// `running`).
pub fn attempts_in_states(
    conn: &Connection,
    plan_id: i64,
    states: &[&str],
) -> Result<Vec<AttemptRow>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM swarm_attempts WHERE plan_id = ?1 ORDER BY id"
    ))?;
    let rows = stmt.query_map([plan_id], attempt_from)?;
    let all = collect_attempts(rows)?;
    Ok(all
        .into_iter()
        .filter(|a| states.contains(&a.state.as_str()))
        .collect())
}

/// Every attempt of a plan, oldest first (the web view's Gantt chart).
pub fn attempts_of_plan(conn: &Connection, plan_id: i64) -> Result<Vec<AttemptRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM swarm_attempts WHERE plan_id = ?1 ORDER BY id"
    ))?;
    let rows = stmt.query_map([plan_id], attempt_from)?;
    collect_attempts(rows)
}

/// Every attempt of one task, oldest first.
pub fn attempts_of_task(
    conn: &Connection,
    plan_id: i64,
    task_idx: u32,
) -> Result<Vec<AttemptRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM swarm_attempts WHERE plan_id = ?1 AND task_idx = ?2 ORDER BY id"
    ))?;
    let rows = stmt.query_map(params![plan_id, task_idx], attempt_from)?;
    collect_attempts(rows)
}

/// Every agent row.
pub fn agents(conn: &Connection) -> Result<Vec<AgentRow>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT id, roles, active_role, slots, host, labels, state, registered_at, last_seen FROM swarm_agents ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            AgentRow {
                id: r.get(0)?,
                roles: Vec::new(),
                active_role: r.get(2)?,
                slots: r.get(3)?,
                host: r.get(4)?,
                labels: r.get(5)?,
                state: r.get(6)?,
                registered_at: r.get(7)?,
                last_seen: r.get(8)?,
            },
            r.get::<_, String>(1)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (mut a, roles) = row?;
        a.roles = json_list("swarm_agents", roles)?;
        out.push(a);
    }
    Ok(out)
}

/// Events after `since`, at most `limit`, in order, each with its
/// attempt's number within the task.
pub fn events_after(
    conn: &Connection,
    since: u64,
    limit: usize,
) -> Result<Vec<EventRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.seq, e.at, e.kind, e.plan_id, e.task_id, e.attempt, e.agent_id, e.message, a.number,
                e.actor
         FROM swarm_events e LEFT JOIN swarm_attempts a ON a.id = e.attempt
         WHERE e.seq > ?1 ORDER BY e.seq LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![since as i64, limit as i64], |r| {
        Ok(EventRow {
            seq: r.get::<_, i64>(0)? as u64,
            at: r.get(1)?,
            kind: r.get(2)?,
            plan_id: r.get(3)?,
            task_id: r.get(4)?,
            attempt: r.get::<_, Option<i64>>(5)?.map(|a| a as u64),
            agent_id: r.get(6)?,
            message: r.get(7)?,
            number: r.get(8)?,
            actor: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A plan's events that an operator caused, after `since`: the first
/// `limit` of them in order, and how many there are.
pub fn acted_after(
    conn: &Connection,
    plan_id: i64,
    since: u64,
    limit: usize,
) -> Result<(Vec<EventRow>, u64), StoreError> {
    let total: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM swarm_events
             WHERE actor IS NOT NULL AND seq > ?1 AND plan_id = ?2",
        )?
        .query_row(params![since as i64, plan_id], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(
        "SELECT seq, at, kind, task_id, agent_id, message, actor FROM swarm_events
         WHERE actor IS NOT NULL AND seq > ?1 AND plan_id = ?2 ORDER BY seq LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![since as i64, plan_id, limit as i64], |r| {
        Ok(EventRow {
            seq: r.get::<_, i64>(0)? as u64,
            at: r.get(1)?,
            kind: r.get(2)?,
            plan_id: Some(plan_id),
            task_id: r.get(3)?,
            agent_id: r.get(4)?,
            message: r.get(5)?,
            actor: r.get(6)?,
            ..EventRow::default()
        })
    })?;
    Ok((rows.collect::<Result<_, _>>()?, total.max(0) as u64))
}

/// The messages of a plan's events of one kind, oldest first.
pub fn event_messages(
    conn: &Connection,
    plan_id: i64,
    kind: &str,
) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT message FROM swarm_events WHERE plan_id = ?1 AND kind = ?2 ORDER BY seq",
    )?;
    let rows = stmt.query_map(params![plan_id, kind], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The log chunks of an attempt, in order.
pub fn logs(conn: &Connection, attempt: u64) -> Result<Vec<LogRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT attempt, seq, stream, data FROM swarm_logs WHERE attempt = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([attempt as i64], |r| {
        Ok(LogRow {
            attempt: r.get::<_, i64>(0)? as u64,
            seq: r.get::<_, i64>(1)? as u64,
            stream: r.get(2)?,
            data: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The last `max` bytes an attempt wrote (both streams, in order).
pub fn log_tail(conn: &Connection, attempt: u64, max: usize) -> Result<Vec<u8>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT data FROM swarm_logs WHERE attempt = ?1 ORDER BY seq DESC")?;
    let mut rows = stmt.query([attempt as i64])?;
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    let mut total = 0;
    while total < max {
        let Some(row) = rows.next()? else { break };
        let data: Vec<u8> = row.get(0)?;
        total += data.len();
        chunks.push(data);
    }
    let mut out: Vec<u8> = chunks.into_iter().rev().flatten().collect();
    if out.len() > max {
        out.drain(..out.len() - max);
    }
    Ok(out)
}

/// What a succeeded task of a plan produced, if it is recorded.
pub fn result_of(
    conn: &Connection,
    plan_id: i64,
    task_id: &str,
) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT result FROM swarm_results WHERE plan_id = ?1 AND task_id = ?2")?
        .query_row(params![plan_id, task_id], |r| r.get(0))
        .optional()?)
}

/// Every recorded result of a plan: (task id, result), in task order.
pub fn results_of_plan(
    conn: &Connection,
    plan_id: i64,
) -> Result<Vec<(String, String)>, StoreError> {
    let mut stmt = conn
        .prepare("SELECT task_id, result FROM swarm_results WHERE plan_id = ?1 ORDER BY rowid")?;
    let rows = stmt.query_map([plan_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The next log sequence number of an attempt.
pub fn next_log_seq(conn: &Connection, attempt: u64) -> Result<u64, StoreError> {
    let max: Option<i64> = conn
        .prepare_cached("SELECT MAX(seq) FROM swarm_logs WHERE attempt = ?1")?
        .query_row([attempt as i64], |r| r.get(0))?;
    Ok(max.map_or(0, |m| m as u64 + 1))
}

/// Checkpoints of a plan, oldest first (every plan when `plan_id` is None).
pub fn checkpoints(
    conn: &Connection,
    plan_id: Option<i64>,
) -> Result<Vec<CheckpointRow>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT id, plan_id, kind, at, plan_day, report, plan_time, decisions FROM swarm_checkpoints
         WHERE ?1 IS NULL OR plan_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([plan_id], |r| {
        Ok(CheckpointRow {
            id: r.get(0)?,
            plan_id: r.get(1)?,
            kind: r.get(2)?,
            at: r.get(3)?,
            plan_day: r.get::<_, Option<u32>>(4)?.unwrap_or(0),
            report: r.get(5)?,
            plan_time: r.get(6)?,
            decisions: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The highest event sequence number so far.
pub fn last_event_seq(conn: &Connection) -> Result<u64, StoreError> {
    let max: Option<i64> = conn.query_row("SELECT MAX(seq) FROM swarm_events", [], |r| r.get(0))?;
    Ok(max.unwrap_or(0).max(0) as u64)
}

/// The number within its task of the attempt with fencing number
/// `attempt`, if it was recorded.
pub fn attempt_number(conn: &Connection, attempt: u64) -> Result<Option<u32>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT number FROM swarm_attempts WHERE id = ?1")?
        .query_row([attempt as i64], |r| r.get(0))
        .optional()?)
}
