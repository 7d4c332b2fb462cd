//! The agent's private runtime directory, `TMPDIR/swarm-agent-PID-N`:
//! 0700, handed to the `--run-as` user when there is one, removed when the
//! agent stops. It holds the tasks' socket under mTLS
//! ([`crate::forward`]) and the files tasks write their results to
//! (`$SWARM_RESULT`), so nothing there is readable by other users.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

/// The directory; removed with everything in it on drop.
#[derive(Debug)]
pub struct RuntimeDir {
    path: PathBuf,
}

impl RuntimeDir {
    /// Creates a fresh directory (never an existing one) owned by `owner`
    /// (uid, gid) if given.
    ///
    /// # Errors
    /// When it cannot be created or handed over.
    pub fn create(owner: Option<(u32, u32)>) -> std::io::Result<RuntimeDir> {
        let base = std::env::temp_dir();
        let pid = std::process::id();
        for n in 0..1000u32 {
            let path = base.join(format!("swarm-agent-{pid}-{n}"));
            match std::fs::create_dir(&path) {
                Ok(()) => {
                    let dir = RuntimeDir { path };
                    std::fs::set_permissions(&dir.path, std::fs::Permissions::from_mode(0o700))?;
                    if let Some((uid, gid)) = owner {
                        std::os::unix::fs::chown(&dir.path, Some(uid), Some(gid)).map_err(|e| {
                            std::io::Error::other(format!(
                                "cannot hand {} to uid {uid}: {e}",
                                dir.path.display()
                            ))
                        })?;
                    }
                    return Ok(dir);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(std::io::Error::other(format!(
            "no free directory name for the agent's runtime files under {}",
            base.display()
        )))
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RuntimeDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The largest result file read; the rest is cut.
pub const MAX_RESULT_BYTES: u64 = 1024 * 1024;

/// What a task wrote to its result file `path`, if it wrote one; the file
/// is removed. At most [`MAX_RESULT_BYTES`], as UTF-8 (invalid bytes
/// replaced).
pub fn take_result(path: &Path) -> Option<String> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    let read = file.take(MAX_RESULT_BYTES).read_to_end(&mut bytes);
    let _ = std::fs::remove_file(path);
    read.ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_gone_after_drop() {
        let dir = RuntimeDir::create(None).expect("create");
        let path = dir.path().to_path_buf();
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let result = path.join("result-1");
        assert_eq!(take_result(&result), None, "no file, no result");
        std::fs::write(&result, b"found 3 slow queries\n\xff").expect("write");
        assert_eq!(
            take_result(&result).as_deref(),
            Some("found 3 slow queries\n\u{fffd}")
        );
        assert!(!result.exists(), "taken once");
        drop(dir);
        assert!(!path.exists());
    }
}
