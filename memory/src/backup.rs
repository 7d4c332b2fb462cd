//! Backups of a workdir's two files, and restoring them.
//!
//! A backup is taken online with SQLite's backup API on connections of its
//! own (never the scheduler's), a hundred pages at a time with a short
//! pause between steps, so a running daemon is never held up for more
//! than a few milliseconds at a time; each copy is consistent. Beside the
//! copies, `manifest.json` says when, of which plan, by which version, and
//! the size and checksum (FNV-1a 64) of each file. Restoring checks the
//! manifest, refuses a workdir a daemon holds, and writes the files into
//! `.swarm/` with mode 0600.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// The files a backup holds, as they are named under `.swarm/`.
pub const FILES: [&str; 2] = ["swarmd.db", "memory.db"];

/// What a backup is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// When it was taken, ms since the epoch.
    pub taken_at_ms: i64,
    /// The latest plan in it and its state (empty without a plan).
    pub plan: String,
    /// swarmd's version.
    pub version: String,
    /// Schema version of `swarmd.db`.
    pub schema: i64,
    /// Each file copied.
    pub files: Vec<FileEntry>,
}

/// One file of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Its name (`swarmd.db`, `memory.db`).
    pub name: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// FNV-1a 64 of its bytes, hex.
    pub fnv1a64: String,
}

/// Copies `state_dir`'s files into `dest` (created 0700) and writes the
/// manifest. Files that do not exist are left out.
///
/// # Errors
/// When a file cannot be read or `dest` written.
pub fn take(
    state_dir: &Path,
    dest: &Path,
    now_ms: i64,
    version: &str,
) -> Result<Manifest, StoreError> {
    create_private_dir(dest)?;
    let mut files = Vec::new();
    for name in FILES {
        let src_path = state_dir.join(name);
        if !src_path.exists() {
            continue;
        }
        let out = dest.join(name);
        let _ = std::fs::remove_file(&out);
        let src = Connection::open_with_flags(&src_path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        src.busy_timeout(Duration::from_secs(5))?;
        let mut dst = Connection::open(&out)?;
        crate::store::private(&out)?;
        {
            let backup = rusqlite::backup::Backup::new(&src, &mut dst)?;
            backup.run_to_completion(100, Duration::from_millis(2), None)?;
        }
        dst.pragma_update(None, "journal_mode", "DELETE")?;
        drop(dst);
        files.push(entry(&out, name)?);
    }
    let (plan, schema) = describe(&dest.join("swarmd.db"));
    let manifest = Manifest {
        taken_at_ms: now_ms,
        plan,
        version: version.to_string(),
        schema,
        files,
    };
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    write_private(&dest.join("manifest.json"), text.as_bytes())?;
    Ok(manifest)
}

/// Reads and checks a backup: every file the manifest names is there with
/// its size and checksum.
///
/// # Errors
/// [`StoreError::Corrupt`] naming what does not match.
pub fn verify(dir: &Path) -> Result<Manifest, StoreError> {
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path).map_err(|source| StoreError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
        table: "manifest.json",
        detail: e.to_string(),
    })?;
    for f in &manifest.files {
        let found = entry(&dir.join(&f.name), &f.name)?;
        if found != *f {
            return Err(StoreError::Corrupt {
                table: "backup",
                detail: format!(
                    "{} is {} bytes with checksum {}, the manifest says {} bytes and {}",
                    f.name, found.bytes, found.fnv1a64, f.bytes, f.fnv1a64
                ),
            });
        }
    }
    Ok(manifest)
}

/// Copies a verified backup's files into `state_dir` (0700, files 0600).
///
/// # Errors
/// When the backup does not verify or the files cannot be written.
pub fn restore(dir: &Path, state_dir: &Path) -> Result<Manifest, StoreError> {
    let manifest = verify(dir)?;
    create_private_dir(state_dir)?;
    for f in &manifest.files {
        let to = state_dir.join(&f.name);
        for side in ["-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(PathBuf::from(format!("{}{side}", to.display())));
        }
        let bytes = std::fs::read(dir.join(&f.name)).map_err(|source| StoreError::Io {
            path: dir.join(&f.name).display().to_string(),
            source,
        })?;
        write_private(&to, &bytes)?;
    }
    Ok(manifest)
}

fn entry(path: &Path, name: &str) -> Result<FileEntry, StoreError> {
    let bytes = std::fs::read(path).map_err(|source| StoreError::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(FileEntry {
        name: name.to_string(),
        bytes: bytes.len() as u64,
        fnv1a64: format!("{:016x}", fnv1a64(&bytes)),
    })
}

/// The latest plan ("name (state)") and the schema version of a copy.
fn describe(state_db: &Path) -> (String, i64) {
    let Ok(db) = Connection::open_with_flags(state_db, OpenFlags::SQLITE_OPEN_READ_ONLY) else {
        return (String::new(), 0);
    };
    let plan = db
        .query_row(
            "SELECT name || ' (' || state || ')' FROM swarm_plans ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap_or_default();
    let schema = db
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap_or(0);
    (plan, schema)
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    let io = |source| StoreError::Io {
        path: dir.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_verifies_restores_and_detects_damage() {
        let dir = tempfile::tempdir().expect("tmp");
        let state = dir.path().join("w/.swarm");
        let store = crate::Store::open(&state.join("swarmd.db")).expect("store");
        store
            .conn()
            .execute_batch("INSERT INTO swarm_plans (name, file, format, source, state, loaded_at) VALUES ('P', 'p.md', 'markdown', '', 'running', 1)")
            .expect("plan");
        let backup = dir.path().join("b");
        let m = take(&state, &backup, 42, "0.1.0").expect("backup");
        assert_eq!(m.plan, "P (running)");
        assert_eq!(m.files.len(), 1, "no memory.db there");
        verify(&backup).expect("verifies");
        let restored = dir.path().join("n/.swarm");
        restore(&backup, &restored).expect("restore");
        let copy = Connection::open(restored.join("swarmd.db")).expect("open");
        let n: i64 = copy
            .query_row("SELECT COUNT(*) FROM swarm_plans", [], |r| r.get(0))
            .expect("count");
        assert_eq!(n, 1);
        std::fs::write(backup.join("swarmd.db"), b"damaged").expect("damage");
        assert!(matches!(verify(&backup), Err(StoreError::Corrupt { .. })));
    }
}
