//! Keeping `memory.db` in step with swarmd's copy: when to look, when a
//! changed file counts as stable, merging it row by row, writing swarmd's
//! pending writes into it, and rebuilding one that stays unreadable.
//!
//! The phases of one [`SharedMemory::sync`]:
//! 1. *Quiet*: the file is as swarmd last left it (same fingerprint):
//!    only the copy's pending writes and uncounted reads go in.
//! 2. *Settling*: it changed, or swarmd wrote it since the last full
//!    merge and [`FULL_EVERY_MS`] passed (a rewrite that landed just
//!    after swarmd's own write can look like swarmd's own): it must look
//!    the same twice, [`STABLE_MS`] apart, before it is read. An idle
//!    memory is never read whole again until the file changes.
//! 3. *Merge*: sound (`quick_check`), it is merged row by row in one
//!    transaction that holds the file's write lock.
//! 4. *Unreadable*: not sound; only once it has stayed so, unchanged, for
//!    [`UNREADABLE_GRACE_MS`] is it moved aside and rebuilt.

use std::collections::HashMap;
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use super::file::{self, Probe};
use super::journal::{self, Kept, Origin};
use super::merge::{decide, Action};
use super::row::{Row, DELETED};
use super::{Fingerprint, MemoryError, Repair, SharedMemory, UNREADABLE_GRACE_MS};
use crate::kv::Layout;

/// How long a changed file must look the same before it is read.
pub const STABLE_MS: i64 = 30;

/// How often a file another tool is rewriting is looked at (plus 1 ms
/// per 10 kB of file).
const ACTIVE_LOOK_MS: i64 = 15;

/// After this long without a rewrite by another tool, swarmd writes the
/// file whenever it has something to write.
pub const IDLE_MS: i64 = 3_000;

/// How long after merging another tool's rewrite swarmd still writes
/// into the file (while that tool is active).
pub const WRITE_WINDOW_MS: i64 = 40;

/// How soon after swarmd's own write the whole file is merged again,
/// even when it looks unchanged.
pub const FULL_EVERY_MS: i64 = 3_000;

/// How long a write to the file waits for another process's lock before
/// it is tried again later.
pub(super) const FILE_BUSY: Duration = Duration::from_millis(500);

/// Where the file stands after a sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// In step with the copy, save what is still pending.
    InStep,
    /// Changed by someone else and not yet still: looked at again soon.
    Settling,
    /// Locked by another process past the busy timeout: tried again soon.
    Busy,
    /// Unreadable (the reason), not yet for the grace period.
    Unreadable(String),
    /// Laid out unlike claude-flow's: left untouched (the reason).
    Unsupported(String),
}

/// What one sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synced {
    /// Where the file stands.
    pub state: FileState,
    /// What was repaired or merged, worth telling.
    pub repair: Option<Repair>,
    /// Rows of the copy written into the file.
    pub written: usize,
    /// Whether the whole file was merged.
    pub merged: bool,
    /// Look again within this many ms (0: at the caller's own pace).
    pub look_in_ms: i64,
}

impl Synced {
    pub(super) fn state(state: FileState) -> Synced {
        Synced {
            state,
            repair: None,
            written: 0,
            merged: false,
            look_in_ms: 0,
        }
    }
}

/// What swarmd knows of the file between syncs.
#[derive(Debug, Default)]
pub(super) struct Watch {
    /// The file as swarmd last left it.
    seen: Option<Fingerprint>,
    /// A changed file's fingerprint and when it was first seen so.
    look: Option<(Option<Fingerprint>, i64)>,
    /// An unreadable file's fingerprint and since when it is so.
    unreadable: Option<(Option<Fingerprint>, i64)>,
    /// When the whole file was last merged.
    last_full_ms: Option<i64>,
    /// Whether swarmd wrote the file since then.
    wrote: bool,
    /// When a rewrite by another tool was last noticed.
    foreign_at: Option<i64>,
    /// When the file was last merged.
    merged_at: Option<i64>,
    layout: Option<Layout>,
}

