//! Each plan's trace (`swarm_traces`): its id, made once at random and
//! kept, so a restart continues the same trace, and how far its spans
//! were exported, so a restart sends again what was not acknowledged.

use rusqlite::{params, Connection, OptionalExtension};

use crate::StoreError;

/// A plan's trace as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceRow {
    /// The plan.
    pub plan_id: i64,
    /// 32 lower-case hex digits (16 random bytes).
    pub trace_id: String,
    /// Sequence number of the last event whose finished spans the
    /// collector acknowledged (0: none yet).
    pub exported_seq: u64,
    /// Sequence number of the plan's first event, where the exporter
    /// starts reading the log (0: not read, see [`first_event`]).
    pub first_seq: u64,
}

/// The trace of `plan_id`, made (with a random id) if the plan has none.
pub fn ensure_trace(conn: &Connection, plan_id: i64) -> Result<TraceRow, StoreError> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO swarm_traces (plan_id, trace_id, exported_seq)
         VALUES (?1, lower(hex(randomblob(16))), 0)",
    )?
    .execute([plan_id])?;
    trace(conn, plan_id)?.ok_or(StoreError::Corrupt {
        table: "swarm_traces",
        detail: format!("no row for plan {plan_id} right after inserting it"),
    })
}

/// The trace of `plan_id`, if it has one.
pub fn trace(conn: &Connection, plan_id: i64) -> Result<Option<TraceRow>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT trace_id, exported_seq FROM swarm_traces WHERE plan_id = ?1")?
        .query_row([plan_id], |r| {
            Ok(TraceRow {
                plan_id,
                trace_id: r.get(0)?,
                exported_seq: r.get::<_, i64>(1)?.max(0) as u64,
                first_seq: 0,
            })
        })
        .optional()?)
}

/// Sequence number of the first event of plan `plan_id`, if it has one
/// (a scan of the log: for the exporter, once when it starts).
pub fn first_event(conn: &Connection, plan_id: i64) -> Result<Option<u64>, StoreError> {
    let seq: Option<i64> = conn.query_row(
        "SELECT MIN(seq) FROM swarm_events WHERE plan_id = ?1",
        [plan_id],
        |r| r.get(0),
    )?;
    Ok(seq.map(|s| s.max(0) as u64))
}

/// Records that the spans of `plan_id` finished by events up to `seq`
/// were exported (never moves backwards).
pub fn set_trace_exported(conn: &Connection, plan_id: i64, seq: u64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE swarm_traces SET exported_seq = MAX(exported_seq, ?2) WHERE plan_id = ?1",
    )?
    .execute(params![plan_id, seq.min(i64::MAX as u64) as i64])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let conn = Connection::open_in_memory().expect("open");
        crate::store::migrate_schema(&conn, ":memory:").expect("migrate");
        conn
    }

    #[test]
    fn a_trace_is_made_once_and_kept() {
        let conn = db();
        let first = ensure_trace(&conn, 1).expect("ensure");
        assert_eq!(first.trace_id.len(), 32);
        assert!(first.trace_id.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(ensure_trace(&conn, 1).expect("again"), first);
        assert_ne!(
            ensure_trace(&conn, 2).expect("other").trace_id,
            first.trace_id
        );
    }

    #[test]
    fn the_export_mark_only_moves_forward() {
        let conn = db();
        ensure_trace(&conn, 1).expect("ensure");
        set_trace_exported(&conn, 1, 40).expect("mark");
        set_trace_exported(&conn, 1, 12).expect("older mark");
        assert_eq!(
            trace(&conn, 1).expect("read").map(|t| t.exported_seq),
            Some(40)
        );
        assert_eq!(trace(&conn, 9).expect("read"), None);
    }

    #[test]
    fn a_plans_first_event_is_found() {
        let conn = db();
        conn.execute_batch(
            "INSERT INTO swarm_events (at, kind, plan_id) VALUES (1, 'plan.loaded', 1);
             INSERT INTO swarm_events (at, kind, plan_id) VALUES (2, 'plan.loaded', 2);
             INSERT INTO swarm_events (at, kind, plan_id) VALUES (3, 'task.ready', 2);",
        )
        .expect("events");
        assert_eq!(first_event(&conn, 2).expect("read"), Some(2));
        assert_eq!(first_event(&conn, 3).expect("read"), None);
    }
}
