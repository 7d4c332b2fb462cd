//! `.swarm/memory.db` as the tests read it: with plain SQLite, read-only,
//! never through swarmd.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

/// `DIR/.swarm/memory.db`.
pub fn memory_db(dir: &Path) -> PathBuf {
    dir.join(".swarm/memory.db")
}

/// Live `namespace/key -> content` of `memory_entries`; `None` when the
/// file cannot be read as a database (missing, or caught half-written).
pub fn live_values(path: &Path) -> Option<BTreeMap<String, String>> {
    let db = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    let mut stmt = db
        .prepare(
            "SELECT namespace || '/' || key, content FROM memory_entries WHERE status = 'active'",
        )
        .ok()?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .ok()?;
    rows.collect::<Result<_, _>>().ok()
}
