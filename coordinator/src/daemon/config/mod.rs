//! The daemon's configuration, loaded in one place: defaults, then the TOML
//! file (`--config`), then `SWARM_*` environment variables, then flags;
//! then validated. Every setting is declared once (`keys_core.rs`,
//! `keys_daemon.rs`, `keys_sandbox.rs`, `keys_workspace.rs`, `tables.rs`,
//! `keys_notify.rs`)
//! with its key, variable, flag, default and help; the layers (`layers.rs`), the flags (`flags.rs`), `--help`,
//! the README's table and `swarmd config show` (`show.rs`) all read that
//! declaration.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

mod flags;
mod keys_budget;
mod keys_core;
mod keys_daemon;
mod keys_notify;
mod keys_sandbox;
mod keys_workspace;
mod layers;
mod placement;
mod setting;
pub mod show;
mod tables;
mod tls_flags;
mod validate;

pub use flags::{Flags, SettingFlags};
pub use keys_sandbox::{AgentSandbox, AGENT_ENV as SANDBOX_ENV};
pub use layers::{load_traced, workdir_flag, Loaded, Source};
pub use placement::Placement;
pub use setting::{Draft, Setting};
pub use tls_flags::TlsFlags;

pub use swarm_core::config::{
    CoreConfig, ExecTemplates, Pace, ProvisionerKind, DEFAULT_MAX_PLAN_BYTES,
};

/// Everything `swarmd` can be told: the core's settings and the daemon's.
#[derive(Debug, Clone)]
pub struct Config {
    /// What the scheduler core is told.
    pub core: CoreConfig,
    /// Address of the gRPC server.
    pub listen: SocketAddr,
    /// Largest shared-memory value.
    pub max_value_bytes: usize,
    /// Image of docker-provisioned agents.
    pub docker_image: String,
    /// `[scale.ROLE]` `constraints`, `cpus` and `memory`: where the swarm
    /// provisioner places a role's agents and what each may use.
    pub placement: std::collections::BTreeMap<String, Placement>,
    /// Network the swarm provisioner attaches agent services to; `None`:
    /// host networking.
    pub swarm_network: Option<String>,
    /// URL provisioned agents use to reach this coordinator (default: the
    /// listen address, with 127.0.0.1 for an unspecified host).
    pub advertise_url: Option<String>,
    /// After SIGTERM, the longest swarmd takes to exit (10 s).
    pub shutdown_timeout: Duration,
    /// Agents this coordinator provisions exit once it has been
    /// unreachable this long (60 s); hand-started agents keep retrying.
    pub orphan_timeout: Duration,
    /// How long swarmd remembers memory tombstones and its claims on the
    /// rows it wrote (`memory_journal_hours`, `memory_journal_max`).
    pub memory_journal: swarm_memory::shared::journal::Retention,
    /// gRPC over TLS (and mTLS with a client CA); `None`: plaintext.
    pub tls: Option<crate::edge::tls::ServerTls>,
    /// Plaintext on a non-loopback address was asked for (`--insecure`).
    pub insecure: bool,
    /// What provisioned agents present to a TLS coordinator: `agent_ca`,
    /// `agent_cert`, `agent_key` (the CA that signed `tls_cert`; a client
    /// certificate and key when `tls_client_ca` requires one).
    pub agent_tls: swarm_client::TlsFiles,
    /// Periodic backups (`backup_interval`, `backup_keep`, `backup_dir`);
    /// `None`: only `swarmctl backup`.
    pub backups: Option<crate::workers::backups::Periodic>,
    /// The HTTP listener (`/metrics`, `/healthz`, `/readyz`).
    pub http: crate::edge::http::HttpListen,
    /// `[sandbox]`: how the agents swarmd starts sandbox their tasks.
    pub sandbox: AgentSandbox,
    /// Where traces go (`otlp_endpoint`, `OTEL_EXPORTER_OTLP_ENDPOINT`,
    /// `--otlp-endpoint`); `None`: no exporter runs.
    pub otlp_endpoint: Option<String>,
    /// `[[notify]]`: where events are posted (none by default).
    pub notify: Vec<crate::workers::notify::Entry>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            core: CoreConfig::default(),
            listen: SocketAddr::from(([127, 0, 0, 1], 7420)),
            max_value_bytes: 1024 * 1024,
            docker_image: "swarm-agent:dev".to_string(),
            placement: Default::default(),
            swarm_network: None,
            advertise_url: None,
            shutdown_timeout: Duration::from_secs(10),
            orphan_timeout: Duration::from_secs(60),
            memory_journal: Default::default(),
            tls: None,
            insecure: false,
            agent_tls: swarm_client::TlsFiles::default(),
            backups: None,
            http: crate::edge::http::HttpListen::Default,
            sandbox: AgentSandbox::default(),
            otlp_endpoint: None,
            notify: Vec::new(),
        }
    }
}

/// Why the configuration cannot be built. Each message names the file,
/// variable or setting and what would be valid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file cannot be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The config file is not valid TOML, or a key in it is unknown or
    /// holds something unusable.
    #[error("config {path}:{line}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// The line (1-based) of the key or of the syntax error.
        line: usize,
        /// What is wrong, and what would be valid.
        message: String,
    },
    /// An environment variable holds something unusable.
    #[error("{name}={value}: expected {expected}")]
    Env {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
        /// What it should hold.
        expected: &'static str,
    },
    /// A setting is out of range or malformed; the message says which.
    #[error("{0}")]
    Invalid(String),
}

impl From<String> for ConfigError {
    fn from(message: String) -> Self {
        ConfigError::Invalid(message)
    }
}

/// Every setting with a key of its own, in the order they are applied.
pub fn settings() -> impl Iterator<Item = &'static Setting> {
    keys_core::CORE
        .iter()
        .chain(keys_daemon::DAEMON.iter())
        .chain(keys_sandbox::SANDBOX.iter())
        .chain(keys_workspace::WORKSPACE.iter())
        .chain(keys_budget::BUDGET.iter())
}

/// The setting whose config key is `key`.
pub fn setting(key: &str) -> Option<&'static Setting> {
    settings().find(|s| s.key == key)
}

/// Builds the configuration: defaults, file, environment, flags.
///
/// # Errors
/// A file that cannot be read or parsed (naming file and line), a
/// variable that holds something unusable (naming it), or settings that
/// are wrong together.
pub fn load(
    file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    flags: &Flags,
) -> Result<Config, ConfigError> {
    layers::load_traced(file, env, flags).map(|l| l.config)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod tests_layers;
