//! `memory.db` itself: connections in rollback-journal mode, the probe
//! that says whether the file is sound, reading every row, writing one
//! row whole in the file's own layout (v3, or v2 in seconds with hard
//! deletes), counting reads, and building a fresh file in a temporary
//! file that is then renamed into place.
//!
//! Values are read leniently (an integer where text is expected reads as
//! its text), so an odd row of another tool never makes the file look
//! broken.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, Row as SqlRow};

use super::row::Row;
use crate::kv::{self, KvError, Layout};

/// Smaller than this, the file is an SQLite header being written.
const MIN_SQLITE_BYTES: u64 = 100;

/// Why the file cannot be used now.
#[derive(Debug)]
pub(super) enum Probe {
    /// Locked by another process past the busy timeout.
    Busy,
    /// Laid out unlike claude-flow's: left untouched.
    Unsupported(KvError),
    /// Missing pieces or garbage: maybe half-written, maybe broken.
    Unreadable(String),
}

impl From<rusqlite::Error> for Probe {
    fn from(e: rusqlite::Error) -> Self {
        if is_busy(&e) {
            Probe::Busy
        } else {
            Probe::Unreadable(e.to_string())
        }
    }
}

impl From<KvError> for Probe {
    fn from(e: KvError) -> Self {
        match e {
            KvError::Sqlite(e) => e.into(),
            other => Probe::Unsupported(other),
        }
    }
}

/// Whether SQLite said another connection holds the lock.
pub(super) fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// A connection to `path` in rollback-journal mode, waiting `busy` for
/// locks.
pub(super) fn connect(path: &Path, busy: Duration) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    // Created 0600 the first time: its journal files take its mode.
    let _ = crate::store::private(path);
    conn.busy_timeout(busy)?;
    conn.pragma_update(None, "journal_mode", "DELETE")?;
    // The file is a replica: what swarmd acknowledged is durable in
    // swarmd.db, and a file a crash left broken is rebuilt from there.
    // Without syncs a commit is a few writes, which keeps the moment a
    // whole-file writer can land in the middle of it as short as it gets.
    conn.pragma_update(None, "synchronous", "OFF")?;
    // Nothing reaches the file before the commit, so a fingerprint taken
    // just before it still says whether someone else wrote meanwhile.
    conn.pragma_update(None, "cache_spill", false)?;
    Ok(conn)
}

/// Opens the file, makes sure `memory_entries` is there and looks at
/// every page once.
pub(super) fn probe(path: &Path, busy: Duration) -> Result<(Connection, Layout), Probe> {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if size < MIN_SQLITE_BYTES {
        return Err(Probe::Unreadable(format!(
            "the file is {size} bytes, less than an SQLite header"
        )));
    }
    let conn = connect(path, busy)?;
    let layout = kv::ensure_schema(&conn)?;
    let verdict: String = conn.query_row("PRAGMA quick_check(1)", [], |r| r.get(0))?;
    if verdict != "ok" {
        return Err(Probe::Unreadable(format!("quick_check: {verdict}")));
    }
    Ok((conn, layout))
}

const V3_COLUMNS: &str = "id, namespace, key, content, type, embedding, embedding_model, \
    embedding_dimensions, tags, metadata, owner_id, provenance_type, created_at, updated_at, \
    expires_at, last_accessed_at, access_count, status";

const V2_COLUMNS: &str =
    "id, namespace, key, value, metadata, created_at, updated_at, expires_at, accessed_at, access_count";

