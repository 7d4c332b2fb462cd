//! Traces over OTLP/HTTP, the protocol the specification makes the
//! default: with only an endpoint set, swarmd and its agents POST
//! protobuf bodies to `/v1/traces`, as service `swarmd` (and
//! `swarm-agent`). Its own test binary: the protocol variables of
//! `e2e_traces` must not reach these daemons.

use std::collections::BTreeSet;

use swarm_tests::otlp::Receiver;
use swarm_tests::{free_port, wait_for, write_plan, Agent, Daemon};

#[test]
fn the_default_protocol_is_http_protobuf() {
    assert!(
        std::env::var_os("OTEL_EXPORTER_OTLP_PROTOCOL").is_none(),
        "this test checks the default protocol"
    );
    let rx = Receiver::start_http();
    let dir = tempfile::tempdir().expect("tmp");
    let flags = ["--otlp-endpoint", rx.endpoint.as_str()];
    let d = Daemon::start_with(dir.path(), free_port(), &flags);
    let _agent = Agent::start(&d.url(), dir.path(), "sre-1", &["sre"], &flags);
    let plan = "# Http\n\n### Day 1: Work\n\n**Task 1.1**: One\n- **Agent**: SRE\n- **Priority**: P0\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `true`\n- **Check**: `true`\n\n**Task 1.2**: Two\n- **Agent**: SRE\n- **Priority**: P0\n- **Duration**: 1 hour\n- **Dependencies**: Task 1.1\n- **Run**: `true`\n";
    let path = write_plan(dir.path(), "plan.md", plan);
    d.ctl_json(&["plan", "load", &path.display().to_string(), "--json"]);
    d.wait_status(30, |s| s["state"] == "succeeded");
    wait_for("the root span and the agent's spans of 1.2", 30, || {
        let got = rx.spans();
        got.iter().any(|s| s.span.parent_span_id.is_empty())
            && got.iter().any(|s| {
                s.scope == "swarm-agent" && s.attr("swarm.task.id").as_deref() == Some("1.2")
            })
    });
    let spans = rx.spans();
    let traces: BTreeSet<Vec<u8>> = spans.iter().map(|s| s.span.trace_id.clone()).collect();
    assert_eq!(traces.len(), 1, "one trace");
    let services: BTreeSet<String> = spans
        .iter()
        .filter_map(|s| s.resource_attr("service.name"))
        .collect();
    assert_eq!(
        services,
        BTreeSet::from(["swarm-agent".to_string(), "swarmd".to_string()])
    );
    let names: BTreeSet<&str> = spans.iter().map(|s| s.span.name.as_str()).collect();
    for want in [
        "plan 1",
        "task 1.1",
        "task 1.2",
        "attempt 1.1 #1",
        "attempt 1.2 #1",
        "executor",
        "run",
        "check 1",
    ] {
        assert!(names.contains(want), "{want} in {names:?}");
    }
}

#[test]
fn an_unknown_protocol_stops_swarmd_before_it_opens_anything() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = std::process::Command::new(swarm_tests::workspace_binary("swarmd"))
        .arg("--workdir")
        .arg(dir.path())
        .args(["--listen", "127.0.0.1:0", "--http", "off"])
        .args(["--otlp-endpoint", "http://127.0.0.1:1"])
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
        .output()
        .expect("swarmd runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("OTEL_EXPORTER_OTLP_PROTOCOL='http/json'")
            && stderr.contains("grpc or http/protobuf"),
        "{stderr}"
    );
    assert!(!dir.path().join(".swarm").exists(), "nothing was made");
}

/// `swarmd run` with an endpoint: its trace is complete when it exits
/// (the root span included), and the local agents it starts export their
/// own spans to the same collector.
#[test]
fn swarmd_run_sends_the_whole_trace_before_it_exits() {
    let rx = Receiver::start_http();
    let dir = tempfile::tempdir().expect("tmp");
    let out = std::process::Command::new(swarm_tests::workspace_binary("swarmd"))
        .arg("run")
        .arg(swarm_tests::examples_dir().join("release-rehearsal.md"))
        .arg("--workdir")
        .arg(dir.path())
        .args(["--otlp-endpoint", rx.endpoint.as_str()])
        .env("SWARM_RETRY_BACKOFF_MS", "100")
        .env_remove("SWARM_LISTEN")
        .output()
        .expect("swarmd run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // No waiting: swarmd sent its spans before it exited.
    let spans = rx.spans();
    let root: Vec<_> = spans
        .iter()
        .filter(|s| s.span.parent_span_id.is_empty())
        .collect();
    assert_eq!(root.len(), 1, "the root span came before the exit");
    assert_eq!(root[0].attr("swarm.outcome").as_deref(), Some("succeeded"));
    let tasks: BTreeSet<&str> = spans
        .iter()
        .filter(|s| s.scope == "swarmd" && s.span.name.starts_with("task "))
        .map(|s| s.span.name.as_str())
        .collect();
    assert_eq!(tasks.len(), 8, "{tasks:?}");
    wait_for("the local agents' spans", 10, || {
        rx.spans()
            .iter()
            .any(|s| s.resource_attr("service.name").as_deref() == Some("swarm-agent"))
    });
}
