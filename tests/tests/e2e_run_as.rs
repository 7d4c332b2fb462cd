//! `swarm-agent --run-as USER`: tasks run as another user, who cannot read
//! the coordinator's keys. Needs root (CI runs as root); elsewhere it says
//! why it skips, unless SWARM_REQUIRE_DOCKER (CI) is set.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use swarm_tests::{free_port, workspace_binary, write_plan, Daemon};

#[test]
fn tasks_run_as_another_user_and_cannot_read_the_keys() {
    if skip_unless_root() {
        return;
    }
    let (root, coord, tasks) = dirs();
    let d = Daemon::start(&coord, free_port());
    let mut agent = agent_as_nobody(&d, root.path(), &coord, &tasks, &[]);
    let admin = coord.join(".swarm/admin.token");
    let plan = write_plan(
        &coord,
        "plan.md",
        &format!(
            "# Run as\n\n### Day 1: Work\n\n**Task 1.1**: Who am I\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `id -u > uid.txt; cat {} > stolen.txt 2>/dev/null; echo cat=$? > ledger.txt`\n",
            admin.display()
        ),
    );
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    d.wait_status(30, |s| s["state"] == "succeeded");
    let _ = agent.kill();
    let _ = agent.wait();
    let uid = std::fs::read_to_string(tasks.join("uid.txt")).expect("uid");
    assert_ne!(uid.trim(), "0", "the task did not run as root");
    assert_ne!(
        std::fs::read_to_string(tasks.join("ledger.txt"))
            .expect("ledger")
            .trim(),
        "cat=0",
        "the task read the admin token"
    );
    let stolen = std::fs::read_to_string(tasks.join("stolen.txt")).unwrap_or_default();
    assert!(stolen.is_empty(), "nothing of the token leaked");
    let owner = std::fs::metadata(tasks.join("uid.txt")).expect("meta");
    assert_eq!(
        std::os::unix::fs::MetadataExt::uid(&owner).to_string(),
        uid.trim(),
        "what the task wrote belongs to its user"
    );
}

