//! Where `swarmd run` keeps its tokens: never where its tasks run. Both
//! are held in memory (from `SWARM_ADMIN_TOKEN` / `SWARM_AGENT_TOKEN`, or
//! made for this run); the local agents get theirs in their environment,
//! which they keep from their tasks. For the operator's `swarmctl` (a
//! task that waits for `swarmctl task done`, or `status` from another
//! terminal) the admin token is written into a private directory outside
//! the workdir — under `$XDG_RUNTIME_DIR`, else the system's temporary
//! directory — made 0700 and removed when the run ends. The process
//! holding them is not dumpable ([`hide_memory`]), and neither are its
//! agents, so its memory and environment cannot be read through `/proc`.

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

/// Closes this process's memory and environment, where the tokens are
/// held, to the user's other processes (its tasks among them): not
/// dumpable, `/proc/PID/mem` and `/proc/PID/environ` need privileges.
pub(crate) fn hide_memory() {
    if let Err(e) = nix::sys::prctl::set_dumpable(false) {
        eprintln!("swarmd run: cannot close this process's memory to other processes: {e}");
    }
}

/// The admin token's file for the operator; its directory is removed
/// when this is dropped.
#[derive(Debug)]
pub(crate) struct OperatorToken {
    dir: PathBuf,
    file: PathBuf,
}

impl OperatorToken {
    /// Writes `token` into a new private directory under `base` (named
    /// for this process), refusing a `base` inside `workdir`.
    ///
    /// # Errors
    /// When the directory or the file cannot be made, or `base` lies in
    /// the workdir.
    pub(crate) fn write(base: &Path, workdir: &Path, token: &str) -> std::io::Result<Self> {
        let inside = |p: &Path| {
            let real = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
            real(p).starts_with(real(workdir))
        };
        if inside(base) {
            return Err(std::io::Error::other(format!(
                "{} is inside the workdir, where tasks run; set XDG_RUNTIME_DIR or TMPDIR \
                 elsewhere",
                base.display()
            )));
        }
        let suffix = swarm_memory::now_ms().rem_euclid(1_000_000);
        let dir = base.join(format!("swarmd-run-{}-{suffix}", std::process::id()));
        std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        let file = dir.join("admin.token");
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&file)
            .and_then(|mut f| writeln!(f, "{token}"));
        if let Err(e) = written {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
        Ok(OperatorToken { dir, file })
    }

    /// Under `$XDG_RUNTIME_DIR` when it is set, else the temporary
    /// directory.
    pub(crate) fn base(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
        env("XDG_RUNTIME_DIR")
            .filter(|d| !d.is_empty() && Path::new(d).is_dir())
            .map_or_else(std::env::temp_dir, PathBuf::from)
    }

    /// The token file.
    pub(crate) fn file(&self) -> &Path {
        &self.file
    }

    /// The swarmctl command line that reaches this run, up to the
    /// subcommand.
    pub(crate) fn swarmctl(&self, url: &str) -> String {
        format!(
            "swarmctl --coordinator {url} --token-file {}",
            self.file().display()
        )
    }
}

impl Drop for OperatorToken {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn the_file_is_private_outside_the_workdir_and_gone_at_the_end() {
        let base = tempfile::tempdir().expect("tmp");
        let workdir = tempfile::tempdir().expect("tmp");
        let t = OperatorToken::write(base.path(), workdir.path(), "secret").expect("written");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(std::fs::read_to_string(t.file()).expect("read"), "secret\n");
        assert_eq!(mode(t.file()), 0o600);
        let dir = t.file().parent().expect("dir").to_path_buf();
        assert_eq!(mode(&dir), 0o700);
        assert!(t
            .swarmctl("http://127.0.0.1:1")
            .ends_with(&format!("--token-file {}", t.file().display())));
        drop(t);
        assert!(!dir.exists(), "removed at the end");
        // Never inside the workdir.
        let inside = workdir.path().join("tmp");
        std::fs::create_dir_all(&inside).expect("mkdir");
        let err = OperatorToken::write(&inside, workdir.path(), "secret").unwrap_err();
        assert!(err.to_string().contains("inside the workdir"), "{err}");
    }
}
