//! The state files looked at before a daemon takes a workdir, so that a
//! lost or damaged `swarmd.db` is never taken for a new workdir: starting
//! on an empty store would forget every plan and run its tasks again.
//!
//! - `swarmd.db` missing or empty (0 bytes) where swarmd has been before
//!   (its tokens, `backups/` or `agents/` in `.swarm/`) is refused, naming
//!   the file and the cure: `swarmd restore`, or `--fresh` to start over
//!   on purpose. A `memory.db` alone is no such sign: claude-flow makes it
//!   too, and a workdir of the single-file layout (the state inside
//!   `memory.db`) is moved to two files at start.
//! - An empty `swarmd.db` beside a write-ahead log that holds something
//!   is refused wherever it is: SQLite would drop that log.
//! - A `swarmd.db` that is not a SQLite file, or shorter than its header
//!   says (with no write-ahead log to finish it), is refused the same way.
//! - A damaged `memory.db` never stops swarmd (it is rebuilt from
//!   swarmd's copy of every row); it is named in a warning.
//!
//! [`check`] only reads. [`start_over`] (`--fresh`) moves the old state
//! aside under a timestamped name; nothing is deleted.

use std::path::{Path, PathBuf};

/// The first 16 bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// What a state file looks like from its size and header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// No such file.
    Missing,
    /// Zero bytes.
    Empty,
    /// A SQLite header and as many pages as it says (or a write-ahead log
    /// that may hold the rest).
    Sound,
    /// Not a SQLite database: what is wrong.
    NotSqlite(String),
    /// Shorter than its header says: bytes there, bytes expected.
    Truncated(u64, u64),
}

/// Why a workdir's state cannot be started on; each names the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `swarmd.db` missing or empty in a workdir swarmd has used: the
    /// files that say so.
    Lost {
        /// The state file.
        file: PathBuf,
        /// Missing (else empty).
        missing: bool,
        /// Names in `.swarm/` that show swarmd has been here.
        signs: Vec<String>,
    },
    /// `swarmd.db` empty beside a write-ahead log of this many bytes.
    EmptyBesideLog {
        /// The state file.
        file: PathBuf,
        /// Bytes in its `-wal`.
        wal_bytes: u64,
    },
    /// `swarmd.db` is damaged: how.
    Damaged {
        /// The state file.
        file: PathBuf,
        /// What is wrong with it.
        how: String,
    },
}

impl Refusal {
    /// The state file at fault.
    pub fn file(&self) -> &Path {
        match self {
            Refusal::Lost { file, .. }
            | Refusal::EmptyBesideLog { file, .. }
            | Refusal::Damaged { file, .. } => file,
        }
    }

    /// What is wrong, in words, without the cure.
    pub fn what(&self) -> String {
        match self {
            Refusal::Lost {
                file,
                missing,
                signs,
            } => format!(
                "{} is {}, but swarmd has used this workdir before ({} {} there); starting \
                 would forget every plan and task and run them again",
                file.display(),
                if *missing {
                    "missing"
                } else {
                    "empty (0 bytes)"
                },
                signs.join(", "),
                if signs.len() == 1 { "is" } else { "are" },
            ),
            Refusal::EmptyBesideLog { file, wal_bytes } => format!(
                "{} is empty (0 bytes) but its write-ahead log holds {wal_bytes} bytes, which \
                 SQLite would throw away",
                file.display()
            ),
            Refusal::Damaged { file, how } => format!("{} is damaged: {how}", file.display()),
        }
    }
}

/// The cure for a refused state file: restore a backup, or start over on
/// purpose; `newest` names the newest backup found, if any.
pub fn cure(workdir: &Path, file: &Path, newest: Option<&Path>) -> String {
    let backup = newest.map_or_else(|| "BACKUP".to_string(), |b| b.display().to_string());
    let found = newest.map_or_else(
        || " (a directory `swarmctl backup` or backup_interval wrote)".to_string(),
        |_| " (the newest backup found)".to_string(),
    );
    format!(
        "restore the state from a backup with `swarmd restore {backup} --workdir {w}`{found}, \
         or start over on purpose with `swarmd --fresh --workdir {w}` ({name} is then kept \
         aside as {name}.aside-TIMESTAMP; nothing is deleted)",
        w = workdir.display(),
        name = file
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
    )
}

/// Looks at `state_dir`'s files without changing any: `Err` when
/// `swarmd.db` must not be started on; warnings (a damaged `memory.db`)
/// to log otherwise.
///
/// # Errors
/// The [`Refusal`], naming the file.
pub fn check(state_dir: &Path) -> Result<Vec<String>, Refusal> {
    let file = state_dir.join("swarmd.db");
    let wal_bytes = len(&with_suffix(&file, "-wal")).unwrap_or(0);
    let memory = state_dir.join("memory.db");
    let mut warnings = Vec::new();
    if let Some(how) = damage(&inspect(&memory)) {
        warnings.push(memory_warning(&memory, &how));
    }
    let health = inspect(&file);
    if let Some(how) = damage(&health) {
        return Err(Refusal::Damaged { file, how });
    }
    match health {
        Health::Sound | Health::NotSqlite(_) | Health::Truncated(..) => Ok(warnings),
        health @ (Health::Missing | Health::Empty) => {
            if wal_bytes > 0 {
                return Err(Refusal::EmptyBesideLog { file, wal_bytes });
            }
            let signs = signs_of_use(state_dir);
            if signs.is_empty() || holds_single_file_state(&memory) {
                return Ok(warnings);
            }
            let mut shown = signs;
            if memory.exists() {
                shown.push("memory.db".to_string());
            }
            Err(Refusal::Lost {
                file,
                missing: health == Health::Missing,
                signs: shown,
            })
        }
    }
}

