//! The agent's own directory in its workdir, `.swarm-agent/<id>/`, and what
//! it keeps there so that a task's processes never outlive their agent:
//!
//! - `lock`: an exclusive `flock` held for the agent's life, holding its
//!   pid. A second process with the same id in the same workdir is refused
//!   before it touches anything; once the lock is ours, whatever an earlier
//!   process of this id left behind is its leftovers.
//! - `pgids/<attempt>`: the process group of the command an attempt is
//!   running (`PGID START BOOT_ID`: the leader's start time and this boot's
//!   id, so a reused pid is never mistaken for it). Written when a command
//!   starts, removed when it ends ([`GroupRecord`]'s drop). A `kill -9`
//!   leaves the file; the next start of the same id SIGKILLs those groups
//!   ([`GroupRecords::kill_recorded`]) before it says Hello.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use crate::procfs;

/// Why the agent's directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    /// A file or directory could not be created, read or locked.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Another live process holds this id's lock in this workdir.
    #[error(
        "agent id '{id}' is in use in this workdir by process {holder} (lock {}); \
         give this agent another --id, or stop the other one",
        path.display()
    )]
    InUse {
        /// The agent id.
        id: String,
        /// The holder's pid as it recorded it, or "another process".
        holder: String,
        /// The lock file.
        path: PathBuf,
    },
}

/// The agent's directory, locked for this process.
#[derive(Debug)]
pub struct Home {
    groups: GroupRecords,
    /// Held open (and so locked) until the process exits.
    _lock: File,
}

