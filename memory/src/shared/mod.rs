//! `.swarm/memory.db`, the memory swarmd shares with claude-flow, kept in
//! step with swarmd's own copy of it.
//!
//! claude-flow writes the file through sql.js: it reads all of it, changes
//! its copy, and later writes all of it back (truncate, then write),
//! losing whatever was written in between. So the file is not where
//! swarmd keeps the memory; it is where it meets the other tool:
//! - `swarmd.db` holds swarmd's copy of every `memory_entries` row, its
//!   own and every other tool's as last read from the file ([`journal`]).
//!   Every memory call is answered from the copy and never fails because
//!   of the file: a write is acknowledged once the copy holds it;
//! - [`SharedMemory::sync`] keeps the file in step both ways: a change by
//!   someone else is read in once the file is stable (the same
//!   [`Fingerprint`] on two looks some tens of milliseconds apart) and
//!   sound (`quick_check`), then merged row by row ([`merge`]: newer
//!   `updated_at` wins; a row swarmd wrote that a rewrite dropped is
//!   written again; one the other tool wrote that disappears was deleted
//!   by it); swarmd's pending writes go into the file, with a rollback
//!   journal in short transactions, when the file is as swarmd last left
//!   it — while another tool is rewriting it, only right after one of its
//!   rewrites was merged ([`watch`]);
//! - a file caught half-written is never judged corrupt on that alone:
//!   only one that stays unreadable and unchanged for
//!   [`UNREADABLE_GRACE_MS`] is moved aside (`memory.db.corrupt-<ms>`),
//!   and a fresh file holding every row of the copy, the other tool's
//!   included, is built in a temporary file and renamed into place.
//!
//! Reads answered from the copy count the access there at once (the
//! entry returned shows it) and in the file with the next write of the
//! file, as an increment that never touches `updated_at`; a rewrite that
//! loses such a count does not get it back: read statistics are not
//! acknowledged writes.
//!
//! One writer per table: the shared-memory worker that owns a
//! [`SharedMemory`] is the only writer of `swarm_memory_rows` in
//! `swarmd.db` (on a connection of its own; the scheduler loop writes the
//! other `swarm_*` tables) and swarmd's only writer of `memory.db`.

mod file;
mod fingerprint;
pub mod journal;
pub mod merge;
mod rebuild;
pub mod row;
mod sync;
pub mod watch;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

use crate::kv::{self, Entry, KvError, Layout, Put, PutOutcome};
pub use fingerprint::Fingerprint;
use journal::{Kept, Origin, Retention};
use row::{Row, DELETED};
pub use watch::{FileState, Synced};

/// How long a file may stay unreadable, and unchanged, before it counts
/// as corrupt.
pub const UNREADABLE_GRACE_MS: i64 = 2_000;

/// Why a memory call failed. Never because of `memory.db`.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    /// The key/value rules refused the call (bad input, compare-and-swap,
    /// a value too large).
    #[error(transparent)]
    Kv(KvError),
    /// Another process held `swarmd.db`'s write lock past the busy timeout.
    #[error(
        "{path} is locked by another process; the call waited {waited_ms} ms for it — try again"
    )]
    Locked {
        /// The file.
        path: String,
        /// How long the call waited.
        waited_ms: u64,
    },
    /// swarmd's copy of the memory in `swarmd.db` could not be read or
    /// written.
    #[error("swarmd's copy of the shared memory (swarm_memory_rows in {path}) failed: {source}")]
    Copy {
        /// The file.
        path: String,
        /// What SQLite said.
        source: rusqlite::Error,
    },
}

/// What a [`SharedMemory::sync`] repaired or learnt that is worth telling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repair {
    /// Someone else changed the file; it was merged into the copy.
    Merged {
        /// Rows another tool added or changed, taken into the copy.
        adopted: usize,
        /// Rows another tool deleted (kept as tombstones).
        deleted: usize,
        /// swarmd's writes the file had lost, written again.
        reapplied: usize,
    },
    /// The file stayed unreadable: moved aside and rebuilt from the copy.
    Rebuilt {
        /// Where the broken file went (None when there was none).
        moved_to: Option<PathBuf>,
        /// What was unreadable about it.
        reason: String,
        /// Rows written into the new file.
        rows: usize,
    },
}

/// Writes swarmd acknowledged that `memory.db` does not hold yet, and
/// when the file was last merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backlog {
    /// Writes pending for the file.
    pub pending: u64,
    /// When the whole file was last merged, ms since the epoch.
    pub last_merge_ms: Option<i64>,
}

