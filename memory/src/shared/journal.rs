//! swarmd's copy of `memory.db`'s rows, kept in `swarmd.db` (table
//! `swarm_memory_rows`): every `memory_entries` row — swarmd's own and
//! every other tool's, as last read from the file — with who wrote it
//! last, whether the file still lacks it, and the reads the file has not
//! counted yet. Memory calls are answered from here.
//!
//! One writer: the shared-memory worker, on its own connection, is the
//! only writer of `swarm_memory_rows` (the scheduler loop writes the other
//! `swarm_*` tables and never this one; backups only read it).
//!
//! Bounded by [`Retention`]: tombstones are forgotten once older than the
//! retention or beyond its count, and swarmd's claim on a row it wrote —
//! "if the file drops it, that is a lost update" — lapses the same way,
//! after which the file decides (a row that disappears was deleted).

use rusqlite::{named_params, params, Connection, OptionalExtension, Row as SqlRow};

use super::row::{Row, DELETED};

/// How much swarmd remembers of what it wrote and of deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Tombstones and swarmd's claims older than this many ms lapse.
    pub max_age_ms: i64,
    /// At most this many tombstones, and this many claims, are kept (the
    /// newest).
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

/// Who wrote a row's version last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// swarmd acknowledged it: a file that drops it lost an update.
    Swarmd,
    /// Another tool wrote it (or swarmd's claim lapsed): the file decides.
    Other,
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Origin::Swarmd => "swarmd",
            Origin::Other => "other",
        }
    }
}

/// One row of the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    /// The row as swarmd knows it.
    pub row: Row,
    /// Who wrote this version.
    pub origin: Origin,
    /// This version is not in the file yet.
    pub pending: bool,
    /// Reads answered here that the file has not counted yet.
    pub reads: i64,
}

const COLUMNS: &str = "id, namespace, key, content, type, embedding, embedding_model, \
    embedding_dimensions, tags, metadata, owner_id, provenance_type, created_at, updated_at, \
    expires_at, last_accessed_at, access_count, status, origin, pending, reads";

fn from_sql(r: &SqlRow<'_>) -> rusqlite::Result<Kept> {
    let origin: String = r.get(18)?;
    Ok(Kept {
        row: Row {
            id: r.get(0)?,
            namespace: r.get(1)?,
            key: r.get(2)?,
            content: r.get(3)?,
            kind: r.get(4)?,
            embedding: r.get(5)?,
            embedding_model: r.get(6)?,
            embedding_dimensions: r.get(7)?,
            tags: r.get(8)?,
            metadata: r.get(9)?,
            owner_id: r.get(10)?,
            provenance: r.get(11)?,
            created_at: r.get(12)?,
            updated_at: r.get(13)?,
            expires_at: r.get(14)?,
            last_accessed_at: r.get(15)?,
            access_count: r.get(16)?,
            status: r.get(17)?,
        },
        origin: if origin == "swarmd" {
            Origin::Swarmd
        } else {
            Origin::Other
        },
        pending: r.get(19)?,
        reads: r.get(20)?,
    })
}

/// The copy of one key, whatever its state.
pub fn find(conn: &Connection, namespace: &str, key: &str) -> rusqlite::Result<Option<Kept>> {
    let sql = format!("SELECT {COLUMNS} FROM swarm_memory_rows WHERE namespace = ?1 AND key = ?2");
    conn.prepare_cached(&sql)?
        .query_row(params![namespace, key], from_sql)
        .optional()
}

/// Every row of the copy.
pub fn all(conn: &Connection) -> rusqlite::Result<Vec<Kept>> {
    let sql = format!("SELECT {COLUMNS} FROM swarm_memory_rows");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([], from_sql)?;
    rows.collect()
}

/// The rows the file has not caught up with: pending writes and uncounted
/// reads.
pub fn unsent(conn: &Connection) -> rusqlite::Result<Vec<Kept>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM swarm_memory_rows WHERE pending = 1 OR reads > 0 LIMIT 5000"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([], from_sql)?;
    rows.collect()
}

/// How many writes the file still lacks.
pub fn pending_count(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row(
        "SELECT COUNT(*) FROM swarm_memory_rows WHERE pending = 1",
        [],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| u64::try_from(n).unwrap_or(0))
}

