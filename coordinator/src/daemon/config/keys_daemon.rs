//! The daemon's own settings (listeners, TLS, shared memory, provisioner
//! engines, shutdown, backups), each declared once: key, variable, flag,
//! default, help, how it is read and how it is shown.

use toml::Value;

use super::setting::{
    count, millis, path, show_ms, show_path, show_u64, switch, text, whole, Bad, Flag, FlagUnit,
    Kind, Setting,
};

const fn flag(long: &'static str, value_name: &'static str) -> Option<Flag> {
    Some(Flag {
        long,
        value_name,
        unit: FlagUnit::Same,
    })
}

const fn switch_flag(long: &'static str) -> Option<Flag> {
    Some(Flag {
        long,
        value_name: "",
        unit: FlagUnit::Switch,
    })
}

fn text_of(v: &Option<String>) -> Option<Value> {
    v.clone().map(Value::String)
}

/// The daemon's settings, in the order they are applied.
pub static DAEMON: &[Setting] = &[
    Setting {
        key: "listen",
        env: Some("SWARM_LISTEN"),
        flag: flag("listen", "ADDR"),
        default: "127.0.0.1:7420",
        help: "Address to listen on (gRPC); loopback unless TLS or --insecure",
        kind: Kind::Text {
            env_expected: Some("an address like 127.0.0.1:7420"),
        },
        apply: |d, v| {
            let t = text(v)?;
            d.c.listen = t.trim().parse().map_err(|_| {
                Bad::Value(format!(
                    "listen '{t}' must be HOST:PORT like 127.0.0.1:7420"
                ))
            })?;
            Ok(())
        },
        show: |c| Some(Value::String(c.listen.to_string())),
    },
    Setting {
        key: "http_listen",
        env: Some("SWARM_HTTP"),
        flag: flag("http", "ADDR|off"),
        default: "127.0.0.1:7421 (off when taken)",
        help: "HTTP listener for /metrics, /healthz and /readyz: HOST:PORT, or off",
        kind: Kind::Text {
            env_expected: Some("HOST:PORT or off"),
        },
        apply: |d, v| {
            d.c.http = text(v)?
                .parse()
                .map_err(|e: String| Bad::Value(format!("http_listen: {e}")))?;
            Ok(())
        },
        show: |c| {
            use crate::edge::http::HttpListen as H;
            Some(Value::String(match c.http {
                H::Default => H::DEFAULT.to_string(),
                H::Off => "off".to_string(),
                H::At(addr) => addr.to_string(),
            }))
        },
    },
    Setting {
        key: "max_value_bytes",
        env: None,
        flag: None,
        default: "1048576",
        help: "Largest shared-memory value, in bytes (at most 64 MiB)",
        kind: Kind::Bytes,
        apply: |d, v| {
            d.c.max_value_bytes = count(v)?;
            Ok(())
        },
        show: |c| {
            Some(show_u64(
                u64::try_from(c.max_value_bytes).unwrap_or(u64::MAX),
            ))
        },
    },
    Setting {
        key: "memory_journal_hours",
        env: None,
        flag: None,
        default: "24",
        help: "How long acknowledged shared-memory writes stay in the journal",
        kind: Kind::Count,
        apply: |d, v| {
            let hours = whole(v)?;
            d.c.memory_journal.max_age_ms =
                i64::try_from(hours.saturating_mul(3_600_000)).unwrap_or(i64::MAX);
            Ok(())
        },
        show: |c| Some(Value::Integer(c.memory_journal.max_age_ms / 3_600_000)),
    },
    Setting {
        key: "memory_journal_max",
        env: None,
        flag: None,
        default: "100000",
        help: "At most this many journal rows are kept (the newest)",
        kind: Kind::Count,
        apply: |d, v| {
            d.c.memory_journal.max_rows = whole(v)?;
            Ok(())
        },
        show: |c| Some(show_u64(c.memory_journal.max_rows)),
    },
    Setting {
        key: "docker_image",
        env: None,
        flag: None,
        default: "swarm-agent:dev",
        help: "Image of docker- and swarm-provisioned agents",
        kind: Kind::Text { env_expected: None },
        apply: |d, v| {
            d.c.docker_image = text(v)?.to_string();
            Ok(())
        },
        show: |c| Some(Value::String(c.docker_image.clone())),
    },
    Setting {
        key: "swarm_network",
        env: None,
        flag: None,
        default: "host networking",
        help: "Network the swarm provisioner attaches agent services to",
        kind: Kind::Text { env_expected: None },
        apply: |d, v| {
            let n = text(v)?.trim();
            if n.is_empty() {
                return Err(Bad::Value(
                    "swarm_network is empty; name a network swarm services can attach to (an \
                     attachable overlay, or host), or leave it out for host networking"
                        .into(),
                ));
            }
            d.c.swarm_network = Some(n.to_string());
            Ok(())
        },
        show: |c| text_of(&c.swarm_network),
    },
    Setting {
        key: "otlp_endpoint",
        env: Some("OTEL_EXPORTER_OTLP_ENDPOINT"),
        flag: flag("otlp-endpoint", "URL"),
        default: "off",
        help: "OTLP collector for traces (one per plan), e.g. http://localhost:4318 (https:// checks it against OTEL_EXPORTER_OTLP_CERTIFICATE, else the system's CAs); OTEL_EXPORTER_OTLP_PROTOCOL picks grpc or http/protobuf (the default)",
        kind: Kind::Text {
            env_expected: Some("a URL like http://localhost:4318 or https://collector:4318"),
        },
        apply: |d, v| {
            let url = text(v)?.trim();
            swarm_otlp::is_tls(url).map_err(|_| {
                Bad::Value(format!(
                    "otlp_endpoint '{url}' must be an http:// or https:// URL, like \
                     http://localhost:4318"
                ))
            })?;
            d.c.otlp_endpoint = Some(url.to_string());
            Ok(())
        },
        show: |c| text_of(&c.otlp_endpoint),
    },
    Setting {
        key: "advertise_url",
        env: None,
        flag: None,
        default: "the listen address",
        help: "URL provisioned agents use to reach this coordinator",
        kind: Kind::Text { env_expected: None },
        apply: |d, v| {
            d.c.advertise_url = Some(text(v)?.to_string());
            Ok(())
        },
        show: |c| text_of(&c.advertise_url),
    },
    Setting {
        key: "shutdown_timeout_ms",
        env: Some("SWARM_SHUTDOWN_TIMEOUT_MS"),
        flag: Some(Flag {
            long: "shutdown-timeout",
            value_name: "SECS",
            unit: FlagUnit::Seconds,
        }),
        default: "10000",
        help: "After SIGTERM or SIGINT, exit within this long: dispatch stops at once, agents \
               are told and keep their work (the flag takes seconds)",
        kind: Kind::Millis,
        apply: |d, v| {
            d.c.shutdown_timeout = millis(v)?;
            Ok(())
        },
        show: |c| show_ms(c.shutdown_timeout),
    },
    Setting {
        key: "orphan_timeout_ms",
        env: None,
        flag: None,
        default: "60000",
        help: "Provisioned agents exit once this coordinator has been unreachable this long",
        kind: Kind::Millis,
        apply: |d, v| {
            d.c.orphan_timeout = millis(v)?;
            Ok(())
        },
        show: |c| show_ms(c.orphan_timeout),
    },
    Setting {
        key: "tls_cert",
        env: Some("SWARM_TLS_CERT"),
        flag: flag("tls-cert", "FILE"),
        default: "none (plaintext)",
        help: "Serve gRPC over TLS with this certificate (PEM; with tls_key)",
        kind: Kind::Path,
        apply: |d, v| {
            d.tls.cert = Some(path(v)?);
            Ok(())
        },
        show: |c| c.tls.as_ref().and_then(|t| show_path(&t.cert)),
    },
    Setting {
        key: "tls_key",
        env: Some("SWARM_TLS_KEY"),
        flag: flag("tls-key", "FILE"),
        default: "none",
        help: "The TLS certificate's private key (PEM)",
        kind: Kind::Path,
        apply: |d, v| {
            d.tls.key = Some(path(v)?);
            Ok(())
        },
        show: |c| c.tls.as_ref().and_then(|t| show_path(&t.key)),
    },
    Setting {
        key: "tls_client_ca",
        env: Some("SWARM_TLS_CLIENT_CA"),
        flag: flag("tls-client-ca", "FILE"),
        default: "none",
        help: "Require client certificates signed by this CA (PEM) from agents and swarmctl (mTLS)",
        kind: Kind::Path,
        apply: |d, v| {
            d.tls.client_ca = Some(path(v)?);
            Ok(())
        },
        show: |c| {
            c.tls
                .as_ref()
                .and_then(|t| t.client_ca.as_deref().and_then(show_path))
        },
    },
    Setting {
        key: "insecure",
        env: Some("SWARM_INSECURE"),
        flag: switch_flag("insecure"),
        default: "false",
        help: "Allow plaintext gRPC on a non-loopback address (tokens cross the network readable)",
        kind: Kind::Switch,
        apply: |d, v| {
            d.c.insecure = switch(v)?;
            Ok(())
        },
        show: |c| Some(Value::Boolean(c.insecure)),
    },
    Setting {
        key: "agent_ca",
        env: Some("SWARM_AGENT_CA"),
        flag: None,
        default: "none",
        help: "For provisioned agents of a TLS coordinator: the CA that signed tls_cert",
        kind: Kind::Path,
        apply: |d, v| {
            d.c.agent_tls.ca = Some(path(v)?);
            Ok(())
        },
        show: |c| c.agent_tls.ca.as_deref().and_then(show_path),
    },
    Setting {
        key: "agent_cert",
        env: Some("SWARM_AGENT_CERT"),
        flag: None,
        default: "none",
        help: "Client certificate of provisioned agents when tls_client_ca requires one",
        kind: Kind::Path,
        apply: |d, v| {
            d.c.agent_tls.cert = Some(path(v)?);
            Ok(())
        },
        show: |c| c.agent_tls.cert.as_deref().and_then(show_path),
    },
    Setting {
        key: "agent_key",
        env: Some("SWARM_AGENT_KEY"),
        flag: None,
        default: "none",
        help: "That client certificate's key",
        kind: Kind::Path,
        apply: |d, v| {
            d.c.agent_tls.key = Some(path(v)?);
            Ok(())
        },
        show: |c| c.agent_tls.key.as_deref().and_then(show_path),
    },
    Setting {
        key: "backup_interval",
        env: None,
        flag: None,
        default: "none (only `swarmctl backup`)",
        help: "Take a backup this often: 30m, 6h, 1d, or a number of seconds",
        kind: Kind::Text { env_expected: None },
        apply: |d, v| {
            d.c.backups = Some(crate::workers::backups::Periodic {
                interval: super::tables::backup_interval(v)?,
                keep: 7,
                dir: std::path::PathBuf::new(),
            });
            Ok(())
        },
        show: |c| c.backups.as_ref().map(|b| show_u64(b.interval.as_secs())),
    },
    Setting {
        key: "backup_keep",
        env: None,
        flag: None,
        default: "7",
        help: "How many periodic backups are kept (at least 1)",
        kind: Kind::Count,
        apply: |d, v| {
            let keep: usize = count(v)?;
            if keep == 0 {
                return Err(Bad::Value("backup_keep must be at least 1".into()));
            }
            super::tables::backups(d, "backup_keep")?.keep = keep;
            Ok(())
        },
        show: |c| {
            let keep = c.backups.as_ref().map_or(7, |b| b.keep);
            Some(show_u64(u64::try_from(keep).unwrap_or(u64::MAX)))
        },
    },
    Setting {
        key: "backup_dir",
        env: None,
        flag: None,
        default: "WORKDIR/.swarm/backups",
        help: "Where periodic backups go, relative to the workdir",
        kind: Kind::Path,
        apply: |d, v| {
            super::tables::backups(d, "backup_dir")?.dir = path(v)?;
            Ok(())
        },
        show: |c| c.backups.as_ref().and_then(|b| show_path(&b.dir)),
    },
];
