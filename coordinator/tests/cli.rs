//! `swarmd` as a user starts it: help, and bad flags or config refused
//! with exit code 2 before anything starts. (Also makes `cargo test` build
//! the `swarmd` binary the end-to-end tests start.)

use std::process::Command;

fn swarmd(args: &[&str], workdir: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_swarmd"))
        .args(args)
        .current_dir(workdir)
        .output()
        .expect("swarmd runs")
}

#[test]
fn help_documents_tokens_signals_and_exit_codes() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = swarmd(&["--help"], dir.path());
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--listen",
        "--workdir",
        "--config",
        "run",
        "admin.token",
        "SIGTERM",
        "Exit codes",
    ] {
        assert!(text.contains(needle), "--help lacks {needle}:\n{text}");
    }
}

#[test]
fn bad_configuration_is_refused_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = swarmd(&["--config", "/no/such/swarmd.toml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read config /no/such/swarmd.toml")
    );
    let cfg = dir.path().join("swarmd.toml");
    std::fs::write(&cfg, "lease_ttl_ms = 100\nheartbeat_ms = 500\n").expect("write");
    let out = swarmd(
        &[
            "--config",
            cfg.to_str().unwrap_or_default(),
            "--workdir",
            dir.path().to_str().unwrap_or_default(),
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("lease_ttl (100 ms) must be longer than heartbeat (500 ms)"));
    assert!(!dir.path().join(".swarm").exists(), "nothing was created");
    let out = swarmd(&["--listen", "not-an-address"], dir.path());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn config_show_json_says_where_each_value_came_from() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join("swarmd.toml");
    std::fs::write(
        &cfg,
        "shutdown_timeout_ms = 2000\nheartbeat_ms = 1000\nmax_losses = 3\n[scale.sre]\nmax = 2\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_swarmd"))
        .args(["config", "show", "--json", "--config"])
        .arg(&cfg)
        .args(["--shutdown-timeout", "4"])
        .env_clear()
        .env("SWARM_SHUTDOWN_TIMEOUT_MS", "3000")
        .env("SWARM_HEARTBEAT_MS", "2000")
        .current_dir(dir.path())
        .output()
        .expect("swarmd runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let row = |key: &str| {
        rows.as_array()
            .and_then(|a| a.iter().find(|r| r["key"] == key))
            .cloned()
            .unwrap_or_else(|| panic!("no {key} in {rows}"))
    };
    let expect = [
        ("shutdown_timeout_ms", serde_json::json!(4000), "flag"),
        ("heartbeat_ms", serde_json::json!(2000), "env"),
        ("max_losses", serde_json::json!(3), "file"),
        ("scale.sre.max", serde_json::json!(2), "file"),
        ("default_retries", serde_json::json!(0), "default"),
        (
            "http_listen",
            serde_json::json!("127.0.0.1:7421"),
            "default",
        ),
        ("tls_cert", serde_json::Value::Null, "default"),
    ];
    for (key, value, source) in expect {
        let r = row(key);
        assert_eq!(
            (&r["value"], r["source"].as_str()),
            (&value, Some(source)),
            "{key}"
        );
    }
    assert!(
        !dir.path().join(".swarm").exists(),
        "showing starts nothing"
    );

    let out = swarmd(
        &["config", "show", "--listen", "127.0.0.1:7777"],
        dir.path(),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("KEY"), "{text}");
    assert!(
        text.lines().any(|l| l
            .split_whitespace()
            .eq(["listen", "\"127.0.0.1:7777\"", "flag"])),
        "{text}"
    );
    let out = swarmd(&["config", "show", "--config", "/no/such.toml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
}
