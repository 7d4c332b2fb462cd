//! Bearer tokens: the admin token (everything), the viewer token (every
//! read, no change), named tokens of either scope ([`named_tokens`]), the
//! agent token (agent sessions and shared memory) and the tokens minted
//! for attempts (shared memory and reading their own task, only while the
//! attempt is live: the `SWARM_TOKEN` a task sees; the agent token never
//! reaches a task). The built-in three are read from the environment
//! (`SWARM_ADMIN_TOKEN`, `SWARM_VIEWER_TOKEN`, `SWARM_AGENT_TOKEN`) or
//! from `WORKDIR/.swarm/{admin,viewer,agent}.token`, created with mode
//! 0600 on first start. Tokens never appear in a log line.
//!
//! [`named_tokens`]: crate::edge::named_tokens

use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use swarm_core::grants::{Grant, Grants};
use tonic::{Request, Status};

use crate::edge::named_tokens::{Registry, TokenScope};

/// What a call needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// An agent session: the agent or admin token.
    Agent,
    /// Control that changes something: an admin token (the built-in one
    /// or a named one).
    Admin,
    /// Control that only reads: an admin or viewer token.
    Read,
    /// Writing shared memory: any token but a viewer's, an attempt's
    /// included.
    Memory,
    /// Reading shared memory (or, with [`Tokens::check_task`], a task):
    /// any valid token.
    MemoryRead,
}

/// Who presented a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// The admin token.
    Admin,
    /// The viewer token.
    Viewer,
    /// A named token (`swarmd token add`).
    Named {
        /// Its name.
        name: String,
        /// What it may do.
        scope: TokenScope,
    },
    /// The agent token.
    Agent,
    /// An attempt's token.
    Attempt(Grant),
}

/// The tokens the daemon accepts.
#[derive(Clone)]
pub struct Tokens {
    admin: String,
    viewer: String,
    agent: String,
    grants: Grants,
    /// Named tokens (`swarmd token add`); none under `swarmd run`.
    named: Option<std::sync::Arc<Registry>>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens { .. }")
    }
}