impl Watch {
    pub(super) fn layout(&self) -> Option<Layout> {
        self.layout
    }

    /// Forgets what it knew of an old file; a new one in `layout` is in
    /// place.
    pub(super) fn reset(&mut self, layout: Layout) {
        *self = Watch {
            layout: Some(layout),
            ..Watch::default()
        };
    }
}

/// Counts of one merge.
#[derive(Default)]
struct Tally {
    adopted: usize,
    deleted: usize,
    reapplied: usize,
    written: usize,
}

impl SharedMemory {
    /// Brings the file and the copy in step as far as the file allows now;
    /// call it after writes and every few hundred ms (sooner while
    /// [`FileState::Settling`]).
    ///
    /// # Errors
    /// Only when `swarmd.db` fails; a file that cannot be used is a
    /// [`FileState`].
    pub fn sync(&mut self, now_ms: i64) -> Result<Synced, MemoryError> {
        let fp = Fingerprint::of(&self.path);
        let mut synced = self.sync_with(fp, now_ms)?;
        synced.look_in_ms = self.look_in(fp, now_ms, &synced.state);
        Ok(synced)
    }

    fn sync_with(&mut self, fp: Option<Fingerprint>, now_ms: i64) -> Result<Synced, MemoryError> {
        if fp.is_none() && !self.path.exists() {
            return self.rebuild(now_ms, None, "the file was missing".into());
        }
        let full_due = self
            .watch
            .last_full_ms
            .is_none_or(|at| self.watch.wrote && now_ms - at >= FULL_EVERY_MS);
        let quiet = fp.is_some() && fp == self.watch.seen;
        if quiet && !full_due {
            if self.may_write(now_ms) {
                return self.flush(now_ms);
            }
            return Ok(Synced::state(FileState::InStep));
        }
        match self.watch.look {
            Some((seen, since)) if seen == fp => {
                if now_ms - since < STABLE_MS {
                    return Ok(Synced::state(FileState::Settling));
                }
            }
            _ => {
                if !quiet && self.watch.seen.is_some() {
                    self.watch.foreign_at = Some(now_ms);
                }
                self.watch.look = Some((fp, now_ms));
                return Ok(Synced::state(FileState::Settling));
            }
        }
        self.watch.look = None;
        self.read_in(fp, now_ms)
    }

    /// Whether swarmd may write its pending rows into a quiet file now:
    /// when no other tool has rewritten it for [`IDLE_MS`], or just after
    /// the last such rewrite was merged — the moment a whole-file writer
    /// is furthest from its next write-back, which a write of swarmd's
    /// must never straddle.
    fn may_write(&self, now_ms: i64) -> bool {
        match self.watch.foreign_at {
            None => true,
            Some(at) => {
                now_ms - at >= IDLE_MS
                    || self
                        .watch
                        .merged_at
                        .is_some_and(|m| m >= at && now_ms - m <= WRITE_WINDOW_MS)
            }
        }
    }

    /// How soon to look again: at once while a change settles, often
    /// while another tool is rewriting the file (less often the bigger it
    /// is, as each look hashes it), else at the caller's pace (0).
    fn look_in(&self, fp: Option<Fingerprint>, now_ms: i64, state: &FileState) -> i64 {
        if *state == FileState::Settling {
            return STABLE_MS;
        }
        let active = self
            .watch
            .foreign_at
            .is_some_and(|at| now_ms - at < IDLE_MS);
        let size = fp.map_or(0, |f| f.size());
        if active {
            ACTIVE_LOOK_MS + i64::try_from(size / 10_000).unwrap_or(i64::MAX)
        } else {
            0
        }
    }

