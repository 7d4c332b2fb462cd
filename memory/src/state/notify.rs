//! Notifications (`[[notify]]` in swarmd's config): where each entry
//! started reading the event log (`swarm_notify_entries`: a new entry
//! starts at the log's end, so adding one does not send the past) and
//! each delivery of an event to an entry (`swarm_notify_deliveries`).
//! An entry delivers in order, so everything up to its last delivered
//! event is done: a restart resumes after it, retrying the one pending.

use rusqlite::{params, Connection, OptionalExtension};

use crate::StoreError;

/// A delivery's status, as stored.
pub const DELIVERED: &str = "delivered";
/// Being tried (the last try failed).
pub const PENDING: &str = "pending";

/// One delivery of one event to one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRow {
    /// The entry's name (its `name`, else its place in the file).
    pub entry: String,
    /// The event's sequence number.
    pub seq: u64,
    /// The event's kind.
    pub kind: String,
    /// [`DELIVERED`] or [`PENDING`].
    pub status: String,
    /// Tries so far.
    pub attempts: u32,
    /// What the last failed try said ('' when none failed).
    pub last_error: String,
    /// When it was last tried, ms.
    pub at: i64,
}

/// Where an entry resumes: after `after`, with the delivery that was
/// being tried, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyResume {
    /// Every event up to this one is done for the entry.
    pub after: u64,
    /// The pending delivery after it: (sequence number, tries so far).
    pub pending: Option<(u64, u32)>,
}

/// Opens entry `entry` (first time: it starts at the log's end) and says
/// where it resumes.
pub fn open_notify_entry(
    conn: &Connection,
    entry: &str,
    now: i64,
) -> Result<NotifyResume, StoreError> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO swarm_notify_entries (entry, since, added_at)
         VALUES (?1, (SELECT COALESCE(MAX(seq), 0) FROM swarm_events), ?2)",
    )?
    .execute(params![entry, now])?;
    let since: i64 = conn
        .prepare_cached("SELECT since FROM swarm_notify_entries WHERE entry = ?1")?
        .query_row([entry], |r| r.get(0))?;
    let delivered: Option<i64> = conn
        .prepare_cached(
            "SELECT MAX(seq) FROM swarm_notify_deliveries WHERE entry = ?1 AND status = ?2",
        )?
        .query_row(params![entry, DELIVERED], |r| r.get(0))?;
    let after = since.max(delivered.unwrap_or(0)).max(0) as u64;
    let pending = conn
        .prepare_cached(
            "SELECT seq, attempts FROM swarm_notify_deliveries
             WHERE entry = ?1 AND status = ?2 AND seq > ?3 ORDER BY seq LIMIT 1",
        )?
        .query_row(params![entry, PENDING, after as i64], |r| {
            Ok((r.get::<_, i64>(0)?.max(0) as u64, r.get::<_, u32>(1)?))
        })
        .optional()?;
    Ok(NotifyResume { after, pending })
}

/// Records a delivery (a later record of the same one replaces it).
pub fn record_delivery(conn: &Connection, d: &DeliveryRow) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO swarm_notify_deliveries (entry, seq, kind, status, attempts, last_error, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (entry, seq) DO UPDATE SET kind = excluded.kind, status = excluded.status,
           attempts = excluded.attempts, last_error = excluded.last_error, at = excluded.at",
    )?
    .execute(params![
        d.entry,
        d.seq.min(i64::MAX as u64) as i64,
        d.kind,
        d.status,
        d.attempts,
        d.last_error,
        d.at
    ])?;
    Ok(())
}

/// The name of plan `plan_id`, if it is stored.
pub fn plan_name(conn: &Connection, plan_id: i64) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT name FROM swarm_plans WHERE id = ?1")?
        .query_row([plan_id], |r| r.get(0))
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let conn = Connection::open_in_memory().expect("open");
        crate::store::migrate_schema(&conn, ":memory:").expect("migrate");
        conn
    }

    fn delivery(seq: u64, status: &str, attempts: u32) -> DeliveryRow {
        DeliveryRow {
            entry: "ops".into(),
            seq,
            kind: "task.failed".into(),
            status: status.into(),
            attempts,
            last_error: String::new(),
            at: 5,
        }
    }

    #[test]
    fn a_new_entry_starts_at_the_end_of_the_log_and_keeps_that_start() {
        let conn = db();
        conn.execute_batch(
            "INSERT INTO swarm_events (at, kind) VALUES (1, 'plan.loaded');
             INSERT INTO swarm_events (at, kind) VALUES (2, 'task.ready');",
        )
        .expect("events");
        let first = open_notify_entry(&conn, "ops", 10).expect("open");
        assert_eq!(
            first,
            NotifyResume {
                after: 2,
                pending: None
            }
        );
        conn.execute_batch("INSERT INTO swarm_events (at, kind) VALUES (3, 'task.failed');")
            .expect("event");
        assert_eq!(open_notify_entry(&conn, "ops", 20).expect("again").after, 2);
        assert_eq!(open_notify_entry(&conn, "other", 20).expect("new").after, 3);
    }

    #[test]
    fn an_entry_resumes_after_its_last_delivery_with_the_pending_one() {
        let conn = db();
        open_notify_entry(&conn, "ops", 1).expect("open");
        record_delivery(&conn, &delivery(4, PENDING, 1)).expect("pending");
        record_delivery(&conn, &delivery(4, DELIVERED, 2)).expect("delivered");
        record_delivery(&conn, &delivery(9, PENDING, 3)).expect("pending");
        let resume = open_notify_entry(&conn, "ops", 2).expect("resume");
        assert_eq!(
            resume,
            NotifyResume {
                after: 4,
                pending: Some((9, 3))
            }
        );
        let status: String = conn
            .query_row(
                "SELECT status FROM swarm_notify_deliveries WHERE entry = 'ops' AND seq = 4",
                [],
                |r| r.get(0),
            )
            .expect("row");
        assert_eq!(status, DELIVERED);
    }
}