impl Tokens {
    /// Loads or creates the tokens for a state directory.
    pub fn load_or_create(
        state_dir: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> std::io::Result<Tokens> {
        std::fs::create_dir_all(state_dir)?;
        let admin = token_for(state_dir, "admin.token", env("SWARM_ADMIN_TOKEN"))?;
        let viewer = token_for(state_dir, "viewer.token", env("SWARM_VIEWER_TOKEN"))?;
        let agent = token_for(state_dir, "agent.token", env("SWARM_AGENT_TOKEN"))?;
        Ok(Tokens {
            admin,
            viewer,
            agent,
            grants: Grants::default(),
            named: Some(std::sync::Arc::new(Registry::new(state_dir))),
        })
    }

    /// Tokens held in memory only (`swarmd run`): from `SWARM_ADMIN_TOKEN`,
    /// `SWARM_VIEWER_TOKEN` and `SWARM_AGENT_TOKEN`, else made now;
    /// nothing is written, and no named token is accepted.
    ///
    /// # Errors
    /// When the system's random source cannot be read.
    pub fn in_memory(env: &dyn Fn(&str) -> Option<String>) -> std::io::Result<Tokens> {
        let given = |name: &str| {
            env(name)
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
        };
        let admin = given("SWARM_ADMIN_TOKEN").map_or_else(random_token, Ok)?;
        let viewer = given("SWARM_VIEWER_TOKEN").map_or_else(random_token, Ok)?;
        let agent = given("SWARM_AGENT_TOKEN").map_or_else(random_token, Ok)?;
        Ok(Tokens {
            admin,
            viewer,
            agent,
            grants: Grants::default(),
            named: None,
        })
    }

    /// Tokens given directly (tests); the viewer token is `viewer-` and
    /// the admin token.
    pub fn new(admin: String, agent: String) -> Tokens {
        Tokens {
            viewer: format!("viewer-{admin}"),
            admin,
            agent,
            grants: Grants::default(),
            named: None,
        }
    }

    /// The attempts' tokens, for the scheduler loop to keep.
    pub fn grants(&self) -> Grants {
        self.grants.clone()
    }

    /// Who holds a presented token, if it is valid.
    pub fn holder_of(&self, presented: &str) -> Option<Holder> {
        if same(presented, &self.admin) {
            Some(Holder::Admin)
        } else if same(presented, &self.viewer) {
            Some(Holder::Viewer)
        } else if same(presented, &self.agent) {
            Some(Holder::Agent)
        } else if let Some(g) = self.grants.get(presented) {
            Some(Holder::Attempt(g))
        } else {
            let (name, scope) = self.named.as_ref()?.find(presented)?;
            Some(Holder::Named { name, scope })
        }
    }

    /// The agent token, handed to agents the daemon spawns itself.
    pub fn agent_token(&self) -> &str {
        &self.agent
    }

    /// The admin token, for `swarmd run`'s own client.
    pub fn admin_token(&self) -> &str {
        &self.admin
    }

    /// Checks a request's `authorization: Bearer ...` against `needed`.
    pub fn check<T>(&self, req: &Request<T>, needed: Scope) -> Result<Holder, Status> {
        let header = req.metadata().get("authorization").ok_or_else(|| {
            Status::unauthenticated("missing 'authorization: Bearer <token>' metadata")
        })?;
        let value = header
            .to_str()
            .map_err(|_| Status::unauthenticated("the authorization header is not text"))?;
        let token = value
            .strip_prefix("Bearer ")
            .ok_or_else(|| Status::unauthenticated("authorization must be 'Bearer <token>'"))?;
        let holder = self.holder_of(token.trim()).ok_or_else(|| {
            Status::unauthenticated("invalid token (an attempt's token dies with its attempt)")
        })?;
        match holder.may(needed) {
            Ok(()) => Ok(holder),
            Err(why) => Err(Status::permission_denied(why)),
        }
    }

    /// Checks a request that reads task `task`: an admin or viewer token,
    /// or the token of a live attempt of that task.
    pub fn check_task<T>(&self, req: &Request<T>, task: &str) -> Result<Holder, Status> {
        match self.check(req, Scope::MemoryRead)? {
            Holder::Attempt(g) if g.task_id != task.trim() => Err(Status::permission_denied(
                "a task's token can only read its own task",
            )),
            Holder::Agent => Err(Status::permission_denied(AGENT_ONLY)),
            holder => Ok(holder),
        }
    }
}

const AGENT_ONLY: &str =
    "this needs the admin token; the agent token can only run agent sessions and use shared memory";

impl Holder {
    /// Whether this holder may make a call that needs `needed`; else why not.
    ///
    /// # Errors
    /// The sentence a refused client is told.
    pub fn may(&self, needed: Scope) -> Result<(), &'static str> {
        use TokenScope::{Admin as A, Viewer as V};
        match (self, needed) {
            (Holder::Admin | Holder::Named { scope: A, .. }, _)
            | (Holder::Viewer | Holder::Named { scope: V, .. }, Scope::Read | Scope::MemoryRead)
            | (Holder::Agent, Scope::Agent | Scope::Memory | Scope::MemoryRead)
            | (Holder::Attempt(_), Scope::Memory | Scope::MemoryRead) => Ok(()),
            (
                Holder::Viewer | Holder::Named { scope: V, .. },
                Scope::Admin | Scope::Agent | Scope::Memory,
            ) => Err(
                "permission denied: a viewer token reads everything and changes nothing; this needs an admin token",
            ),
            (Holder::Agent, Scope::Admin | Scope::Read) => Err(AGENT_ONLY),
            (Holder::Attempt(_), Scope::Admin | Scope::Read | Scope::Agent) => {
                Err("a task's token can only use shared memory and read its own task")
            }
        }
    }