    /// Probes a file that held still, and merges it, or counts how long
    /// it has been unreadable.
    fn read_in(&mut self, fp: Option<Fingerprint>, now_ms: i64) -> Result<Synced, MemoryError> {
        match file::probe(&self.path, FILE_BUSY) {
            Ok((conn, layout)) => {
                self.watch.unreadable = None;
                self.watch.layout = Some(layout);
                self.merge(conn, layout, now_ms, None, fp)
            }
            Err(Probe::Busy) => Ok(Synced::state(FileState::Busy)),
            Err(Probe::Unsupported(e)) => Ok(Synced::state(FileState::Unsupported(e.to_string()))),
            Err(Probe::Unreadable(reason)) => match self.watch.unreadable {
                Some((seen, since)) if seen == fp => {
                    if now_ms - since >= UNREADABLE_GRACE_MS {
                        self.rebuild(now_ms, Some(self.aside(now_ms)), reason)
                    } else {
                        Ok(Synced::state(FileState::Unreadable(reason)))
                    }
                }
                _ => {
                    self.watch.unreadable = Some((fp, now_ms));
                    Ok(Synced::state(FileState::Unreadable(reason)))
                }
            },
        }
    }

    /// The quiet phase: pending writes and read counts into a file that
    /// is as swarmd left it.
    fn flush(&mut self, now_ms: i64) -> Result<Synced, MemoryError> {
        let unsent = self.copy_op(journal::unsent)?;
        let Some(layout) = self.watch.layout.filter(|_| !unsent.is_empty()) else {
            return Ok(Synced::state(FileState::InStep));
        };
        match file::connect(&self.path, FILE_BUSY) {
            Ok(conn) => self.merge(conn, layout, now_ms, Some(unsent), self.watch.seen),
            Err(e) => Ok(self.file_failed(&e)),
        }
    }

