//! How `memory.db` looked when swarmd last left it: enough to notice that
//! another tool changed it — through SQLite, or by writing the whole file
//! back as sql.js does.
//!
//! File metadata alone is not enough: a whole-file writer's copy can have
//! the same size, the same SQLite change counter (its copy was read one
//! commit before swarmd's last one) and, within one tick of the kernel's
//! clock, the same modification time. So a file of up to [`HASHED_BYTES`]
//! is also hashed whole; a bigger one is told apart by its metadata only.

use std::hash::{DefaultHasher, Hasher};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Files up to this size are hashed whole at every look.
pub const HASHED_BYTES: u64 = 16 << 20;

/// The file's identity, size, modification time, SQLite change counter
/// and (for files up to [`HASHED_BYTES`]) a hash of its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
    /// Bytes 24..28 of the header: bumped by every commit in rollback mode.
    counter: u32,
    /// A hash of every byte, 0 for a bigger file.
    content: u64,
}

impl Fingerprint {
    /// The file's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Reads the fingerprint of `path`; `None` when the file is missing or
    /// unreadable.
    pub fn of(path: &Path) -> Option<Fingerprint> {
        let mut file = std::fs::File::open(path).ok()?;
        let meta = file.metadata().ok()?;
        let mut bytes = Vec::new();
        let mut content = 0;
        if meta.len() <= HASHED_BYTES {
            file.read_to_end(&mut bytes).ok()?;
            let mut hasher = DefaultHasher::new();
            hasher.write(&bytes);
            content = hasher.finish();
        } else {
            let mut header = [0u8; 28];
            file.read_exact(&mut header).ok()?;
            bytes.extend_from_slice(&header);
        }
        let counter = match bytes.get(24..28) {
            Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
            _ => 0,
        };
        Some(Fingerprint {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.len(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            counter,
            content,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_same_sized_rewrite_with_the_same_counter_is_noticed() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("f.db");
        let mut a = vec![0u8; 4096];
        a[24..28].copy_from_slice(&7u32.to_be_bytes());
        std::fs::write(&path, &a).expect("write");
        let first = Fingerprint::of(&path);
        a[4000] = 1;
        std::fs::write(&path, &a).expect("rewrite");
        assert_ne!(Fingerprint::of(&path), first);
        assert_eq!(Fingerprint::of(&path), Fingerprint::of(&path));
    }
}
