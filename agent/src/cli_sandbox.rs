//! `swarm-agent`'s sandbox flags, and how they become the agent's
//! [`Sandbox`]: the settings checked, bubblewrap looked for, the agent's
//! secrets hidden and the granted directories added.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::exec::{Policy, Sandbox};

/// The sandbox flags (see the README's "Tasks in a sandbox").
#[derive(Debug, Clone, Args)]
pub struct SandboxFlags {
    /// Run task processes under bubblewrap: auto (when it works here),
    /// required (refuse to start without it) or off. A role profile's
    /// SWARM_SANDBOX overrides it for that role.
    #[arg(
        long = "sandbox",
        env = "SWARM_SANDBOX",
        default_value = "auto",
        value_name = "MODE"
    )]
    pub mode: String,
    /// What sandboxed tasks may write: host (what this agent's user may) or
    /// workdir (their working directory, a private /tmp and
    /// --sandbox-grant paths; the rest read-only).
    #[arg(
        long = "sandbox-filesystem",
        env = "SWARM_SANDBOX_FILESYSTEM",
        default_value = "host",
        value_name = "WHAT"
    )]
    pub filesystem: String,
    /// Network of sandboxed tasks: host, or none (they reach swarmd through
    /// a Unix socket of this agent).
    #[arg(
        long = "sandbox-network",
        env = "SWARM_SANDBOX_NETWORK",
        default_value = "host",
        value_name = "WHAT"
    )]
    pub network: String,
    /// A directory sandboxed tasks may write under --sandbox-filesystem
    /// workdir (repeatable).
    #[arg(long = "sandbox-grant", value_name = "DIR")]
    pub grants: Vec<PathBuf>,
}

impl SandboxFlags {
    /// The agent's sandbox, hiding `secrets` (its token and key files) and
    /// its directory in `workdir` from tasks.
    ///
    /// # Errors
    /// A value that is not a choice (naming the flag), or `--sandbox
    /// required` where bubblewrap cannot make a sandbox.
    pub fn resolve(&self, workdir: &Path, secrets: &[Option<&Path>]) -> Result<Sandbox, String> {
        let policy = Policy {
            mode: self.mode.parse().map_err(|e| format!("--{e}"))?,
            filesystem: self
                .filesystem
                .parse()
                .map_err(|e| format!("--sandbox-{e}"))?,
            network: self.network.parse().map_err(|e| format!("--sandbox-{e}"))?,
        };
        let mut sandbox = Sandbox::detect(policy)?;
        for file in secrets.iter().flatten() {
            sandbox.hide(file);
        }
        sandbox.hide(&workdir.join(".swarm-agent"));
        for dir in &self.grants {
            sandbox.grant(dir);
        }
        Ok(sandbox)
    }
}
