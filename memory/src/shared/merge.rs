//! The merge rules, as one pure decision per key: given the row in
//! `memory.db` (if any) and swarmd's copy of it (if any), what to do.
//!
//! - Newer `updated_at` wins, both ways: a newer row in the file is taken
//!   into the copy; a newer copy is written into the file.
//! - A write swarmd acknowledged that the file does not hold yet
//!   (pending) goes into the file unless the file holds a newer write.
//! - A row swarmd last wrote that the file dropped, or holds in an older
//!   version, is a lost update: written again.
//! - A row another tool last wrote that disappears was deleted by it: the
//!   copy keeps a tombstone (so a stale rewrite that brings the row back
//!   is undone), forgotten after the retention.
//! - A tombstone in the copy beats an older live row in the file.
//! - Old dead rows of the file (deleted or expired before the retention's
//!   cutoff) are not taken in, so a forgotten tombstone is not re-learnt.
//!
//! Times are compared at the file's grain (1 ms in v3, 1 s in v2, which
//! stores seconds). When both sides hold the same time but different
//! writes, a pending write of swarmd wins, else the file.

use super::journal::{Kept, Origin};
use super::row::Row;

/// What to do with one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Both agree (or neither has anything worth keeping).
    Keep,
    /// Take the file's row into the copy (a change by another tool).
    Adopt,
    /// The other tool deleted the row: keep a tombstone in the copy.
    Deleted,
    /// Write the copy's row into the file.
    Write {
        /// The file had it and lost it (rather than not having had it yet).
        lost: bool,
    },
}

/// Decides one key. `cutoff_ms`: dead rows older than this are not worth
/// taking in; `grain`: 1 for v3, 1000 for v2.
pub fn decide(
    file: Option<&Row>,
    copy: Option<&Kept>,
    now_ms: i64,
    cutoff_ms: i64,
    grain: i64,
) -> Action {
    let t = |ms: i64| ms.div_euclid(grain.max(1));
    match (file, copy) {
        (None, None) => Action::Keep,
        (Some(f), None) => {
            let dead_long = !f.live(now_ms)
                && (f.updated_at < cutoff_ms || f.expires_at.is_some_and(|at| at < cutoff_ms));
            if dead_long {
                Action::Keep
            } else {
                Action::Adopt
            }
        }
        (None, Some(c)) => {
            if c.pending {
                // A delete of a row the file never had needs no write.
                if c.row.deleted() {
                    Action::Keep
                } else {
                    Action::Write { lost: false }
                }
            } else if c.row.deleted() {
                Action::Keep
            } else if c.origin == Origin::Swarmd && c.row.live(now_ms) {
                Action::Write { lost: true }
            } else {
                Action::Deleted
            }
        }
        (Some(f), Some(c)) => {
            let (tf, tc) = (t(f.updated_at), t(c.row.updated_at));
            if tf > tc {
                return Action::Adopt;
            }
            if tf < tc {
                // The copy is newer: a tombstone over a row the file
                // already holds as dead needs nothing.
                if c.row.deleted() && !f.live(now_ms) && !c.pending {
                    return Action::Keep;
                }
                return Action::Write { lost: !c.pending };
            }
            if f.same_write(&c.row, grain) {
                if c.pending {
                    // Already there (written before the copy was told).
                    Action::Write { lost: false }
                } else if f.access_count != c.row.access_count.saturating_sub(c.reads)
                    || f.last_accessed_at > c.row.last_accessed_at
                {
                    Action::Adopt
                } else {
                    Action::Keep
                }
            } else if c.pending {
                Action::Write { lost: false }
            } else {
                Action::Adopt
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::row::tests::row;
    use super::super::row::DELETED;
    use super::*;

    const NOW: i64 = 10_000;
    const CUT: i64 = 5_000;

    fn kept(r: Row, origin: Origin, pending: bool) -> Kept {
        Kept {
            row: r,
            origin,
            pending,
            reads: 0,
        }
    }

    fn tomb(mut r: Row) -> Row {
        r.status = DELETED.into();
        r
    }

    fn d(file: Option<&Row>, copy: Option<&Kept>) -> Action {
        decide(file, copy, NOW, CUT, 1)
    }

    #[test]
    fn foreign_inserts_updates_and_deletes_are_taken_in() {
        let theirs = row("k", "theirs", 9_000);
        assert_eq!(d(Some(&theirs), None), Action::Adopt, "insert");
        let old = kept(row("k", "old", 8_000), Origin::Other, false);
        assert_eq!(d(Some(&theirs), Some(&old)), Action::Adopt, "update");
        assert_eq!(d(None, Some(&old)), Action::Deleted, "delete");
        let soft = tomb(row("k", "old", 9_500));
        assert_eq!(d(Some(&soft), Some(&old)), Action::Adopt, "soft delete");
        let ancient = tomb(row("k", "x", 1_000));
        assert_eq!(d(Some(&ancient), None), Action::Keep, "long dead");
    }

    #[test]
    fn swarmds_lost_updates_are_written_again() {
        let mine = kept(row("k", "mine", 9_000), Origin::Swarmd, false);
        assert_eq!(d(None, Some(&mine)), Action::Write { lost: true });
        let stale = row("k", "before", 8_000);
        assert_eq!(d(Some(&stale), Some(&mine)), Action::Write { lost: true });
        let deleted = kept(tomb(row("k", "mine", 9_000)), Origin::Swarmd, false);
        assert_eq!(
            d(Some(&stale), Some(&deleted)),
            Action::Write { lost: true },
            "a delete the file lost"
        );
        assert_eq!(d(None, Some(&deleted)), Action::Keep);
        let mut expired = mine.clone();
        expired.row.expires_at = Some(9_500);
        assert_eq!(d(None, Some(&expired)), Action::Deleted, "not brought back");
    }

    #[test]
    fn newer_updated_at_wins_both_ways() {
        let pending = kept(row("k", "mine", 9_000), Origin::Swarmd, true);
        let newer = row("k", "theirs", 9_001);
        assert_eq!(d(Some(&newer), Some(&pending)), Action::Adopt);
        let older = row("k", "theirs", 8_999);
        assert_eq!(
            d(Some(&older), Some(&pending)),
            Action::Write { lost: false }
        );
        assert_eq!(d(None, Some(&pending)), Action::Write { lost: false });
        let theirs = kept(row("k", "theirs", 9_000), Origin::Other, false);
        let back_in_time = row("k", "older", 8_000);
        assert_eq!(
            d(Some(&back_in_time), Some(&theirs)),
            Action::Write { lost: true },
            "a foreign row is not taken back to an older version either"
        );
        let same_time = row("k", "other", 9_000);
        assert_eq!(
            d(Some(&same_time), Some(&pending)),
            Action::Write { lost: false }
        );
        assert_eq!(d(Some(&same_time), Some(&theirs)), Action::Adopt);
    }

    #[test]
    fn agreement_and_read_counts() {
        let r = row("k", "v", 9_000);
        let c = kept(r.clone(), Origin::Other, false);
        assert_eq!(d(Some(&r), Some(&c)), Action::Keep);
        let mut read = r.clone();
        read.access_count = 3;
        assert_eq!(d(Some(&read), Some(&c)), Action::Adopt, "counts refreshed");
        let mut v2 = c.clone();
        v2.row.updated_at = 9_400;
        assert_eq!(decide(Some(&r), Some(&v2), NOW, CUT, 1000), Action::Keep);
    }
}
