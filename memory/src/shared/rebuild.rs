//! Rebuilding `memory.db` once it has stayed unreadable (or gone
//! missing): a fresh file holding every live row of swarmd's copy, the
//! other tool's included, built in a temporary file and renamed into
//! place; the broken file kept beside it as `memory.db.corrupt-<ms>`.

use std::path::{Path, PathBuf};

use super::file;
use super::journal;
use super::row::Row;
use super::sync::FILE_BUSY;
use super::watch::{FileState, Synced};
use super::{MemoryError, Repair, SharedMemory};
use crate::kv::Layout;

impl SharedMemory {
    /// Where a broken file is moved.
    pub(super) fn aside(&self, now_ms: i64) -> PathBuf {
        PathBuf::from(format!("{}.corrupt-{now_ms}", self.path.display()))
    }

    /// Builds a fresh file from the copy in a temporary file, keeps the
    /// broken one (if any) at `aside`, and renames the new one into place.
    pub(super) fn rebuild(
        &mut self,
        now_ms: i64,
        aside: Option<PathBuf>,
        reason: String,
    ) -> Result<Synced, MemoryError> {
        let copy = self.copy_op(journal::all)?;
        let rows: Vec<Row> = copy
            .iter()
            .filter(|k| !k.row.deleted())
            .map(|k| k.row.clone())
            .collect();
        let layout = self.watch.layout().unwrap_or(Layout::V3);
        let installed = file::build(&self.path, layout, &rows)
            .and_then(|tmp| install(&self.path, &tmp, aside.as_deref()));
        let moved_to = match installed {
            Ok(moved) => moved,
            Err(why) => {
                return Ok(Synced::state(FileState::Unreadable(format!(
                    "{reason}; rebuilding it failed: {why}"
                ))));
            }
        };
        // The new file holds every live row of the copy, as it stands.
        self.copy_op(|c| {
            let tx = c.unchecked_transaction()?;
            for k in copy.iter().filter(|k| k.pending && k.row.deleted()) {
                journal::sent(&tx, &k.row.namespace, &k.row.key, &k.row.id, 0)?;
            }
            tx.commit()
        })?;
        self.watch.reset(layout);
        // The first merge of the new file numbers v2 rows and clears the
        // pending flags of what it holds.
        let mut done = match file::connect(&self.path, FILE_BUSY) {
            Ok(conn) => {
                let fp = super::Fingerprint::of(&self.path);
                self.merge(conn, layout, now_ms, None, fp)?
            }
            Err(e) => self.file_failed(&e),
        };
        let told = moved_to.is_some() || !rows.is_empty();
        done.repair = told.then_some(Repair::Rebuilt {
            moved_to,
            reason,
            rows: rows.len(),
        });
        Ok(done)
    }
}

/// Moves the broken file (and its journal files) to `aside` and renames
/// `tmp` into place; returns where the broken file went.
fn install(path: &Path, tmp: &Path, aside: Option<&Path>) -> Result<Option<PathBuf>, String> {
    let mut moved = None;
    if let Some(aside) = aside.filter(|_| path.exists()) {
        // A link keeps the broken file at `path` until the rename below
        // replaces it, so the path is never missing.
        std::fs::hard_link(path, aside)
            .or_else(|_| std::fs::copy(path, aside).map(|_| ()))
            .map_err(|e| format!("cannot keep it as {}: {e}", aside.display()))?;
        moved = Some(aside.to_path_buf());
    }
    // A journal left beside the broken file must not be played into the
    // new one.
    for ext in ["-journal", "-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{ext}", path.display()));
        if side.exists() {
            let to = match aside {
                Some(a) => format!("{}{ext}", a.display()),
                None => format!("{}{ext}.stale", path.display()),
            };
            let _ = std::fs::rename(&side, to);
        }
    }
    std::fs::rename(tmp, path)
        .map_err(|e| format!("cannot rename {} to {}: {e}", tmp.display(), path.display()))?;
    if let Some(dir) = path.parent() {
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(moved)
}
