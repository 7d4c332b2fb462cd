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
