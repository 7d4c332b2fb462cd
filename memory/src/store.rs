//! Opening `.swarm/swarmd.db`, the coordinator's own state: pragmas,
//! migrations, and the handle the scheduler loop owns. (The memory shared
//! with claude-flow is another file: see `shared`.)

use std::path::Path;

use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction, TransactionBehavior};
use thiserror::Error;

use crate::kv;

/// Schema version of the `swarm_*` tables this build writes.
pub const SCHEMA_VERSION: i64 = 10;

/// A store failure.
#[derive(Debug, Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The key/value layer said no.
    #[error(transparent)]
    Kv(#[from] kv::KvError),
    /// The file was written by a newer swarmd.
    #[error("{path} has swarmd schema version {found}, newer than this build's {SCHEMA_VERSION}; upgrade swarmd")]
    TooNew {
        /// The database file.
        path: String,
        /// Its version.
        found: i64,
    },
    /// The database directory could not be created.
    #[error("cannot create {path}: {source}")]
    Io {
        /// The directory.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A stored value could not be decoded.
    #[error("corrupt row in {table}: {detail}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What was wrong.
        detail: String,
    },
}

/// The open database. Owned by one writer.
pub struct Store {
    conn: Connection,
}

const MIGRATION_1: &str = "
CREATE TABLE IF NOT EXISTS swarm_plans (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  file TEXT NOT NULL,
  format TEXT NOT NULL,
  source TEXT NOT NULL,
  roles_toml TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  loaded_at INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE TABLE IF NOT EXISTS swarm_tasks (
  plan_id INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  id TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  losses INTEGER NOT NULL DEFAULT 0,
  not_before INTEGER,
  reason TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (plan_id, idx)
);
CREATE TABLE IF NOT EXISTS swarm_dependencies (
  plan_id INTEGER NOT NULL,
  task_idx INTEGER NOT NULL,
  dep_idx INTEGER NOT NULL,
  PRIMARY KEY (plan_id, task_idx, dep_idx)
);
CREATE TABLE IF NOT EXISTS swarm_attempts (
  id INTEGER PRIMARY KEY,
  plan_id INTEGER NOT NULL,
  task_idx INTEGER NOT NULL,
  number INTEGER NOT NULL,
  agents TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  ended_at INTEGER,
  exit_code INTEGER,
  message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS swarm_attempts_task ON swarm_attempts(plan_id, task_idx);
CREATE TABLE IF NOT EXISTS swarm_agents (
  id TEXT PRIMARY KEY,
  roles TEXT NOT NULL,
  active_role TEXT NOT NULL,
  slots INTEGER NOT NULL,
  host TEXT NOT NULL,
  labels TEXT NOT NULL,
  state TEXT NOT NULL,
  registered_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS swarm_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  plan_id INTEGER,
  task_id TEXT,
  attempt INTEGER,
  agent_id TEXT,
  message TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS swarm_logs (
  attempt INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  stream INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (attempt, seq)
);
CREATE TABLE IF NOT EXISTS swarm_checkpoints (
  id INTEGER PRIMARY KEY,
  plan_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  at INTEGER NOT NULL,
  plan_day INTEGER,
  report TEXT NOT NULL
);
";

/// Version 2: the plan clock of each plan, and checkpoint reports with
/// their plan time and decisions.
const MIGRATION_2: &str = "
ALTER TABLE swarm_plans ADD COLUMN clock TEXT NOT NULL DEFAULT '';
ALTER TABLE swarm_checkpoints ADD COLUMN plan_time INTEGER NOT NULL DEFAULT 0;
ALTER TABLE swarm_checkpoints ADD COLUMN decisions TEXT NOT NULL DEFAULT '[]';
";

/// Version 3: output an agent shed, per attempt.
const MIGRATION_3: &str = "
ALTER TABLE swarm_attempts ADD COLUMN output_dropped INTEGER NOT NULL DEFAULT 0;
";

/// Version 4: the journal of acknowledged memory writes (see
/// `shared::journal`).
const MIGRATION_4: &str = "
CREATE TABLE IF NOT EXISTS swarm_memory_journal (
  namespace TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT,
  tags TEXT NOT NULL DEFAULT '[]',
  expires_at INTEGER,
  owner TEXT,
  acked_at INTEGER NOT NULL,
  PRIMARY KEY (namespace, key)
);
CREATE INDEX IF NOT EXISTS swarm_memory_journal_acked ON swarm_memory_journal(acked_at);
";

/// Version 5: the token minted for each attempt (what its task presents
/// as `SWARM_TOKEN`; valid only while the attempt is live).
const MIGRATION_5: &str = "
ALTER TABLE swarm_attempts ADD COLUMN token TEXT NOT NULL DEFAULT '';
";

/// v6: what each succeeded task produced, handed to its dependents.
const MIGRATION_6: &str = "
CREATE TABLE IF NOT EXISTS swarm_results (
    plan_id   INTEGER NOT NULL,
    task_id   TEXT NOT NULL,
    attempt   INTEGER NOT NULL,
    from_file INTEGER NOT NULL,
    result    TEXT NOT NULL,
    PRIMARY KEY (plan_id, task_id)
);
";

/// v7: swarmd's copy of every `memory_entries` row (see
/// `shared::journal`), replacing the journal of acknowledged writes, whose
/// rows come along as swarmd's own (a delete as a tombstone).
const MIGRATION_7: &str = "
CREATE TABLE IF NOT EXISTS swarm_memory_rows (
  namespace TEXT NOT NULL,
  key TEXT NOT NULL,
  id TEXT NOT NULL,
  content TEXT NOT NULL,
  type TEXT,
  embedding TEXT,
  embedding_model TEXT,
  embedding_dimensions INTEGER,
  tags TEXT,
  metadata TEXT,
  owner_id TEXT,
  provenance_type TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  expires_at INTEGER,
  last_accessed_at INTEGER,
  access_count INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'active',
  origin TEXT NOT NULL DEFAULT 'other',
  pending INTEGER NOT NULL DEFAULT 0,
  reads INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (namespace, key)
);
CREATE INDEX IF NOT EXISTS swarm_memory_rows_unsent ON swarm_memory_rows(pending, reads);
INSERT OR IGNORE INTO swarm_memory_rows (namespace, key, id, content, tags, owner_id,
  provenance_type, created_at, updated_at, expires_at, status, origin)
SELECT namespace, key, '', COALESCE(value, ''), NULLIF(tags, '[]'), owner, 'agent_output',
  acked_at, acked_at, expires_at, CASE WHEN value IS NULL THEN 'deleted' ELSE 'active' END,
  'swarmd'
FROM swarm_memory_journal;
DROP TABLE IF EXISTS swarm_memory_journal;
";

/// v8: each plan's repository and integration branch, and the merge of
/// every attempt that committed work in it.
const MIGRATION_8: &str = "
CREATE TABLE IF NOT EXISTS swarm_workspaces (
  plan_id INTEGER PRIMARY KEY,
  repo TEXT NOT NULL,
  base TEXT NOT NULL,
  label TEXT NOT NULL,
  head TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS swarm_merges (
  attempt INTEGER PRIMARY KEY,
  plan_id INTEGER NOT NULL,
  task_idx INTEGER NOT NULL,
  commits TEXT NOT NULL,
  state TEXT NOT NULL,
  merged TEXT NOT NULL DEFAULT '',
  files TEXT NOT NULL DEFAULT '',
  note TEXT NOT NULL DEFAULT '',
  queued_at INTEGER NOT NULL,
  ended_at INTEGER
);
CREATE INDEX IF NOT EXISTS swarm_merges_plan ON swarm_merges(plan_id, task_idx);
";

/// v10: each plan's trace: its id (random, made once) and how far its
/// spans were exported (the sequence number of the last event whose
/// finished spans the collector acknowledged); the roles an attempt's
/// members played, lead first, beside their ids.
const MIGRATION_10: &str = "
ALTER TABLE swarm_attempts ADD COLUMN roles TEXT NOT NULL DEFAULT '[]';
CREATE TABLE IF NOT EXISTS swarm_traces (
  plan_id INTEGER PRIMARY KEY,
  trace_id TEXT NOT NULL,
  exported_seq INTEGER NOT NULL DEFAULT 0
);
";

/// v9: what each attempt spent, per agent that ran it, and the budgets
/// set while a plan runs (see `state::usage`).
const MIGRATION_9: &str = "
CREATE TABLE IF NOT EXISTS swarm_usage (
  attempt INTEGER NOT NULL,
  agent_id TEXT NOT NULL,
  plan_id INTEGER NOT NULL,
  task_id TEXT NOT NULL,
  role TEXT NOT NULL,
  plan_day INTEGER NOT NULL,
  at INTEGER NOT NULL,
  cost_usd REAL NOT NULL DEFAULT 0,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
  cache_read_tokens INTEGER NOT NULL DEFAULT 0,
  turns INTEGER NOT NULL DEFAULT 0,
  session_id TEXT NOT NULL DEFAULT '',
  model TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (attempt, agent_id)
);
CREATE INDEX IF NOT EXISTS swarm_usage_plan ON swarm_usage(plan_id, task_id);
CREATE TABLE IF NOT EXISTS swarm_budgets (
  plan_id INTEGER NOT NULL,
  scope TEXT NOT NULL,
  usd REAL NOT NULL,
  PRIMARY KEY (plan_id, scope)
);
";

impl Store {
    /// Opens (creating if needed) the database at `path`, with WAL and
    /// full synchronous commits, and brings the schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let conn = Connection::open(path)?;
        // Before the first write creates its -wal and -shm, which SQLite
        // gives the database's own mode.
        private(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        Store::migrate(conn, &path.display().to_string())
    }

    /// Opens the database at `path` for reading only, as it is: no
    /// migration, nothing written (`swarmctl task logs --workdir`). A
    /// daemon may be running on it: WAL lets a reader in beside the writer.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: path.display().to_string(),
                found: version,
            });
        }
        Ok(Store { conn })
    }

    /// A store that lives in memory only, with the same schema: for tests
    /// of the scheduler that need no file.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Store::migrate(Connection::open_in_memory()?, ":memory:")
    }

    /// Brings the schema of `conn` up to date.
    fn migrate(conn: Connection, path: &str) -> Result<Store, StoreError> {
        migrate_schema(&conn, path)?;
        Ok(Store { conn })
    }

    /// The connection, for reads and for writes outside a transaction.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Starts the transaction of one scheduler turn, holding the write
    /// lock from the start (`BEGIN IMMEDIATE`), so no statement of the turn
    /// can meet a lock held by another process. Such a lock is waited out:
    /// each time the busy timeout passes, `on_wait` is told how long it has
    /// been, and the wait goes on. Any other failure is returned.
    pub fn transaction_waiting(
        &mut self,
        mut on_wait: impl FnMut(std::time::Duration),
    ) -> Result<Transaction<'_>, StoreError> {
        let started = std::time::Instant::now();
        loop {
            match Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate) {
                Ok(tx) => return Ok(tx),
                Err(e) if is_busy(&e) => on_wait(started.elapsed()),
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Starts the transaction of one scheduler turn (see
    /// [`Store::transaction_waiting`]), waiting out other writers silently.
    pub fn transaction(&mut self) -> Result<Transaction<'_>, StoreError> {
        self.transaction_waiting(|_| {})
    }
}

/// Whether SQLite said another connection holds the lock.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// Brings the `swarm_*` schema of `conn` (at `path`, for messages) up to
/// date, one transaction per version.
pub(crate) fn migrate_schema(conn: &Connection, path: &str) -> Result<(), StoreError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_string(),
            found: version,
        });
    }
    for (target, sql) in [
        (1, MIGRATION_1),
        (2, MIGRATION_2),
        (3, MIGRATION_3),
        (4, MIGRATION_4),
        (5, MIGRATION_5),
        (6, MIGRATION_6),
        (7, MIGRATION_7),
        (8, MIGRATION_8),
        (9, MIGRATION_9),
        (10, MIGRATION_10),
    ] {
        if version < target {
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", target)?;
            tx.commit()?;
        }
    }
    Ok(())
}

/// Closes a database file to other users (0600), if it is not already.
pub fn private(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    let io = |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    };
    let mode = std::fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
    if mode != 0o600 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    Ok(())
}
