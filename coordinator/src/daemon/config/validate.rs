//! The last step of loading: settings that are wrong together (TLS,
//! provisioning, listen addresses) or out of range.

use super::{Config, ConfigError, ProvisionerKind};

/// Largest `max_plan_bytes`.
const MAX_MAX_PLAN_BYTES: u64 = 512 * 1024 * 1024;

/// Settings that are wrong together, or out of range.
pub(super) fn validate(c: &Config) -> Result<(), ConfigError> {
    if c.core.provisioner != ProvisionerKind::None {
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
    if let crate::edge::http::HttpListen::At(addr) = c.http {
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
    validate_otlp(c)?;
    if c.core.heartbeat.is_zero() || c.core.lease_ttl <= c.core.heartbeat {
        return Err(ConfigError::Invalid(format!(
            "lease_ttl ({} ms) must be longer than heartbeat ({} ms), and heartbeat above 0",
            c.core.lease_ttl.as_millis(),
            c.core.heartbeat.as_millis()
        )));
    }
    if !(c.core.time_scale.is_finite()
        && c.core.time_scale > 0.0
        && c.core.time_scale <= 10_000_000.0)
    {
        return Err(ConfigError::Invalid(format!(
            "time_scale {} must be above 0 and at most 10000000",
            c.core.time_scale
        )));
    }
    if c.core.day_end <= c.core.day_start {
        return Err(ConfigError::Invalid(
            "day_end must be after day_start".to_string(),
        ));
    }
    if c.max_value_bytes == 0 || c.max_value_bytes > 64 * 1024 * 1024 {
        return Err(ConfigError::Invalid(
            "max_value_bytes must be between 1 and 64 MiB".to_string(),
        ));
    }
    // The plan's text is kept in swarmd.db, where SQLite holds no value
    // over about 1 GB.
    if c.core.max_plan_bytes == 0 || c.core.max_plan_bytes > MAX_MAX_PLAN_BYTES {
        return Err(ConfigError::Invalid(format!(
            "max_plan_bytes {} must be between 1 and {MAX_MAX_PLAN_BYTES} (512 MiB)",
            c.core.max_plan_bytes
        )));
    }
    Ok(())
}

/// The trace exporter's settings, read here so a wrong protocol or an
/// unreadable TLS file stops swarmd before it opens anything.
fn validate_otlp(c: &Config) -> Result<(), ConfigError> {
    if c.otlp_endpoint.is_none() {
        return Ok(());
    }
    // The protocol is the exporter's standard variable.
    crate::workers::traces::export::Protocol::from_env(|v| std::env::var(v).ok())
        .map_err(|e| ConfigError::Invalid(e.to_string()))?;
    // So are the TLS files of an https:// collector.
    let url = std::env::var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .ok()
        .filter(|v| !v.is_empty());
    let url = url
        .as_deref()
        .or(c.otlp_endpoint.as_deref())
        .unwrap_or_default();
    swarm_otlp::check(url).map_err(|e| ConfigError::Invalid(e.to_string()))
}
