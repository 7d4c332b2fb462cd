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
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 7420)),
            workdir: PathBuf::from("."),
            heartbeat: Duration::from_secs(2),
            lease_ttl: Duration::from_secs(10),
            reconnect_grace: Duration::from_secs(15),
            default_retries: 0,
            retry_backoff: Duration::from_secs(1),
            retry_backoff_max: Duration::from_secs(60),
            max_losses: 5,
            log_cap_bytes: 1024 * 1024,
            max_value_bytes: 1024 * 1024,
            roles_file: None,
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
    roles_file: Option<PathBuf>,
}

/// Overrides from flags (None: not given).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--workdir`.
    pub workdir: Option<PathBuf>,
}

/// Builds the configuration: defaults, file, environment, flags.
pub fn load(
    file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    flags: &Overrides,
) -> Result<Config, String> {
    let mut c = Config::default();
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
        let f: FileConfig = toml::from_str(&text)
            .map_err(|e| format!("config {}: {}", path.display(), e.message()))?;
        apply_file(&mut c, f);
    }
    let ms = |name: &str| -> Result<Option<Duration>, String> {
        env(name)
            .map(|v| {
                v.parse::<u64>()
                    .map(Duration::from_millis)
                    .map_err(|_| format!("{name}={v}: expected milliseconds"))
            })
            .transpose()
    };
    if let Some(v) = env("SWARM_LISTEN") {
        c.listen = v
            .parse()
            .map_err(|_| format!("SWARM_LISTEN={v}: expected an address like 127.0.0.1:7420"))?;
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
    if let Some(v) = env("SWARM_ROLES") {
        c.roles_file = Some(PathBuf::from(v));
    }
    if let Some(l) = flags.listen {
        c.listen = l;
    }
    if let Some(w) = &flags.workdir {
        c.workdir = w.clone();
    }
    validate(&c)?;
    Ok(c)
}

fn apply_file(c: &mut Config, f: FileConfig) {
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
}

fn validate(c: &Config) -> Result<(), String> {
    if c.heartbeat.is_zero() || c.lease_ttl <= c.heartbeat {
        return Err(format!(
            "lease_ttl ({} ms) must be longer than heartbeat ({} ms), and heartbeat above 0",
            c.lease_ttl.as_millis(),
            c.heartbeat.as_millis()
        ));
    }
    if c.max_value_bytes == 0 || c.max_value_bytes > 64 * 1024 * 1024 {
        return Err("max_value_bytes must be between 1 and 64 MiB".to_string());
    }
    Ok(())
}

impl Config {
    /// `WORKDIR/.swarm`.
    pub fn state_dir(&self) -> PathBuf {
        self.workdir.join(".swarm")
    }

    /// `WORKDIR/.swarm/memory.db`.
    pub fn db_path(&self) -> PathBuf {
        self.state_dir().join("memory.db")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("swarmd.toml");
        std::fs::write(
            &file,
            "lease_ttl_ms = 3000\nheartbeat_ms = 500\nlisten = \"127.0.0.1:9000\"\n",
        )
        .expect("write");
        let env = |k: &str| (k == "SWARM_LEASE_TTL_MS").then(|| "4000".to_string());
        let flags = Overrides {
            listen: Some("127.0.0.1:9001".parse().expect("addr")),
            workdir: None,
        };
        let c = load(Some(&file), &env, &flags).expect("valid");
        assert_eq!(c.heartbeat, Duration::from_millis(500));
        assert_eq!(c.lease_ttl, Duration::from_millis(4000));
        assert_eq!(c.listen.port(), 9001);
    }

    #[test]
    fn bad_values_are_refused() {
        let env = |k: &str| (k == "SWARM_LEASE_TTL_MS").then(|| "soon".to_string());
        let err = load(None, &env, &Overrides::default()).expect_err("invalid");
        assert!(err.contains("SWARM_LEASE_TTL_MS=soon"), "{err}");
        let env = |k: &str| (k == "SWARM_LEASE_TTL_MS").then(|| "100".to_string());
        assert!(load(None, &env, &Overrides::default()).is_err());
    }
}
