//! `swarmctl plan simulate --pool` as a user runs it: a pool of
//! concurrency 2 stretches four one-hour tasks to two hours, never runs
//! three at once, and a role's profile pool applies.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// Four independent one-hour tasks of role `agent`, the first two in pool
/// `api` when `pool` is set.
fn plan_text(agent: &str, pool: bool) -> String {
    let mut text = "# Pools\n\n### Day 1: One\n\n".to_string();
    for (k, id) in ["1.1", "1.2", "1.3", "1.4"].iter().enumerate() {
        text.push_str(&format!(
            "**Task {id}**: T\n- **Agent**: {agent}\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n"
        ));
        if pool && k < 2 {
            text.push_str("- **Pool**: api\n");
        }
        text.push('\n');
    }
    text
}

fn simulate(plan: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_swarmctl"))
        .args(["plan", "simulate"])
        .arg(plan)
        .args(extra)
        .env_remove("SWARM_ROLES")
        .output()
        .expect("swarmctl runs")
}

fn json(plan: &Path, extra: &[&str]) -> Value {
    let mut args = extra.to_vec();
    args.push("--json");
    let out = simulate(plan, &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

/// Most tasks running at once, from their start and finish hours.
fn most_at_once(v: &Value) -> usize {
    let spans: Vec<(f64, f64)> = (v["tasks"].as_array().expect("tasks").iter())
        .map(|t| {
            let at = |k: &str| t[k].as_f64().unwrap_or_else(|| panic!("{k} in {t}"));
            (at("start_hours"), at("finish_hours"))
        })
        .collect();
    (spans.iter())
        .map(|&(at, _)| spans.iter().filter(|&&(s, f)| s <= at && at < f).count())
        .max()
        .unwrap_or(0)
}

#[test]
fn a_pool_of_concurrency_two_stretches_the_makespan() {
    let dir = tempfile::tempdir().expect("tmp");
    let plan = dir.path().join("plan.md");
    std::fs::write(&plan, plan_text("Tester", false)).expect("write plan");
    let free = json(&plan, &[]);
    assert_eq!(free["makespan_hours"], 1.0);
    assert_eq!(most_at_once(&free), 4);
    assert_eq!(free["pools"], serde_json::json!({}));
    // The tasks name no pool: they draw on the default one.
    let held = json(&plan, &["--pool", "default=2"]);
    assert_eq!(held["makespan_hours"], 2.0);
    assert_eq!(most_at_once(&held), 2);
    let pool = &held["pools"]["default"];
    assert_eq!(pool["concurrency"], 2);
    assert_eq!(pool["per_minute"], Value::Null);
    assert_eq!(pool["peak"], 2);
    assert_eq!(pool["starts"], 4);
    assert_eq!(pool["waiting_hours"], 2.0);
    // The same with four testers, and in the human report.
    let fixed = json(&plan, &["--pool", "default=2", "--agents", "tester=4"]);
    assert_eq!(fixed["makespan_hours"], 2.0);
    let out = simulate(&plan, &["--pool", "default=2"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("makespan: 2 h"), "{text}");
    let row = text
        .lines()
        .find(|l| l.starts_with("default "))
        .expect("pool row");
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells, ["default", "2", "-", "2", "4", "2"], "{text}");
    assert!(
        text.contains("\n  pool default: ready tasks waited 2 h task-time for its room\n"),
        "{text}"
    );
    let tester = text
        .lines()
        .find(|l| l.starts_with("tester "))
        .expect("role row");
    assert!(
        tester.ends_with(" 0"),
        "the tasks waited for the pool, not a tester: {text}"
    );
}

#[test]
fn a_tasks_own_pool_and_its_roles_profile_pool_hold() {
    let dir = tempfile::tempdir().expect("tmp");
    let plan = dir.path().join("plan.md");
    std::fs::write(&plan, plan_text("Frontend Developer", true)).expect("write plan");
    let roles = dir.path().join("roles.toml");
    std::fs::write(
        &roles,
        "[[role]]\nname = \"frontend\"\naliases = [\"Frontend Developer\"]\npool = \"ui\"\n",
    )
    .expect("write roles");
    let roles = roles.to_str().expect("utf-8 path");
    // 1.1 and 1.2 name api (one at a time); 1.3 and 1.4 take their
    // role's pool ui (one at a time): two hours, two at once.
    let v = json(&plan, &["--roles", roles, "--pool", "api=1,ui=1"]);
    assert_eq!(v["makespan_hours"], 2.0);
    assert_eq!(most_at_once(&v), 2);
    assert_eq!(v["pools"]["api"]["starts"], 2);
    assert_eq!(v["pools"]["ui"]["starts"], 2);
    // A rate of one start a minute: one task a minute.
    let v = json(
        &plan,
        &["--roles", roles, "--pool", "api=/1", "--pool", "ui=/1"],
    );
    let starts: Vec<f64> = (v["tasks"].as_array().expect("tasks").iter())
        .map(|t| t["start_hours"].as_f64().expect("started"))
        .collect();
    assert_eq!(starts, [0.0, 0.02, 0.0, 0.02]);
}

#[test]
fn a_bad_pool_is_refused_with_how_to_write_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let plan = dir.path().join("plan.md");
    std::fs::write(&plan, plan_text("Tester", false)).expect("write plan");
    for (args, says) in [
        (
            vec!["--pool", "default=0"],
            "'0' is not a count of 1 or more",
        ),
        (vec!["--pool", "default"], "is not NAME=LIMITS"),
        (
            vec!["--default-pool", "a b"],
            "--default-pool: malformed pool 'a b'",
        ),
    ] {
        let out = simulate(&plan, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn a_gang_larger_than_its_pool_cannot_finish() {
    let dir = tempfile::tempdir().expect("tmp");
    let plan = dir.path().join("plan.md");
    std::fs::write(&plan, plan_text("Tester + Technical Writer", false)).expect("write plan");
    let out = simulate(&plan, &["--pool", "default=1"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(5), "{text}");
    assert!(
        text.contains("1.1: starts 2 members in pool default, which starts at most 1 at once"),
        "{text}"
    );
}