impl std::fmt::Display for Backlog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = if self.pending == 1 { "" } else { "s" };
        write!(f, "{} write{s} pending for memory.db", self.pending)?;
        if let Some(ms) = self.last_merge_ms {
            let secs = ms.div_euclid(1000).rem_euclid(86_400);
            let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
            write!(f, ", last merged {h:02}:{m:02}:{s:02} UTC")?;
        }
        Ok(())
    }
}

/// The shared memory: the file and swarmd's copy of it.
pub struct SharedMemory {
    path: PathBuf,
    copy: Connection,
    retention: Retention,
    busy: Duration,
    watch: watch::Watch,
}

impl SharedMemory {
    /// The memory at `path`, with swarmd's copy through `copy` (a
    /// connection to `swarmd.db`, whose schema has `swarm_memory_rows`)
    /// waiting `busy` for its locks. Never fails: the file is dealt with
    /// by [`Self::sync`].
    pub fn new(path: &Path, copy: Connection, retention: Retention, busy: Duration) -> Self {
        SharedMemory {
            path: path.to_path_buf(),
            copy,
            retention,
            busy,
            watch: watch::Watch::default(),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one entry into the copy and returns once it is committed
    /// there; the file gets it with the next [`Self::sync`].
    ///
    /// # Errors
    /// [`MemoryError::Kv`] for bad input or a compare-and-swap that does
    /// not hold; [`MemoryError::Locked`] or [`MemoryError::Copy`] when
    /// `swarmd.db` fails.
    pub fn put(
        &mut self,
        put: &Put<'_>,
        now_ms: i64,
        max_value_bytes: usize,
    ) -> Result<PutOutcome, MemoryError> {
        kv::validate_put(put, now_ms, max_value_bytes).map_err(MemoryError::Kv)?;
        let before = self.copy_op(|c| journal::find(c, put.namespace, put.key))?;
        let live = before.as_ref().filter(|k| k.row.live(now_ms));
        kv::check_expect(put, live.map(|k| k.row.content.as_str())).map_err(MemoryError::Kv)?;
        let at = before
            .as_ref()
            .map_or(now_ms, |k| now_ms.max(k.row.updated_at.saturating_add(1)));
        let (row, outcome) = match live {
            Some(k) => (self.updated(&k.row, put, at)?, PutOutcome::Updated),
            None => (self.created(put, at)?, PutOutcome::Created),
        };
        let kept = Kept {
            row,
            origin: Origin::Swarmd,
            pending: true,
            reads: before.map_or(0, |k| k.reads),
        };
        self.copy_op(|c| journal::save(c, &kept))?;
        Ok(outcome)
    }

    fn updated(&self, old: &Row, put: &Put<'_>, at: i64) -> Result<Row, MemoryError> {
        let mut row = old.clone();
        if row.content != put.value {
            row.embedding = None;
            row.embedding_dimensions = None;
        }
        row.content = put.value.to_string();
        row.updated_at = at;
        row.expires_at = put.ttl_ms.map(|ttl| at.saturating_add(ttl));
        if let Some(tags) = tags_text(put)? {
            row.tags = Some(tags);
        }
        if let Some(meta) = put.metadata {
            row.metadata = Some(kv::metadata_text(meta).map_err(MemoryError::Kv)?);
        }
        if let Some(kind) = put.kind {
            row.kind = Some(kind.as_str().to_string());
        }
        if let Some(owner) = kv::owner_of(put) {
            row.owner_id = Some(owner.to_string());
        }
        row.provenance = Some(put.provenance.as_str().to_string());
        Ok(row)
    }

    fn created(&self, put: &Put<'_>, at: i64) -> Result<Row, MemoryError> {
        let metadata = match put.metadata {
            Some(meta) => kv::metadata_text(meta).map_err(MemoryError::Kv)?,
            None => "{}".to_string(),
        };
        Ok(Row {
            // A v2 file numbers its rows itself.
            id: match self.watch.layout() {
                Some(Layout::V2) => String::new(),
                _ => kv::new_entry_id(at),
            },
            namespace: put.namespace.to_string(),
            key: put.key.to_string(),
            content: put.value.to_string(),
            kind: Some(put.kind.unwrap_or_default().as_str().to_string()),
            embedding: None,
            embedding_model: Some("local".to_string()),
            embedding_dimensions: None,
            tags: tags_text(put)?,
            metadata: Some(metadata),
            owner_id: kv::owner_of(put).map(str::to_string),
            provenance: Some(put.provenance.as_str().to_string()),
            created_at: at,
            updated_at: at,
            expires_at: put.ttl_ms.map(|ttl| at.saturating_add(ttl)),
            last_accessed_at: None,
            access_count: 0,
            status: "active".to_string(),
        })
    }

    /// Reads one live entry from the copy, counting the access.
    ///
    /// # Errors
    /// [`MemoryError::Kv`] for a bad namespace or key; otherwise only when
    /// `swarmd.db` fails.
    pub fn get(
        &mut self,
        namespace: &str,
        key: &str,
        now_ms: i64,
    ) -> Result<Option<Entry>, MemoryError> {
        kv::validate_name("namespace", namespace).map_err(MemoryError::Kv)?;
        kv::validate_name("key", key).map_err(MemoryError::Kv)?;
        let Some(mut kept) = self.copy_op(|c| journal::find(c, namespace, key))? else {
            return Ok(None);
        };
        if !kept.row.live(now_ms) {
            return Ok(None);
        }
        kept.row.access_count = kept.row.access_count.saturating_add(1);
        kept.row.last_accessed_at = Some(now_ms);
        kept.reads = kept.reads.saturating_add(1);
        self.copy_op(|c| journal::save(c, &kept))?;
        Ok(Some(kept.row.to_entry()))
    }

    /// Lists live entries of the copy, by namespace then key (not counted
    /// as accesses).
    ///
    /// # Errors
    /// [`MemoryError::Kv`] for a bad namespace or prefix; otherwise only
    /// when `swarmd.db` fails.
    pub fn list(
        &mut self,
        namespace: Option<&str>,
        prefix: Option<&str>,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<Entry>, MemoryError> {
        if let Some(ns) = namespace {
            kv::validate_name("namespace", ns).map_err(MemoryError::Kv)?;
        }
        if let Some(p) = prefix.filter(|p| !p.is_empty()) {
            kv::validate_name("key_prefix", p).map_err(MemoryError::Kv)?;
        }
        let prefix = prefix.filter(|p| !p.is_empty());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.copy_op(|c| journal::live(c, namespace, prefix, now_ms, limit))?;
        Ok(rows.iter().map(|k| k.row.to_entry()).collect())
    }

    /// Deletes one live entry (a tombstone in the copy, a soft delete in a
    /// v3 file, a row delete in a v2 one); returns whether it existed.
    ///
    /// # Errors
    /// [`MemoryError::Kv`] for a bad namespace or key; otherwise only when
    /// `swarmd.db` fails.
    pub fn delete(&mut self, namespace: &str, key: &str, now_ms: i64) -> Result<bool, MemoryError> {
        kv::validate_name("namespace", namespace).map_err(MemoryError::Kv)?;
        kv::validate_name("key", key).map_err(MemoryError::Kv)?;
        let Some(mut kept) = self.copy_op(|c| journal::find(c, namespace, key))? else {
            return Ok(false);
        };
        if !kept.row.live(now_ms) {
            return Ok(false);
        }
        kept.row.status = DELETED.to_string();
        kept.row.embedding = None;
        kept.row.updated_at = now_ms.max(kept.row.updated_at.saturating_add(1));
        kept.origin = Origin::Swarmd;
        kept.pending = true;
        self.copy_op(|c| journal::save(c, &kept))?;
        Ok(true)
    }

    /// Writes the file does not hold yet.
    ///
    /// # Errors
    /// When `swarmd.db` fails.
    pub fn pending(&self) -> Result<u64, MemoryError> {
        self.copy_op(journal::pending_count)
    }

    /// Forgets tombstones and lapses claims past the retention.
    ///
    /// # Errors
    /// When `swarmd.db` fails.
    pub fn prune(&mut self, now_ms: i64) -> Result<usize, MemoryError> {
        let keep = self.retention;
        self.copy_op(|c| journal::prune(c, keep, now_ms))
    }

    /// Runs `f` on the copy's connection, naming `swarmd.db` in its error.
    fn copy_op<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, MemoryError> {
        f(&self.copy).map_err(|source| self.copy_error(source))
    }

    fn copy_error(&self, source: rusqlite::Error) -> MemoryError {
        let path = self.copy.path().unwrap_or("swarmd.db").to_string();
        if file::is_busy(&source) {
            MemoryError::Locked {
                path,
                waited_ms: self.busy.as_millis() as u64,
            }
        } else {
            MemoryError::Copy { path, source }
        }
    }
}

/// The `tags` column for a put: a JSON array, or None when none are given.
fn tags_text(put: &Put<'_>) -> Result<Option<String>, MemoryError> {
    if put.tags.is_empty() {
        return Ok(None);
    }
    serde_json::to_string(put.tags).map(Some).map_err(|e| {
        MemoryError::Kv(KvError::invalid(
            "tags",
            format!("cannot be serialised: {e}"),
        ))
    })
}
