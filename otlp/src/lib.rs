//! OTLP trace exporters as the standard `OTEL_EXPORTER_OTLP_*` variables
//! ask for, shared by swarmd and swarm-agent: the protocol (gRPC on
//! tonic, or HTTP with protobuf bodies, the specification's default),
//! and for an `https://` endpoint TLS ([`tls`]): the CA of
//! `OTEL_EXPORTER_OTLP_CERTIFICATE` (else the system's), and a client
//! certificate when `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` and
//! `_CLIENT_KEY` name one (each with its `_TRACES_` variant first).

mod https;
pub mod tls;

use opentelemetry_otlp::{SpanExporter, WithExportConfig, WithHttpConfig, WithTonicConfig};

/// Why no exporter could be made.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The protocol variable names one we do not speak.
    #[error(
        "{var}='{value}' is not a protocol traces are exported over; use grpc or http/protobuf"
    )]
    Protocol {
        /// The variable.
        var: &'static str,
        /// What it said.
        value: String,
    },
    /// The endpoint is neither `http://` nor `https://`.
    #[error("OTLP endpoint '{0}' must be an http:// or https:// URL, like http://localhost:4318")]
    Scheme(String),
    /// TLS settings that cannot be used.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The exporter could not be built.
    #[error("cannot set up the OTLP trace exporter for {endpoint}: {detail}")]
    Build {
        /// Where it was to send.
        endpoint: String,
        /// What the exporter said.
        detail: String,
    },
}

/// How spans travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP over gRPC.
    Grpc,
    /// OTLP over HTTP, protobuf bodies (the default).
    HttpProtobuf,
}

impl Protocol {
    /// What `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else
    /// `OTEL_EXPORTER_OTLP_PROTOCOL`, asks for (`get` reads a variable).
    ///
    /// # Errors
    /// A protocol other than `grpc` and `http/protobuf`.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Protocol, SetupError> {
        for var in [
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ] {
            let Some(value) = get(var).filter(|v| !v.trim().is_empty()) else {
                continue;
            };
            return match value.trim() {
                "grpc" => Ok(Protocol::Grpc),
                "http/protobuf" => Ok(Protocol::HttpProtobuf),
                _ => Err(SetupError::Protocol { var, value }),
            };
        }
        Ok(Protocol::HttpProtobuf)
    }
}

/// Where a base endpoint sends traces over `protocol`: HTTP appends the
/// signal's path (as the specification does for
/// `OTEL_EXPORTER_OTLP_ENDPOINT`), gRPC uses it as it is.
pub fn traces_url(base: &str, protocol: Protocol) -> String {
    match protocol {
        Protocol::Grpc => base.to_string(),
        Protocol::HttpProtobuf => format!("{}/v1/traces", base.trim_end_matches('/')),
    }
}

/// Whether `url` is one an exporter can send to, and over TLS or not.
///
/// # Errors
/// Neither `http://` nor `https://`.
pub fn is_tls(url: &str) -> Result<bool, SetupError> {
    let lower = url.trim().to_ascii_lowercase();
    if lower.starts_with("https://") {
        Ok(true)
    } else if lower.starts_with("http://") {
        Ok(false)
    } else {
        Err(SetupError::Scheme(url.to_string()))
    }
}

/// Checks what an exporter to `url` would need before anything starts:
/// an http(s) URL and, for `https://`, TLS files that can be read and used.
///
/// # Errors
/// As [`span_exporter`] would fail on them.
pub fn check(url: &str) -> Result<(), SetupError> {
    if is_tls(url)? {
        tls::Files::from_env(|v| std::env::var(v).ok()).rustls()?;
    }
    Ok(())
}

/// An exporter sending to `url` (the full traces URL: a base endpoint
/// goes through [`traces_url`] first) over `protocol`, with TLS from the
/// standard variables when `url` is `https://`. Must be called inside a
/// tokio runtime.
///
/// # Errors
/// A URL that is not http(s), TLS files that cannot be read or used, or
/// an exporter that cannot be built.
pub fn span_exporter(url: &str, protocol: Protocol) -> Result<SpanExporter, SetupError> {
    let env = |v: &str| std::env::var(v).ok();
    let files = is_tls(url)?.then(|| tls::Files::from_env(env));
    let built = match (protocol, files) {
        (Protocol::Grpc, None) => SpanExporter::builder()
            .with_tonic()
            .with_endpoint(url)
            .build(),
        (Protocol::Grpc, Some(files)) => SpanExporter::builder()
            .with_tonic()
            .with_endpoint(url)
            .with_tls_config(files.tonic()?)
            .build(),
        (Protocol::HttpProtobuf, None) => SpanExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_endpoint(url)
            .build(),
        (Protocol::HttpProtobuf, Some(files)) => SpanExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_endpoint(url)
            .with_http_client(https::client(files.rustls()?, timeout(env)))
            .build(),
    };
    built.map_err(|e| SetupError::Build {
        endpoint: url.to_string(),
        detail: e.to_string(),
    })
}

/// The export timeout the variables give (milliseconds), 10 s by default
/// as the specification says: the exporter reads it itself for the
/// clients it makes, and a client made here must be told.
fn timeout(get: impl Fn(&str) -> Option<String>) -> std::time::Duration {
    [
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
    ]
    .iter()
    .find_map(|v| get(v).and_then(|s| s.trim().parse().ok()))
    .map_or(
        std::time::Duration::from_secs(10),
        std::time::Duration::from_millis,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |v: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == v)
                .map(|(_, x)| x.to_string())
        }
    }

    #[test]
    fn protocol_follows_the_variables_and_defaults_to_http() {
        assert_eq!(
            Protocol::from_env(env(&[])).ok(),
            Some(Protocol::HttpProtobuf)
        );
        assert_eq!(
            Protocol::from_env(env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")])).ok(),
            Some(Protocol::Grpc)
        );
        assert_eq!(
            Protocol::from_env(env(&[
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
                ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf")
            ]))
            .ok(),
            Some(Protocol::HttpProtobuf)
        );
        let bad = Protocol::from_env(env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]));
        let msg = bad.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            msg.contains("OTEL_EXPORTER_OTLP_PROTOCOL='http/json'"),
            "{msg}"
        );
    }

    #[test]
    fn http_gets_the_signal_path() {
        assert_eq!(
            traces_url("http://c:4318/", Protocol::HttpProtobuf),
            "http://c:4318/v1/traces"
        );
        assert_eq!(traces_url("http://c:4317", Protocol::Grpc), "http://c:4317");
    }

    #[test]
    fn only_http_and_https_are_endpoints() {
        assert_eq!(is_tls("https://c:4318").ok(), Some(true));
        assert_eq!(is_tls("HTTP://c:4318").ok(), Some(false));
        let msg = is_tls("grpc://c:4317")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(msg.contains("'grpc://c:4317'"), "{msg}");
    }

    #[test]
    fn the_timeout_is_the_signals_then_the_generic_then_ten_seconds() {
        use std::time::Duration;
        assert_eq!(timeout(env(&[])), Duration::from_secs(10));
        assert_eq!(
            timeout(env(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "2500")])),
            Duration::from_millis(2500)
        );
        assert_eq!(
            timeout(env(&[
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
                ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "700")
            ])),
            Duration::from_millis(700)
        );
    }
}