#[test]
fn under_mtls_a_task_of_another_user_reaches_swarmd_through_the_agent_but_not_its_key() {
    if skip_unless_root() {
        return;
    }
    let (root, coord, tasks) = dirs();
    let certs = root.path().join("certs");
    let made = Command::new(workspace_binary("swarmd"))
        .args(["certs", "init", "--out"])
        .arg(&certs)
        .status()
        .expect("certs init");
    assert!(made.success());
    std::fs::set_permissions(&certs, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let file = |name: &str| certs.join(name).display().to_string();
    let d = Daemon::start_tls(
        &coord,
        free_port(),
        &[
            "--tls-cert",
            &file("server.pem"),
            "--tls-key",
            &file("server.key"),
            "--tls-client-ca",
            &file("ca.pem"),
        ],
        &[
            "--ca",
            &file("ca.pem"),
            "--cert",
            &file("admin.pem"),
            "--key",
            &file("admin.key"),
        ],
    );
    let mut agent = agent_as_nobody(
        &d,
        root.path(),
        &coord,
        &tasks,
        &[
            "--ca",
            &file("ca.pem"),
            "--cert",
            &file("agent.pem"),
            "--key",
            &file("agent.key"),
        ],
    );
    let swarmctl = workspace_binary("swarmctl");
    let plan = write_plan(
        &coord,
        "plan.md",
        &format!(
            "# mTLS as nobody\n\n### Day 1: Work\n\n**Task 1.1**: Through the socket\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `cat {} > key.txt 2>/dev/null; echo key=$? > ledger.txt; {} memory put mtls/uid \"$(id -u)\"`\n",
            file("agent.key"),
            swarmctl.display()
        ),
    );
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let status = d.wait_status(30, |s| s["state"] == "succeeded" || s["state"] == "failed");
    let _ = agent.kill();
    let _ = agent.wait();
    assert_eq!(
        status["state"],
        "succeeded",
        "{status}\n{}",
        String::from_utf8_lossy(&d.ctl(&["task", "logs", "1.1"]).stdout)
    );
    let uid = d.ctl(&["memory", "get", "mtls/uid"]);
    let uid = String::from_utf8_lossy(&uid.stdout);
    assert!(
        !uid.trim().is_empty() && uid.trim() != "0",
        "the task wrote as its own user: {uid}"
    );
    assert_ne!(
        std::fs::read_to_string(tasks.join("ledger.txt"))
            .expect("ledger")
            .trim(),
        "key=0",
        "the task read the agent's key"
    );
}

#[test]
fn a_task_of_another_user_edits_its_worktree_and_its_work_is_merged() {
    if skip_unless_root() {
        return;
    }
    let (root, coord, tasks) = dirs();
    let repo = swarm_tests::repo::TestRepo::init(&root.path().join("repo"));
    let repo_arg = repo.dir.display().to_string();
    let d = Daemon::start_with(&coord, free_port(), &["--repo", &repo_arg]);
    let mut agent = agent_as_nobody(&d, root.path(), &coord, &tasks, &[]);
    // The task edits as its own user and runs git there, as an AI agent
    // would.
    let plan = write_plan(
        &coord,
        "plan.md",
        "# Worktree as nobody\n\n### Day 1: Work\n\n**Task 1.1**: Edit\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `id -u > by.txt && echo notes >> README.md && git status --short > /dev/null`\n",
    );
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let status = d.wait_status(60, |s| s["state"] == "succeeded" || s["state"] == "failed");
    let _ = agent.kill();
    let _ = agent.wait();
    assert_eq!(
        status["state"],
        "succeeded",
        "{status}\n{}",
        String::from_utf8_lossy(&d.ctl(&["task", "show", "1.1"]).stdout)
    );
    let branch = repo
        .branches("swarm/")
        .into_iter()
        .find(|b| b.ends_with("/integration"))
        .expect("integration branch");
    let by = repo.show(&branch, "by.txt").expect("by.txt merged");
    assert!(
        !by.trim().is_empty() && by.trim() != "0",
        "written as root: {by}"
    );
    assert_eq!(
        repo.show(&branch, "README.md").as_deref(),
        Some("# App\nnotes\n")
    );
}

/// Whether the test can run here (root), or why not; under CI it must.
fn skip_unless_root() -> bool {
    if nix_is_root() {
        return false;
    }
    assert!(
        std::env::var_os("SWARM_REQUIRE_DOCKER").is_none(),
        "CI runs as root; this test needs it"
    );
    println!("skipping --run-as test: not root");
    true
}

/// A world-traversable root with `coord/` (the coordinator's workdir) and
/// `tasks/` (the agent's, writable by anyone).
fn dirs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let root = tempfile::tempdir().expect("tmp");
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let (coord, tasks) = (root.path().join("coord"), root.path().join("tasks"));
    std::fs::create_dir_all(&coord).expect("mkdir");
    std::fs::create_dir_all(&tasks).expect("mkdir");
    std::fs::set_permissions(&tasks, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    (root, coord, tasks)
}

/// `swarm-agent --run-as nobody` for role sre, with `extra` flags.
fn agent_as_nobody(
    d: &Daemon,
    root: &std::path::Path,
    coord: &std::path::Path,
    tasks: &std::path::Path,
    extra: &[&str],
) -> std::process::Child {
    let log = std::fs::File::create(root.join("agent.log")).expect("log");
    Command::new(workspace_binary("swarm-agent"))
        .args([
            "--coordinator",
            &d.url(),
            "--id",
            "sre-nobody",
            "--role",
            "sre",
        ])
        .arg("--workdir")
        .arg(tasks)
        .arg("--token-file")
        .arg(coord.join(".swarm/agent.token"))
        .args(["--run-as", "nobody"])
        .args(extra)
        .env_remove("SWARM_TOKEN")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("start swarm-agent")
}

fn nix_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
