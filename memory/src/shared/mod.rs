//! `.swarm/memory.db`, the memory swarmd shares with claude-flow, kept
//! safe from tools that write the whole file.
//!
//! claude-flow writes the file through sql.js: it reads all of it, changes
//! its copy, and later writes all of it back, losing whatever was written
//! in between. So:
//! - the file is written with a rollback journal (`journal_mode=DELETE`),
//!   in short transactions on a fresh connection each time (no page cache
//!   can go stale under a foreign rewrite): a reader of the file alone sees
//!   every acknowledged write;
//! - every write and delete swarmd acknowledges is journalled in
//!   `swarmd.db` ([`journal`]);
//! - [`SharedMemory::check`] (before every call, and about once a second)
//!   notices a change by someone else from the file's [`Fingerprint`] and
//!   re-applies every acknowledged write the file lost — a row the other
//!   tool changed later (newer `updated_at`) wins;
//! - a file that stays unreadable past a grace period (a whole-file writer
//!   truncates before it writes, so a reader can catch it half-written) is
//!   moved aside as `memory.db.corrupt-<ms>` and rebuilt from the journal;
//! - a locked file fails the call after the busy timeout, with a clear
//!   error. Nothing here ever stops the scheduler.

mod fingerprint;
pub mod journal;
mod repair;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode};

use crate::kv::{self, Entry, KvError, Layout, Put, PutOutcome};
pub use fingerprint::Fingerprint;
use journal::{Acked, Retention};

/// How long a file may stay unreadable before it counts as corrupt.
const UNREADABLE_GRACE_MS: i64 = 2_000;

/// Why a memory call failed. Scheduling goes on regardless.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    /// Another process holds the write lock past the busy timeout.
    #[error("{path} is locked by another process; the call waited {waited_ms} ms — try again")]
    Locked {
        /// The file.
        path: String,
        /// How long the call waited.
        waited_ms: u64,
    },
    /// The file cannot be read just now (being rewritten, or broken and
    /// about to be rebuilt from the journal).
    #[error("{path} cannot be read ({reason}); if it stays so, swarmd moves it aside and rebuilds it from its journal")]
    Unavailable {
        /// The file.
        path: String,
        /// What SQLite said.
        reason: String,
    },
    /// The key/value layer refused the call (bad input, compare-and-swap,
    /// a table laid out unlike claude-flow's).
    #[error(transparent)]
    Kv(KvError),
    /// The journal in `swarmd.db` could not be written or read.
    #[error("the memory journal in swarmd.db failed: {0}")]
    Journal(#[from] rusqlite::Error),
}

/// What a [`SharedMemory::check`] repaired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repair {
    /// Someone else changed the file; acknowledged writes it lost were
    /// written again.
    Reconciled {
        /// Journalled keys compared with the file.
        checked: usize,
        /// Writes and deletes applied again.
        reapplied: usize,
    },
    /// The file was unreadable: moved aside and rebuilt from the journal.
    Rebuilt {
        /// Where the broken file went (None when there was none).
        moved_to: Option<PathBuf>,
        /// What was unreadable about it.
        reason: String,
        /// Writes applied to the new file.
        reapplied: usize,
    },
}

/// The shared memory file and the journal that protects it.
pub struct SharedMemory {
    path: PathBuf,
    journal: Connection,
    retention: Retention,
    busy: Duration,
    /// The file as swarmd last left it.
    seen: Option<Fingerprint>,
    layout: Option<Layout>,
    /// Since when (ms) the file could not be read.
    unreadable_since: Option<i64>,
}