/// What is wrong with a file of this health, if it is damaged.
fn damage(health: &Health) -> Option<String> {
    match health {
        Health::NotSqlite(how) => Some(how.clone()),
        Health::Truncated(there, expected) => Some(format!(
            "it holds {there} bytes where its header says {expected} (truncated)"
        )),
        Health::Missing | Health::Empty | Health::Sound => None,
    }
}

fn memory_warning(memory: &Path, how: &str) -> String {
    format!(
        "{} is damaged: {how}; scheduling goes on, memory calls are answered from swarmd.db, \
         and once it has stayed so for 2 s the file is kept aside as memory.db.corrupt-<ms> and \
         rebuilt with every row swarmd last saw (to go back to a backup's instead: swarmd \
         restore BACKUP --workdir WORKDIR)",
        memory.display()
    )
}

/// The size and header of a SQLite file, read as it is.
pub fn inspect(path: &Path) -> Health {
    let Ok(meta) = std::fs::metadata(path) else {
        return Health::Missing;
    };
    let size = meta.len();
    if size == 0 {
        return Health::Empty;
    }
    let mut header = [0u8; 100];
    let read = std::fs::File::open(path).and_then(|mut f| {
        use std::io::Read as _;
        f.read(&mut header)
    });
    let n = match read {
        Ok(n) => n,
        Err(e) => return Health::NotSqlite(format!("it cannot be read ({e})")),
    };
    if n < header.len() || &header[..16] != SQLITE_MAGIC {
        return Health::NotSqlite("it is not a SQLite database (its header is wrong)".into());
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        n => u64::from(n),
    };
    if !page_size.is_power_of_two() || !(512..=65_536).contains(&page_size) {
        return Health::NotSqlite(format!("its header gives page size {page_size}"));
    }
    // The page count in the header counts only when it was written with
    // the change counter beside it; a write-ahead log may hold the rest.
    let word = |at: usize| {
        u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let pages = u64::from(word(28));
    let counted = word(92) == word(24);
    let wal = len(&with_suffix(path, "-wal")).unwrap_or(0);
    if wal == 0 && (size % page_size != 0 || (counted && size < pages * page_size)) {
        let expected = if counted {
            pages * page_size
        } else {
            size.div_ceil(page_size) * page_size
        };
        return Health::Truncated(size, expected);
    }
    Health::Sound
}

fn len(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

/// `path` with `suffix` appended to its name (`swarmd.db-wal`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// What swarmd leaves in `.swarm/` once it has served there: its tokens,
/// backups, agents' logs.
fn signs_of_use(state_dir: &Path) -> Vec<String> {
    let mut signs = Vec::new();
    for name in ["admin.token", "agent.token"] {
        if state_dir.join(name).is_file() {
            signs.push(name.to_string());
        }
    }
    for dir in ["backups", "agents"] {
        let full = std::fs::read_dir(state_dir.join(dir)).is_ok_and(|mut d| d.next().is_some());
        if full {
            signs.push(format!("{dir}/"));
        }
    }
    signs
}

/// Whether `memory.db` holds the coordinator's tables (the single-file
/// layout, moved to two files at start).
fn holds_single_file_state(memory: &Path) -> bool {
    let flags =
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let Ok(db) = rusqlite::Connection::open_with_flags(memory, flags) else {
        return false;
    };
    db.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'swarm_plans'",
        [],
        |r| r.get::<_, i64>(0),
    )
    .is_ok_and(|n| n > 0)
}

/// Whether a store error says the file is damaged (not a database, or
/// malformed), rather than unreachable.
pub fn is_damage(e: &swarm_memory::StoreError) -> bool {
    matches!(
        e,
        swarm_memory::StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
            if matches!(f.code, rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

/// `--fresh`: moves `swarmd.db` and its `-wal` and `-shm` aside as
/// `swarmd.db.aside-STAMP` (with the same suffixes, so SQLite can still
/// open the copy); returns the new name, or `None` when there was no
/// `swarmd.db`. The tokens, `memory.db` (claude-flow's too) and the
/// backups stay.
///
/// # Errors
/// When a file cannot be renamed, naming it.
pub fn start_over(state_dir: &Path, stamp: &str) -> Result<Option<PathBuf>, String> {
    let file = state_dir.join("swarmd.db");
    if !file.exists() {
        return Ok(None);
    }
    let mut aside = state_dir.join(format!("swarmd.db.aside-{stamp}"));
    let mut n = 1;
    while aside.exists() {
        n += 1;
        aside = state_dir.join(format!("swarmd.db.aside-{stamp}-{n}"));
    }
    // The main file last: until it moves, the workdir is as it was.
    for suffix in ["-wal", "-shm", ""] {
        let from = with_suffix(&file, suffix);
        if from.exists() {
            let to = with_suffix(&aside, suffix);
            std::fs::rename(&from, &to).map_err(|e| {
                format!(
                    "cannot move {} aside to {}: {e}",
                    from.display(),
                    to.display()
                )
            })?;
        }
    }
    Ok(Some(aside))
}

#[cfg(test)]
#[path = "statefiles_tests.rs"]
mod tests;
