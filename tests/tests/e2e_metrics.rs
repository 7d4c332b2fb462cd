//! The HTTP listener with the real binaries: `/metrics` parsed as a
//! Prometheus scraper would (names, types, values that match `status
//! --json`), `/healthz`, `/readyz`, and the admin token off loopback.

use std::collections::BTreeMap;

use swarm_tests::{free_port, http_get, write_plan, Daemon};

const PLAN: &str = "# Metrics\n\n### Day 1: Work\n\n\
**Task 1.1**: One\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `echo one`\n\n\
**Task 1.2**: Two\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: Task 1.1\n- **Run**: `echo two`\n\n\
**Task 1.3**: Three fails\n- **Agent**: SRE\n- **Priority**: P2\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `exit 3`\n";

/// `# TYPE` lines and samples of an exposition.
fn parse(text: &str) -> (BTreeMap<String, String>, BTreeMap<String, f64>) {
    let mut types = BTreeMap::new();
    let mut samples = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            types.insert(name.to_string(), kind.to_string());
        } else if !line.starts_with('#') && !line.is_empty() {
            let (series, value) = line.rsplit_once(' ').expect("sample");
            samples.insert(series.to_string(), value.parse().expect("number"));
        }
    }
    assert!(
        text.trim_end().ends_with("# EOF"),
        "OpenMetrics ends with # EOF"
    );
    (types, samples)
}

#[test]
fn metrics_health_and_readiness_match_what_status_says() {
    let dir = tempfile::tempdir().expect("tmp");
    let http = format!("127.0.0.1:{}", free_port());
    let d = Daemon::start_with(dir.path(), free_port(), &["--http", &http]);
    assert_eq!(http_get(&http, "/healthz", None), (200, "ok\n".to_string()));
    assert_eq!(
        http_get(&http, "/readyz", None),
        (200, "ready\n".to_string())
    );
    let plan = write_plan(dir.path(), "plan.md", PLAN);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let _sre = d.agent("sre-1", &["sre"]);
    let status = d.wait_status(30, |s| s["state"] == "failed");
    d.ctl(&["memory", "put", "notes/a", "hello"]);
    // The results reach the shared memory just after their commit.
    swarm_tests::wait_for("the results in shared memory", 10, || {
        d.ctl(&["task", "result", "1.1"]).status.success()
            && d.ctl(&["task", "result", "1.2"]).status.success()
    });

    let (code, text) = http_get(&http, "/metrics", None);
    assert_eq!(code, 200, "{text}");
    let (types, samples) = parse(&text);
    for (name, kind) in [
        ("swarmd_tasks", "gauge"),
        ("swarmd_agents", "gauge"),
        ("swarmd_attempts_ended", "counter"),
        ("swarmd_dispatch_latency_seconds", "histogram"),
        ("swarmd_store_commit_seconds", "histogram"),
        ("swarmd_scheduler_turn_seconds", "histogram"),
        ("swarmd_expired_leases", "counter"),
        ("swarmd_rejected_results", "counter"),
        ("swarmd_checkpoints", "counter"),
        ("swarmd_agents_provisioned", "counter"),
        ("swarmd_agents_provision_failed", "counter"),
        ("swarmd_memory_entries", "gauge"),
        ("swarmd_memory_bytes", "gauge"),
        ("swarmd_store_file_bytes", "gauge"),
    ] {
        assert_eq!(
            types.get(name).map(String::as_str),
            Some(kind),
            "{name}:\n{text}"
        );
    }
    for state in ["succeeded", "failed", "ready", "running", "pending"] {
        assert_eq!(
            samples[&format!("swarmd_tasks{{state=\"{state}\"}}")],
            status["tasks"][state].as_f64().expect("count"),
            "{state}"
        );
    }
    assert_eq!(
        samples["swarmd_attempts_ended_total{outcome=\"succeeded\"}"],
        2.0
    );
    assert_eq!(
        samples["swarmd_attempts_ended_total{outcome=\"failed\"}"],
        1.0
    );
    assert_eq!(
        samples["swarmd_dispatch_latency_seconds_count"], 3.0,
        "three attempts dispatched"
    );
    assert!(samples["swarmd_store_commit_seconds_count"] >= 3.0);
    assert_eq!(
        samples["swarmd_agents{role=\"sre\",state=\"connected\"}"],
        1.0
    );
    // "hello", and the results of 1.1 and 1.2 ("one\n", "two\n").
    assert_eq!(samples["swarmd_memory_entries"], 3.0);
    assert_eq!(samples["swarmd_memory_bytes"], 13.0);
    assert!(samples["swarmd_store_file_bytes{file=\"swarmd.db\"}"] > 0.0);
}

#[test]
fn off_loopback_every_path_needs_the_admin_token() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let d = Daemon::start_with(
        dir.path(),
        free_port(),
        &["--http", &format!("0.0.0.0:{port}"), "--insecure"],
    );
    let http = format!("127.0.0.1:{port}");
    let admin = std::fs::read_to_string(d.workdir.join(".swarm/admin.token")).expect("admin");
    let agent = std::fs::read_to_string(d.workdir.join(".swarm/agent.token")).expect("agent");
    for path in ["/metrics", "/healthz", "/readyz"] {
        assert_eq!(http_get(&http, path, None).0, 401, "{path} without a token");
        assert_eq!(http_get(&http, path, Some(agent.trim())).0, 403, "{path}");
        assert_eq!(http_get(&http, path, Some(admin.trim())).0, 200, "{path}");
    }
}
