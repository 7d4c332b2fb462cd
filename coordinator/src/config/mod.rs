//! The daemon's configuration, loaded in one place: defaults, then the TOML
//! file (`--config`), then `SWARM_*` environment variables, then flags;
//! then validated.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

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
    /// Extra roles for plans, as a roles TOML file.
    pub roles_file: Option<PathBuf>,
    /// The plan clock runs this many times faster than wall time.
    pub time_scale: f64,
    /// When tasks may start.
    pub pace: Pace,
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
    /// URL provisioned agents use to reach this coordinator (default: the
    /// listen address, with 127.0.0.1 for an unspecified host).
    pub advertise_url: Option<String>,
    /// After SIGTERM, the longest swarmd takes to exit (10 s).
    pub shutdown_timeout: Duration,
    /// Agents this coordinator provisions exit once it has been
    /// unreachable this long (60 s); hand-started agents keep retrying.
    pub orphan_timeout: Duration,
    /// How much of the journal of acknowledged memory writes is kept.
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
            _ => Err(format!("provisioner '{s}' must be none, process or docker")),
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
            roles_file: None,
            time_scale: 1.0,
            pace: Pace::Asap,
            start: None,
            day_start: 9 * 60,
            day_end: 17 * 60,
            report_path: PathBuf::from("docs/plans/DAILY_PROGRESS_REPORT.md"),
            provisioner: ProvisionerKind::None,
            scale: Default::default(),
            default_max_agents: 4,
            docker_image: "swarm-agent:dev".to_string(),
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

