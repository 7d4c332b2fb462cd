//! The config file (`--config FILE`, TOML): its shape, every field
//! optional, and how it is laid over the defaults.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::{Config, ConfigError};

/// The config file's shape: every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileConfig {
    pub(super) listen: Option<SocketAddr>,
    pub(super) workdir: Option<PathBuf>,
    pub(super) heartbeat_ms: Option<u64>,
    pub(super) lease_ttl_ms: Option<u64>,
    pub(super) reconnect_grace_ms: Option<u64>,
    pub(super) default_retries: Option<u32>,
    pub(super) retry_backoff_ms: Option<u64>,
    pub(super) retry_backoff_max_ms: Option<u64>,
    pub(super) max_losses: Option<u32>,
    pub(super) log_cap_bytes: Option<u64>,
    pub(super) max_value_bytes: Option<usize>,
    pub(super) max_plan_bytes: Option<u64>,
    pub(super) memory_journal_hours: Option<u64>,
    pub(super) memory_journal_max: Option<u64>,
    pub(super) gates: Option<bool>,
    pub(super) roles_file: Option<PathBuf>,
    pub(super) time_scale: Option<f64>,
    pub(super) pace: Option<String>,
    pub(super) priority: Option<String>,
    pub(super) start: Option<String>,
    pub(super) day_start: Option<String>,
    pub(super) day_end: Option<String>,
    pub(super) report_path: Option<PathBuf>,
    pub(super) provisioner: Option<String>,
    pub(super) default_max_agents: Option<u32>,
    pub(super) docker_image: Option<String>,
    pub(super) swarm_network: Option<String>,
    pub(super) advertise_url: Option<String>,
    pub(super) shutdown_timeout_ms: Option<u64>,
    pub(super) orphan_timeout_ms: Option<u64>,
    pub(super) tls_cert: Option<PathBuf>,
    pub(super) tls_key: Option<PathBuf>,
    pub(super) tls_client_ca: Option<PathBuf>,
    pub(super) insecure: Option<bool>,
    pub(super) agent_ca: Option<PathBuf>,
    pub(super) agent_cert: Option<PathBuf>,
    pub(super) agent_key: Option<PathBuf>,
    pub(super) backup_interval: Option<toml::Value>,
    pub(super) backup_keep: Option<usize>,
    pub(super) backup_dir: Option<PathBuf>,
    pub(super) agents_dir: Option<PathBuf>,
    pub(super) http_listen: Option<String>,
    #[serde(default)]
    pub(super) exec: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub(super) scale: std::collections::BTreeMap<String, ScaleBounds>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ScaleBounds {
    #[serde(default)]
    pub(super) min: u32,
    pub(super) max: Option<u32>,
    /// Swarm placement constraints of the role's service.
    #[serde(default)]
    pub(super) constraints: Vec<String>,
    /// CPU limit of each of the role's swarm agents (cores, e.g. 0.5).
    pub(super) cpus: Option<f64>,
    /// Memory limit of each of the role's swarm agents: bytes, or a
    /// string such as "512m" or "2GiB".
    pub(super) memory: Option<toml::Value>,
}

