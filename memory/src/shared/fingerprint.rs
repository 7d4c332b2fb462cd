//! How `memory.db` looked when swarmd last left it: enough to notice that
//! another tool changed it — through SQLite, or by writing the whole file
//! back as sql.js does.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The file's identity, size, modification time and SQLite change counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
    /// Bytes 24..28 of the header: bumped by every commit in rollback mode.
    counter: u32,
}

impl Fingerprint {
    /// Reads the fingerprint of `path`; `None` when the file is missing or
    /// unreadable.
    pub fn of(path: &Path) -> Option<Fingerprint> {
        let mut file = std::fs::File::open(path).ok()?;
        let meta = file.metadata().ok()?;
        let mut header = [0u8; 28];
        let counter = match file.read_exact(&mut header) {
            Ok(()) => u32::from_be_bytes([header[24], header[25], header[26], header[27]]),
            Err(_) => 0,
        };
        Some(Fingerprint {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.len(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            counter,
        })
    }
}