    /// The merge phase, over every key (`keys` None) or the given ones.
    ///
    /// `expect` is the file as it was when the merge was decided: if it
    /// is not so any more just before the commit (a whole-file writer got
    /// in between), nothing is written and the file settles again.
    pub(super) fn merge(
        &mut self,
        mut conn: Connection,
        layout: Layout,
        now_ms: i64,
        keys: Option<Vec<Kept>>,
        expect: Option<Fingerprint>,
    ) -> Result<Synced, MemoryError> {
        let full = keys.is_none();
        let copy = match keys {
            Some(keys) => keys,
            None => self.copy_op(journal::all)?,
        };
        let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => return Ok(self.file_failed(&e)),
        };
        let applied = read_rows(&tx, layout, &copy, full)
            .and_then(|rows| self.apply_to_file(&tx, layout, rows, copy, now_ms));
        let (tally, updates) = match applied {
            Ok(plan) => plan,
            Err(e) => return Ok(self.file_failed(&e)),
        };
        if Fingerprint::of(&self.path) != expect {
            drop(tx);
            self.watch.seen = None;
            return Ok(Synced::state(FileState::Settling));
        }
        if let Err(e) = tx.commit() {
            return Ok(self.file_failed(&e));
        }
        drop(conn);
        self.copy_op(|c| {
            let tx = c.unchecked_transaction()?;
            for u in &updates {
                match u {
                    Update::Save(k) => journal::save(&tx, k)?,
                    Update::Sent(ns, key, id, reads) => journal::sent(&tx, ns, key, id, *reads)?,
                }
            }
            tx.commit()
        })?;
        self.watch.seen = Fingerprint::of(&self.path);
        if full {
            self.watch.last_full_ms = Some(now_ms);
            self.watch.merged_at = Some(now_ms);
            self.watch.wrote = false;
        }
        self.watch.wrote |= tally.written > 0;
        let told = full && (tally.adopted + tally.deleted + tally.reapplied > 0);
        Ok(Synced {
            state: FileState::InStep,
            repair: told.then_some(Repair::Merged {
                adopted: tally.adopted,
                deleted: tally.deleted,
                reapplied: tally.reapplied,
            }),
            written: tally.written,
            merged: full,
            look_in_ms: 0,
        })
    }

    /// Decides every key and writes the file's side; returns the counts
    /// and what the copy must record once the file committed.
    fn apply_to_file(
        &self,
        conn: &Connection,
        layout: Layout,
        mut file_rows: HashMap<(String, String), Row>,
        copy: Vec<Kept>,
        now_ms: i64,
    ) -> rusqlite::Result<(Tally, Vec<Update>)> {
        let cutoff = now_ms.saturating_sub(self.retention.max_age_ms);
        let grain = if layout == Layout::V2 { 1000 } else { 1 };
        let mut tally = Tally::default();
        let mut updates = Vec::new();
        for c in copy {
            let f = file_rows.remove(&(c.row.namespace.clone(), c.row.key.clone()));
            match decide(f.as_ref(), Some(&c), now_ms, cutoff, grain) {
                Action::Keep => match f {
                    Some(f) if c.reads > 0 => {
                        file::count_reads(conn, layout, &f, c.reads, c.row.last_accessed_at)?;
                        updates.push(Update::Sent(f.namespace, f.key, f.id, c.reads));
                    }
                    _ => {}
                },
                Action::Write { lost } => {
                    let id = file::write(conn, layout, &c.row)?;
                    tally.written += 1;
                    tally.reapplied += usize::from(lost);
                    updates.push(Update::Sent(c.row.namespace, c.row.key, id, c.reads));
                }
                Action::Adopt => {
                    let f = f.unwrap_or_else(|| c.row.clone());
                    let same_time = f.updated_at == c.row.updated_at;
                    if !same_time {
                        tally.adopted += 1;
                    }
                    if c.reads > 0 {
                        file::count_reads(conn, layout, &f, c.reads, c.row.last_accessed_at)?;
                    }
                    let origin = if same_time { c.origin } else { Origin::Other };
                    updates.push(Update::Save(Box::new(adopted(f, &c, origin))));
                }
                Action::Deleted => {
                    tally.deleted += usize::from(c.row.live(now_ms));
                    let mut row = c.row;
                    row.status = DELETED.to_string();
                    row.updated_at = row.updated_at.max(now_ms);
                    updates.push(Update::Save(Box::new(Kept {
                        row,
                        origin: Origin::Other,
                        pending: false,
                        reads: 0,
                    })));
                }
            }
        }
        // What only the file has: another tool's new rows.
        for f in file_rows.into_values() {
            if decide(Some(&f), None, now_ms, cutoff, grain) == Action::Adopt {
                tally.adopted += 1;
                updates.push(Update::Save(Box::new(Kept {
                    row: f,
                    origin: Origin::Other,
                    pending: false,
                    reads: 0,
                })));
            }
        }
        Ok((tally, updates))
    }

    /// A write or read of the file failed: busy is tried again soon,
    /// anything else makes the next sync settle and probe the file.
    pub(super) fn file_failed(&mut self, e: &rusqlite::Error) -> Synced {
        if file::is_busy(e) {
            return Synced::state(FileState::Busy);
        }
        self.watch.seen = None;
        Synced::state(FileState::Settling)
    }
}

/// A change the copy records once the file has committed.
enum Update {
    /// Store this row in the copy.
    Save(Box<Kept>),
    /// The file holds the key's version under this id and counted these
    /// reads.
    Sent(String, String, String, i64),
}

/// The file's row as the copy keeps it, with the reads the copy answered
/// counted on top of the file's own (they went into the file just now).
fn adopted(mut f: Row, c: &Kept, origin: Origin) -> Kept {
    f.access_count = f.access_count.saturating_add(c.reads);
    f.last_accessed_at = f.last_accessed_at.max(c.row.last_accessed_at);
    Kept {
        row: f,
        origin,
        pending: false,
        reads: 0,
    }
}

/// The file's rows by key: all of them, or those of the given keys.
fn read_rows(
    conn: &Connection,
    layout: Layout,
    copy: &[Kept],
    all: bool,
) -> rusqlite::Result<HashMap<(String, String), Row>> {
    let rows = if all {
        file::read_all(conn, layout)?
    } else {
        let mut rows = Vec::new();
        for k in copy {
            rows.extend(file::read_one(conn, layout, &k.row.namespace, &k.row.key)?);
        }
        rows
    };
    Ok(rows
        .into_iter()
        .map(|r| ((r.namespace.clone(), r.key.clone()), r))
        .collect())
}
