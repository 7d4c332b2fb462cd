//! TLS and mTLS with the real binaries: `swarmd certs init` makes the set,
//! swarmd serves it, swarmctl and swarm-agent connect with it; plaintext,
//! a missing client certificate and a certificate from another CA are
//! refused; a task reaches the coordinator without the agent's key
//! (through the agent's private socket under mTLS, with the CA over TLS);
//! plaintext on a non-loopback address needs --insecure; the actor of an
//! operator's action is the client certificate's subject.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use swarm_tests::{certs_init, free_port, workspace_binary, write_plan, Agent, Daemon};

/// `swarmd certs init --out DIR/NAME`; returns DIR/NAME.
fn certs(dir: &Path, name: &str) -> PathBuf {
    certs_init(&dir.join(name), &["swarmd.test"])
}

fn arg(p: PathBuf) -> String {
    p.display().to_string()
}

const PLAN: &str = "# TLS\n\n### Day 1: Ops\n\n**Task 1.1**: Report how the task reaches swarmd\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `test -z \"$SWARM_CERT$SWARM_KEY\" && swarmctl memory put tls/reach \"$SWARM_COORDINATOR ca=${SWARM_CA:-none}\" && swarmctl task show \"$SWARM_TASK_ID\" --json > /dev/null`\n";

#[test]
fn mtls_refuses_plaintext_and_strangers_and_tasks_go_through_the_agent() {
    let dir = tempfile::tempdir().expect("tmp");
    let set = certs(dir.path(), "certs");
    for key in ["ca.key", "server.key", "agent.key", "admin.key"] {
        let mode = std::fs::metadata(set.join(key))
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{key}");
    }
    let again = Command::new(workspace_binary("swarmd"))
        .args(["certs", "init", "--out"])
        .arg(&set)
        .output()
        .expect("certs init again");
    assert_eq!(again.status.code(), Some(2), "never overwrites");
    let stranger = certs(dir.path(), "other");

    let work = dir.path().join("work");
    std::fs::create_dir(&work).expect("workdir");
    let port = free_port();
    let (cert, key, ca) = (
        arg(set.join("server.pem")),
        arg(set.join("server.key")),
        arg(set.join("ca.pem")),
    );
    let (admin_cert, admin_key) = (arg(set.join("admin.pem")), arg(set.join("admin.key")));
    let http = format!("127.0.0.1:{}", free_port());
    let d = Daemon::start_tls(
        &work,
        port,
        &[
            "--http",
            &http,
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
            "--tls-client-ca",
            &ca,
        ],
        &["--ca", &ca, "--cert", &admin_cert, "--key", &admin_key],
    );

    // Refused: plaintext, no client certificate, another CA's certificate.
    let token = arg(work.join(".swarm/admin.token"));
    let attempt = |url: &str, tls: &[&str]| {
        Command::new(workspace_binary("swarmctl"))
            .args(["--coordinator", url, "--token-file", &token])
            .args(tls)
            .args(["status", "--json"])
            .env_remove("SWARM_CA")
            .env_remove("SWARM_CERT")
            .env_remove("SWARM_KEY")
            .output()
            .expect("swarmctl")
    };
    let plain = attempt(&format!("http://127.0.0.1:{port}"), &[]);
    assert!(!plain.status.success(), "plaintext was accepted");
    // Each refusal says what to change.
    let said = |out: &std::process::Output, fix: &str| {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(fix), "expected '{fix}' in: {stderr}");
    };
    said(&plain, "swarmd speaks TLS");
    said(&plain, "use an https:// coordinator URL and --ca FILE");
    let anonymous = attempt(&d.url(), &["--ca", &ca]);
    assert!(
        !anonymous.status.success(),
        "a client without a certificate was accepted"
    );
    said(
        &anonymous,
        "swarmd requires a client certificate: give --cert FILE --key FILE",
    );
    let (other_cert, other_key) = (
        arg(stranger.join("admin.pem")),
        arg(stranger.join("admin.key")),
    );
    let foreign = attempt(
        &d.url(),
        &["--ca", &ca, "--cert", &other_cert, "--key", &other_key],
    );
    assert!(
        !foreign.status.success(),
        "a certificate from another CA was accepted"
    );
    said(
        &foreign,
        "swarmd refused the client certificate: give --cert FILE --key FILE",
    );
    let stranger_ca = arg(stranger.join("ca.pem"));
    let untrusted = attempt(&d.url(), &["--ca", &stranger_ca]);
    assert!(
        !untrusted.status.success(),
        "the server was trusted by a CA that did not sign it"
    );
    let stderr = String::from_utf8_lossy(&untrusted.stderr);
    assert!(stderr.contains("cannot reach swarmd"), "{stderr}");
    said(
        &untrusted,
        "swarmd's certificate is not trusted: give --ca FILE",
    );

    // Agents TLS refuses stop at once with the reason (exit 2), rather than
    // retrying as if swarmd were down: no client certificate, and a CA
    // that did not sign swarmd's.
    for (id, tls) in [
        ("no-cert", vec!["--ca", ca.as_str()]),
        ("wrong-ca", vec!["--ca", stranger_ca.as_str()]),
    ] {
        let mut refused = Agent::start(&d.url(), &work, id, &["SRE"], &tls);
        assert_eq!(refused.wait_exit(20, id), Some(2), "{id}");
        let log = std::fs::read_to_string(work.join(format!("agent-{id}.log"))).expect("log");
        assert!(log.contains("the TLS handshake failed"), "{id}: {log}");
    }

    // The HTTP listener speaks the same TLS: a client certificate from the
    // CA gets in, none does not.
    let admin_pair = (set.join("admin.pem"), set.join("admin.key"));
    let ok = swarm_tests::https_get(
        &http,
        "/healthz",
        &set.join("ca.pem"),
        Some((&admin_pair.0, &admin_pair.1)),
    );
    assert_eq!(ok, Ok((200, "ok\n".to_string())));
    // The web view too: its login form over HTTPS.
    let (code, page) = swarm_tests::https_get(
        &http,
        "/",
        &set.join("ca.pem"),
        Some((&admin_pair.0, &admin_pair.1)),
    )
    .expect("the web view over HTTPS");
    assert_eq!(code, 200);
    assert!(page.contains("Give an admin token"), "{page}");
    let anonymous = swarm_tests::https_get(&http, "/metrics", &set.join("ca.pem"), None);
    assert!(
        !matches!(anonymous, Ok((200, _))),
        "HTTPS without a client certificate: {anonymous:?}"
    );

    // An agent with its certificate from the environment; its task gets
    // neither the certificate nor the key, and reaches swarmd anyway.
    let plan = write_plan(&work, "plan.md", PLAN);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let (agent_cert, agent_key) = (arg(set.join("agent.pem")), arg(set.join("agent.key")));
    let _agent = Agent::start_with_env(
        &d.url(),
        &work,
        "sre-tls",
        &["SRE"],
        &[],
        &[
            ("SWARM_CA", &ca),
            ("SWARM_CERT", &agent_cert),
            ("SWARM_KEY", &agent_key),
        ],
    );
    let status = d.wait_status(60, |s| s["state"] == "succeeded" || s["state"] == "failed");
    assert_eq!(
        status["state"],
        "succeeded",
        "{status}\n{}",
        String::from_utf8_lossy(&d.ctl(&["logs", "1.1"]).stdout)
    );
    let reach = d.ctl(&["memory", "get", "tls/reach"]);
    let reach = String::from_utf8_lossy(&reach.stdout);
    assert!(
        reach.starts_with("unix:///") && reach.trim_end().ends_with("coordinator.sock ca=none"),
        "under mTLS the task goes through the agent's socket: {reach}"
    );
    // Under mTLS the actor of an operator's action is the client
    // certificate's subject.
    let log = swarm_tests::events::EventLog::read(&d);
    let loaded = log.only("the plan's load", |e| e.kind == "plan.loaded");
    assert_eq!(loaded.actor, "CN=swarmctl admin", "{log}");
}

