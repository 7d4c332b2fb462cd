//! The daemon's configuration, loaded in one place: defaults, then the TOML
//! file (`--config`), then `SWARM_*` environment variables, then flags;
//! then validated.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod file;
mod placement;
mod tls_flags;
mod validate;

pub use placement::Placement;
pub use tls_flags::TlsFlags;

use file::{apply_file, FileConfig};
use validate::validate;

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
        }
    }
}

/// Overrides from flags (None: not given).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--workdir`.
    pub workdir: Option<PathBuf>,
    /// `--time-scale`.
    pub time_scale: Option<f64>,
    /// `--pace`.
    pub pace: Option<Pace>,
    /// `--start`.
    pub start: Option<String>,
    /// `--provisioner`.
    pub provisioner: Option<ProvisionerKind>,
    /// `--shutdown-timeout`.
    pub shutdown_timeout: Option<Duration>,
    /// `--gates`.
    pub gates: bool,
    /// `--tls-cert`, `--tls-key`, `--tls-client-ca`.
    pub tls: TlsFlags,
    /// `--insecure`.
    pub insecure: bool,
    /// `--agents-dir`.
    pub agents_dir: Option<PathBuf>,
    /// `--http`.
    pub http: Option<crate::edge::http::HttpListen>,
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
    /// The config file is not valid TOML of the expected shape.
    #[error("config {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong, from the TOML parser.
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

fn env_error(name: &str, value: String, expected: &'static str) -> ConfigError {
    ConfigError::Env {
        name: name.to_string(),
        value,
        expected,
    }
}

/// `name` from the environment, parsed; an error says what was expected.
fn env_parsed<T: std::str::FromStr>(
    env: &dyn Fn(&str) -> Option<String>,
    name: &str,
    expected: &'static str,
) -> Result<Option<T>, ConfigError> {
    let parse = |v: String| v.parse().map_err(|_| env_error(name, v, expected));
    env(name).map(parse).transpose()
}

/// Builds the configuration: defaults, file, environment, flags.
pub fn load(
    file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    flags: &Overrides,
) -> Result<Config, ConfigError> {
    let mut c = Config::default();
    let mut tls = TlsFlags::default();
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let f: FileConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            message: e.message().to_string(),
        })?;
        tls = TlsFlags {
            cert: f.tls_cert.clone(),
            key: f.tls_key.clone(),
            client_ca: f.tls_client_ca.clone(),
        };
        apply_file(&mut c, f)?;
    }
    let ms = |name: &str| -> Result<Option<Duration>, ConfigError> {
        env(name)
            .map(|v| match v.parse::<u64>() {
                Ok(n) => Ok(Duration::from_millis(n)),
                Err(_) => Err(env_error(name, v, "milliseconds")),
            })
            .transpose()
    };
    if let Some(v) = env_parsed(env, "SWARM_LISTEN", "an address like 127.0.0.1:7420")? {
        c.listen = v;
    }
    if let Some(v) = env("SWARM_WORKDIR") {
        c.core.workdir = PathBuf::from(v);
    }
    if let Some(d) = ms("SWARM_HEARTBEAT_MS")? {
        c.core.heartbeat = d;
    }
    if let Some(d) = ms("SWARM_LEASE_TTL_MS")? {
        c.core.lease_ttl = d;
    }
    if let Some(d) = ms("SWARM_RECONNECT_GRACE_MS")? {
        c.core.reconnect_grace = d;
    }
    if let Some(d) = ms("SWARM_RETRY_BACKOFF_MS")? {
        c.core.retry_backoff = d;
    }
    if let Some(d) = ms("SWARM_SHUTDOWN_TIMEOUT_MS")? {
        c.shutdown_timeout = d;
    }
    if let Some(v) = env("SWARM_ROLES") {
        c.core.roles_file = Some(PathBuf::from(v));
    }
    if let Some(v) = env_parsed(env, "SWARM_TIME_SCALE", "a number like 3600")? {
        c.core.time_scale = v;
    }
    if let Some(v) = env("SWARM_PACE") {
        c.core.pace = v.parse()?;
    }
    if let Some(v) = env("SWARM_START") {
        c.core.start = Some(swarm_core::clock::parse_start(&v)?);
    }
    if let Some(v) = env("SWARM_PROVISIONER") {
        c.core.provisioner = v.parse()?;
    }
    let names = swarm_plan::policy::PriorityOrder::NAMES;
    if let Some(v) = env_parsed(env, "SWARM_PRIORITY", names)? {
        c.core.priority = v;
    }
    if let Some(v) = env_parsed(env, "SWARM_MAX_PLAN_BYTES", "a number of bytes")? {
        c.core.max_plan_bytes = v;
    }
    tls.overlay(TlsFlags {
        cert: env("SWARM_TLS_CERT").map(PathBuf::from),
        key: env("SWARM_TLS_KEY").map(PathBuf::from),
        client_ca: env("SWARM_TLS_CLIENT_CA").map(PathBuf::from),
    });
    for (name, slot) in [
        ("SWARM_AGENT_CA", &mut c.agent_tls.ca),
        ("SWARM_AGENT_CERT", &mut c.agent_tls.cert),
        ("SWARM_AGENT_KEY", &mut c.agent_tls.key),
    ] {
        if let Some(v) = env(name) {
            *slot = Some(PathBuf::from(v));
        }
    }
    if let Some(v) = env("SWARM_INSECURE") {
        c.insecure = match v.as_str() {
            "1" | "true" => true,
            "0" | "false" | "" => false,
            _ => return Err(env_error("SWARM_INSECURE", v, "1, true, 0 or false")),
        };
    }
    if let Some(v) = flags.time_scale {
        c.core.time_scale = v;
    }
    if let Some(v) = flags.pace {
        c.core.pace = v;
    }
    if let Some(v) = &flags.start {
        c.core.start = Some(swarm_core::clock::parse_start(v)?);
    }
    if let Some(v) = flags.provisioner {
        c.core.provisioner = v;
    }
    if let Some(l) = flags.listen {
        c.listen = l;
    }
    if let Some(w) = &flags.workdir {
        c.core.workdir = w.clone();
    }
    if let Some(v) = env("SWARM_HTTP") {
        c.http = match v.parse() {
            Ok(h) => h,
            Err(_) => return Err(env_error("SWARM_HTTP", v, "HOST:PORT or off")),
        };
    }
    if let Some(h) = flags.http {
        c.http = h;
    }
    if let Some(v) = env("SWARM_AGENTS_DIR") {
        c.core.agents_dir = Some(PathBuf::from(v));
    }
    if let Some(d) = &flags.agents_dir {
        c.core.agents_dir = Some(d.clone());
    }
    if let Some(d) = flags.shutdown_timeout {
        c.shutdown_timeout = d;
    }
    if flags.gates {
        c.core.gates = true;
    }
    tls.overlay(flags.tls.clone());
    c.tls = tls.resolve()?;
    if flags.insecure {
        c.insecure = true;
    }
    if let Some(b) = &mut c.backups {
        // Relative to the workdir; by default WORKDIR/.swarm/backups.
        b.dir = if b.dir.as_os_str().is_empty() {
            c.core.workdir.join(".swarm").join("backups")
        } else {
            c.core.workdir.join(&b.dir)
        };
    }
    validate(&c)?;
    Ok(c)
}

#[cfg(test)]
mod tests;
