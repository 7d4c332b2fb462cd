//! Bearer tokens: the admin token (everything), the agent token (agent
//! sessions and shared memory) and the tokens minted for attempts (shared
//! memory and reading their own task, only while the attempt is live: the
//! `SWARM_TOKEN` a task sees; the agent token never reaches a task). The
//! first two are read from the environment (`SWARM_ADMIN_TOKEN`,
//! `SWARM_AGENT_TOKEN`) or from `WORKDIR/.swarm/{admin,agent}.token`,
//! created with mode 0600 on first start. Tokens never appear in a log
//! line.

use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use swarm_core::grants::{Grant, Grants};
use tonic::{Request, Status};

/// What a call needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// An agent session: the agent or admin token.
    Agent,
    /// Control: the admin token.
    Admin,
    /// Shared memory: any valid token, an attempt's included.
    Memory,
}

/// Who presented a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// The admin token.
    Admin,
    /// The agent token.
    Agent,
    /// An attempt's token.
    Attempt(Grant),
}

/// The tokens the daemon accepts.
#[derive(Clone)]
pub struct Tokens {
    admin: String,
    agent: String,
    grants: Grants,
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
        let agent = token_for(state_dir, "agent.token", env("SWARM_AGENT_TOKEN"))?;
        Ok(Tokens {
            admin,
            agent,
            grants: Grants::default(),
        })
    }

    /// Tokens held in memory only (`swarmd run`): from `SWARM_ADMIN_TOKEN`
    /// and `SWARM_AGENT_TOKEN`, else made now; nothing is written.
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
        let agent = given("SWARM_AGENT_TOKEN").map_or_else(random_token, Ok)?;
        Ok(Tokens {
            admin,
            agent,
            grants: Grants::default(),
        })
    }

    /// Tokens given directly (tests).
    pub fn new(admin: String, agent: String) -> Tokens {
        Tokens {
            admin,
            agent,
            grants: Grants::default(),
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
        } else if same(presented, &self.agent) {
            Some(Holder::Agent)
        } else {
            self.grants.get(presented).map(Holder::Attempt)
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
        match (&holder, needed) {
            (Holder::Admin, _)
            | (Holder::Agent, Scope::Agent | Scope::Memory)
            | (Holder::Attempt(_), Scope::Memory) => Ok(holder),
            (Holder::Agent, Scope::Admin) => Err(Status::permission_denied(
                "this needs the admin token; the agent token can only run agent sessions and use shared memory",
            )),
            (Holder::Attempt(_), Scope::Admin | Scope::Agent) => Err(Status::permission_denied(
                "a task's token can only use shared memory and read its own task",
            )),
        }
    }

    /// Checks a request that reads task `task`: the admin token, or the
    /// token of a live attempt of that task.
    pub fn check_task<T>(&self, req: &Request<T>, task: &str) -> Result<Holder, Status> {
        match self.check(req, Scope::Memory)? {
            Holder::Attempt(g) if g.task_id != task.trim() => Err(Status::permission_denied(
                "a task's token can only read its own task",
            )),
            Holder::Agent => Err(Status::permission_denied(
                "this needs the admin token; the agent token can only run agent sessions and use shared memory",
            )),
            holder => Ok(holder),
        }
    }
}

/// Compares in time independent of where the strings differ.
fn same(a: &str, b: &str) -> bool {
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
}
