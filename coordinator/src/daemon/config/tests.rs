//! The configuration loader: layers, and refusals that name the setting.

use std::path::PathBuf;

use super::*;

#[test]
fn layers_apply_in_order() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("swarmd.toml");
    std::fs::write(
        &file,
        "lease_ttl_ms = 3000\nheartbeat_ms = 500\nlisten = \"127.0.0.1:9000\"\n",
    )
    .expect("write");
    let env = |k: &str| (k == "SWARM_LEASE_TTL_MS").then(|| "4000".to_string());
    let flags = Flags::default().with("listen", "127.0.0.1:9001");
    let c = load(Some(&file), &env, &flags).expect("valid");
    assert_eq!(c.core.heartbeat, Duration::from_millis(500));
    assert_eq!(c.core.lease_ttl, Duration::from_millis(4000));
    assert_eq!(c.listen.port(), 9001);
}

#[test]
fn clock_and_scaling_settings() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("swarmd.toml");
    std::fs::write(
        &file,
        "time_scale = 3600\npace = \"calendar\"\nstart = \"2026-11-23\"\nday_start = \"08:30\"\nprovisioner = \"process\"\n[scale.sre]\nmin = 1\nmax = 3\n",
    )
    .expect("write");
    let c = load(Some(&file), &|_| None, &Flags::default()).expect("valid");
    assert_eq!(c.core.time_scale, 3600.0);
    assert_eq!(c.core.pace, Pace::Calendar);
    assert_eq!(c.core.day_start, 510);
    assert_eq!(c.core.provisioner, ProvisionerKind::Process);
    assert_eq!(c.core.bounds("sre"), (1, 3));
    assert_eq!(c.core.bounds("qa"), (0, 4));
    assert_eq!(
        c.core.start,
        Some(swarm_core::clock::parse_start("2026-11-23").expect("date"))
    );
    std::fs::write(&file, "[scale.sre]\nmin = 5\nmax = 2\n").expect("write");
    let err = load(Some(&file), &|_| None, &Flags::default())
        .expect_err("min above max")
        .to_string();
    assert!(err.contains("scale.sre: min (5) is above max (2)"), "{err}");
    std::fs::write(&file, "pace = \"whenever\"\n").expect("write");
    assert!(load(Some(&file), &|_| None, &Flags::default())
        .expect_err("bad pace")
        .to_string()
        .contains("asap or calendar"));
}

#[test]
fn priority_order_is_slack_unless_the_file_says_strict() {
    use swarm_plan::policy::PriorityOrder;
    let c = load(None, &|_| None, &Flags::default()).expect("defaults");
    assert_eq!(c.core.priority, PriorityOrder::Slack);
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("swarmd.toml");
    std::fs::write(&file, "priority = \"strict\"\n").expect("write");
    let c = load(Some(&file), &|_| None, &Flags::default()).expect("valid");
    assert_eq!(c.core.priority, PriorityOrder::Strict);
    std::fs::write(&file, "priority = \"fifo\"\n").expect("write");
    let err = load(Some(&file), &|_| None, &Flags::default())
        .expect_err("bad priority")
        .to_string();
    assert!(
        err.contains("priority") && err.contains("'fifo'") && err.contains("slack or strict"),
        "{err}"
    );
    // The environment overrides the file.
    std::fs::write(&file, "priority = \"strict\"\n").expect("write");
    let env = |k: &str| (k == "SWARM_PRIORITY").then(|| "slack".to_string());
    let c = load(Some(&file), &env, &Flags::default()).expect("valid");
    assert_eq!(c.core.priority, PriorityOrder::Slack);
    let env = |k: &str| (k == "SWARM_PRIORITY").then(|| "fifo".to_string());
    let err = load(None, &env, &Flags::default()).expect_err("bad priority");
    assert_eq!(
        err.to_string(),
        "SWARM_PRIORITY=fifo: expected slack or strict"
    );
}

