//! AI agents in one repository (`[workspace]`), with the real binaries, a
//! real git repository and agents whose command template is a script that
//! edits files as an AI agent would (`tests/fixtures/agent-edits.sh`):
//! each attempt works on a branch of its own, swarmd merges the work into
//! the plan's integration branch in dependency order, conflicts are re-run
//! on top of the new head, and claims keep overlapping work apart. The
//! evidence is `git log` of the repository, the ledger the script appends
//! to, and the event log.

use std::path::{Path, PathBuf};

use swarm_tests::events::EventLog;
use swarm_tests::repo::TestRepo;
use swarm_tests::{free_port, lines, write_plan, Agent, Daemon};

fn fixture() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/agent-edits.sh")
        .display()
        .to_string()
}

/// One task of the plan: `steps` are its deliverables (the script's
/// instructions), `extra` more fields.
fn task(id: &str, title: &str, agent: &str, deps: &str, steps: &[&str], extra: &str) -> String {
    let priority = if extra.contains("**Priority**") {
        ""
    } else {
        "- **Priority**: P1\n"
    };
    let mut t = format!(
        "**Task {id}**: {title}\n- **Agent**: {agent}\n{priority}- **Duration**: 1 hour\n- **Dependencies**: {deps}\n{extra}- **Deliverables**:\n"
    );
    for s in steps {
        t.push_str(&format!("  - {s}\n"));
    }
    t.push('\n');
    t
}

/// The plan: two independent edits, a dependent that needs one of them, a
/// gang whose members each edit, two tasks that set the same line at once,
/// two whose claims overlap, and an operations task outside the
/// repository.
fn plan() -> String {
    let mut p = String::from("# Workspace Rehearsal\n\n### Day 1: Code\n\n");
    p += &task(
        "1.1",
        "Ops notes",
        "SRE",
        "None",
        &["append docs/ops.md: restart with care", "sleep 1"],
        "",
    );
    p += &task(
        "1.2",
        "Feature A",
        "DevOps",
        "None",
        &["append src/feature-a.txt: feature A", "sleep 1"],
        "",
    );
    p += &task(
        "1.3",
        "Runbook",
        "SRE",
        "Task 1.1",
        &[
            "expect docs/ops.md",
            "append docs/runbook.md: see docs/ops.md",
        ],
        "",
    );
    p += &task(
        "1.4",
        "Pairing",
        "SRE + DevOps",
        "None",
        &[
            "(sre) append gang/sre.txt: from sre",
            "(devops) append gang/devops.txt: from devops",
            "sleep 1",
        ],
        "",
    );
    p += &task(
        "1.5",
        "Limit from SRE",
        "SRE",
        "None",
        &["set config/limits.txt: limit = 10", "sleep 2"],
        "- **Priority**: P0\n",
    );
    p += &task(
        "1.6",
        "Limit from DevOps",
        "DevOps",
        "None",
        &["set config/limits.txt: limit = 20", "sleep 2"],
        "- **Priority**: P0\n",
    );
    p += &task(
        "1.7",
        "Backup script",
        "SRE",
        "None",
        &["append scripts/backup.sh: echo backup", "sleep 1"],
        "- **Touches**: `scripts/**`\n",
    );
    p += &task(
        "1.8",
        "Restore script",
        "DevOps",
        "None",
        &["append scripts/restore.sh: echo restore", "sleep 1"],
        "- **Touches**: scripts/restore.sh\n",
    );
    p += &task(
        "1.9",
        "Page the on-call",
        "SRE",
        "Task 1.3",
        &["append oncall.txt: paged"],
        "- **Workspace**: none\n",
    );
    p
}

struct Rehearsal {
    _dir: tempfile::TempDir,
    work: PathBuf,
    repo: TestRepo,
    ledger: PathBuf,
    d: Daemon,
    agents: Vec<Agent>,
}

/// swarmd on a fresh repository with two SRE and two DevOps agents.
fn start() -> Rehearsal {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).expect("workdir");
    let repo = TestRepo::init(&dir.path().join("repo"));
    let ledger = dir.path().join("ledger");
    let repo_arg = repo.dir.display().to_string();
    let d = Daemon::start_with(&work, free_port(), &["--repo", &repo_arg]);
    let agents = ["sre-1", "sre-2", "devops-1", "devops-2"]
        .iter()
        .map(|id| agent(&d, &work, id, &ledger))
        .collect();
    d.wait_status(20, |s| s["agents"] == 4);
    Rehearsal {
        _dir: dir,
        work,
        repo,
        ledger,
        d,
        agents,
    }
}

fn agent(d: &Daemon, work: &Path, id: &str, ledger: &Path) -> Agent {
    let role = id.split('-').next().unwrap_or(id);
    let exec = format!("sh {}", fixture());
    Agent::start_with_env(
        &d.url(),
        work,
        id,
        &[role],
        &["--exec", &exec],
        &[("EDITS_LEDGER", &ledger.display().to_string())],
    )
}

