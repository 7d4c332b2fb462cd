//! Standups that steer: checkpoints on the plan clock with their reports,
//! a starved role fixed by a role switch, and by the process provisioner.

use std::process::Command;

use swarm_tests::events::EventLog;
use swarm_tests::{examples_dir, free_port, workspace_binary, write_plan, Agent, Daemon};

#[test]
fn a_seed_shaped_plan_runs_through_several_days_with_a_report_per_checkpoint() {
    let dir = tempfile::tempdir().expect("tmp");
    // Monday 08:00; one plan hour is 1/8 s: three plan days in a few seconds.
    let out = Command::new(workspace_binary("swarmd"))
        .arg("run")
        .arg(examples_dir().join("release-rehearsal.md"))
        .args([
            "--time-scale",
            "28800",
            "--pace",
            "calendar",
            "--start",
            "2026-11-23T08:00",
            "--workdir",
        ])
        .arg(dir.path())
        .env("SWARM_RETRY_BACKOFF_MS", "100")
        .output()
        .expect("swarmd run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = std::fs::read_to_string(dir.path().join("docs/plans/DAILY_PROGRESS_REPORT.md"))
        .expect("the report file");
    for heading in [
        "## Daily Standup — Day 1 (Mon 2026-11-23) 09:00",
        "## Mid-Day Check — Day 1 (Mon 2026-11-23) 13:00",
        "## End-of-Day Review — Day 1 (Mon 2026-11-23) 17:00",
        "## Daily Standup — Day 2 (Tue 2026-11-24) 09:00",
        "## End-of-Day Review — Day 2 (Tue 2026-11-24) 17:00",
        "## Daily Standup — Day 3 (Wed 2026-11-25) 09:00",
        "## Final Review — Day 3",
    ] {
        assert!(report.contains(heading), "missing {heading} in:\n{report}");
    }
    // Under the calendar pace, day 2's work starts on day 2: the first
    // day-2 task finishes after Day 2's standup and is reported after it.
    let day2 = report
        .find("## Daily Standup — Day 2")
        .expect("day 2 standup");
    let finished_21 = report
        .find("- 2.1 Prometheus & Grafana Setup")
        .expect("2.1 reported finished");
    assert!(finished_21 > day2, "2.1 finished on day 2");
    // Day 1's checked criterion passes once its file exists.
    assert!(
        report.contains("- [x] Backups verified — check `test -s out/backups.txt` passed"),
        "{report}"
    );
    assert!(report.contains("### Critical path remaining"));
    // Day 2 wants two SREs and `swarmd run` starts one: the Daily Standup
    // switches an idle agent over, and both the output and the report say so.
    let switch = stdout
        .lines()
        .find(|l| l.contains("⇄ switched agent local-"))
        .unwrap_or_else(|| panic!("no role switch in the output:\n{stdout}"));
    assert!(switch.contains(" to sre: "), "{switch}");
    let standup2 = &report[day2..];
    let standup2 = &standup2[..standup2[3..]
        .find("\n## ")
        .map_or(standup2.len(), |i| i + 3)];
    assert!(
        standup2.contains("### Reallocation decisions\n\n- switched agent local-"),
        "{standup2}"
    );
    // Planned durations fit the time scale: nothing runs past its plan.
    assert!(!report.contains("running past 1.5×"), "{report}");
    let last = &report[report.rfind("## Final Review").expect("final")..];
    assert!(
        last.contains("**Done**: every task succeeded or was skipped"),
        "{last}"
    );
    let db = rusqlite::Connection::open(dir.path().join(".swarm/swarmd.db")).expect("db");
    let stored: i64 = db
        .query_row("SELECT COUNT(*) FROM swarm_checkpoints", [], |r| r.get(0))
        .expect("count");
    assert_eq!(
        stored as usize,
        report.matches("\n## ").count(),
        "every checkpoint is in the database too"
    );
}

const NEEDS_PERFORMANCE: &str = "# Starved\n\n### Day 1: Perf\n\n**Task 1.1**: Load test\n- **Agent**: Performance Engineer\n- **Priority**: P1\n- **Duration**: 2 hours\n- **Dependencies**: None\n- **Run**: `echo \"$SWARM_AGENT_ID ran as $SWARM_ROLE\" > perf.txt`\n";

#[test]
fn a_starved_role_is_fixed_by_switching_an_idle_agent() {
    let dir = tempfile::tempdir().expect("tmp");
    // A fixed start keeps the plan clock (and this test) off the wall clock.
    let d = Daemon::start_with(dir.path(), free_port(), &["--start", "2026-11-23T09:30"]);
    let _flex = Agent::start(&d.url(), dir.path(), "flex", &["sre", "performance"], &[]);
    let _sre = d.agent("sre-only", &["sre"]);
    // Both agents are there when the plan arrives: only their roles keep
    // 1.1 from running.
    for id in ["flex", "sre-only"] {
        EventLog::wait(&d, 10, &format!("{id} connecting"), |e| {
            e.kind == "agent.connected" && e.agent_id == id
        });
    }
    let plan = write_plan(dir.path(), "plan.md", NEEDS_PERFORMANCE);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    // Time in which 1.1 must not run: flex can play performance but plays sre.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let status = d.ctl_json(&["status", "--json"]);
    let projected = status["projected_completion"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        projected.starts_with("Day 1 (") && projected.ends_with("critical path)"),
        "no agent plays performance, so the simulation cannot finish: {projected}"
    );
    assert_eq!(status["verdict"], "at_risk", "{status}");
    assert!(
        status["verdict_reason"]
            .as_str()
            .unwrap_or("")
            .starts_with("cannot finish with the agents present"),
        "{status}"
    );
    let standup = d.ctl_json(&["standup", "run", "--kind", "mid-day check", "--json"]);
    let decisions = standup["decisions"].as_array().cloned().unwrap_or_default();
    assert!(
        decisions.iter().any(|x| x
            .as_str()
            .unwrap_or("")
            .starts_with("switched agent flex from sre to performance")),
        "{standup}"
    );
    assert!(
        standup["report"]
            .as_str()
            .unwrap_or("")
            .contains("### Reallocation decisions\n\n- switched agent flex"),
        "{standup}"
    );
    d.wait_status(10, |s| s["state"] == "succeeded");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("perf.txt")).expect("ran"),
        "flex ran as performance\n"
    );
    let status = d.ctl_json(&["status", "--json"]);
    assert!(
        status["projected_completion"]
            .as_str()
            .unwrap_or("")
            .starts_with("finished at Day 1"),
        "{status}"
    );
    let agents = d.ctl_json(&["agents", "--json"]);
    let flex = agents
        .as_array()
        .and_then(|a| a.iter().find(|x| x["id"] == "flex"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(flex["active_role"], "performance");
    // Nobody played performance before the standup: 1.1 was ready through
    // the wait and offered only once flex was switched, on flex, once.
    let log = EventLog::read(&d);
    let ready = log.only("1.1 becoming ready", |e| e.is("task.ready", "1.1"));
    let switched = log.only("flex's switch", |e| {
        e.kind == "agent.role_switched" && e.agent_id == "flex"
    });
    let offered = log.only("1.1's one attempt", |e| e.is("attempt.offered", "1.1"));
    assert!(
        ready.seq < switched.seq && switched.seq < offered.seq && offered.agent_id == "flex",
        "1.1 ran only after the switch, on flex:\n{log}"
    );
    assert!(
        switched.at_ms - ready.at_ms >= 500,
        "1.1 waited unplaced: {ready} .. {switched}"
    );
    let listed = d.ctl_json(&["standup", "list", "--json"]);
    assert!(
        listed.as_array().map(Vec::len).unwrap_or(0) >= 2,
        "the standup and the final review: {listed}"
    );
}

#[test]
fn a_starved_role_is_reported_without_a_provisioner_and_filled_with_one() {
    // Without a provisioner: the shortfall is reported, in the report and
    // in status.
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let _sre = d.agent("sre-only", &["sre"]);
    let plan = write_plan(dir.path(), "plan.md", NEEDS_PERFORMANCE);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let standup = d.ctl_json(&["standup", "run", "--json"]);
    let report = standup["report"].as_str().unwrap_or("").to_string();
    assert!(
        report.contains("shortfall: performance needs 1 more agent"),
        "{report}"
    );
    assert!(
        report.contains("waits for a role nobody plays: performance"),
        "{report}"
    );
    let status = d.ctl_json(&["status", "--json"]);
    assert_eq!(
        status["shortfall"],
        serde_json::json!(["performance: 1 more agent"])
    );
    drop(d);

    // With the process provisioner: an agent is started, runs the task,
    // and is drained once nothing needs it.
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start_with(dir.path(), free_port(), &["--provisioner", "process"]);
    let plan = write_plan(dir.path(), "plan.md", NEEDS_PERFORMANCE);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let standup = d.ctl_json(&["standup", "run", "--json"]);
    let decisions = standup["decisions"].to_string();
    assert!(
        decisions
            .contains("asked the process provisioner for agent proc-performance-1 (performance)"),
        "{decisions}"
    );
    d.wait_status(20, |s| s["state"] == "succeeded");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("perf.txt")).expect("ran"),
        "proc-performance-1 ran as performance\n"
    );
    // The final review drains the provisioned agent: it finishes and leaves.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let agents = d.ctl_json(&["agents", "--json"]);
        let state = agents
            .as_array()
            .and_then(|a| a.iter().find(|x| x["id"] == "proc-performance-1"))
            .map(|x| x["state"].clone());
        if state == Some(serde_json::json!("gone")) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the provisioned agent was not drained: {agents}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let report = std::fs::read_to_string(dir.path().join("docs/plans/DAILY_PROGRESS_REPORT.md"))
        .expect("report file");
    assert!(
        report.contains("drained agent proc-performance-1 (performance)"),
        "{report}"
    );
}