fn text(r: &SqlRow<'_>, i: usize) -> rusqlite::Result<Option<String>> {
    Ok(match r.get_ref(i)? {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(x) => Some(x.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    })
}

fn int(r: &SqlRow<'_>, i: usize) -> rusqlite::Result<Option<i64>> {
    Ok(match r.get_ref(i)? {
        ValueRef::Integer(n) => Some(n),
        ValueRef::Real(x) => Some(x as i64),
        ValueRef::Text(t) => std::str::from_utf8(t)
            .ok()
            .and_then(|s| s.trim().parse().ok()),
        ValueRef::Null | ValueRef::Blob(_) => None,
    })
}

fn v3_row(r: &SqlRow<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: text(r, 0)?.unwrap_or_default(),
        namespace: text(r, 1)?.unwrap_or_else(|| kv::DEFAULT_NAMESPACE.into()),
        key: text(r, 2)?.unwrap_or_default(),
        content: text(r, 3)?.unwrap_or_default(),
        kind: text(r, 4)?,
        embedding: text(r, 5)?,
        embedding_model: text(r, 6)?,
        embedding_dimensions: int(r, 7)?,
        tags: text(r, 8)?,
        metadata: text(r, 9)?,
        owner_id: text(r, 10)?,
        provenance: text(r, 11)?,
        created_at: int(r, 12)?.unwrap_or(0),
        updated_at: int(r, 13)?.unwrap_or(0),
        expires_at: int(r, 14)?,
        last_accessed_at: int(r, 15)?,
        access_count: int(r, 16)?.unwrap_or(0),
        status: text(r, 17)?.unwrap_or_else(|| "active".into()),
    })
}

fn v2_row(r: &SqlRow<'_>) -> rusqlite::Result<Row> {
    let ms = |i| int(r, i).map(|s| s.map(|s| s.saturating_mul(1000)));
    let created_at = ms(5)?.unwrap_or(0);
    Ok(Row {
        id: text(r, 0)?.unwrap_or_default(),
        namespace: text(r, 1)?.unwrap_or_else(|| kv::DEFAULT_NAMESPACE.into()),
        key: text(r, 2)?.unwrap_or_default(),
        content: text(r, 3)?.unwrap_or_default(),
        kind: None,
        embedding: None,
        embedding_model: None,
        embedding_dimensions: None,
        tags: None,
        metadata: text(r, 4)?,
        owner_id: None,
        provenance: None,
        created_at,
        updated_at: ms(6)?.unwrap_or(created_at),
        expires_at: ms(7)?,
        last_accessed_at: ms(8)?,
        access_count: int(r, 9)?.unwrap_or(0),
        status: "active".into(),
    })
}

/// Every row of `memory_entries`.
pub(super) fn read_all(conn: &Connection, layout: Layout) -> rusqlite::Result<Vec<Row>> {
    let (sql, map): (String, fn(&SqlRow<'_>) -> rusqlite::Result<Row>) = match layout {
        Layout::V3 => (format!("SELECT {V3_COLUMNS} FROM memory_entries"), v3_row),
        Layout::V2 => (format!("SELECT {V2_COLUMNS} FROM memory_entries"), v2_row),
    };
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], map)?;
    rows.collect()
}

