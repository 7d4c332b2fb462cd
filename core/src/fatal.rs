//! A failure of the store, recorded once for everyone waiting on the loop.
//!
//! When a turn cannot commit (disk full, an I/O error, a damaged file), the
//! loop stops rather than run ahead of its database. Before it drops the
//! replies of that turn it records here what failed and the cure, so every
//! caller — a gRPC handler, `swarmctl` behind it — gets that message
//! instead of a broken connection.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rusqlite::ErrorCode;
use swarm_memory::StoreError;

use super::CoreError;

/// The recorded failure, shared by the loop and every handle.
#[derive(Clone, Default)]
pub struct Fatal(Arc<OnceLock<String>>);

impl Fatal {
    /// Records why the loop stops (the first failure wins).
    pub(crate) fn record(&self, e: &CoreError, db: &Path) {
        let _ = self.0.set(describe(e, db));
    }

    /// The recorded message, if the loop failed.
    pub fn message(&self) -> Option<String> {
        self.0.get().cloned()
    }

    /// The error a caller gets when the loop no longer answers.
    pub(crate) fn error(&self) -> CoreError {
        match self.0.get() {
            Some(m) => CoreError::Fatal(m.clone()),
            None => CoreError::Stopped,
        }
    }
}

/// What failed, where, and what to do about it.
fn describe(e: &CoreError, db: &Path) -> String {
    let file = db.display();
    let dir = db
        .parent()
        .map_or_else(|| ".".into(), |d| d.display().to_string());
    let code = match e {
        CoreError::Store(StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _))) => Some(f.code),
        _ => None,
    };
    let cure = match code {
        Some(ErrorCode::DiskFull) => format!("free space on the filesystem holding {dir}, then start swarmd again"),
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen) => {
            format!("make {file} and {dir} writable by this user, then start swarmd again")
        }
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => format!(
            "{file} is damaged: move it aside (keep it for inspection) and restore a backup, then start swarmd again"
        ),
        Some(ErrorCode::SystemIoFailure) => {
            format!("check the disk and filesystem holding {dir} (dmesg), then start swarmd again")
        }
        _ => "see the error above; start swarmd again once it is fixed".to_string(),
    };
    format!(
        "swarmd stopped: the store {file} failed: {e}. Every transition acknowledged before this was committed; nothing after it was. To go on: {cure}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_names_the_file_and_the_cure() {
        let full = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            Some("database or disk is full".into()),
        );
        let fatal = Fatal::default();
        assert!(matches!(fatal.error(), CoreError::Stopped));
        fatal.record(
            &CoreError::from(full),
            Path::new("/srv/swarm/.swarm/memory.db"),
        );
        let m = fatal.message().expect("recorded");
        assert!(m.contains("/srv/swarm/.swarm/memory.db"), "{m}");
        assert!(m.contains("database or disk is full"), "{m}");
        assert!(
            m.contains("free space on the filesystem holding /srv/swarm/.swarm"),
            "{m}"
        );
        assert!(matches!(fatal.error(), CoreError::Fatal(_)));
    }
}
