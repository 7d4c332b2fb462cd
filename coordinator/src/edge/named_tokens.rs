//! Named tokens: one per person or tool, made with `swarmd token add NAME
//! --scope admin|viewer`, so the event log says who did what. They live
//! in `WORKDIR/.swarm/named.tokens` (mode 0600), one line each —
//! `NAME SCOPE SHA256 CREATED_MS` — holding the token's SHA-256 only: the
//! token itself is printed once, when it is made. The file is replaced
//! whole (a temporary file renamed into place), and a running swarmd
//! reads it again whenever it changed, so a token added or removed
//! counts from the next call.

use std::io::Write as _;
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The file's name in the state directory.
pub const FILE: &str = "named.tokens";
/// The longest name.
const MAX_NAME: usize = 64;
/// Names the built-in tokens and swarmd itself use.
const RESERVED: [&str; 4] = ["admin", "viewer", "agent", "swarmd"];

/// What a named token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenScope {
    /// Everything the admin token may.
    Admin,
    /// Read everything, change nothing.
    Viewer,
}

impl TokenScope {
    /// `admin` or `viewer`.
    pub fn name(self) -> &'static str {
        match self {
            TokenScope::Admin => "admin",
            TokenScope::Viewer => "viewer",
        }
    }

    /// From `admin` or `viewer`.
    pub fn parse(text: &str) -> Option<TokenScope> {
        match text {
            "admin" => Some(TokenScope::Admin),
            "viewer" => Some(TokenScope::Viewer),
            _ => None,
        }
    }
}

/// One named token as the file keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedToken {
    /// Its name: the actor of what it does.
    pub name: String,
    /// What it may do.
    pub scope: TokenScope,
    /// SHA-256 of the token, hex.
    hash: String,
    /// When it was made (wall ms).
    pub created_ms: i64,
}

/// Why the named tokens cannot be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum NamedTokenError {
    /// A name that cannot be a token's.
    #[error("{0:?} cannot name a token: use 1 to {MAX_NAME} letters, digits, '.', '_', '-' or '@', not admin, viewer, agent or swarmd")]
    BadName(String),
    /// `add` with a name in use.
    #[error("a token named {0:?} exists already; remove it first (swarmd token remove {0})")]
    Exists(String),
    /// `remove` with an unknown name.
    #[error("no token is named {name:?}; the named tokens are: {known}")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The names there are.
        known: String,
    },
    /// A line of the file is not `NAME SCOPE SHA256 CREATED_MS`.
    #[error("{}:{line}: not 'NAME admin|viewer SHA256 CREATED_MS'", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Its line (from 1).
        line: usize,
    },
    /// The file cannot be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
}

/// Whether `name` may name a token.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && !RESERVED.contains(&name)
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

/// SHA-256 of a token, hex.
fn digest(token: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The named tokens in `state_dir` (none when the file does not exist).
///
/// # Errors
/// [`NamedTokenError::Io`] or [`NamedTokenError::Malformed`].
pub fn read(state_dir: &Path) -> Result<Vec<NamedToken>, NamedTokenError> {
    let path = state_dir.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(NamedTokenError::Io { path, source }),
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let parsed = match fields.as_slice() {
            [name, scope, hash, created] if valid_name(name) && hash.len() == 64 => {
                TokenScope::parse(scope)
                    .zip(created.parse().ok())
                    .map(|(scope, created_ms)| NamedToken {
                        name: name.to_string(),
                        scope,
                        hash: hash.to_string(),
                        created_ms,
                    })
            }
            _ => None,
        };
        let t = parsed.ok_or_else(|| NamedTokenError::Malformed {
            path: path.clone(),
            line: i + 1,
        })?;
        out.push(t);
    }
    Ok(out)
}

/// Writes the whole list: a temporary file (0600) renamed into place.
fn write(state_dir: &Path, list: &[NamedToken]) -> Result<(), NamedTokenError> {
    let path = state_dir.join(FILE);
    let tmp = state_dir.join(format!("{FILE}.tmp-{}", std::process::id()));
    let io = |source| NamedTokenError::Io {
        path: path.clone(),
        source,
    };
    let mut text = String::from("# swarmd named tokens: NAME SCOPE SHA256 CREATED_MS\n");
    for t in list {
        let scope = t.scope.name();
        text.push_str(&format!("{} {scope} {} {}\n", t.name, t.hash, t.created_ms));
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io)?;
    f.write_all(text.as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)
}

/// Makes a token named `name`; the token, which is kept nowhere.
///
/// # Errors
/// A bad or taken name, or a file that cannot be read or written.
pub fn add(
    state_dir: &Path,
    name: &str,
    scope: TokenScope,
    now: i64,
) -> Result<String, NamedTokenError> {
    if !valid_name(name) {
        return Err(NamedTokenError::BadName(name.to_string()));
    }
    let mut list = read(state_dir)?;
    if list.iter().any(|t| t.name == name) {
        return Err(NamedTokenError::Exists(name.to_string()));
    }
    let token = crate::edge::auth::random_token().map_err(|source| NamedTokenError::Io {
        path: PathBuf::from("/dev/urandom"),
        source,
    })?;
    list.push(NamedToken {
        name: name.to_string(),
        scope,
        hash: digest(&token),
        created_ms: now,
    });
    write(state_dir, &list)?;
    Ok(token)
}

