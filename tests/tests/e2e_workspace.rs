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
    p += &task(
        "1.10",
        "Pair of SREs",
        "SRE + SRE",
        "None",
        &["append pair/{agent}.txt: by {agent}"],
        "",
    );
    p
}

/// The agents every test starts, by id (the role before the dash).
const AGENTS: [&str; 4] = ["sre-1", "sre-2", "devops-1", "devops-2"];

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
    start_with(|_| {})
}

/// [`start`], with `prepare` done to the repository first.
fn start_with(prepare: impl FnOnce(&TestRepo)) -> Rehearsal {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).expect("workdir");
    let repo = TestRepo::init(&dir.path().join("repo"));
    prepare(&repo);
    let ledger = dir.path().join("ledger");
    let repo_arg = repo.dir.display().to_string();
    let d = Daemon::start_with(&work, free_port(), &["--repo", &repo_arg]);
    let agents = AGENTS
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
    assert_eq!(status["tasks"]["succeeded"], 10, "{status}");

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
        ["1.1", "1.10", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8"],
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
        ["1.1", "1.10", "1.10", "1.2", "1.3", "1.4", "1.4", "1.5", "1.6", "1.7", "1.8"],
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
    // A gang of two SREs: each on a branch of its own, both landed.
    assert_eq!(file("pair/sre-1.txt"), "by sre-1\n");
    assert_eq!(file("pair/sre-2.txt"), "by sre-2\n");
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

    // What each task changed, as swarmctl shows it.
    let text = |args: &[&str]| String::from_utf8_lossy(&r.d.ctl(args).stdout).into_owned();
    let diff = text(&["task", "diff", "1.1"]);
    assert!(
        diff.contains("docs/ops.md") && diff.contains("+restart with care"),
        "{diff}"
    );
    assert!(diff.starts_with("task 1.1, attempt 1: merge "), "{diff}");
    let show = text(&["task", "show", &loser]);
    assert!(
        show.contains("attempt 1: branch swarm/")
            && show.contains("conflict: merge conflict in config/limits.txt"),
        "{show}"
    );
    assert!(
        show.contains("attempt 2: branch") && show.contains("merged as"),
        "{show}"
    );
    let detail = r.d.ctl_json(&["task", "show", "1.4", "--json"]);
    let work = &detail["attempt_history"][0]["work"];
    assert_eq!(
        work["commits"].as_array().map(Vec::len),
        Some(2),
        "{detail}"
    );
    assert_eq!(work["merge"], "merged", "{detail}");
    let none = r.d.ctl(&["task", "diff", "1.9"]);
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr).contains("does not work in a repository"));
    let status = text(&["status"]);
    assert!(
        status.contains(&format!("repository: {integration} at "))
            && status.contains(&format!("log --oneline --graph main..{integration}")),
        "{status}"
    );

    // The final report lists what was merged.
    let report = r.work.join("docs/plans/DAILY_PROGRESS_REPORT.md");
    swarm_tests::wait_for("the final report", 30, || {
        std::fs::read_to_string(&report)
            .is_ok_and(|t| t.contains("Merged into the integration branch"))
    });
    let report = std::fs::read_to_string(&report).expect("report");
    assert!(report.contains("- 1.3 Runbook — merged as `"), "{report}");

    // Overlapping claims never ran at once; tasks without claims did.
    let ledger = lines(&r.ledger);
    let first = |id: &str, what: &str| -> u128 {
        let prefix = format!("{id} {what} ");
        ledger
            .iter()
            .find_map(|l| l.strip_prefix(&prefix)?.split(' ').next()?.parse().ok())
            .unwrap_or_else(|| panic!("no {what} of {id} in {ledger:?}"))
    };
    assert!(
        first("1.5", "start") < first("1.6", "end") && first("1.6", "start") < first("1.5", "end"),
        "1.5 and 1.6 edit at once: {ledger:?}"
    );
    let (a, b) = (span(&ledger, "1.7"), span(&ledger, "1.8"));
    assert!(
        !(a.0 < b.1 && b.0 < a.1),
        "1.7 and 1.8 overlapped: {ledger:?}"
    );
    // No attempt started in a dirty worktree.
    assert!(!ledger.iter().any(|l| l.contains(" dirty ")), "{ledger:?}");
    drop(r.agents);
}