#[test]
fn tls_without_client_certificates_gives_tasks_the_url_and_the_ca() {
    let dir = tempfile::tempdir().expect("tmp");
    let set = certs(dir.path(), "certs");
    let work = dir.path().join("work");
    std::fs::create_dir(&work).expect("workdir");
    let (cert, key, ca) = (
        arg(set.join("server.pem")),
        arg(set.join("server.key")),
        arg(set.join("ca.pem")),
    );
    let d = Daemon::start_tls(
        &work,
        free_port(),
        &["--tls-cert", &cert, "--tls-key", &key],
        &["--ca", &ca],
    );
    let plan = write_plan(&work, "plan.md", PLAN);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let _agent = Agent::start(&d.url(), &work, "sre-tls", &["SRE"], &["--ca", &ca]);
    let status = d.wait_status(60, |s| s["state"] == "succeeded" || s["state"] == "failed");
    assert_eq!(status["state"], "succeeded", "{status}");
    let reach = d.ctl(&["memory", "get", "tls/reach"]);
    assert_eq!(
        String::from_utf8_lossy(&reach.stdout).trim_end(),
        format!("{} ca={ca}", d.url())
    );
}

#[test]
fn plaintext_on_the_network_needs_insecure() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = Command::new(workspace_binary("swarmd"))
        .args(["--listen", "0.0.0.0:0", "--workdir"])
        .arg(dir.path())
        .env_remove("SWARM_INSECURE")
        .output()
        .expect("swarmd");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not a loopback address") && stderr.contains("--insecure"),
        "{stderr}"
    );
    assert!(
        !dir.path().join(".swarm/swarmd.db").exists(),
        "nothing was created"
    );

    let bad = Command::new(workspace_binary("swarmd"))
        .args([
            "--tls-cert",
            "/nonexistent/server.pem",
            "--tls-key",
            "/nonexistent/server.key",
            "--workdir",
        ])
        .arg(dir.path())
        .output()
        .expect("swarmd");
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("/nonexistent/server.pem"), "{stderr}");
}