/// Lays the file's settings over `c`.
pub(super) fn apply_file(c: &mut Config, f: FileConfig) -> Result<(), ConfigError> {
    let ms = Duration::from_millis;
    c.listen = f.listen.unwrap_or(c.listen);
    c.core.workdir = f.workdir.unwrap_or(c.core.workdir.clone());
    c.core.heartbeat = f.heartbeat_ms.map(ms).unwrap_or(c.core.heartbeat);
    c.core.lease_ttl = f.lease_ttl_ms.map(ms).unwrap_or(c.core.lease_ttl);
    c.core.reconnect_grace = f
        .reconnect_grace_ms
        .map(ms)
        .unwrap_or(c.core.reconnect_grace);
    c.core.default_retries = f.default_retries.unwrap_or(c.core.default_retries);
    c.core.retry_backoff = f.retry_backoff_ms.map(ms).unwrap_or(c.core.retry_backoff);
    c.core.retry_backoff_max = f
        .retry_backoff_max_ms
        .map(ms)
        .unwrap_or(c.core.retry_backoff_max);
    c.core.max_losses = f.max_losses.unwrap_or(c.core.max_losses);
    c.core.log_cap_bytes = f.log_cap_bytes.unwrap_or(c.core.log_cap_bytes);
    c.max_value_bytes = f.max_value_bytes.unwrap_or(c.max_value_bytes);
    c.core.max_plan_bytes = f.max_plan_bytes.unwrap_or(c.core.max_plan_bytes);
    c.core.roles_file = f.roles_file.or(c.core.roles_file.take());
    c.core.time_scale = f.time_scale.unwrap_or(c.core.time_scale);
    if let Some(p) = f.pace {
        c.core.pace = p.parse()?;
    }
    if let Some(p) = f.priority {
        c.core.priority = p
            .parse()
            .map_err(|e| ConfigError::Invalid(format!("priority: {e}")))?;
    }
    if let Some(s) = f.start {
        c.core.start = Some(swarm_core::clock::parse_start(&s)?);
    }
    if let Some(t) = f.day_start {
        c.core.day_start = swarm_core::clock::parse_hhmm(&t)
            .ok_or_else(|| format!("day_start '{t}' must be HH:MM"))?;
    }
    if let Some(t) = f.day_end {
        c.core.day_end = swarm_core::clock::parse_hhmm(&t)
            .ok_or_else(|| format!("day_end '{t}' must be HH:MM"))?;
    }
    c.core.report_path = f.report_path.unwrap_or(c.core.report_path.clone());
    if let Some(p) = f.provisioner {
        c.core.provisioner = p.parse()?;
    }
    c.core.default_max_agents = f.default_max_agents.unwrap_or(c.core.default_max_agents);
    c.docker_image = f.docker_image.unwrap_or(c.docker_image.clone());
    if let Some(n) = f.swarm_network {
        if n.trim().is_empty() {
            return Err(ConfigError::Invalid(
                "swarm_network is empty; name a network swarm services can attach to (an \
                 attachable overlay, or host), or leave it out for host networking"
                    .into(),
            ));
        }
        c.swarm_network = Some(n.trim().to_string());
    }
    c.advertise_url = f.advertise_url.or(c.advertise_url.take());
    c.shutdown_timeout = f.shutdown_timeout_ms.map(ms).unwrap_or(c.shutdown_timeout);
    c.orphan_timeout = f.orphan_timeout_ms.map(ms).unwrap_or(c.orphan_timeout);
    if let Some(h) = f.memory_journal_hours {
        c.memory_journal.max_age_ms =
            i64::try_from(h.saturating_mul(3_600_000)).unwrap_or(i64::MAX);
    }
    c.memory_journal.max_rows = f.memory_journal_max.unwrap_or(c.memory_journal.max_rows);
    c.core.gates = f.gates.unwrap_or(c.core.gates);
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
        c.backups = Some(crate::workers::backups::Periodic {
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
    c.core.agents_dir = f.agents_dir.or(c.core.agents_dir.take());
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
            c.core.exec.default = Some(template);
        } else {
            c.core.exec.roles.insert(role, template);
        }
    }
    c.agent_tls = swarm_client::TlsFiles {
        ca: f.agent_ca,
        cert: f.agent_cert,
        key: f.agent_key,
    };
    for (role, b) in f.scale {
        let max = b.max.unwrap_or(c.core.default_max_agents.max(b.min));
        if b.min > max {
            return Err(ConfigError::Invalid(format!(
                "scale.{role}: min ({}) is above max ({max})",
                b.min
            )));
        }
        let placement = super::placement::parse(&role, b.constraints, b.cpus, b.memory)?;
        if placement != super::Placement::default() {
            c.placement.insert(role.clone(), placement);
        }
        c.core.scale.insert(role, (b.min, max));
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