/// Each task's (start, end) in the ledger, for its attempt `n` (1-based
/// per task).
fn span(ledger: &[String], id: &str) -> (u128, u128) {
    let at = |what: &str| {
        ledger
            .iter()
            .rev()
            .filter_map(|l| l.strip_prefix(&format!("{id} {what} ")))
            .filter_map(|rest| rest.split(' ').next()?.parse::<u128>().ok())
            .next()
            .unwrap_or_else(|| panic!("no {what} of {id} in {ledger:?}"))
    };
    (at("start"), at("end"))
}

#[test]
fn a_plan_in_a_repository_lands_every_task_once_in_dependency_order() {
    let r = start();
    let plan = write_plan(&r.work, "plan.md", &plan());
    r.d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let status =
        r.d.wait_status(120, |s| s["state"] == "succeeded" || s["state"] == "failed");
    assert_eq!(status["state"], "succeeded", "{status}");
    assert_eq!(status["tasks"]["succeeded"], 9, "{status}");

    let branches = r.repo.branches("swarm/");
    let integration = branches
        .iter()
        .find(|b| b.ends_with("/integration"))
        .unwrap_or_else(|| panic!("no integration branch in {branches:?}"))
        .clone();
    assert!(
        integration.starts_with("swarm/workspace-rehearsal-"),
        "{integration}"
    );
    // One merge per task that changed the repository, each once, in an
    // order that respects the DAG; the operations task is not there.
    let merged = r.repo.tasks_in(&integration, &["--first-parent"]);
    let mut sorted = merged.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8"],
        "merges on {integration}: {merged:?}"
    );
    let pos = |t: &str| merged.iter().position(|m| m == t).expect(t);
    assert!(
        pos("1.1") < pos("1.3"),
        "1.3 merged before its dependency: {merged:?}"
    );
    // Every attempt's own commit is there once; the gang's members each
    // made one.
    let mut commits = r.repo.tasks_in(&integration, &["--no-merges"]);
    commits.sort();
    assert_eq!(
        commits,
        ["1.1", "1.2", "1.3", "1.4", "1.4", "1.5", "1.6", "1.7", "1.8"],
        "agents' commits on {integration}"
    );
    // The work itself.
    let file = |p: &str| {
        r.repo
            .show(&integration, p)
            .unwrap_or_else(|| panic!("{p} not on {integration}"))
    };
    assert_eq!(file("docs/ops.md"), "restart with care\n");
    assert_eq!(file("docs/runbook.md"), "see docs/ops.md\n");
    assert_eq!(file("src/feature-a.txt"), "feature A\n");
    assert_eq!(file("gang/sre.txt"), "from sre\n");
    assert_eq!(file("gang/devops.txt"), "from devops\n");
    assert_eq!(file("scripts/backup.sh"), "echo backup\n");
    assert_eq!(file("scripts/restore.sh"), "echo restore\n");
    assert!(r.repo.show(&integration, "oncall.txt").is_none());
    assert!(
        r.work.join("oncall.txt").exists(),
        "the operations task works in its agent's directory"
    );
    // main is untouched.
    assert_eq!(r.repo.tasks_in("main", &[]), Vec::<String>::new());

    // 1.5 and 1.6 set the same line at once: one merged, the other ran
    // again on top of it (its brief names the conflict) and merged.
    let limits = file("config/limits.txt");
    let log = EventLog::read(&r.d);
    let conflicts = log.all(|e| e.kind == "task.conflict");
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    let loser = conflicts[0].task_id.clone();
    let winner = if loser == "1.5" { "1.6" } else { "1.5" };
    let message = &conflicts[0].message;
    assert!(
        message.contains("config/limits.txt") && message.contains(&format!("task {winner}")),
        "{message}"
    );
    let briefs = PathBuf::from(format!("{}.d", r.ledger.display()));
    let brief = std::fs::read_to_string(briefs.join(format!("{loser}-2.brief")))
        .expect("the re-run's brief");
    assert!(
        brief.contains("## Merge conflict") && brief.contains("config/limits.txt"),
        "{brief}"
    );
    let expected = if loser == "1.5" {
        "limit = 10\n"
    } else {
        "limit = 20\n"
    };
    assert_eq!(limits, expected, "the re-run's value is on top");
    assert!(pos(winner) < pos(&loser), "{merged:?}");

    // Overlapping claims never ran at once.
    let ledger = lines(&r.ledger);
    let (a, b) = (span(&ledger, "1.7"), span(&ledger, "1.8"));
    assert!(
        !(a.0 < b.1 && b.0 < a.1),
        "1.7 and 1.8 overlapped: {ledger:?}"
    );
    // No attempt started in a dirty worktree.
    assert!(!ledger.iter().any(|l| l.contains(" dirty ")), "{ledger:?}");
    drop(r.agents);
}