/// Removes the token named `name`.
///
/// # Errors
/// An unknown name, or a file that cannot be read or written.
pub fn remove(state_dir: &Path, name: &str) -> Result<(), NamedTokenError> {
    let mut list = read(state_dir)?;
    let before = list.len();
    list.retain(|t| t.name != name);
    if list.len() == before {
        let names: Vec<&str> = list.iter().map(|t| t.name.as_str()).collect();
        return Err(NamedTokenError::Unknown {
            name: name.to_string(),
            known: if names.is_empty() {
                "(none)".into()
            } else {
                names.join(", ")
            },
        });
    }
    write(state_dir, &list)
}

/// A file's identity: size, modification time (s, ns) and inode.
type Stamp = (u64, i64, i64, u64);

/// The named tokens a running daemon accepts: the file read again when
/// it changed (size, time or inode), so an added or removed token counts
/// from the next call. A file that cannot be read accepts no named token
/// (and says so in the log), never a stale one.
#[derive(Debug)]
pub struct Registry {
    dir: PathBuf,
    /// The file's identity when last read, and what it held.
    seen: Mutex<(Option<Stamp>, Vec<NamedToken>)>,
}

impl Registry {
    /// The registry for a state directory.
    pub fn new(dir: &Path) -> Registry {
        Registry {
            dir: dir.to_path_buf(),
            seen: Mutex::new((None, Vec::new())),
        }
    }

    /// The name and scope of the token `presented`, if it is one.
    pub fn find(&self, presented: &str) -> Option<(String, TokenScope)> {
        let stamp = std::fs::metadata(self.dir.join(FILE))
            .ok()
            .map(|m| (m.len(), m.mtime(), m.mtime_nsec(), m.ino()));
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if stamp != seen.0 {
            let list = if stamp.is_none() {
                Vec::new()
            } else {
                read(&self.dir).unwrap_or_else(|e| {
                    tracing::warn!("named tokens are refused until the file is fixed: {e}");
                    Vec::new()
                })
            };
            *seen = (stamp, list);
        }
        let hash = digest(presented);
        seen.1
            .iter()
            .find(|t| crate::edge::auth::same(&hash, &t.hash))
            .map(|t| (t.name.clone(), t.scope))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn tokens_are_added_found_and_removed_while_a_registry_watches() {
        let dir = tempfile::tempdir().expect("tmp");
        let reg = Registry::new(dir.path());
        assert_eq!(reg.find("anything"), None);
        let ann = add(dir.path(), "ann", TokenScope::Admin, 1).expect("add");
        let bob = add(dir.path(), "bob", TokenScope::Viewer, 2).expect("add");
        let mode = std::fs::metadata(dir.path().join(FILE))
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let text = std::fs::read_to_string(dir.path().join(FILE)).expect("read");
        assert!(!text.contains(&ann), "only the hash is kept");
        assert_eq!(reg.find(&ann), Some(("ann".into(), TokenScope::Admin)));
        assert_eq!(reg.find(&bob), Some(("bob".into(), TokenScope::Viewer)));
        assert_eq!(reg.find("nope"), None);
        remove(dir.path(), "ann").expect("remove");
        assert_eq!(reg.find(&ann), None, "a removed token stops at once");
        let names: Vec<String> = read(dir.path())
            .expect("list")
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(names, ["bob"]);
    }

    #[test]
    fn bad_names_taken_names_and_unknown_names_are_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        for bad in ["", "admin", "viewer", "has space", "web:x", &"x".repeat(65)] {
            let e = add(dir.path(), bad, TokenScope::Admin, 0).expect_err(bad);
            assert!(matches!(e, NamedTokenError::BadName(_)), "{e}");
        }
        add(dir.path(), "ci", TokenScope::Viewer, 0).expect("add");
        let e = add(dir.path(), "ci", TokenScope::Admin, 0).expect_err("taken");
        assert!(e.to_string().contains("swarmd token remove ci"), "{e}");
        let e = remove(dir.path(), "dan").expect_err("unknown");
        assert!(e.to_string().contains("are: ci"), "{e}");
    }

    #[test]
    fn a_malformed_line_is_named() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join(FILE), "# c\nann admin short 1\n").expect("write");
        let e = read(dir.path()).expect_err("malformed");
        assert!(
            e.to_string()
                .ends_with("named.tokens:2: not 'NAME admin|viewer SHA256 CREATED_MS'"),
            "{e}"
        );
        assert_eq!(Registry::new(dir.path()).find("x"), None);
    }
}