    /// The name an operator's action by this holder is recorded under:
    /// `admin`, `viewer` or the named token's name (`None` for agents and
    /// attempts, which are no operators).
    pub fn operator_name(&self) -> Option<&str> {
        match self {
            Holder::Admin => Some("admin"),
            Holder::Viewer => Some("viewer"),
            Holder::Named { name, .. } => Some(name),
            Holder::Agent | Holder::Attempt(_) => None,
        }
    }
}

/// Compares in time independent of where the strings differ.
pub(crate) fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        diff |= usize::from(a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0));
    }
    diff == 0 && !a.is_empty()
}

fn token_for(dir: &Path, name: &str, from_env: Option<String>) -> std::io::Result<String> {
    if let Some(t) = from_env.filter(|t| !t.trim().is_empty()) {
        return Ok(t.trim().to_string());
    }
    let path = dir.join(name);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        if !existing.trim().is_empty() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            return Ok(existing.trim().to_string());
        }
    }
    let token = random_token()?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)?;
    f.write_all(token.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    Ok(token)
}

/// 32 random bytes from the OS, as hex.
pub fn random_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_created_private_and_reused() {
        let dir = tempfile::tempdir().expect("tmp");
        let none = |_: &str| None;
        let t1 = Tokens::load_or_create(dir.path(), &none).expect("create");
        let mode = std::fs::metadata(dir.path().join("admin.token"))
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let t2 = Tokens::load_or_create(dir.path(), &none).expect("reload");
        assert_eq!(t1.admin, t2.admin);
        assert_ne!(t1.admin, t1.agent);
        assert_eq!(t1.holder_of(&t1.agent), Some(Holder::Agent));
        assert_eq!(t1.holder_of("nope"), None);
        assert_eq!(t1.holder_of(""), None);
        assert!(!format!("{t1:?}").contains(&t1.admin));
    }

    #[test]
    fn env_tokens_win() {
        let dir = tempfile::tempdir().expect("tmp");
        let env = |k: &str| (k == "SWARM_ADMIN_TOKEN").then(|| "sekrit".to_string());
        let t = Tokens::load_or_create(dir.path(), &env).expect("create");
        assert_eq!(t.holder_of("sekrit"), Some(Holder::Admin));
        assert!(!dir.path().join("admin.token").exists());
    }

    #[test]
    fn viewers_read_and_change_nothing_named_tokens_have_their_scope() {
        let dir = tempfile::tempdir().expect("tmp");
        let none = |_: &str| None;
        let t = Tokens::load_or_create(dir.path(), &none).expect("create");
        let viewer = std::fs::read_to_string(dir.path().join("viewer.token")).expect("viewer");
        let v = t.holder_of(viewer.trim()).expect("viewer holder");
        assert_eq!(v, Holder::Viewer);
        assert!(v.may(Scope::Read).is_ok() && v.may(Scope::MemoryRead).is_ok());
        for change in [Scope::Admin, Scope::Memory, Scope::Agent] {
            let why = v.may(change).expect_err("a viewer changes nothing");
            assert!(why.contains("viewer token reads everything"), "{why}");
        }
        use crate::edge::named_tokens::{add, TokenScope};
        let ann = add(dir.path(), "ann", TokenScope::Admin, 0).expect("add");
        let ci = add(dir.path(), "ci", TokenScope::Viewer, 0).expect("add");
        let a = t.holder_of(&ann).expect("ann");
        assert!(a.may(Scope::Admin).is_ok());
        assert_eq!(a.operator_name(), Some("ann"));
        let c = t.holder_of(&ci).expect("ci");
        assert!(c.may(Scope::Read).is_ok() && c.may(Scope::Admin).is_err());
        assert_eq!(Holder::Agent.may(Scope::Read), Err(AGENT_ONLY));
        assert_eq!(Holder::Admin.operator_name(), Some("admin"));
    }
}
