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

/// Largest plan accepted by default, in bytes of text: 256 MiB, room for
/// a plan of a few million tasks.
pub const DEFAULT_MAX_PLAN_BYTES: u64 = swarm_plan::MAX_PLAN_BYTES;

/// Everything `swarmd` can be told.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address of the gRPC server.
    pub listen: SocketAddr,
    /// Working directory; state lives in `WORKDIR/.swarm/`.
    pub workdir: PathBuf,
    /// How often agents send a heartbeat.
    pub heartbeat: Duration,
    /// An agent silent for this long is lost and its attempts re-queued.
    pub lease_ttl: Duration,
    /// After a restart, how long agents have to reconnect and resume.
    pub reconnect_grace: Duration,
    /// Retries of a failed task when its plan gives none.
    pub default_retries: u32,
    /// First retry delay; doubles with each failure.
    pub retry_backoff: Duration,
    /// Longest retry delay.
    pub retry_backoff_max: Duration,
    /// A task that loses its agent this many times fails.
    pub max_losses: u32,
    /// Output kept per attempt (the tail).
    pub log_cap_bytes: u64,
    /// Largest shared-memory value.
    pub max_value_bytes: usize,
    /// Largest plan `swarmctl plan load` (and `swarmd run`) may send, in
    /// bytes of text (default [`DEFAULT_MAX_PLAN_BYTES`]).
    pub max_plan_bytes: u64,
    /// Extra roles for plans, as a roles TOML file.
    pub roles_file: Option<PathBuf>,
    /// The plan clock runs this many times faster than wall time.
    pub time_scale: f64,
    /// When tasks may start.
    pub pace: Pace,
    /// How priority and the critical path order ready tasks (`priority`
    /// in the config file): `slack` (default) or `strict`.
    pub priority: swarm_plan::policy::PriorityOrder,
    /// Plan start (plan time of loading), ms since the epoch UTC; None:
    /// when the plan is loaded.
    pub start: Option<i64>,
    /// Working day start, minutes after midnight.
    pub day_start: u16,
    /// Working day end, minutes after midnight.
    pub day_end: u16,
    /// Where checkpoint reports are appended, relative to the workdir.
    pub report_path: PathBuf,
    /// How agent pools grow and shrink.
    pub provisioner: ProvisionerKind,
    /// Per-role pool bounds: (min, max).
    pub scale: std::collections::BTreeMap<String, (u32, u32)>,
    /// Pool bound for roles not in `scale`.
    pub default_max_agents: u32,
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
    /// Day gates: a day's checklist and exit criteria hold back the tasks
    /// after them until their checks pass or an operator approves.
    pub gates: bool,
    /// gRPC over TLS (and mTLS with a client CA); `None`: plaintext.
    pub tls: Option<crate::tls::ServerTls>,
    /// Plaintext on a non-loopback address was asked for (`--insecure`).
    pub insecure: bool,
    /// What provisioned agents present to a TLS coordinator: `agent_ca`,
    /// `agent_cert`, `agent_key` (the CA that signed `tls_cert`; a client
    /// certificate and key when `tls_client_ca` requires one).
    pub agent_tls: swarm_client::TlsFiles,
    /// Periodic backups (`backup_interval`, `backup_keep`, `backup_dir`);
    /// `None`: only `swarmctl backup`.
    pub backups: Option<crate::backups::Periodic>,
    /// Claude Code agent definitions (`--agents-dir`, `agents_dir`);
    /// `None`: `WORKDIR/.claude/agents` when it exists.
    pub agents_dir: Option<PathBuf>,
    /// `[exec]`: command templates for tasks without a Run command, by
    /// role and by default; they reach every agent with its assignment.
    pub exec: ExecTemplates,
    /// The HTTP listener (`/metrics`, `/healthz`, `/readyz`).
    pub http: crate::http::HttpListen,
}

/// The config's `[exec]` table: `default = "..."` and `ROLE = "..."`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecTemplates {
    /// For every role without its own.
    pub default: Option<String>,
    /// By role.
    pub roles: std::collections::BTreeMap<String, String>,
}

/// When a task may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// As soon as its dependencies allow.
    Asap,
    /// Not before its planned day starts on the plan clock.
    Calendar,
}

/// How agent pools are scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProvisionerKind {
    /// Report shortfalls only.
    None,
    /// Spawn and stop local swarm-agent processes.
    Process,
    /// Create and remove agent containers.
    Docker,
    /// One Docker Swarm service per role, scaled by its replicas.
    Swarm,
}

impl std::str::FromStr for Pace {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "asap" => Ok(Pace::Asap),
            "calendar" => Ok(Pace::Calendar),
            _ => Err(format!("pace '{s}' must be asap or calendar")),
        }
    }
}

