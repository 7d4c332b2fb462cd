//! Viewer and named tokens with the real binaries: swarmd writes
//! `.swarm/viewer.token`, which reads status, tasks and events but cannot
//! pause; `swarmd token add NAME --scope viewer|admin` makes named ones
//! whose name is the actor of what they do (with `--as` beside it), and
//! `swarmd token remove` stops one at the next call.

use std::path::Path;
use std::process::{Command, Output};

use swarm_tests::events::EventLog;
use swarm_tests::{free_port, workspace_binary, write_plan, Daemon};

const PLAN: &str = "# Tokens\n\n### Day 1: Work\n\n**Task 1.1**: Wait for an agent\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `echo ran`\n";

/// swarmctl against `d` with the token in `token_file` and extra flags.
fn ctl_with(d: &Daemon, token_file: &Path, args: &[&str]) -> Output {
    Command::new(workspace_binary("swarmctl"))
        .arg("--coordinator")
        .arg(d.url())
        .arg("--token-file")
        .arg(token_file)
        .args(args)
        .env_remove("SWARM_TOKEN")
        .env_remove("SWARM_AS")
        .current_dir(&d.workdir)
        .output()
        .expect("run swarmctl")
}

/// `swarmd token ...` on the daemon's workdir.
fn token_cmd(workdir: &Path, args: &[&str]) -> Output {
    Command::new(workspace_binary("swarmd"))
        .arg("token")
        .args(args)
        .arg("--workdir")
        .arg(workdir)
        .output()
        .expect("run swarmd token")
}

/// A new named token, written to a file of its own for swarmctl.
fn add_token(dir: &Path, name: &str, scope: &str) -> std::path::PathBuf {
    let out = token_cmd(dir, &["add", name, "--scope", scope]);
    assert!(
        out.status.success(),
        "token add {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(token.len(), 64, "one token on stdout: {token:?}");
    let file = dir.join(format!("{name}.secret"));
    std::fs::write(&file, &token).expect("token file");
    file
}

fn assert_refused_change(out: &Output, who: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{who} paused the plan");
    assert!(
        err.contains("viewer token reads everything and changes nothing"),
        "{who}: {err}"
    );
}

#[test]
fn viewers_read_but_cannot_pause_and_named_tokens_name_the_actor() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let plan = write_plan(dir.path(), "plan.md", PLAN);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);

    // The built-in viewer token: private, reads, cannot pause.
    let viewer = dir.path().join(".swarm/viewer.token");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&viewer)
            .expect("viewer.token")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    for read in [
        &["status", "--json"][..],
        &["tasks", "--json"],
        &["events", "--json"],
    ] {
        let out = ctl_with(&d, &viewer, read);
        assert!(
            out.status.success(),
            "the viewer reads {read:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_refused_change(&ctl_with(&d, &viewer, &["pause"]), "the viewer token");

    // A named viewer token: the same.
    let ci = add_token(dir.path(), "ci", "viewer");
    let status = ctl_with(&d, &ci, &["status", "--json"]);
    assert!(status.status.success(), "ci reads status");
    assert!(String::from_utf8_lossy(&status.stdout).contains("\"Tokens\""));
    assert_refused_change(&ctl_with(&d, &ci, &["pause"]), "the ci token");
    let log = EventLog::read(&d);
    assert!(
        log.all(|e| e.kind == "plan.paused").is_empty(),
        "no refused pause changed anything: {log}"
    );

    // A named admin token pauses; its name is the actor, --as beside it.
    let ann = add_token(dir.path(), "ann-ops", "admin");
    let out = ctl_with(&d, &ann, &["--as", "Ann", "pause"]);
    assert!(
        out.status.success(),
        "ann-ops pauses: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = EventLog::read(&d);
    let paused = log.only("the pause", |e| e.kind == "plan.paused");
    assert_eq!(paused.actor, "ann-ops (as Ann)", "{log}");

    // The list names both and keeps no token; a removed token is refused.
    let list = token_cmd(dir.path(), &["list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).expect("list --json");
    let names: Vec<(&str, &str)> = (list.as_array().expect("array").iter())
        .map(|t| {
            (
                t["name"].as_str().unwrap_or(""),
                t["scope"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(names, [("ci", "viewer"), ("ann-ops", "admin")]);
    let kept = std::fs::read_to_string(dir.path().join(".swarm/named.tokens")).expect("file");
    let ann_token = std::fs::read_to_string(&ann).expect("ann");
    assert!(!kept.contains(ann_token.trim()), "only a hash is kept");
    let removed = token_cmd(dir.path(), &["remove", "ci"]);
    assert!(removed.status.success());
    let refused = ctl_with(&d, &ci, &["status", "--json"]);
    assert!(!refused.status.success(), "a removed token is refused");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("invalid token"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // A name that cannot be a token's is refused, saying why.
    let bad = token_cmd(dir.path(), &["add", "admin", "--scope", "admin"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("cannot name a token"));
}
