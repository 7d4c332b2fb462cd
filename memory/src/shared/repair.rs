//! Noticing that another tool changed `memory.db`, putting back what it
//! lost, and rebuilding a file that stays unreadable.

use std::path::PathBuf;

use rusqlite::ErrorCode;

use super::journal::{self, Acked};
use super::{Fingerprint, MemoryError, Repair, SharedMemory, UNREADABLE_GRACE_MS};
use crate::kv::{self, KvError, Layout, Put};

/// Smaller than this, the file is an SQLite header being written.
const MIN_SQLITE_BYTES: u64 = 100;

/// Why the file could not be opened.
enum Probe {
    /// Locked by another process.
    Busy,
    /// Laid out unlike claude-flow's (left untouched, calls fail).
    Unsupported(KvError),
    /// Missing pieces or garbage: maybe half-written, maybe broken.
    Unreadable(String),
}

impl SharedMemory {
    /// Looks at the file: when someone else changed it since swarmd last
    /// did, re-applies what it lost; when it stays unreadable past the
    /// grace period, rebuilds it. Returns what was repaired, if anything.
    ///
    /// # Errors
    /// [`MemoryError::Locked`] or [`MemoryError::Unavailable`] while the
    /// file cannot be used; [`MemoryError::Kv`] for a foreign layout.
    pub fn check(&mut self, now_ms: i64) -> Result<Option<Repair>, MemoryError> {
        let now_seen = Fingerprint::of(&self.path);
        let settled = self.unreadable_since.is_none() && self.layout.is_some();
        if settled && now_seen.is_some() && now_seen == self.seen {
            return Ok(None);
        }
        match self.probe() {
            Ok(layout) => {
                self.unreadable_since = None;
                self.layout = Some(layout);
                let (checked, reapplied) = match self.reconcile(layout, now_ms) {
                    Ok(done) => done,
                    Err(e) => {
                        self.unreadable_since = Some(now_ms);
                        return Err(e);
                    }
                };
                self.seen = Fingerprint::of(&self.path);
                Ok((reapplied > 0).then_some(Repair::Reconciled { checked, reapplied }))
            }
            Err(Probe::Busy) => Err(MemoryError::Locked {
                path: self.path.display().to_string(),
                waited_ms: self.busy.as_millis() as u64,
            }),
            Err(Probe::Unsupported(e)) => Err(MemoryError::Kv(e)),
            Err(Probe::Unreadable(reason)) => {
                let since = *self.unreadable_since.get_or_insert(now_ms);
                if now_ms - since < UNREADABLE_GRACE_MS {
                    return Err(self.unavailable(&reason));
                }
                self.rebuild(reason, now_ms).map(Some)
            }
        }
    }

    /// Opens the file and makes sure `memory_entries` is there.
    fn probe(&self) -> Result<Layout, Probe> {
        let size = std::fs::metadata(&self.path).map(|m| m.len()).ok();
        if matches!(size, Some(n) if n < MIN_SQLITE_BYTES) {
            return Err(Probe::Unreadable(format!(
                "the file is {} bytes, less than an SQLite header",
                size.unwrap_or(0)
            )));
        }
        let conn = self.connect().map_err(sqlite_probe)?;
        let layout = kv::ensure_schema(&conn).map_err(|e| match e {
            KvError::Sqlite(e) => sqlite_probe(e),
            other => Probe::Unsupported(other),
        })?;
        // A file copied while it was being written can have a sound
        // schema over broken pages: look at every page once per change.
        let verdict: String = conn
            .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
            .map_err(sqlite_probe)?;
        if verdict != "ok" {
            return Err(Probe::Unreadable(format!("quick_check: {verdict}")));
        }
        Ok(layout)
    }

    /// Re-applies every journalled write the file lost; returns the keys
    /// checked and the writes applied.
    fn reconcile(&self, layout: Layout, now_ms: i64) -> Result<(usize, usize), MemoryError> {
        let acked = journal::all(&self.journal)?;
        if acked.is_empty() {
            return Ok((0, 0));
        }
        let conn = self
            .connect()
            .map_err(|e| self.unavailable(&e.to_string()))?;
        let kv_err = |e: KvError| match e {
            KvError::Sqlite(e) => self.unavailable(&e.to_string()),
            other => MemoryError::Kv(other),
        };
        let mut reapplied = 0;
        for a in &acked {
            let row = kv::peek(&conn, layout, &a.namespace, &a.key, now_ms).map_err(kv_err)?;
            if !lost(a, row.as_ref(), now_ms) {
                continue;
            }
            match &a.value {
                Some(value) => {
                    let put = Put {
                        namespace: &a.namespace,
                        key: &a.key,
                        value,
                        ttl_ms: a.expires_at_ms.map(|at| at - now_ms),
                        tags: &a.tags,
                        owner_id: a.owner.as_deref(),
                        ..Put::default()
                    };
                    kv::put(&conn, layout, &put, now_ms, usize::MAX).map_err(kv_err)?;
                }
                None => {
                    kv::delete(&conn, layout, &a.namespace, &a.key, now_ms).map_err(kv_err)?;
                }
            }
            reapplied += 1;
        }
        Ok((acked.len(), reapplied))
    }

