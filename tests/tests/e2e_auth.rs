//! Tokens: nothing works without one; the agent token cannot steer.

use swarm_tests::{free_port, workspace_binary, Daemon};

fn ctl_with_token(d: &Daemon, token_file: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(workspace_binary("swarmctl"))
        .arg("--coordinator")
        .arg(d.url())
        .arg("--token-file")
        .arg(token_file)
        .args(args)
        .env_remove("SWARM_TOKEN")
        .output()
        .expect("swarmctl")
}

#[test]
fn calls_without_a_valid_token_or_scope_are_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let admin =
        std::fs::read_to_string(dir.path().join(".swarm/admin.token")).expect("admin token");
    let agent =
        std::fs::read_to_string(dir.path().join(".swarm/agent.token")).expect("agent token");
    assert_ne!(admin.trim(), agent.trim());

    let bogus = dir.path().join("bogus.token");
    std::fs::write(&bogus, "not-a-token").expect("write");
    let out = ctl_with_token(&d, &bogus, &["status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid token"));

    let out = ctl_with_token(&d, &dir.path().join("missing.token"), &["status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the token"));

    let agent_file = dir.path().join(".swarm/agent.token");
    let plan = swarm_tests::examples_dir().join("release-rehearsal.md");
    let out = ctl_with_token(
        &d,
        &agent_file,
        &["plan", "load", &plan.display().to_string()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("needs the admin token"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        d.ctl_json(&["status", "--json"])["state"],
        "idle",
        "the refused load changed nothing"
    );

    // The agent token may use shared memory (tasks do).
    let out = ctl_with_token(&d, &agent_file, &["memory", "put", "k", "v"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let log = std::fs::read_to_string(dir.path().join("swarmd.log")).unwrap_or_default();
    assert!(
        !log.contains(admin.trim()) && !log.contains(agent.trim()),
        "no token in the log"
    );
}
