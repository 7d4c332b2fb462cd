//! When to look at `memory.db` and what to do with what is seen: the
//! file's state between syncs, when a changed file counts as stable, and
//! when swarmd may write into it.
//!
//! The phases of one [`SharedMemory::sync`]:
//! 1. *Quiet*: the file is as swarmd last left it (same fingerprint):
//!    only the copy's pending writes and uncounted reads go in, at a
//!    moment that cannot straddle another tool's write-back (see
//!    `may_write`).
//! 2. *Settling*: it changed, or swarmd wrote it since the last full
//!    merge and [`FULL_EVERY_MS`] passed (a rewrite that landed just
//!    after swarmd's own write can look like swarmd's own): it must look
//!    the same twice, [`STABLE_MS`] apart, before it is read. An idle
//!    memory is never read whole again until the file changes.
//! 3. *Merge*: sound (`quick_check`), it is merged row by row (`sync.rs`).
//! 4. *Unreadable*: not sound; only once it has stayed so, unchanged, for
//!    [`UNREADABLE_GRACE_MS`] is it moved aside and rebuilt.

use super::file::{self, Probe};
use super::sync::FILE_BUSY;
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

/// How long after noticing another tool's first rewrite swarmd still
/// writes into the file (later, a third of its rewrite period).
pub const WRITE_WINDOW_MS: i64 = 40;

/// Merges are told (an event) at most this often, summed.
pub const TELL_EVERY_MS: i64 = 5_000;

/// How soon after swarmd's own write the whole file is merged again,
/// even when it looks unchanged.
pub const FULL_EVERY_MS: i64 = 3_000;

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
    pub(super) seen: Option<Fingerprint>,
    /// A changed file's fingerprint and when it was first seen so.
    pub(super) look: Option<(Option<Fingerprint>, i64)>,
    /// An unreadable file's fingerprint and since when it is so.
    pub(super) unreadable: Option<(Option<Fingerprint>, i64)>,
    /// When the whole file was last merged.
    pub(super) last_full_ms: Option<i64>,
    /// Whether swarmd wrote the file since then.
    pub(super) wrote: bool,
    /// When a rewrite by another tool was last noticed.
    pub(super) foreign_at: Option<i64>,
    /// The time between the last two rewrites by another tool.
    pub(super) period_ms: Option<i64>,
    pub(super) layout: Option<Layout>,
    /// Merges not told yet: adopted, deleted, re-applied.
    pub(super) untold: (usize, usize, usize),
    /// When a merge was last told.
    pub(super) told_at: Option<i64>,
}

impl Watch {
    /// What to tell of a sync's repair: a rebuild at once; merges summed
    /// and told at most every [`TELL_EVERY_MS`], so a tool rewriting the
    /// file ten times a second does not flood the event log.
    fn batch(&mut self, repair: Option<Repair>, now_ms: i64) -> Option<Repair> {
        if let Some(Repair::Merged {
            adopted,
            deleted,
            reapplied,
        }) = repair
        {
            let u = &mut self.untold;
            *u = (u.0 + adopted, u.1 + deleted, u.2 + reapplied);
        } else if repair.is_some() {
            return repair;
        }
        let (adopted, deleted, reapplied) = self.untold;
        let due = self.told_at.is_none_or(|at| now_ms - at >= TELL_EVERY_MS);
        if adopted + deleted + reapplied == 0 || !due {
            return None;
        }
        self.untold = (0, 0, 0);
        self.told_at = Some(now_ms);
        Some(Repair::Merged {
            adopted,
            deleted,
            reapplied,
        })
    }

    pub(super) fn layout(&self) -> Option<Layout> {
        self.layout
    }

    /// Forgets what it knew of an old file; a new one in `layout` is in
    /// place.
    pub(super) fn reset(&mut self, layout: Layout) {
        *self = Watch {
            layout: Some(layout),
            untold: self.untold,
            told_at: self.told_at,
            ..Watch::default()
        };
    }
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
        synced.repair = self.watch.batch(synced.repair.take(), now_ms);
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
                    if let Some(prev) = self.watch.foreign_at {
                        self.watch.period_ms = Some(now_ms - prev);
                    }
                    self.watch.foreign_at = Some(now_ms);
                }
                self.watch.look = Some((fp, now_ms));
                return Ok(Synced::state(FileState::Settling));
            }
        }
        self.watch.look = None;
        self.read_in(fp, now_ms)
    }

    /// Whether swarmd may write into the file now: when no other tool has
    /// rewritten it for [`IDLE_MS`], or within a third of that tool's
    /// rewrite period (its first: [`WRITE_WINDOW_MS`]) after its last
    /// rewrite was noticed — when a whole-file writer is furthest from
    /// its next write-back, which a write of swarmd's must never straddle.
    /// Otherwise the file is only read, and writes wait for that moment.
    pub(super) fn may_write(&self, now_ms: i64) -> bool {
        match self.watch.foreign_at {
            None => true,
            Some(at) => {
                let window = self
                    .watch
                    .period_ms
                    .map_or(WRITE_WINDOW_MS, |p| (p / 3).min(IDLE_MS));
                now_ms - at >= IDLE_MS || now_ms - at <= window
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
}
