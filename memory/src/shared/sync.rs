//! Merging `memory.db` with swarmd's copy row by row (every key, or only
//! those with something pending), in one transaction that holds the
//! file's write lock and commits only if the file is still as it was
//! when the merge was decided.

use std::collections::HashMap;
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use super::file;
use super::journal::{self, Kept, Origin};
use super::merge::{decide, Action};
use super::row::{Row, DELETED};
use super::watch::{FileState, Synced};
use super::{Fingerprint, MemoryError, Repair, SharedMemory};
use crate::kv::Layout;

/// How long a write to the file waits for another process's lock before
/// it is tried again later.
pub(super) const FILE_BUSY: Duration = Duration::from_millis(500);

/// Counts of one merge.
#[derive(Default)]
struct Tally {
    adopted: usize,
    deleted: usize,
    reapplied: usize,
    written: usize,
}

impl SharedMemory {
    /// The quiet phase: pending writes and read counts into a file that
    /// is as swarmd left it.
    pub(super) fn flush(&mut self, now_ms: i64) -> Result<Synced, MemoryError> {
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
        // What the copy records after the file committed is only
        // bookkeeping: lost in a crash, the next merge finds it again (a
        // row sent twice is written the same; a foreign row is adopted
        // again). So it is committed without an fsync, and the scheduler's
        // commits on the same file do not wait behind a second one per
        // memory write.
        self.copy_op(|c| {
            c.pragma_update(None, "synchronous", "NORMAL")?;
            let saved = (|| {
                let tx = c.unchecked_transaction()?;
                for u in &updates {
                    match u {
                        Update::Save(k) => journal::save(&tx, k)?,
                        Update::Sent(ns, key, id, reads) => {
                            journal::sent(&tx, ns, key, id, *reads)?
                        }
                    }
                }
                tx.commit()
            })();
            c.pragma_update(None, "synchronous", "FULL")?;
            saved
        })?;
        self.watch.seen = Fingerprint::of(&self.path);
        if full {
            self.watch.last_full_ms = Some(now_ms);
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
        // Outside the safe moment the file is only read.
        let write = self.may_write(now_ms);
        for c in copy {
            let f = file_rows.remove(&(c.row.namespace.clone(), c.row.key.clone()));
            match decide(f.as_ref(), Some(&c), now_ms, cutoff, grain) {
                Action::Keep => match f {
                    Some(f) if c.reads > 0 && write => {
                        file::count_reads(conn, layout, &f, c.reads, c.row.last_accessed_at)?;
                        updates.push(Update::Sent(f.namespace, f.key, f.id, c.reads));
                    }
                    // Created and deleted before the file ever had it.
                    None if c.pending => {
                        let (ns, key, id) = (c.row.namespace, c.row.key, c.row.id);
                        updates.push(Update::Sent(ns, key, id, 0));
                    }
                    _ => {}
                },
                // Kept pending, so the write is not forgotten once found.
                Action::Write { .. } if !write => {
                    if !c.pending {
                        let mut again = c;
                        again.pending = true;
                        updates.push(Update::Save(Box::new(again)));
                    }
                }
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
                    if c.reads > 0 && write {
                        file::count_reads(conn, layout, &f, c.reads, c.row.last_accessed_at)?;
                    }
                    let origin = if same_time { c.origin } else { Origin::Other };
                    let mut kept = adopted(f, &c, origin);
                    if !write {
                        // Counted in the file with a later write.
                        kept.reads = c.reads;
                    }
                    updates.push(Update::Save(Box::new(kept)));
                }
                Action::Deleted => {
                    tally.deleted += usize::from(c.row.live(now_ms));
                    let mut row = c.row;
                    row.status = DELETED.to_string();
                    row.updated_at = row.updated_at.max(now_ms);
                    updates.push(Update::Save(Box::new(theirs(row))));
                }
            }
        }
        // What only the file has: another tool's new rows.
        for f in file_rows.into_values() {
            if decide(Some(&f), None, now_ms, cutoff, grain) == Action::Adopt {
                tally.adopted += 1;
                updates.push(Update::Save(Box::new(theirs(f))));
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

/// A row another tool wrote last, as the copy keeps it.
fn theirs(row: Row) -> Kept {
    Kept {
        row,
        origin: Origin::Other,
        pending: false,
        reads: 0,
    }
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
