//! Creating `memory_entries` in claude-flow v3's layout, and recognising an
//! existing table as v3 or v2 without ever altering it.
//!
//! The v3 DDL reproduces what claude-flow 3.x (`@claude-flow/cli`,
//! `MEMORY_SCHEMA_V3`) creates: the same columns, defaults, CHECK
//! constraints, `UNIQUE(namespace, key)` and the seven `idx_memory_*`
//! indexes. The v2 layout is the one claude-flow 2.0's `SqliteMemoryStore`
//! created in `.swarm/memory.db`: see `V2_TABLE_DDL` (used by tests).

use rusqlite::{Connection, OptionalExtension};

use super::error::KvError;
use super::savepoint;

/// Which layout the existing `memory_entries` table has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// claude-flow v3: TEXT ids `entry_<ms>_<hex>`, a `content` column,
    /// millisecond timestamps, `status` soft deletes, tags, type, provenance.
    V3,
    /// claude-flow v2: INTEGER ids, a `value` column, second timestamps,
    /// a `ttl` column in seconds, hard deletes, no tags/type/provenance.
    V2,
}

/// The v3 table, column for column as claude-flow 3.x declares it.
const V3_TABLE_DDL: &str = "CREATE TABLE memory_entries (
  id TEXT PRIMARY KEY,
  key TEXT NOT NULL,
  namespace TEXT DEFAULT 'default',
  content TEXT NOT NULL,
  type TEXT DEFAULT 'semantic' CHECK(type IN ('semantic', 'episodic', 'procedural', 'working', 'pattern')),
  embedding TEXT,
  embedding_model TEXT DEFAULT 'local',
  embedding_dimensions INTEGER,
  tags TEXT,
  metadata TEXT,
  owner_id TEXT,
  provenance_type TEXT DEFAULT 'unknown' CHECK(provenance_type IN (
    'user_claim', 'agent_output', 'system_observation', 'tool_result', 'unknown'
  )),
  created_at INTEGER NOT NULL DEFAULT (strftime('%s', 'now') * 1000),
  updated_at INTEGER NOT NULL DEFAULT (strftime('%s', 'now') * 1000),
  expires_at INTEGER,
  last_accessed_at INTEGER,
  access_count INTEGER DEFAULT 0,
  status TEXT DEFAULT 'active' CHECK(status IN ('active', 'archived', 'deleted')),
  UNIQUE(namespace, key)
)";

/// The v3 indexes claude-flow creates next to the table.
const V3_INDEX_DDL: [&str; 7] = [
    "CREATE INDEX idx_memory_namespace ON memory_entries(namespace)",
    "CREATE INDEX idx_memory_key ON memory_entries(key)",
    "CREATE INDEX idx_memory_type ON memory_entries(type)",
    "CREATE INDEX idx_memory_status ON memory_entries(status)",
    "CREATE INDEX idx_memory_created ON memory_entries(created_at)",
    "CREATE INDEX idx_memory_accessed ON memory_entries(last_accessed_at)",
    "CREATE INDEX idx_memory_owner ON memory_entries(owner_id)",
];

