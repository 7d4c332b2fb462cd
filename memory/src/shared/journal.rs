//! The journal of memory writes swarmd acknowledged, kept in `swarmd.db`
//! (table `swarm_memory_journal`): the last acknowledged write or delete of
//! each key, so that a `memory.db` that lost it — rewritten whole by
//! another tool, or rebuilt after it broke — gets it back.
//!
//! Bounded: rows older than the retention, and the oldest beyond the
//! maximum count, are pruned.

use rusqlite::{params, Connection, OptionalExtension};

/// What swarmd acknowledged for one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acked {
    /// Namespace.
    pub namespace: String,
    /// Key.
    pub key: String,
    /// The value written, or `None` for a delete.
    pub value: Option<String>,
    /// Tags written with it.
    pub tags: Vec<String>,
    /// When the entry expires, ms (None: never).
    pub expires_at_ms: Option<i64>,
    /// Who wrote it.
    pub owner: Option<String>,
    /// When swarmd acknowledged it, ms.
    pub acked_at_ms: i64,
}

/// How much of the journal is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Rows older than this many ms are pruned.
    pub max_age_ms: i64,
    /// At most this many rows are kept (the newest).
    pub max_rows: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            max_age_ms: 24 * 3_600_000,
            max_rows: 100_000,
        }
    }
}

/// Records an acknowledged write or delete (replacing the key's earlier
/// one). Another process holding `swarmd.db`'s write lock is waited out,
/// as the scheduler waits it out: the write it records is already in
/// `memory.db`, and is acknowledged once recorded.
pub fn record(conn: &Connection, a: &Acked) -> rusqlite::Result<()> {
    loop {
        match insert(conn, a) {
            Err(e)
                if matches!(
                    e.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                ) => {}
            other => return other,
        }
    }
}

fn insert(conn: &Connection, a: &Acked) -> rusqlite::Result<()> {
    let tags = serde_json::to_string(&a.tags).unwrap_or_else(|_| "[]".into());
    conn.prepare_cached(
        "INSERT OR REPLACE INTO swarm_memory_journal
         (namespace, key, value, tags, expires_at, owner, acked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        a.namespace,
        a.key,
        a.value,
        tags,
        a.expires_at_ms,
        a.owner,
        a.acked_at_ms
    ])?;
    Ok(())
}

/// Every journalled key, oldest acknowledgement first.
pub fn all(conn: &Connection) -> rusqlite::Result<Vec<Acked>> {
    let mut stmt = conn.prepare_cached(
        "SELECT namespace, key, value, tags, expires_at, owner, acked_at
         FROM swarm_memory_journal ORDER BY acked_at, namespace, key",
    )?;
    let rows = stmt.query_map([], |r| {
        let tags: String = r.get(3)?;
        Ok(Acked {
            namespace: r.get(0)?,
            key: r.get(1)?,
            value: r.get(2)?,
            tags: serde_json::from_str(&tags).unwrap_or_default(),
            expires_at_ms: r.get(4)?,
            owner: r.get(5)?,
            acked_at_ms: r.get(6)?,
        })
    })?;
    rows.collect()
}

/// Prunes what the retention no longer keeps; returns the rows removed.
pub fn prune(conn: &Connection, keep: Retention, now_ms: i64) -> rusqlite::Result<usize> {
    let mut removed = conn.execute(
        "DELETE FROM swarm_memory_journal WHERE acked_at < ?1",
        params![now_ms.saturating_sub(keep.max_age_ms)],
    )?;
    let count: i64 = conn.query_row("SELECT COUNT(*) FROM swarm_memory_journal", [], |r| {
        r.get(0)
    })?;
    let max = i64::try_from(keep.max_rows).unwrap_or(i64::MAX);
    if count > max {
        let cutoff: Option<i64> = conn
            .query_row(
                "SELECT acked_at FROM swarm_memory_journal ORDER BY acked_at DESC LIMIT 1 OFFSET ?1",
                params![max],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(cutoff) = cutoff {
            removed += conn.execute(
                "DELETE FROM swarm_memory_journal WHERE acked_at <= ?1",
                params![cutoff],
            )?;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connection with the state schema, journal included.
    fn journal() -> Connection {
        let conn = Connection::open_in_memory().expect("conn");
        crate::store::migrate_schema(&conn, ":memory:").expect("schema");
        conn
    }

    fn acked(key: &str, at: i64) -> Acked {
        Acked {
            namespace: "default".into(),
            key: key.into(),
            value: Some(format!("v-{key}")),
            tags: vec!["t".into()],
            expires_at_ms: None,
            owner: Some("sre-1".into()),
            acked_at_ms: at,
        }
    }

    #[test]
    fn the_last_acknowledgement_of_a_key_is_kept() {
        let conn = journal();
        record(&conn, &acked("a", 1)).expect("record");
        let mut delete = acked("a", 2);
        delete.value = None;
        record(&conn, &delete).expect("record");
        record(&conn, &acked("b", 3)).expect("record");
        let all = all(&conn).expect("all");
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].key, "a");
        assert_eq!(all[0].value, None, "the delete replaced the write");
        assert_eq!(all[1].tags, ["t"]);
    }

    #[test]
    fn pruning_keeps_the_newest_within_age_and_count() {
        let conn = journal();
        for i in 0..10 {
            record(&conn, &acked(&format!("k{i}"), 1_000 + i)).expect("record");
        }
        let keep = Retention {
            max_age_ms: 1_000,
            max_rows: 4,
        };
        // At 2,003 the first three are older than a second.
        let removed = prune(&conn, keep, 2_003).expect("prune");
        let left: Vec<String> = all(&conn)
            .expect("all")
            .into_iter()
            .map(|a| a.key)
            .collect();
        assert_eq!(left, ["k6", "k7", "k8", "k9"]);
        assert_eq!(removed, 6);
    }
}
