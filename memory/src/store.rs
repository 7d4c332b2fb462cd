//! Opening `.swarm/swarmd.db`, the coordinator's own state: pragmas,
//! migrations, and the handle the scheduler loop owns. (The memory shared
//! with claude-flow is another file: see `shared`.)

use std::path::Path;

use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction, TransactionBehavior};
use thiserror::Error;

use crate::kv;

/// Schema version of the `swarm_*` tables this build writes.
pub const SCHEMA_VERSION: i64 = 14;

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
    for (target, sql) in crate::migrations::MIGRATIONS {
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