    /// Moves the unreadable file (and its journal files) aside, creates a
    /// fresh one with claude-flow's schema and re-applies the journal.
    fn rebuild(&mut self, reason: String, now_ms: i64) -> Result<Repair, MemoryError> {
        let moved_to = if self.path.exists() {
            let aside = PathBuf::from(format!("{}.corrupt-{now_ms}", self.path.display()));
            std::fs::rename(&self.path, &aside)
                .map_err(|e| self.unavailable(&format!("cannot move it aside: {e}")))?;
            for ext in ["-journal", "-wal", "-shm"] {
                let side = PathBuf::from(format!("{}{ext}", self.path.display()));
                if side.exists() {
                    let _ = std::fs::rename(&side, format!("{}{ext}", aside.display()));
                }
            }
            Some(aside)
        } else {
            None
        };
        let layout = match self.probe() {
            Ok(layout) => layout,
            Err(Probe::Busy) => return Err(self.unavailable("locked while being rebuilt")),
            Err(Probe::Unsupported(e)) => return Err(MemoryError::Kv(e)),
            Err(Probe::Unreadable(why)) => return Err(self.unavailable(&why)),
        };
        self.layout = Some(layout);
        self.unreadable_since = None;
        let (_, reapplied) = self.reconcile(layout, now_ms)?;
        self.seen = Fingerprint::of(&self.path);
        Ok(Repair::Rebuilt {
            moved_to,
            reason,
            reapplied,
        })
    }
}

/// Whether the file lost what swarmd acknowledged for this key: the row is
/// missing or older than the acknowledgement and does not hold it (a row
/// another tool wrote later wins).
fn lost(a: &Acked, row: Option<&kv::Peek>, now_ms: i64) -> bool {
    match (&a.value, row) {
        (Some(_), _) if a.expires_at_ms.is_some_and(|at| at <= now_ms) => false,
        (Some(_), None) => true,
        (Some(value), Some(row)) => {
            row.updated_at_ms < a.acked_at_ms && !(row.live && row.value == *value)
        }
        (None, Some(row)) => row.live && row.updated_at_ms <= a.acked_at_ms,
        (None, None) => false,
    }
}

fn sqlite_probe(e: rusqlite::Error) -> Probe {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Probe::Busy,
        _ => Probe::Unreadable(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acked(value: Option<&str>, at: i64) -> Acked {
        Acked {
            namespace: "default".into(),
            key: "k".into(),
            value: value.map(str::to_string),
            tags: Vec::new(),
            expires_at_ms: None,
            owner: None,
            acked_at_ms: at,
        }
    }

    fn row(value: &str, at: i64, live: bool) -> kv::Peek {
        kv::Peek {
            value: value.into(),
            updated_at_ms: at,
            live,
        }
    }

    #[test]
    fn what_the_file_lost_and_what_it_did_not() {
        let put = acked(Some("mine"), 100);
        assert!(lost(&put, None, 200), "a missing row lost the write");
        assert!(
            lost(&put, Some(&row("older", 50, true)), 200),
            "an older row"
        );
        assert!(
            !lost(&put, Some(&row("mine", 100, true)), 200),
            "still there"
        );
        assert!(
            !lost(&put, Some(&row("theirs", 150, true)), 200),
            "a later write wins"
        );
        assert!(
            lost(&put, Some(&row("mine", 50, false)), 200),
            "deleted under it"
        );
        let mut expiring = put.clone();
        expiring.expires_at_ms = Some(150);
        assert!(!lost(&expiring, None, 200), "an expired write stays lost");
        let delete = acked(None, 100);
        assert!(
            lost(&delete, Some(&row("old", 50, true)), 200),
            "the row came back"
        );
        assert!(
            !lost(&delete, Some(&row("new", 150, true)), 200),
            "written again later"
        );
        assert!(!lost(&delete, None, 200));
    }
}
