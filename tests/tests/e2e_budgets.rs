//! Budgets with the real binaries: a day budget of $2 and tasks costing
//! $1 each (the fake Claude Code's result object). Once $2 is spent no
//! attempt is offered — status names the spent budget, the verdict is
//! `at_risk`, `budget.reached` is recorded — until `swarmctl budget set
//! day 10` raises it; then the rest run and the plan succeeds. The raised
//! budget survives a restart.

use std::path::{Path, PathBuf};

use swarm_tests::events::EventLog;
use swarm_tests::{free_port, write_plan, Agent, Daemon};

fn fake_claude() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fake-claude.sh")
}

fn plan() -> String {
    let mut md = String::from("# Budget\n\n### Day 1: Review\n\n");
    for n in 1..=5 {
        md.push_str(&format!(
            "**Task 1.{n}**: Review module {n}\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n\n"
        ));
    }
    md
}

#[test]
fn a_spent_day_budget_stops_new_attempts_until_it_is_raised() {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path();
    let config = work.join("swarmd.toml");
    std::fs::write(&config, "[budget]\nday_usd = 2\n").expect("config");
    let args = ["--config", &config.display().to_string()];
    let mut d = Daemon::start_with(work, free_port(), &args);
    let plan = write_plan(work, "plan.md", &plan());
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let exec = format!("sh {}", fake_claude().display());
    let agents: Vec<Agent> = (1..=2)
        .map(|n| {
            Agent::start_with_env(
                &d.url(),
                work,
                &format!("sre-{n}"),
                &["SRE"],
                &["--exec", &exec],
                &[("FAKE_COST_USD", "1"), ("FAKE_SLEEP", "0.3")],
            )
        })
        .collect();

    // Held: the budget is spent and nothing runs any more.
    let held = d.wait_status(60, |s| {
        s["tasks"]["running"] == 0
            && s["budgets"].as_array().is_some_and(|b| {
                b.iter()
                    .any(|l| l.as_str().unwrap_or("").contains("is spent"))
            })
            || s["state"] != "running"
    });
    assert_eq!(held["state"], "running", "{held}");
    let day = held["plan_day"].as_u64().unwrap_or(0);
    let line = held["budgets"][0].as_str().unwrap_or_default();
    assert!(
        line.starts_with(&format!("day {day}'s budget is spent: $"))
            && line.ends_with("of $2.00; new attempts under it wait"),
        "{held}"
    );
    assert_eq!(held["verdict"], "at_risk", "{held}");
    assert!(
        held["verdict_reason"]
            .as_str()
            .unwrap_or("")
            .contains("budget is spent"),
        "{held}"
    );
    let ready = d.ctl_json(&["tasks", "--state", "ready", "--json"]);
    let waiting = ready[0]["reason"].as_str().unwrap_or_default();
    assert!(
        waiting.starts_with(&format!("waits: day {day}'s budget is spent: $")),
        "a held task says why: {ready}"
    );
    let shown = d.ctl_json(&["budget", "show", "--json"]);
    assert_eq!(shown[0]["scope"], "day", "{shown}");
    assert_eq!(shown[0]["state"], "reached", "{shown}");
    let done_before = held["tasks"]["succeeded"].as_u64().unwrap_or(0);
    assert!((2..5).contains(&done_before), "{held}");

    let set = d.ctl_json(&["budget", "set", "day", "10", "--json"]);
    assert_eq!(set[0]["limit_usd"], 10.0, "{set}");
    let status = d.wait_status(60, |s| s["state"] == "succeeded" || s["state"] == "failed");
    assert_eq!(status["state"], "succeeded", "{status}");

    // No attempt was offered between the limit and the raise.
    let log = EventLog::read(&d);
    let reached = log.only("budget.reached", |e| e.kind == "budget.reached");
    let raised = log.only("budget.set", |e| e.kind == "budget.set");
    let offered_while_held: Vec<_> =
        log.all(|e| e.kind == "attempt.offered" && e.seq > reached.seq && e.seq < raised.seq);
    assert!(offered_while_held.is_empty(), "{log}");
    assert_eq!(log.all(|e| e.kind == "attempt.offered").len(), 5, "{log}");

    // The raised budget is kept across a restart.
    drop(agents);
    d.stop();
    let d = Daemon::start_with(work, d.port, &args);
    let shown = d.ctl_json(&["budget", "show", "--json"]);
    assert_eq!(shown[0]["limit_usd"], 10.0, "{shown}");
    assert_eq!(shown[0]["spent_usd"], 5.0, "{shown}");
}