#[test]
fn bad_values_are_refused() {
    let env = |k: &str| (k == "SWARM_LEASE_TTL_MS").then(|| "soon".to_string());
    let err = load(None, &env, &Flags::default()).expect_err("invalid");
    assert!(
        matches!(&err, ConfigError::Env { name, .. } if name == "SWARM_LEASE_TTL_MS"),
        "{err}"
    );
    assert!(err.to_string().contains("SWARM_LEASE_TTL_MS=soon"), "{err}");
    let env = |k: &str| (k == "SWARM_LEASE_TTL_MS").then(|| "100".to_string());
    assert!(load(None, &env, &Flags::default()).is_err());
}

#[test]
fn tls_files_go_together_and_the_network_needs_tls_or_insecure() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("swarmd.toml");
    std::fs::write(
        &file,
        "listen = \"0.0.0.0:7420\"\ntls_cert = \"server.pem\"\ntls_key = \"server.key\"\n",
    )
    .expect("write");
    let env = |k: &str| (k == "SWARM_TLS_CLIENT_CA").then(|| "ca.pem".to_string());
    let c = load(Some(&file), &env, &Flags::default()).expect("valid");
    let tls = c.tls.expect("tls on");
    assert_eq!(tls.cert, PathBuf::from("server.pem"));
    assert_eq!(tls.client_ca, Some(PathBuf::from("ca.pem")));

    let err = load(None, &env, &Flags::default()).expect_err("ca alone");
    assert!(err.to_string().contains("tls_client_ca"), "{err}");
    let flags = Flags::default().with("tls_cert", "server.pem");
    let err = load(None, &|_| None, &flags).expect_err("cert alone");
    assert!(err.to_string().contains("go together"), "{err}");

    let open = Flags::default().with("listen", "0.0.0.0:7420");
    let err = load(None, &|_| None, &open).expect_err("plaintext on the network");
    assert!(err.to_string().contains("--insecure"), "{err}");
    let insecure = open.clone().with("insecure", "true");
    assert!(load(None, &|_| None, &insecure).expect("insecure").insecure);
    let env = |k: &str| (k == "SWARM_INSECURE").then(|| "1".to_string());
    assert!(load(None, &env, &open).is_ok());
    // Loopback needs neither.
    assert!(load(None, &|_| None, &Flags::default()).is_ok());
}

#[test]
fn periodic_backups() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("swarmd.toml");
    std::fs::write(&file, "backup_interval = \"6h\"\nbackup_keep = 3\n").expect("write");
    let flags = Flags::default().with("workdir", "/srv/plan");
    let b = load(Some(&file), &|_| None, &flags)
        .expect("valid")
        .backups
        .expect("on");
    assert_eq!(b.interval, Duration::from_secs(6 * 3600));
    assert_eq!(b.keep, 3);
    assert_eq!(b.dir, PathBuf::from("/srv/plan/.swarm/backups"));
    std::fs::write(&file, "backup_interval = 90\nbackup_dir = \"/backups\"\n").expect("write");
    let b = load(Some(&file), &|_| None, &flags)
        .expect("valid")
        .backups
        .expect("on");
    assert_eq!((b.interval, b.keep), (Duration::from_secs(90), 7));
    assert_eq!(b.dir, PathBuf::from("/backups"));
    for (text, wanted) in [
        ("backup_interval = \"soon\"\n", "backup_interval 'soon'"),
        ("backup_interval = 0\n", "backup_interval 0"),
        ("backup_interval = \"1h\"\nbackup_keep = 0\n", "at least 1"),
        ("backup_keep = 2\n", "need backup_interval"),
    ] {
        std::fs::write(&file, text).expect("write");
        let err = load(Some(&file), &|_| None, &flags).expect_err(text);
        assert!(err.to_string().contains(wanted), "{text}: {err}");
    }
}