/// Live rows, by namespace then key, at most `limit`.
pub fn live(
    conn: &Connection,
    namespace: Option<&str>,
    prefix: Option<&str>,
    now_ms: i64,
    limit: i64,
) -> rusqlite::Result<Vec<Kept>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM swarm_memory_rows
         WHERE status = 'active' AND (expires_at IS NULL OR expires_at > :now)
           AND (:ns IS NULL OR namespace = :ns)
           AND (:prefix IS NULL OR substr(key, 1, length(:prefix)) = :prefix)
         ORDER BY namespace, key LIMIT :limit"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        named_params! { ":now": now_ms, ":ns": namespace, ":prefix": prefix, ":limit": limit },
        from_sql,
    )?;
    rows.collect()
}

/// Stores one row of the copy (replacing the key's earlier one).
pub fn save(conn: &Connection, k: &Kept) -> rusqlite::Result<()> {
    let r = &k.row;
    conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO swarm_memory_rows ({COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                 ?18, ?19, ?20, ?21)"
    ))?
    .execute(params![
        r.id,
        r.namespace,
        r.key,
        r.content,
        r.kind,
        r.embedding,
        r.embedding_model,
        r.embedding_dimensions,
        r.tags,
        r.metadata,
        r.owner_id,
        r.provenance,
        r.created_at,
        r.updated_at,
        r.expires_at,
        r.last_accessed_at,
        r.access_count,
        r.status,
        k.origin.as_str(),
        k.pending,
        k.reads,
    ])?;
    Ok(())
}

/// Records that the file now holds this version of the key (under `id`)
/// and has counted `reads` of the reads answered here.
pub fn sent(
    conn: &Connection,
    namespace: &str,
    key: &str,
    id: &str,
    reads: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE swarm_memory_rows SET pending = 0, id = ?3, reads = MAX(reads - ?4, 0)
         WHERE namespace = ?1 AND key = ?2",
    )?
    .execute(params![namespace, key, id, reads])?;
    Ok(())
}

