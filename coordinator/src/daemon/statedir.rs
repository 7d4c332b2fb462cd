//! `.swarm/` keeps the tokens, the state and the shared memory: only the
//! user swarmd runs as may read it. The directory (and any below it) is
//! 0700 and every file 0600, made so on every start; the files swarmd
//! creates later are created so (SQLite gives a database's journal files
//! the database's own mode).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Creates `dir` if needed and closes it and everything in it to other
/// users.
///
/// # Errors
/// When the directory cannot be created or a mode cannot be set.
pub fn secure(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    tighten(dir)
}

fn tighten(dir: &Path) -> std::io::Result<()> {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            tighten(&entry.path())?;
        } else if kind.is_file() {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_below_is_closed_to_others() {
        let dir = tempfile::tempdir().expect("tmp");
        let state = dir.path().join(".swarm");
        std::fs::create_dir_all(state.join("agents")).expect("mkdir");
        std::fs::write(state.join("memory.db"), b"x").expect("write");
        std::fs::write(state.join("agents/a.log"), b"x").expect("write");
        for p in [state.join("memory.db"), state.join("agents/a.log")] {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        }
        secure(&state).expect("secure");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&state), 0o700);
        assert_eq!(mode(&state.join("agents")), 0o700);
        assert_eq!(mode(&state.join("memory.db")), 0o600);
        assert_eq!(mode(&state.join("agents/a.log")), 0o600);
    }
}