#[test]
fn max_plan_bytes_from_the_file_and_the_environment() {
    let none = load(None, &|_| None, &Flags::default()).expect("defaults");
    assert_eq!(none.core.max_plan_bytes, 256 * 1024 * 1024);
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("swarmd.toml");
    std::fs::write(&file, "max_plan_bytes = 1000\n").expect("write");
    let c = load(Some(&file), &|_| None, &Flags::default()).expect("valid");
    assert_eq!(c.core.max_plan_bytes, 1000);
    let env = |k: &str| (k == "SWARM_MAX_PLAN_BYTES").then(|| "2000".to_string());
    let c = load(Some(&file), &env, &Flags::default()).expect("valid");
    assert_eq!(c.core.max_plan_bytes, 2000);
    let env = |k: &str| (k == "SWARM_MAX_PLAN_BYTES").then(|| "lots".to_string());
    let err = load(None, &env, &Flags::default()).expect_err("not a number");
    assert_eq!(
        err.to_string(),
        "SWARM_MAX_PLAN_BYTES=lots: expected a number of bytes"
    );
    std::fs::write(&file, "max_plan_bytes = 0\n").expect("write");
    let err = load(Some(&file), &|_| None, &Flags::default()).expect_err("zero");
    assert!(
        err.to_string()
            .contains("max_plan_bytes 0 must be between 1 and 536870912"),
        "{err}"
    );
}

#[test]
fn budgets_are_read_and_bad_ones_named() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("swarmd.toml");
    std::fs::write(
        &file,
        "[budget]\nplan_usd = 100\nday_usd = 12.5\n[budget.role]\nsecurity = 20\n",
    )
    .expect("write");
    let c = load(Some(&file), &|_| None, &Flags::default()).expect("valid");
    assert_eq!(c.core.budget.plan_usd, Some(100.0));
    assert_eq!(c.core.budget.day_usd, Some(12.5));
    assert_eq!(c.core.budget.roles.get("security"), Some(&20.0));
    for (text, says) in [
        (
            "[budget]\nday_usd = -1\n",
            "budget.day_usd must be dollars, 0 or more",
        ),
        ("[budget.role]\nsre = \"lots\"\n", "budget.role"),
        (
            "[budget]\nweek_usd = 3\n",
            "unknown key `week_usd` in [budget]",
        ),
    ] {
        std::fs::write(&file, text).expect("write");
        let err = load(Some(&file), &|_| None, &Flags::default())
            .expect_err(says)
            .to_string();
        assert!(err.contains(says), "{err}");
    }
}

#[test]
fn pools_are_read_and_bad_ones_named() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("swarmd.toml");
    std::fs::write(
        &file,
        "default_pool = \"anthropic\"\nmax_rate_limited = 5\n[pool.anthropic]\nconcurrency = 4\nper_minute = 50\n",
    )
    .expect("write");
    let c = load(Some(&file), &|_| None, &Flags::default()).expect("valid");
    assert_eq!(c.core.default_pool, "anthropic");
    assert_eq!(c.core.max_rate_limited, 5);
    let limits = c.core.pools.get("anthropic").copied().unwrap_or_default();
    assert_eq!((limits.concurrency, limits.per_minute), (Some(4), Some(50)));
    for (text, says) in [
        (
            "[pool.anthropic]\nconcurrency = 0\n",
            "pool.anthropic.concurrency must be a whole number above 0",
        ),
        (
            "[pool.anthropic]\nburst = 3\n",
            "pool.anthropic: unknown key `burst`; the keys are concurrency and per_minute",
        ),
        (
            "[pool.\"the api\"]\nconcurrency = 1\n",
            "malformed pool 'the api'",
        ),
        ("default_pool = \"\"\n", "default_pool must name a pool"),
    ] {
        std::fs::write(&file, text).expect("write");
        let err = load(Some(&file), &|_| None, &Flags::default())
            .expect_err(says)
            .to_string();
        assert!(err.contains(says), "{err}");
    }
}