/// The config file's shape: every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    workdir: Option<PathBuf>,
    heartbeat_ms: Option<u64>,
    lease_ttl_ms: Option<u64>,
    reconnect_grace_ms: Option<u64>,
    default_retries: Option<u32>,
    retry_backoff_ms: Option<u64>,
    retry_backoff_max_ms: Option<u64>,
    max_losses: Option<u32>,
    log_cap_bytes: Option<u64>,
    max_value_bytes: Option<usize>,
    memory_journal_hours: Option<u64>,
    memory_journal_max: Option<u64>,
    gates: Option<bool>,
    roles_file: Option<PathBuf>,
    time_scale: Option<f64>,
    pace: Option<String>,
    start: Option<String>,
    day_start: Option<String>,
    day_end: Option<String>,
    report_path: Option<PathBuf>,
    provisioner: Option<String>,
    default_max_agents: Option<u32>,
    docker_image: Option<String>,
    advertise_url: Option<String>,
    shutdown_timeout_ms: Option<u64>,
    orphan_timeout_ms: Option<u64>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    tls_client_ca: Option<PathBuf>,
    insecure: Option<bool>,
    agent_ca: Option<PathBuf>,
    agent_cert: Option<PathBuf>,
    agent_key: Option<PathBuf>,
    backup_interval: Option<toml::Value>,
    backup_keep: Option<usize>,
    backup_dir: Option<PathBuf>,
    agents_dir: Option<PathBuf>,
    http_listen: Option<String>,
    #[serde(default)]
    exec: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    scale: std::collections::BTreeMap<String, ScaleBounds>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScaleBounds {
    #[serde(default)]
    min: u32,
    max: Option<u32>,
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

/// The TLS files given as flags (or, for the config, as settings), each on
/// its own; [`load`] checks that they go together.
#[derive(Debug, Default, Clone)]
pub struct TlsFlags {
    /// The server certificate.
    pub cert: Option<PathBuf>,
    /// Its key.
    pub key: Option<PathBuf>,
    /// The CA of required client certificates.
    pub client_ca: Option<PathBuf>,
}

impl TlsFlags {
    /// Later settings win, one file at a time.
    fn overlay(&mut self, other: TlsFlags) {
        self.cert = other.cert.or(self.cert.take());
        self.key = other.key.or(self.key.take());
        self.client_ca = other.client_ca.or(self.client_ca.take());
    }

    /// The server's TLS, if any; half a set is an error.
    fn resolve(self) -> Result<Option<crate::tls::ServerTls>, ConfigError> {
        match (self.cert, self.key, self.client_ca) {
            (None, None, None) => Ok(None),
            (Some(cert), Some(key), client_ca) => Ok(Some(crate::tls::ServerTls {
                cert,
                key,
                client_ca,
            })),
            (None, None, Some(_)) => Err(ConfigError::Invalid(
                "tls_client_ca (--tls-client-ca) needs tls_cert and tls_key (--tls-cert, --tls-key): \
                 client certificates are only asked for over TLS"
                    .into(),
            )),
            _ => Err(ConfigError::Invalid(
                "tls_cert and tls_key (--tls-cert, --tls-key) go together: give both or neither"
                    .into(),
            )),
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
    if let Some(v) = env("SWARM_LISTEN") {
        c.listen = match v.parse() {
            Ok(addr) => addr,
            Err(_) => {
                return Err(env_error(
                    "SWARM_LISTEN",
                    v,
                    "an address like 127.0.0.1:7420",
                ))
            }
        };
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
    if let Some(v) = env("SWARM_TIME_SCALE") {
        c.time_scale = match v.parse() {
            Ok(k) => k,
            Err(_) => return Err(env_error("SWARM_TIME_SCALE", v, "a number like 3600")),
        };
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

fn apply_file(c: &mut Config, f: FileConfig) -> Result<(), ConfigError> {
    let ms = Duration::from_millis;
    c.listen = f.listen.unwrap_or(c.listen);
    c.workdir = f.workdir.unwrap_or(c.workdir.clone());
    c.heartbeat = f.heartbeat_ms.map(ms).unwrap_or(c.heartbeat);
    c.lease_ttl = f.lease_ttl_ms.map(ms).unwrap_or(c.lease_ttl);
    c.reconnect_grace = f.reconnect_grace_ms.map(ms).unwrap_or(c.reconnect_grace);
    c.default_retries = f.default_retries.unwrap_or(c.default_retries);
    c.retry_backoff = f.retry_backoff_ms.map(ms).unwrap_or(c.retry_backoff);
    c.retry_backoff_max = f
        .retry_backoff_max_ms
        .map(ms)
        .unwrap_or(c.retry_backoff_max);
    c.max_losses = f.max_losses.unwrap_or(c.max_losses);
    c.log_cap_bytes = f.log_cap_bytes.unwrap_or(c.log_cap_bytes);
    c.max_value_bytes = f.max_value_bytes.unwrap_or(c.max_value_bytes);
    c.roles_file = f.roles_file.or(c.roles_file.take());
    c.time_scale = f.time_scale.unwrap_or(c.time_scale);
    if let Some(p) = f.pace {
        c.pace = p.parse()?;
    }
    if let Some(s) = f.start {
        c.start = Some(crate::clock::parse_start(&s)?);
    }
    if let Some(t) = f.day_start {
        c.day_start =
            crate::clock::parse_hhmm(&t).ok_or_else(|| format!("day_start '{t}' must be HH:MM"))?;
    }
    if let Some(t) = f.day_end {
        c.day_end =
            crate::clock::parse_hhmm(&t).ok_or_else(|| format!("day_end '{t}' must be HH:MM"))?;
    }
    c.report_path = f.report_path.unwrap_or(c.report_path.clone());
    if let Some(p) = f.provisioner {
        c.provisioner = p.parse()?;
    }
    c.default_max_agents = f.default_max_agents.unwrap_or(c.default_max_agents);
    c.docker_image = f.docker_image.unwrap_or(c.docker_image.clone());
    c.advertise_url = f.advertise_url.or(c.advertise_url.take());
    c.shutdown_timeout = f.shutdown_timeout_ms.map(ms).unwrap_or(c.shutdown_timeout);
    c.orphan_timeout = f.orphan_timeout_ms.map(ms).unwrap_or(c.orphan_timeout);
    if let Some(h) = f.memory_journal_hours {
        c.memory_journal.max_age_ms =
            i64::try_from(h.saturating_mul(3_600_000)).unwrap_or(i64::MAX);
    }
    c.memory_journal.max_rows = f.memory_journal_max.unwrap_or(c.memory_journal.max_rows);
    c.gates = f.gates.unwrap_or(c.gates);
    c.insecure = f.insecure.unwrap_or(c.insecure);
    if let Some(v) = &f.backup_interval {
        let interval = match v {
            toml::Value::Integer(n) if *n > 0 => Duration::from_secs(n.unsigned_abs()),
            toml::Value::String(s) => parse_interval(s).ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "backup_interval '{s}' must be a duration like 30m, 6h or 1d (or seconds)"
                ))
            })?,
            other => {
                return Err(ConfigError::Invalid(format!(
                    "backup_interval {other} must be a duration like \"30m\" or a number of seconds above 0"
                )))
            }
        };
        c.backups = Some(crate::backups::Periodic {
            interval,
            keep: 7,
            dir: PathBuf::new(),
        });
    }
    match (&mut c.backups, f.backup_keep, &f.backup_dir) {
        (Some(b), keep, dir) => {
            if keep == Some(0) {
                return Err(ConfigError::Invalid(
                    "backup_keep must be at least 1".into(),
                ));
            }
            b.keep = keep.unwrap_or(b.keep);
            b.dir = dir.clone().unwrap_or_default();
        }
        (None, Some(_), _) | (None, _, Some(_)) => {
            return Err(ConfigError::Invalid(
                "backup_keep and backup_dir need backup_interval (how often to back up)".into(),
            ))
        }
        (None, None, None) => {}
    }
    c.agents_dir = f.agents_dir.or(c.agents_dir.take());
    if let Some(h) = &f.http_listen {
        c.http = h
            .parse()
            .map_err(|e: String| ConfigError::Invalid(format!("http_listen: {e}")))?;
    }
    for (role, template) in f.exec {
        if template.trim().is_empty() {
            return Err(ConfigError::Invalid(format!(
                "exec.{role} is empty; give a command template or remove it"
            )));
        }
        if role == "default" {
            c.exec.default = Some(template);
        } else {
            c.exec.roles.insert(role, template);
        }
    }
    c.agent_tls = swarm_client::TlsFiles {
        ca: f.agent_ca,
        cert: f.agent_cert,
        key: f.agent_key,
    };
    for (role, b) in f.scale {
        let max = b.max.unwrap_or(c.default_max_agents.max(b.min));
        if b.min > max {
            return Err(ConfigError::Invalid(format!(
                "scale.{role}: min ({}) is above max ({max})",
                b.min
            )));
        }
        c.scale.insert(role, (b.min, max));
    }
    Ok(())
}

fn validate(c: &Config) -> Result<(), ConfigError> {
    if c.provisioner != ProvisionerKind::None {
        if let Some(tls) = &c.tls {
            if c.agent_tls.ca.is_none() {
                return Err(ConfigError::Invalid(
                    "TLS is on and agents are provisioned: set agent_ca (SWARM_AGENT_CA), the CA \
                     that signed tls_cert, so provisioned agents can check the server"
                        .into(),
                ));
            }
            if tls.client_ca.is_some() && c.agent_tls.cert.is_none() {
                return Err(ConfigError::Invalid(
                    "tls_client_ca requires client certificates and agents are provisioned: set \
                     agent_cert and agent_key (SWARM_AGENT_CERT, SWARM_AGENT_KEY)"
                        .into(),
                ));
            }
        }
    }
    if c.agent_tls.cert.is_some() != c.agent_tls.key.is_some() {
        return Err(ConfigError::Invalid(
            "agent_cert and agent_key go together: give both or neither".into(),
        ));
    }
    if let crate::http::HttpListen::At(addr) = c.http {
        if !addr.ip().is_loopback() && c.tls.is_none() && !c.insecure {
            return Err(ConfigError::Invalid(format!(
                "http_listen {addr} is not a loopback address and TLS is off: /metrics would \
                 carry the admin token in plaintext; give --tls-cert and --tls-key, keep it on \
                 loopback, or give --insecure"
            )));
        }
    }
    if c.tls.is_none() && !c.insecure && !c.listen.ip().is_loopback() {
        return Err(ConfigError::Invalid(format!(
            "listen {} is not a loopback address and TLS is off: give --tls-cert and --tls-key \
             (`swarmd certs init --out DIR` makes a set), or --insecure to accept plaintext \
             tokens on the network",
            c.listen
        )));
    }
    if c.heartbeat.is_zero() || c.lease_ttl <= c.heartbeat {
        return Err(ConfigError::Invalid(format!(
            "lease_ttl ({} ms) must be longer than heartbeat ({} ms), and heartbeat above 0",
            c.lease_ttl.as_millis(),
            c.heartbeat.as_millis()
        )));
    }
    if !(c.time_scale.is_finite() && c.time_scale > 0.0 && c.time_scale <= 10_000_000.0) {
        return Err(ConfigError::Invalid(format!(
            "time_scale {} must be above 0 and at most 10000000",
            c.time_scale
        )));
    }
    if c.day_end <= c.day_start {
        return Err(ConfigError::Invalid(
            "day_end must be after day_start".to_string(),
        ));
    }
    if c.max_value_bytes == 0 || c.max_value_bytes > 64 * 1024 * 1024 {
        return Err(ConfigError::Invalid(
            "max_value_bytes must be between 1 and 64 MiB".to_string(),
        ));
    }
    Ok(())
}

/// `45s`, `30m`, `6h`, `1d`, or a bare number of seconds; above zero.
fn parse_interval(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = digits.parse().ok().filter(|n| *n > 0)?;
    let secs = match unit {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
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