/// The v2 table as claude-flow 2.0 created it (`src/memory/sqlite-store.js`),
/// with its three indexes. Only tests create it: this module never creates
/// a v2 table, it only reads and writes one it finds.
pub const V2_TABLE_DDL: &str = "CREATE TABLE IF NOT EXISTS memory_entries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  namespace TEXT NOT NULL DEFAULT 'default',
  metadata TEXT,
  created_at INTEGER DEFAULT (strftime('%s', 'now')),
  updated_at INTEGER DEFAULT (strftime('%s', 'now')),
  accessed_at INTEGER DEFAULT (strftime('%s', 'now')),
  access_count INTEGER DEFAULT 0,
  ttl INTEGER,
  expires_at INTEGER,
  UNIQUE(key, namespace)
);
CREATE INDEX IF NOT EXISTS idx_memory_namespace ON memory_entries(namespace);
CREATE INDEX IF NOT EXISTS idx_memory_expires ON memory_entries(expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_memory_accessed ON memory_entries(accessed_at);";

/// Columns this module reads or writes in a v3 table.
const V3_COLUMNS: [&str; 15] = [
    "id",
    "key",
    "namespace",
    "content",
    "type",
    "embedding",
    "embedding_dimensions",
    "tags",
    "metadata",
    "owner_id",
    "provenance_type",
    "created_at",
    "updated_at",
    "expires_at",
    "last_accessed_at",
];

/// Columns (besides the two above) a v3 table must also have.
const V3_MORE_COLUMNS: [&str; 2] = ["access_count", "status"];

/// Columns this module reads or writes in a v2 table.
const V2_COLUMNS: [&str; 11] = [
    "id",
    "key",
    "value",
    "namespace",
    "metadata",
    "created_at",
    "updated_at",
    "accessed_at",
    "access_count",
    "ttl",
    "expires_at",
];

/// Creates the v3 `memory_entries` table and its indexes if there is no
/// `memory_entries` yet; otherwise recognises the existing table's layout.
/// An existing table (and every other table) is never altered.
///
/// # Errors
///
/// [`KvError::UnsupportedLayout`] if `memory_entries` is not a table or
/// lacks columns of both layouts; [`KvError::Sqlite`] if SQLite fails.
pub fn ensure_schema(conn: &Connection) -> Result<Layout, KvError> {
    savepoint(conn, || {
        let kind: Option<String> = conn
            .query_row(
                "SELECT type FROM sqlite_master WHERE name = 'memory_entries'",
                [],
                |row| row.get(0),
            )
            .optional()?;
        match kind.as_deref() {
            None => {
                conn.execute_batch(V3_TABLE_DDL)?;
                for ddl in V3_INDEX_DDL {
                    conn.execute_batch(ddl)?;
                }
                Ok(Layout::V3)
            }
            Some("table") => detect(&columns(conn)?),
            Some(other) => Err(KvError::UnsupportedLayout {
                reason: format!("memory_entries is a {other}, not a table"),
            }),
        }
    })
}

/// The lower-cased column names of `memory_entries`.
fn columns(conn: &Connection) -> Result<Vec<String>, KvError> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info('memory_entries')")?;
    let names = stmt
        .query_map([], |row| row.get::<_, String>(0))?
        .map(|name| name.map(|n| n.to_ascii_lowercase()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(names)
}

/// Decides the layout from the column names.
fn detect(columns: &[String]) -> Result<Layout, KvError> {
    let has = |c: &str| columns.iter().any(|have| have == c);
    let (layout, wanted): (Layout, Vec<&str>) = if has("content") {
        let mut wanted = V3_COLUMNS.to_vec();
        wanted.extend(V3_MORE_COLUMNS);
        (Layout::V3, wanted)
    } else if has("value") {
        (Layout::V2, V2_COLUMNS.to_vec())
    } else {
        return Err(KvError::UnsupportedLayout {
            reason: format!(
                "it has neither a `content` nor a `value` column (columns: {})",
                columns.join(", ")
            ),
        });
    };
    let missing: Vec<&str> = wanted.into_iter().filter(|c| !has(c)).collect();
    if missing.is_empty() {
        Ok(layout)
    } else {
        Err(KvError::UnsupportedLayout {
            reason: format!(
                "it looks like {layout:?} but lacks the columns {}",
                missing.join(", ")
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(cols: &[&str]) -> Vec<String> {
        cols.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn detects_each_layout_by_its_columns() {
        let mut v3 = names(&V3_COLUMNS);
        v3.extend(names(&V3_MORE_COLUMNS));
        assert_eq!(detect(&v3).unwrap(), Layout::V3);
        assert_eq!(detect(&names(&V2_COLUMNS)).unwrap(), Layout::V2);
    }

    #[test]
    fn an_old_v3_without_provenance_is_reported_not_guessed() {
        let v3: Vec<String> = names(&V3_COLUMNS)
            .into_iter()
            .chain(names(&V3_MORE_COLUMNS))
            .filter(|c| c != "provenance_type")
            .collect();
        let msg = detect(&v3).unwrap_err().to_string();
        assert!(msg.contains("provenance_type"), "{msg}");
        let msg = detect(&names(&["id", "blob"])).unwrap_err().to_string();
        assert!(msg.contains("neither"), "{msg}");
    }

    #[test]
    fn a_view_named_memory_entries_is_refused() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE VIEW memory_entries AS SELECT 1 AS content")
            .unwrap();
        let msg = ensure_schema(&conn).unwrap_err().to_string();
        assert!(msg.contains("is a view"), "{msg}");
    }

    #[test]
    fn ensure_schema_is_idempotent_and_finds_v2() {
        let conn = Connection::open_in_memory().unwrap();
        assert_eq!(ensure_schema(&conn).unwrap(), Layout::V3);
        assert_eq!(ensure_schema(&conn).unwrap(), Layout::V3);
        let v2 = Connection::open_in_memory().unwrap();
        v2.execute_batch(V2_TABLE_DDL).unwrap();
        assert_eq!(ensure_schema(&v2).unwrap(), Layout::V2);
    }
}