impl SharedMemory {
    /// The memory at `path`, journalled through `journal` (a connection to
    /// `swarmd.db`, whose schema has the journal table). Never fails: a
    /// file that cannot be used now is dealt with by [`Self::check`].
    pub fn new(path: &Path, journal: Connection, retention: Retention, busy: Duration) -> Self {
        SharedMemory {
            path: path.to_path_buf(),
            journal,
            retention,
            busy,
            seen: None,
            layout: None,
            unreadable_since: None,
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one entry, journals it, and returns once both are committed.
    ///
    /// # Errors
    /// See [`MemoryError`].
    pub fn put(
        &mut self,
        put: &Put<'_>,
        now_ms: i64,
        max_value_bytes: usize,
    ) -> Result<PutOutcome, MemoryError> {
        let out = self.with_file(now_ms, |conn, layout| {
            kv::put(conn, layout, put, now_ms, max_value_bytes)
        })?;
        journal::record(
            &self.journal,
            &Acked {
                namespace: put.namespace.to_string(),
                key: put.key.to_string(),
                value: Some(put.value.to_string()),
                tags: put.tags.to_vec(),
                expires_at_ms: put.ttl_ms.map(|ttl| now_ms.saturating_add(ttl)),
                owner: put.owner_id.map(str::to_string),
                acked_at_ms: now_ms,
            },
        )?;
        Ok(out)
    }

    /// Reads one live entry (counting the access).
    ///
    /// # Errors
    /// See [`MemoryError`].
    pub fn get(
        &mut self,
        namespace: &str,
        key: &str,
        now_ms: i64,
    ) -> Result<Option<Entry>, MemoryError> {
        self.with_file(now_ms, |conn, layout| {
            kv::get(conn, layout, namespace, key, now_ms)
        })
    }

    /// Lists live entries.
    ///
    /// # Errors
    /// See [`MemoryError`].
    pub fn list(
        &mut self,
        namespace: Option<&str>,
        prefix: Option<&str>,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<Entry>, MemoryError> {
        self.with_file(now_ms, |conn, layout| {
            kv::list(conn, layout, namespace, prefix, now_ms, limit)
        })
    }

    /// Deletes one live entry and journals the delete; returns whether it
    /// existed.
    ///
    /// # Errors
    /// See [`MemoryError`].
    pub fn delete(&mut self, namespace: &str, key: &str, now_ms: i64) -> Result<bool, MemoryError> {
        let existed = self.with_file(now_ms, |conn, layout| {
            kv::delete(conn, layout, namespace, key, now_ms)
        })?;
        journal::record(
            &self.journal,
            &Acked {
                namespace: namespace.to_string(),
                key: key.to_string(),
                value: None,
                tags: Vec::new(),
                expires_at_ms: None,
                owner: None,
                acked_at_ms: now_ms,
            },
        )?;
        Ok(existed)
    }

    /// Prunes the journal to its retention.
    ///
    /// # Errors
    /// When `swarmd.db` fails.
    pub fn prune(&mut self, now_ms: i64) -> Result<usize, MemoryError> {
        Ok(journal::prune(&self.journal, self.retention, now_ms)?)
    }

    /// Checks the file first, then runs `f` on a fresh connection to it,
    /// and remembers how the file looks after swarmd's own change.
    fn with_file<T>(
        &mut self,
        now_ms: i64,
        f: impl FnOnce(&Connection, Layout) -> Result<T, KvError>,
    ) -> Result<T, MemoryError> {
        self.check(now_ms)?;
        let layout = self
            .layout
            .ok_or_else(|| self.unavailable("not checked yet"))?;
        let started = std::time::Instant::now();
        let conn = self.connect().map_err(|e| self.classify(e, started))?;
        let out = f(&conn, layout).map_err(|e| match e {
            KvError::Sqlite(e) => self.classify(e, started),
            other => MemoryError::Kv(other),
        });
        drop(conn);
        if matches!(out, Err(MemoryError::Unavailable { .. })) {
            // Broken under the call: the next check looks at every page,
            // and rebuilds the file if it stays so past the grace period.
            self.unreadable_since.get_or_insert(now_ms);
        } else {
            self.seen = Fingerprint::of(&self.path);
        }
        out
    }

    /// A connection to the file in rollback-journal mode.
    fn connect(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open(&self.path)?;
        // Created 0600 the first time: its journal files take its mode.
        let _ = crate::store::private(&self.path);
        conn.busy_timeout(self.busy)?;
        conn.pragma_update(None, "journal_mode", "DELETE")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        Ok(conn)
    }

    fn classify(&self, e: rusqlite::Error, started: std::time::Instant) -> MemoryError {
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => MemoryError::Locked {
                path: self.path.display().to_string(),
                waited_ms: started.elapsed().as_millis() as u64,
            },
            _ => self.unavailable(&e.to_string()),
        }
    }

    fn unavailable(&self, reason: &str) -> MemoryError {
        MemoryError::Unavailable {
            path: self.path.display().to_string(),
            reason: reason.to_string(),
        }
    }
}