/// The row of one key.
pub(super) fn read_one(
    conn: &Connection,
    layout: Layout,
    namespace: &str,
    key: &str,
) -> rusqlite::Result<Option<Row>> {
    let (cols, map): (&str, fn(&SqlRow<'_>) -> rusqlite::Result<Row>) = match layout {
        Layout::V3 => (V3_COLUMNS, v3_row),
        Layout::V2 => (V2_COLUMNS, v2_row),
    };
    let sql = format!("SELECT {cols} FROM memory_entries WHERE namespace = ?1 AND key = ?2");
    conn.prepare_cached(&sql)?
        .query_row(params![namespace, key], map)
        .optional()
}

/// Writes `row` whole over whatever the file holds for its key (a v2
/// tombstone is a row delete); returns the id the row has in the file,
/// which differs from `row.id` when that id is taken or not a v2 number.
pub(super) fn write(conn: &Connection, layout: Layout, row: &Row) -> rusqlite::Result<String> {
    conn.prepare_cached("DELETE FROM memory_entries WHERE namespace = ?1 AND key = ?2")?
        .execute(params![row.namespace, row.key])?;
    let taken = |id: &str| -> rusqlite::Result<bool> {
        Ok(conn
            .prepare_cached("SELECT 1 FROM memory_entries WHERE id = ?1")?
            .query_row([id], |_| Ok(()))
            .optional()?
            .is_some())
    };
    match layout {
        Layout::V3 => {
            let id = if row.id.is_empty() || taken(&row.id)? {
                kv::new_entry_id(row.created_at)
            } else {
                row.id.clone()
            };
            conn.prepare_cached(&format!(
                "INSERT INTO memory_entries ({V3_COLUMNS}) VALUES
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
            ))?
            .execute(params![
                id,
                row.namespace,
                row.key,
                row.content,
                row.kind,
                row.embedding,
                row.embedding_model,
                row.embedding_dimensions,
                row.tags,
                row.metadata,
                row.owner_id,
                row.provenance,
                row.created_at,
                row.updated_at,
                row.expires_at,
                row.last_accessed_at,
                row.access_count,
                row.status,
            ])?;
            Ok(id)
        }
        Layout::V2 if row.deleted() => Ok(row.id.clone()),
        Layout::V2 => write_v2(conn, row, taken),
    }
}

fn write_v2(
    conn: &Connection,
    row: &Row,
    taken: impl Fn(&str) -> rusqlite::Result<bool>,
) -> rusqlite::Result<String> {
    let id = match row.id.parse::<i64>() {
        Ok(n) if !taken(&row.id)? => Some(n),
        _ => None,
    };
    let s = |ms: i64| ms.div_euclid(1000);
    let ttl = row
        .expires_at
        .map(|at| (at - row.updated_at).saturating_add(999).div_euclid(1000));
    conn.prepare_cached(
        "INSERT INTO memory_entries (id, key, value, namespace, metadata, created_at,
           updated_at, accessed_at, access_count, ttl, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        id,
        row.key,
        row.content,
        row.namespace,
        row.metadata,
        s(row.created_at),
        s(row.updated_at),
        row.last_accessed_at.map(s),
        row.access_count,
        ttl,
        row.expires_at.map(s),
    ])?;
    Ok(conn.last_insert_rowid().to_string())
}

/// Counts `reads` more reads of a key, the last at `at_ms`.
pub(super) fn count_reads(
    conn: &Connection,
    layout: Layout,
    row: &Row,
    reads: i64,
    at_ms: Option<i64>,
) -> rusqlite::Result<()> {
    let (sql, at) = match layout {
        Layout::V3 => (
            "UPDATE memory_entries SET access_count = COALESCE(access_count, 0) + ?3,
               last_accessed_at = MAX(COALESCE(last_accessed_at, 0), COALESCE(?4, 0))
             WHERE namespace = ?1 AND key = ?2",
            at_ms,
        ),
        Layout::V2 => (
            "UPDATE memory_entries SET access_count = COALESCE(access_count, 0) + ?3,
               accessed_at = MAX(COALESCE(accessed_at, 0), COALESCE(?4, 0))
             WHERE namespace = ?1 AND key = ?2",
            at_ms.map(|ms| ms.div_euclid(1000)),
        ),
    };
    conn.prepare_cached(sql)?
        .execute(params![row.namespace, row.key, reads, at])?;
    Ok(())
}

/// Builds a fresh file in `layout` holding `rows` at a temporary path
/// beside `path` (synced to disk); returns that path, to be renamed into
/// place.
///
/// # Errors
/// What failed, naming the temporary file.
pub(super) fn build(path: &Path, layout: Layout, rows: &[Row]) -> Result<PathBuf, String> {
    let tmp = PathBuf::from(format!("{}.rebuild-{}", path.display(), std::process::id()));
    let failed = |e: &dyn std::fmt::Display| format!("cannot build {}: {e}", tmp.display());
    for ext in ["", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{ext}", tmp.display()));
    }
    let mut conn = connect(&tmp, Duration::from_secs(1)).map_err(|e| failed(&e))?;
    match layout {
        Layout::V3 => kv::ensure_schema(&conn)
            .map(|_| ())
            .map_err(|e| failed(&e))?,
        Layout::V2 => conn
            .execute_batch(kv::V2_TABLE_DDL)
            .map_err(|e| failed(&e))?,
    }
    let tx = conn.transaction().map_err(|e| failed(&e))?;
    for row in rows {
        write(&tx, layout, row).map_err(|e| failed(&e))?;
    }
    tx.commit().map_err(|e| failed(&e))?;
    drop(conn);
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| failed(&e))?;
    Ok(tmp)
}
