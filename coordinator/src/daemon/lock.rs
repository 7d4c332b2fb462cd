//! One daemon per workdir: an exclusive lock on `.swarm/swarmd.lock`, which
//! records the PID of the swarmd holding it. The lock is the operating
//! system's (flock): it goes with the process, so a crashed daemon leaves
//! nothing to clean up, and a stale PID in the file means nothing.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Why the workdir could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another swarmd holds it.
    #[error("another swarmd (pid {pid}) already runs in {dir}; stop it first, or give this one another --workdir")]
    Held {
        /// The state directory.
        dir: String,
        /// The PID recorded by the holder (0 if unreadable).
        pid: u32,
    },
    /// The lock file cannot be created or locked.
    #[error("cannot lock {path}: {source}")]
    Io {
        /// The lock file.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
}

/// The held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct WorkdirLock {
    _file: File,
    path: PathBuf,
}

impl WorkdirLock {
    /// Takes the lock of `state_dir` (created if needed), without waiting,
    /// and writes this process's PID into it.
    pub fn acquire(state_dir: &Path) -> Result<WorkdirLock, LockError> {
        let path = state_dir.join("swarmd.lock");
        let io = |source| LockError::Io {
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(state_dir).map_err(io)?;
        let mut file = OpenOptions::new()
            .mode(0o600)
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                return Err(LockError::Held {
                    dir: state_dir.display().to_string(),
                    pid: text.trim().parse().unwrap_or(0),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(WorkdirLock { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_holder() {
        let dir = tempfile::tempdir().expect("tmp");
        let first = WorkdirLock::acquire(dir.path()).expect("first");
        let text = std::fs::read_to_string(first.path()).expect("read");
        assert_eq!(text.trim(), std::process::id().to_string());
        match WorkdirLock::acquire(dir.path()) {
            Err(LockError::Held { pid, .. }) => assert_eq!(pid, std::process::id()),
            other => panic!("expected Held, got {other:?}"),
        }
        drop(first);
        WorkdirLock::acquire(dir.path()).expect("free again once dropped");
    }
}
