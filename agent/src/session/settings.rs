//! How the agent was started: [`Settings`], checked and resolved by
//! [`cli`](crate::cli), read by every phase of the session.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// How the agent was started: its flags, checked and resolved by
/// [`cli`](crate::cli).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Coordinator URL, `http(s)://` and no trailing slash.
    pub coordinator: String,
    /// The checked URL and TLS material, ready to connect.
    pub endpoint: swarm_client::Coordinator,
    /// `--ca`, `--cert`, `--key` (absolute paths).
    pub tls: swarm_client::TlsFiles,
    /// Role profiles from this host's agent definitions (`--agents-dir`).
    pub local_profiles: swarm_roles::Catalogue,
    /// The agent token, presented on every call and passed to tasks as
    /// `SWARM_TOKEN`.
    pub token: String,
    /// The id it registers as; a reconnect with the same id resumes its
    /// attempts.
    pub id: String,
    /// Roles it can play; the first is active until the coordinator
    /// switches it.
    pub roles: Vec<String>,
    /// Attempts it runs at once (1..=1024).
    pub slots: u32,
    /// This machine's host name, shown in `swarmctl agents`.
    pub host: String,
    /// `--label KEY=VALUE` pairs, sent in the Hello.
    pub labels: BTreeMap<String, String>,
    /// Working directory of task processes (canonical).
    pub workdir: PathBuf,
    /// The `--exec` command template for tasks without a run command.
    pub template: Option<String>,
    /// After a drain starts, how long running attempts may take before
    /// they are stopped and handed back.
    pub drain_timeout: Duration,
    /// Exit after the coordinator has been unreachable (no session open)
    /// this long; `None` retries forever.
    pub orphan_timeout: Option<Duration>,
    /// Run task processes as this (uid, gid) (`--run-as`).
    pub run_as: Option<(u32, u32)>,
    /// The sandbox task processes run in, the agent's secrets hidden.
    pub sandbox: crate::exec::Sandbox,
    /// Where the agent's own spans go (`--otlp-endpoint`); `None`: off.
    pub otlp_endpoint: Option<String>,
}
