//! Traces over TLS: with an `https://` endpoint swarmd and the local
//! agents of `swarmd run` send their spans to a receiver serving a
//! certificate set from `swarmd certs init`, over gRPC and over HTTP,
//! checking it against `OTEL_EXPORTER_OTLP_CERTIFICATE` (or its
//! `_TRACES_` variant), presenting the client certificate of
//! `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` to a collector that asks for
//! one; a collector it cannot verify, or that wants a certificate it was
//! not given, gets nothing; a CA file that cannot be read stops swarmd
//! before it opens anything. Every daemon gets its variables on its own command
//! line, so the tests of this binary can run side by side.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use swarm_tests::otlp::Receiver;
use swarm_tests::{certs_init, examples_dir, wait_for, workspace_binary};

/// `swarmd run` of the release rehearsal exporting to `rx` with
/// `protocol` and the CA in `ca_var`: its whole trace, the root span
/// included, has arrived when it exits, and its agents' spans follow.
fn run_over_tls(rx: &Receiver, protocol: &str, ca_var: &str, certs: &Path) {
    run_over_tls_with(rx, protocol, ca_var, certs, &[]);
}

/// The same, with more variables (a client certificate).
fn run_over_tls_with(
    rx: &Receiver,
    protocol: &str,
    ca_var: &str,
    certs: &Path,
    env: &[(&str, std::path::PathBuf)],
) {
    assert!(rx.endpoint.starts_with("https://"), "{}", rx.endpoint);
    let dir = tempfile::tempdir().expect("tmp");
    let out = Command::new(workspace_binary("swarmd"))
        .arg("run")
        .arg(examples_dir().join("release-rehearsal.md"))
        .arg("--workdir")
        .arg(dir.path())
        .args(["--otlp-endpoint", rx.endpoint.as_str()])
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
        .env(ca_var, certs.join("ca.pem"))
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("SWARM_RETRY_BACKOFF_MS", "100")
        .env_remove("SWARM_LISTEN")
        .output()
        .expect("swarmd run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        !stderr.contains("cannot export"),
        "no export failed: {stderr}"
    );
    let spans = rx.spans();
    let roots: Vec<_> = spans
        .iter()
        .filter(|s| s.span.parent_span_id.is_empty())
        .collect();
    assert_eq!(
        roots.len(),
        1,
        "the root span came over TLS before the exit"
    );
    assert_eq!(roots[0].attr("swarm.outcome").as_deref(), Some("succeeded"));
    let tasks: BTreeSet<&str> = spans
        .iter()
        .filter(|s| s.scope == "swarmd" && s.span.name.starts_with("task "))
        .map(|s| s.span.name.as_str())
        .collect();
    assert_eq!(tasks.len(), 8, "{tasks:?}");
    let traces: BTreeSet<&[u8]> = spans.iter().map(|s| s.span.trace_id.as_slice()).collect();
    assert_eq!(traces.len(), 1, "one trace");
    // The local agents got the endpoint and the CA from swarmd.
    wait_for("the local agents' spans over TLS", 20, || {
        rx.spans().iter().any(|s| {
            s.resource_attr("service.name").as_deref() == Some("swarm-agent")
                && s.span.name == "executor"
        })
    });
}

#[test]
fn grpc_over_tls_checks_the_collector_against_the_ca_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let certs = certs_init(&dir.path().join("certs"), &[]);
    let rx = Receiver::start_tls(&certs);
    run_over_tls(&rx, "grpc", "OTEL_EXPORTER_OTLP_CERTIFICATE", &certs);
}

#[test]
fn http_protobuf_over_tls_takes_the_traces_ca_variable() {
    let dir = tempfile::tempdir().expect("tmp");
    let certs = certs_init(&dir.path().join("certs"), &[]);
    let rx = Receiver::start_https(&certs);
    run_over_tls(
        &rx,
        "http/protobuf",
        "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
        &certs,
    );
}

#[test]
fn a_ca_file_that_cannot_be_read_stops_swarmd_before_it_opens_anything() {
    let dir = tempfile::tempdir().expect("tmp");
    let missing = dir.path().join("no-such-ca.pem");
    let out = Command::new(workspace_binary("swarmd"))
        .arg("--workdir")
        .arg(dir.path())
        .args(["--listen", "127.0.0.1:0", "--http", "off"])
        .args(["--otlp-endpoint", "https://127.0.0.1:1"])
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env("OTEL_EXPORTER_OTLP_CERTIFICATE", &missing)
        .output()
        .expect("swarmd runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&missing.display().to_string())
            && stderr.contains("OTEL_EXPORTER_OTLP_CERTIFICATE"),
        "{stderr}"
    );
    assert!(!dir.path().join(".swarm").exists(), "nothing was made");
}

#[test]
fn a_collector_the_ca_does_not_vouch_for_gets_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let served = certs_init(&dir.path().join("served"), &[]);
    let trusted = certs_init(&dir.path().join("trusted"), &[]);
    let rx = Receiver::start_tls(&served);
    let out = Command::new(workspace_binary("swarmd"))
        .arg("run")
        .arg(examples_dir().join("release-rehearsal.md"))
        .arg("--workdir")
        .arg(dir.path())
        .args(["--otlp-endpoint", rx.endpoint.as_str()])
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env("OTEL_EXPORTER_OTLP_CERTIFICATE", trusted.join("ca.pem"))
        .env("SWARM_RETRY_BACKOFF_MS", "100")
        .env_remove("SWARM_LISTEN")
        .output()
        .expect("swarmd run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the plan runs on: {stderr}");
    assert!(stderr.contains("cannot export"), "{stderr}");
    assert_eq!(rx.requests(), 0, "no span reached an unverified collector");
}

/// Mutual TLS: collectors that ask for a client certificate get the one
/// `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` and `_CLIENT_KEY` name (here
/// the set's agent certificate), over gRPC and over HTTP.
#[test]
fn a_client_certificate_is_presented_to_collectors_that_ask() {
    let dir = tempfile::tempdir().expect("tmp");
    let certs = certs_init(&dir.path().join("certs"), &[]);
    let client = [
        (
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            certs.join("agent.pem"),
        ),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", certs.join("agent.key")),
    ];
    let grpc = Receiver::start_mtls(&certs);
    run_over_tls_with(
        &grpc,
        "grpc",
        "OTEL_EXPORTER_OTLP_CERTIFICATE",
        &certs,
        &client,
    );
    let http = Receiver::start_https_mtls(&certs);
    run_over_tls_with(
        &http,
        "http/protobuf",
        "OTEL_EXPORTER_OTLP_CERTIFICATE",
        &certs,
        &client,
    );
}

#[test]
fn a_collector_that_asks_for_a_certificate_gets_nothing_without_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let certs = certs_init(&dir.path().join("certs"), &[]);
    let rx = Receiver::start_https_mtls(&certs);
    let out = Command::new(workspace_binary("swarmd"))
        .arg("run")
        .arg(examples_dir().join("release-rehearsal.md"))
        .arg("--workdir")
        .arg(dir.path())
        .args(["--otlp-endpoint", rx.endpoint.as_str()])
        .env("OTEL_EXPORTER_OTLP_CERTIFICATE", certs.join("ca.pem"))
        .env("SWARM_RETRY_BACKOFF_MS", "100")
        .env_remove("SWARM_LISTEN")
        .output()
        .expect("swarmd run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the plan runs on: {stderr}");
    assert!(stderr.contains("cannot export"), "{stderr}");
    assert_eq!(rx.requests(), 0, "no span without a client certificate");
}