impl Home {
    /// Creates and locks `WORKDIR/.swarm-agent/<id>/`.
    ///
    /// # Errors
    /// [`HomeError::InUse`] when another process holds the lock,
    /// [`HomeError::Io`] when the directory or lock cannot be made.
    pub fn open(workdir: &Path, id: &str) -> Result<Home, HomeError> {
        let dir = agent_dir(workdir, id);
        let pgids = dir.join("pgids");
        std::fs::create_dir_all(&pgids).map_err(|source| HomeError::Io {
            path: pgids.clone(),
            source,
        })?;
        let path = dir.join("lock");
        let io = |source| HomeError::Io {
            path: path.clone(),
            source,
        };
        let mut lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = lock.read_to_string(&mut text);
                let holder = match text.trim() {
                    "" => "another process".to_string(),
                    pid => pid.to_string(),
                };
                return Err(HomeError::InUse {
                    id: id.to_string(),
                    holder,
                    path,
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        lock.set_len(0).map_err(io)?;
        lock.rewind().map_err(io)?;
        writeln!(lock, "{}", std::process::id()).map_err(io)?;
        Ok(Home {
            groups: GroupRecords { dir: pgids },
            _lock: lock,
        })
    }

    /// Where process groups are recorded.
    pub fn groups(&self) -> &GroupRecords {
        &self.groups
    }
}

/// The agent's own directory in `workdir`: `.swarm-agent/<id>/`.
pub(crate) fn agent_dir(workdir: &Path, id: &str) -> PathBuf {
    workdir.join(".swarm-agent").join(dir_name(id))
}

/// The directory name for an id (or any name used as one): bytes other than ASCII letters, digits,
/// `-` and `_` (and a leading `.`) are written `%XX`, so no id can point
/// outside `.swarm-agent/` and two ids never share a directory.
pub(crate) fn dir_name(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for (i, b) in id.bytes().enumerate() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (b == b'.' && i > 0) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `pgids/` directory of one agent id.
#[derive(Debug, Clone)]
pub struct GroupRecords {
    dir: PathBuf,
}

/// A group recorded for an attempt; dropping it removes the record.
#[derive(Debug)]
pub struct GroupRecord {
    path: PathBuf,
}

impl Drop for GroupRecord {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// What [`GroupRecords::kill_recorded`] did with one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// The attempt it was recorded for.
    pub attempt: u64,
    /// The group.
    pub pgid: i32,
    /// Whether live members were found and sent SIGKILL.
    pub killed: bool,
}

impl GroupRecords {
    /// Records that `attempt` runs a command leading group `pgid`.
    ///
    /// # Errors
    /// When the record cannot be written.
    pub fn record(&self, attempt: u64, pgid: i32) -> std::io::Result<GroupRecord> {
        let start = procfs::stat(pgid).map_or(0, |s| s.start);
        let boot = procfs::boot_id().unwrap_or_default();
        let path = self.dir.join(attempt.to_string());
        std::fs::write(&path, format!("{pgid} {start} {boot}\n"))?;
        Ok(GroupRecord { path })
    }

    /// SIGKILLs every recorded group that still has live members of the
    /// recorded process (same boot, leader not replaced by another process
    /// with its pid), and removes every record.
    pub fn kill_recorded(&self) -> Vec<Leftover> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let boot = procfs::boot_id();
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let attempt = entry.file_name().to_str().and_then(|n| n.parse().ok());
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if let (Some(attempt), Some((pgid, start, recorded_boot))) = (attempt, parse(&text)) {
                let killed = boot.as_deref() == Some(recorded_boot) && kill_if_ours(pgid, start);
                out.push(Leftover {
                    attempt,
                    pgid,
                    killed,
                });
            }
            let _ = std::fs::remove_file(&path);
        }
        out.sort_by_key(|l| l.attempt);
        out
    }
}

/// `PGID START BOOT_ID`.
fn parse(text: &str) -> Option<(i32, u64, &str)> {
    let mut fields = text.split_whitespace();
    let pgid = fields.next()?.parse().ok().filter(|p: &i32| *p > 1)?;
    let start = fields.next()?.parse().ok()?;
    let boot = fields.next()?;
    Some((pgid, start, boot))
}

/// SIGKILLs group `pgid` if its live members belong to the process that
/// led it when recorded: the leader is that process, or gone (a pgid is
/// not reused while its group has members) and the members started after
/// it.
fn kill_if_ours(pgid: i32, start: u64) -> bool {
    if procfs::stat(pgid).is_some_and(|leader| leader.start != start) {
        return false;
    }
    let Some(members) = procfs::members(pgid) else {
        return false;
    };
    let ours = members.iter().any(|m| !m.is_dead() && m.start >= start);
    ours && killpg(Pid::from_raw(pgid), Signal::SIGKILL).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_map_to_safe_distinct_names() {
        assert_eq!(dir_name("sre-1_a.b"), "sre-1_a.b");
        assert_eq!(dir_name("../x"), "%2E.%2Fx");
        assert_eq!(dir_name("a/b"), "a%2Fb");
        assert_ne!(dir_name("a/b"), dir_name("a_b"));
        assert_eq!(dir_name("é"), "%C3%A9");
    }

    #[test]
    fn a_second_process_of_an_id_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().expect("tmp");
        let first = Home::open(dir.path(), "sre-1").expect("first");
        match Home::open(dir.path(), "sre-1") {
            Err(HomeError::InUse { holder, .. }) => {
                assert_eq!(holder, std::process::id().to_string())
            }
            other => panic!("expected InUse, got {other:?}"),
        }
        let _other_id = Home::open(dir.path(), "sre-2").expect("another id");
        drop(first);
        // Other tests of this binary spawn processes: a child forked while
        // the lock was open shares it until its exec closes it (the file is
        // close-on-exec), a few milliseconds at most.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match Home::open(dir.path(), "sre-1") {
                Ok(_) => break,
                Err(e) if std::time::Instant::now() < deadline => {
                    assert!(matches!(e, HomeError::InUse { .. }), "{e}");
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(e) => panic!("still not free after 5 s: {e}"),
            }
        }
    }

    #[test]
    fn records_are_removed_when_dropped_and_stale_ones_are_swept() {
        let dir = tempfile::tempdir().expect("tmp");
        let home = Home::open(dir.path(), "a").expect("home");
        let groups = home.groups();
        let me = i32::try_from(std::process::id()).expect("pid");
        let record = groups.record(7, me).expect("record");
        let file = groups.dir.join("7");
        assert!(file.exists());
        drop(record);
        assert!(!file.exists());
        // A record from another boot, and one whose pid now leads another
        // process: swept, nothing killed.
        std::fs::write(groups.dir.join("8"), format!("{me} 1 another-boot\n")).expect("w");
        let boot = procfs::boot_id().expect("boot id");
        std::fs::write(groups.dir.join("9"), format!("{me} 1 {boot}\n")).expect("w");
        std::fs::write(groups.dir.join("junk"), "x").expect("w");
        let swept = groups.kill_recorded();
        assert_eq!(
            swept,
            vec![
                Leftover {
                    attempt: 8,
                    pgid: me,
                    killed: false
                },
                Leftover {
                    attempt: 9,
                    pgid: me,
                    killed: false
                },
            ]
        );
        assert_eq!(std::fs::read_dir(&groups.dir).expect("dir").count(), 0);
    }
}