impl std::str::FromStr for ProvisionerKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(ProvisionerKind::None),
            "process" => Ok(ProvisionerKind::Process),
            "docker" => Ok(ProvisionerKind::Docker),
            "swarm" => Ok(ProvisionerKind::Swarm),
            _ => Err(format!(
                "provisioner '{s}' must be none, process, docker or swarm"
            )),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 7420)),
            workdir: PathBuf::from("."),
            heartbeat: Duration::from_secs(5),
            lease_ttl: Duration::from_secs(15),
            reconnect_grace: Duration::from_secs(20),
            default_retries: 0,
            retry_backoff: Duration::from_secs(1),
            retry_backoff_max: Duration::from_secs(60),
            max_losses: 5,
            log_cap_bytes: 1024 * 1024,
            max_value_bytes: 1024 * 1024,
            max_plan_bytes: DEFAULT_MAX_PLAN_BYTES,
            roles_file: None,
            time_scale: 1.0,
            pace: Pace::Asap,
            priority: Default::default(),
            start: None,
            day_start: 9 * 60,
            day_end: 17 * 60,
            report_path: PathBuf::from("docs/plans/DAILY_PROGRESS_REPORT.md"),
            provisioner: ProvisionerKind::None,
            scale: Default::default(),
            default_max_agents: 4,
            docker_image: "swarm-agent:dev".to_string(),
            placement: Default::default(),
            swarm_network: None,
            advertise_url: None,
            shutdown_timeout: Duration::from_secs(10),
            orphan_timeout: Duration::from_secs(60),
            memory_journal: Default::default(),
            gates: false,
            tls: None,
            insecure: false,
            agent_tls: swarm_client::TlsFiles::default(),
            backups: None,
            agents_dir: None,
            exec: ExecTemplates::default(),
            http: crate::http::HttpListen::Default,
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
    pub http: Option<crate::http::HttpListen>,
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
        c.workdir = PathBuf::from(v);
    }
    if let Some(d) = ms("SWARM_HEARTBEAT_MS")? {
        c.heartbeat = d;
    }
    if let Some(d) = ms("SWARM_LEASE_TTL_MS")? {
        c.lease_ttl = d;
    }
    if let Some(d) = ms("SWARM_RECONNECT_GRACE_MS")? {
        c.reconnect_grace = d;
    }
    if let Some(d) = ms("SWARM_RETRY_BACKOFF_MS")? {
        c.retry_backoff = d;
    }
    if let Some(d) = ms("SWARM_SHUTDOWN_TIMEOUT_MS")? {
        c.shutdown_timeout = d;
    }
    if let Some(v) = env("SWARM_ROLES") {
        c.roles_file = Some(PathBuf::from(v));
    }
    if let Some(v) = env_parsed(env, "SWARM_TIME_SCALE", "a number like 3600")? {
        c.time_scale = v;
    }
    if let Some(v) = env("SWARM_PACE") {
        c.pace = v.parse()?;
    }
    if let Some(v) = env("SWARM_START") {
        c.start = Some(crate::clock::parse_start(&v)?);
    }
    if let Some(v) = env("SWARM_PROVISIONER") {
        c.provisioner = v.parse()?;
    }
    let names = swarm_plan::policy::PriorityOrder::NAMES;
    if let Some(v) = env_parsed(env, "SWARM_PRIORITY", names)? {
        c.priority = v;
    }
    if let Some(v) = env_parsed(env, "SWARM_MAX_PLAN_BYTES", "a number of bytes")? {
        c.max_plan_bytes = v;
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
        c.time_scale = v;
    }
    if let Some(v) = flags.pace {
        c.pace = v;
    }
    if let Some(v) = &flags.start {
        c.start = Some(crate::clock::parse_start(v)?);
    }
    if let Some(v) = flags.provisioner {
        c.provisioner = v;
    }
    if let Some(l) = flags.listen {
        c.listen = l;
    }
    if let Some(w) = &flags.workdir {
        c.workdir = w.clone();
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
        c.agents_dir = Some(PathBuf::from(v));
    }
    if let Some(d) = &flags.agents_dir {
        c.agents_dir = Some(d.clone());
    }
    if let Some(d) = flags.shutdown_timeout {
        c.shutdown_timeout = d;
    }
    if flags.gates {
        c.gates = true;
    }
    tls.overlay(flags.tls.clone());
    c.tls = tls.resolve()?;
    if flags.insecure {
        c.insecure = true;
    }
    if let Some(b) = &mut c.backups {
        // Relative to the workdir; by default WORKDIR/.swarm/backups.
        b.dir = if b.dir.as_os_str().is_empty() {
            c.workdir.join(".swarm").join("backups")
        } else {
            c.workdir.join(&b.dir)
        };
    }
    validate(&c)?;
    Ok(c)
}

impl Config {
    /// `WORKDIR/.swarm`.
    pub fn state_dir(&self) -> PathBuf {
        self.workdir.join(".swarm")
    }

    /// Pool bounds of a role: (min, max).
    pub fn bounds(&self, role: &str) -> (u32, u32) {
        self.scale
            .get(role)
            .copied()
            .unwrap_or((0, self.default_max_agents))
    }

    /// Where agent definitions are read from: `agents_dir` (relative to
    /// the workdir), else `WORKDIR/.claude/agents` when it exists.
    pub fn agents_dir(&self) -> Option<PathBuf> {
        match &self.agents_dir {
            Some(d) => Some(self.workdir.join(d)),
            None => Some(self.workdir.join(".claude").join("agents")).filter(|d| d.is_dir()),
        }
    }

    /// `WORKDIR/.swarm/swarmd.db`: the coordinator's own state.
    pub fn state_db_path(&self) -> PathBuf {
        self.state_dir().join("swarmd.db")
    }

    /// `WORKDIR/.swarm/memory.db`: the memory shared with claude-flow.
    pub fn memory_path(&self) -> PathBuf {
        self.state_dir().join("memory.db")
    }
}

#[cfg(test)]
mod tests;
