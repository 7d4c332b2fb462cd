//! Moving a workdir from the single-file layout — the coordinator's
//! `swarm_*` tables inside `memory.db`, next to claude-flow's — to two
//! files: the state in `swarmd.db`, the shared memory alone in
//! `memory.db`.
//!
//! One transaction per file: the tables are copied into `swarmd.db`, then
//! dropped from `memory.db`. Interrupted after the first, the next start
//! finds the state already in `swarmd.db` and only finishes the second.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension};

use crate::store::{migrate_schema, Store};
use crate::StoreError;

/// The coordinator's tables, as the single-file layout held them.
pub const STATE_TABLES: [&str; 10] = [
    "swarm_plans",
    "swarm_tasks",
    "swarm_dependencies",
    "swarm_attempts",
    "swarm_agents",
    "swarm_events",
    "swarm_logs",
    "swarm_checkpoints",
    "swarm_memory_rows",
    "swarm_results",
];

/// What [`split_single_file`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Split {
    /// `memory.db` holds no coordinator state: nothing to do.
    NotNeeded,
    /// The state moved to `swarmd.db`: rows copied per table.
    Moved(Vec<(String, u64)>),
    /// An earlier move had copied the state; the old tables are gone now.
    Finished,
}

/// Moves the state of a single-file workdir from `memory_db` into
/// `state_db` (created if needed).
///
/// # Errors
/// When either file cannot be read or written; nothing is dropped from
/// `memory_db` unless the copy committed.
pub fn split_single_file(state_db: &Path, memory_db: &Path) -> Result<Split, StoreError> {
    if !memory_db.exists() {
        return Ok(Split::NotNeeded);
    }
    let old = Connection::open(memory_db)?;
    old.busy_timeout(std::time::Duration::from_secs(5))?;
    // An unreadable memory.db holds nothing to move: the shared memory
    // deals with it (it never keeps swarmd from starting).
    if !has_table(&old, "swarm_plans").unwrap_or(false) {
        return Ok(Split::NotNeeded);
    }
    // The old tables in today's shape, so the copy is column for column.
    migrate_schema(&old, &memory_db.display().to_string())?;
    let store = Store::open(state_db)?;
    let conn = store.conn();
    let copied_before: i64 =
        conn.query_row("SELECT COUNT(*) FROM swarm_plans", [], |r| r.get(0))?;
    let mut moved = Vec::new();
    if copied_before == 0 {
        conn.execute(
            "ATTACH DATABASE ?1 AS old",
            [memory_db.display().to_string()],
        )?;
        let tx = conn.unchecked_transaction()?;
        for table in STATE_TABLES {
            let rows = tx.execute(
                &format!("INSERT INTO main.{table} SELECT * FROM old.{table}"),
                [],
            )?;
            moved.push((table.to_string(), rows as u64));
        }
        tx.commit()?;
        conn.execute("DETACH DATABASE old", [])?;
    }
    let tx = old.unchecked_transaction()?;
    // Every coordinator table goes, those the migrations above made
    // (empty in an old file) with the ones whose rows were copied.
    let mut tables = tx.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'swarm\\_%' ESCAPE '\\'",
    )?;
    let names = tables
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    drop(tables);
    for table in names {
        tx.execute(&format!("DROP TABLE IF EXISTS \"{table}\""), [])?;
    }
    // claude-flow's own files carry user_version 0.
    tx.pragma_update(None, "user_version", 0)?;
    tx.commit()?;
    drop(old);
    Ok(if copied_before == 0 {
        Split::Moved(moved)
    } else {
        Split::Finished
    })
}

fn has_table(conn: &Connection, name: &str) -> Result<bool, StoreError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [name],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}