/// The plan's integration branch in `repo`.
fn integration(repo: &TestRepo) -> String {
    let branches = repo.branches("swarm/");
    branches
        .iter()
        .find(|b| b.ends_with("/integration"))
        .unwrap_or_else(|| panic!("no integration branch in {branches:?}"))
        .clone()
}

/// The `Swarm-Attempt` trailers of `rev`'s history (`args` as for
/// [`TestRepo::tasks_in`]).
fn attempts_in(repo: &TestRepo, rev: &str, args: &[&str]) -> Vec<String> {
    let mut all = vec!["log", "--format=%(trailers:key=Swarm-Attempt,valueonly)"];
    all.extend_from_slice(args);
    all.push(rev);
    repo.git(&all)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn an_agent_killed_mid_task_leaves_nothing_and_the_next_attempt_starts_clean() {
    let mut r = start();
    let plan = format!(
        "# Killed agent\n\n### Day 1: Code\n\n{}",
        task(
            "2.1",
            "Long edit",
            "SRE",
            "None",
            &["append notes.txt: one", "sleep 6"],
            ""
        )
    );
    let plan = write_plan(&r.work, "plan.md", &plan);
    r.d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    // The first attempt has started editing: kill its agent.
    let first = EventLog::wait(&r.d, 30, "2.1 started", |e| e.is("attempt.started", "2.1"));
    let victim = AGENTS
        .iter()
        .position(|id| *id == first.agent_id)
        .expect("the lead is one of ours");
    r.agents[victim].kill9();
    let status =
        r.d.wait_status(90, |s| s["state"] == "succeeded" || s["state"] == "failed");
    assert_eq!(status["state"], "succeeded", "{status}");
    let log = EventLog::read(&r.d);
    let lost = log.only("attempt 1 lost", |e| {
        e.kind == "attempt.lost" && e.task_id == "2.1"
    });
    assert_eq!(lost.fence, first.fence);

    let branch = integration(&r.repo);
    // Only the second attempt's work is there, once; the first one's
    // branch never reached the repository.
    let fences = attempts_in(&r.repo, &branch, &["--first-parent"]);
    let merged = log.only("2.1 merged", |e| e.is("task.merged", "2.1"));
    assert_eq!(fences, [merged.fence.to_string()], "merges on {branch}");
    assert_ne!(merged.fence, first.fence);
    assert_eq!(r.repo.show(&branch, "notes.txt").as_deref(), Some("one\n"));
    let a1 = r.repo.branches(&format!(
        "{}/attempts/2.1/a1",
        branch.trim_end_matches("/integration")
    ));
    assert!(a1.is_empty(), "the killed attempt pushed {a1:?}");
    let ledger = lines(&r.ledger);
    assert!(!ledger.iter().any(|l| l.contains(" dirty ")), "{ledger:?}");
}

#[test]
fn swarmd_killed_while_merging_merges_every_task_exactly_once() {
    let marker_dir = tempfile::tempdir().expect("tmp");
    let marker = marker_dir.path().join("merging");
    // Once the first merge is on the integration branch, the repository
    // holds the push that made it for four seconds (a post-receive hook),
    // and says so: swarmd is killed after the branch moved and before it
    // recorded the merge.
    let hook = format!(
        "#!/bin/sh\nwhile read old new ref; do\n  case \"$ref\" in\n    refs/heads/swarm/*/integration)\n      if [ \"$old\" != 0000000000000000000000000000000000000000 ] && [ ! -e {m} ]; then touch {m}; sleep 4; fi ;;\n  esac\ndone\n",
        m = marker.display()
    );
    let mut r = start_with(|repo| {
        let path = repo.dir.join(".git/hooks/post-receive");
        std::fs::write(&path, &hook).expect("hook");
        let _ = std::process::Command::new("chmod")
            .arg("+x")
            .arg(&path)
            .status();
    });
    let mut p = String::from("# Killed coordinator\n\n### Day 1: Code\n\n");
    for (id, agent, file) in [
        ("3.1", "SRE", "a.txt"),
        ("3.2", "DevOps", "b.txt"),
        ("3.3", "SRE", "c.txt"),
    ] {
        p += &task(
            id,
            "Edit",
            agent,
            "None",
            &[&format!("append {file}: {id}")],
            "",
        );
    }
    p += &task(
        "3.4",
        "After",
        "DevOps",
        "Task 3.1, Task 3.2, Task 3.3",
        &[
            "expect a.txt",
            "expect b.txt",
            "expect c.txt",
            "append d.txt: 3.4",
        ],
        "",
    );
    let plan = write_plan(&r.work, "plan.md", &p);
    r.d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    swarm_tests::wait_for("a merge being pushed", 60, || marker.exists());
    r.d.kill9();
    let url_args = ["--repo".to_string(), r.repo.dir.display().to_string()];
    let args: Vec<&str> = url_args.iter().map(String::as_str).collect();
    r.d = Daemon::start_with(&r.work, r.d.port, &args);
    let status =
        r.d.wait_status(90, |s| s["state"] == "succeeded" || s["state"] == "failed");
    assert_eq!(status["state"], "succeeded", "{status}");
    let branch = integration(&r.repo);
    let mut merged = r.repo.tasks_in(&branch, &["--first-parent"]);
    merged.sort();
    assert_eq!(merged, ["3.1", "3.2", "3.3", "3.4"], "merges on {branch}");
    let mut commits = r.repo.tasks_in(&branch, &["--no-merges"]);
    commits.sort();
    assert_eq!(
        commits,
        ["3.1", "3.2", "3.3", "3.4"],
        "agents' commits on {branch}"
    );
    // The merge pushed before the kill was found by its trailers.
    let log = EventLog::read(&r.d);
    let found = log.all(|e| e.kind == "task.merged" && e.message.contains("found on the branch"));
    assert_eq!(
        found.len(),
        1,
        "{:#?}\n{}",
        log.all(|e| e.kind.starts_with("task.m")
            || e.kind.starts_with("coord")
            || e.kind.starts_with("workspace")
            || e.kind == "attempt.committed"),
        r.repo.git(&[
            "log",
            "--graph",
            "--format=%h %s %(trailers:only,unfold,separator=%x20)",
            &branch
        ])
    );
}

#[test]
fn checks_run_on_the_merged_tree_and_a_task_they_fail_there_is_not_merged() {
    let r = start();
    let mut p = String::from("# Checked merges\n\n### Day 1: Code\n\n");
    p += &task(
        "4.1",
        "Add a",
        "SRE",
        "None",
        &["append a.txt: a", "sleep 1"],
        "",
    );
    // Passes on its own branch (no a.txt there yet), fails once 4.1 is in.
    p += &task(
        "4.2",
        "Add b",
        "DevOps",
        "None",
        &["append b.txt: b", "sleep 3"],
        "- **Check**: `test ! -e a.txt`\n",
    );
    p += &task(
        "4.3",
        "Add c",
        "SRE",
        "Task 4.1",
        &["append c.txt: c"],
        "- **Check**: `test -e a.txt && test -e c.txt`\n",
    );
    let plan = write_plan(&r.work, "plan.md", &p);
    r.d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let status =
        r.d.wait_status(90, |s| s["state"] == "succeeded" || s["state"] == "failed");
    assert_eq!(status["tasks"]["succeeded"], 2, "{status}");
    assert_eq!(status["tasks"]["failed"], 1, "{status}");
    let log = EventLog::read(&r.d);
    // 4.2's checks ran on the merged tree, by an agent, and failed there.
    let checked = log.only("4.2's check on the merged tree", |e| {
        e.is("attempt.offered", "4.2") && e.message.contains("run the Checks on the merged tree")
    });
    assert!(checked.agent_id.starts_with("devops-"), "{checked:?}");
    let conflict = log.only("4.2 not merged", |e| e.is("task.conflict", "4.2"));
    assert!(
        conflict
            .message
            .contains("its Checks fail on the merged tree"),
        "{conflict:?}"
    );
    assert!(
        log.all(|e| e.is("task.merged", "4.2")).is_empty(),
        "4.2 was merged"
    );
    // 4.3's passed there and it landed.
    log.only("4.3's check on the merged tree", |e| {
        e.is("attempt.offered", "4.3") && e.message.contains("run the Checks on the merged tree")
    });
    let branch = integration(&r.repo);
    let mut merged = r.repo.tasks_in(&branch, &["--first-parent"]);
    merged.sort();
    assert_eq!(merged, ["4.1", "4.3"], "merges on {branch}");
    assert!(r.repo.show(&branch, "b.txt").is_none());
    // The candidate that failed is kept on a branch of its own.
    let candidates = r
        .repo
        .branches(&branch.replace("/integration", "/candidates/"));
    assert!(
        candidates.iter().any(|c| c.contains("4.2-a")),
        "{candidates:?}"
    );
}