/// Forgets what the retention no longer keeps; returns the tombstones
/// removed and the claims lapsed.
pub fn prune(conn: &Connection, keep: Retention, now_ms: i64) -> rusqlite::Result<usize> {
    let cutoff = now_ms.saturating_sub(keep.max_age_ms);
    let max = i64::try_from(keep.max_rows).unwrap_or(i64::MAX);
    let tx = conn.unchecked_transaction()?;
    let mut done = tx.execute(
        "DELETE FROM swarm_memory_rows WHERE pending = 0 AND (
           (status = ?1 AND updated_at < ?2) OR (expires_at IS NOT NULL AND expires_at < ?2))",
        params![DELETED, cutoff],
    )?;
    done += tx.execute(
        "DELETE FROM swarm_memory_rows WHERE pending = 0 AND status = ?1 AND rowid IN (
           SELECT rowid FROM swarm_memory_rows WHERE status = ?1
           ORDER BY updated_at DESC LIMIT -1 OFFSET ?2)",
        params![DELETED, max],
    )?;
    done += tx.execute(
        "UPDATE swarm_memory_rows SET origin = 'other'
         WHERE origin = 'swarmd' AND pending = 0 AND updated_at < ?1",
        params![cutoff],
    )?;
    done += tx.execute(
        "UPDATE swarm_memory_rows SET origin = 'other' WHERE pending = 0 AND rowid IN (
           SELECT rowid FROM swarm_memory_rows WHERE origin = 'swarmd'
           ORDER BY updated_at DESC LIMIT -1 OFFSET ?1)",
        params![max],
    )?;
    tx.commit()?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::super::row::tests::row;
    use super::*;

    fn copy() -> Connection {
        let conn = Connection::open_in_memory().expect("conn");
        crate::store::migrate_schema(&conn, ":memory:").expect("schema");
        conn
    }

    fn kept(key: &str, at: i64, deleted: bool, origin: Origin) -> Kept {
        let mut r = row(key, "v", at);
        if deleted {
            r.status = DELETED.into();
        }
        Kept {
            row: r,
            origin,
            pending: false,
            reads: 0,
        }
    }

    #[test]
    fn rows_round_trip_and_pending_ones_are_found() {
        let conn = copy();
        let mut a = kept("a", 1, false, Origin::Swarmd);
        a.pending = true;
        save(&conn, &a).expect("save");
        save(&conn, &kept("b", 2, false, Origin::Other)).expect("save");
        assert_eq!(find(&conn, "default", "a").expect("find"), Some(a.clone()));
        assert_eq!(unsent(&conn).expect("unsent"), vec![a]);
        assert_eq!(pending_count(&conn).expect("count"), 1);
        sent(&conn, "default", "a", "entry_9", 0).expect("sent");
        let a = find(&conn, "default", "a").expect("find").expect("row");
        assert!(!a.pending);
        assert_eq!(a.row.id, "entry_9");
        assert_eq!(live(&conn, None, None, 10, 10).expect("live").len(), 2);
    }

    #[test]
    fn tombstones_expire_and_claims_lapse_by_the_retention() {
        let conn = copy();
        for i in 0..6 {
            save(
                &conn,
                &kept(&format!("gone{i}"), 1_000 + i, true, Origin::Swarmd),
            )
            .expect("save");
        }
        save(&conn, &kept("mine", 1_000, false, Origin::Swarmd)).expect("save");
        save(&conn, &kept("fresh", 1_900, false, Origin::Swarmd)).expect("save");
        let keep = Retention {
            max_age_ms: 1_000,
            max_rows: 3,
        };
        // At 2,003 the tombstones of 1,000..1,002 are past a second old,
        // and of the three left only the newest... three are kept.
        prune(&conn, keep, 2_003).expect("prune");
        let tombs: Vec<String> = all(&conn)
            .expect("all")
            .into_iter()
            .filter(|k| k.row.deleted())
            .map(|k| k.row.key)
            .collect();
        assert_eq!(tombs, ["gone3", "gone4", "gone5"]);
        let mine = find(&conn, "default", "mine").expect("find").expect("row");
        assert_eq!(mine.origin, Origin::Other, "the claim lapsed");
        assert!(!mine.row.deleted(), "the row itself stays");
        let fresh = find(&conn, "default", "fresh").expect("find").expect("row");
        assert_eq!(fresh.origin, Origin::Swarmd);
        keep_count_bounds_claims(&conn);
    }

    #[test]
    fn the_old_journal_comes_along_as_swarmds_own_rows() {
        let conn = Connection::open_in_memory().expect("conn");
        // A swarmd.db at version 6 (only the tables that matter here:
        // the journal, and the attempts and events later migrations add
        // to).
        conn.execute_batch(
            "CREATE TABLE swarm_attempts (id INTEGER PRIMARY KEY);
             CREATE TABLE swarm_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,
               kind TEXT NOT NULL, plan_id INTEGER, task_id TEXT, attempt INTEGER,
               agent_id TEXT, message TEXT NOT NULL DEFAULT '');
             CREATE TABLE swarm_memory_journal (namespace TEXT NOT NULL, key TEXT NOT NULL,
               value TEXT, tags TEXT NOT NULL DEFAULT '[]', expires_at INTEGER, owner TEXT,
               acked_at INTEGER NOT NULL, PRIMARY KEY (namespace, key));
             INSERT INTO swarm_memory_journal VALUES ('default', 'kept', 'v', '[\"t\"]', NULL, 'sre-1', 7);
             INSERT INTO swarm_memory_journal VALUES ('default', 'gone', NULL, '[]', NULL, NULL, 8);
             PRAGMA user_version = 6;",
        )
        .expect("v6");
        crate::store::migrate_schema(&conn, ":memory:").expect("migrate");
        let kept = find(&conn, "default", "kept").expect("find").expect("row");
        assert_eq!(kept.origin, Origin::Swarmd);
        assert_eq!(kept.row.content, "v");
        assert_eq!(kept.row.updated_at, 7);
        assert_eq!(kept.row.tags.as_deref(), Some("[\"t\"]"));
        let gone = find(&conn, "default", "gone").expect("find").expect("row");
        assert!(gone.row.deleted(), "a journalled delete is a tombstone");
        let old: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'swarm_memory_journal'",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(old, 0, "one place for the copy");
    }

    fn keep_count_bounds_claims(conn: &Connection) {
        for i in 0..5 {
            save(
                conn,
                &kept(&format!("c{i}"), 5_000 + i, false, Origin::Swarmd),
            )
            .expect("save");
        }
        let keep = Retention {
            max_age_ms: 1_000_000,
            max_rows: 2,
        };
        prune(conn, keep, 5_010).expect("prune");
        let claims = all(conn)
            .expect("all")
            .into_iter()
            .filter(|k| k.origin == Origin::Swarmd)
            .count();
        assert_eq!(claims, 2, "only the newest claims are kept");
    }
}
