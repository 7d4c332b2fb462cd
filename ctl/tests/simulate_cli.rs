//! `swarmctl plan simulate` as a user runs it: the real binary on the seed
//! plan, human output and `--json`.

use std::process::{Command, Output};

use serde_json::Value;

const SEED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/plan-a-execution-timeline.md"
);

/// The most agents of each role one task of the seed needs at once,
/// written the way the plan names them.
const ONE_PER_ROLE: &str = "DevOps Engineer=2,Security Auditor=2,SRE=1,Performance Engineer=1,\
    backend=1,DB=1,coder=1,reviewer=1,Data Engineer=1,tester=1,QA Engineer=1,Technical Writer=1,architect=1";

fn swarmctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_swarmctl"))
        .args(args)
        .env_remove("SWARM_ROLES")
        .output()
        .expect("swarmctl runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn simulate(extra: &[&str]) -> Output {
    let mut args = vec!["plan", "simulate", SEED];
    args.extend_from_slice(extra);
    swarmctl(&args)
}

fn json(extra: &[&str], code: i32) -> Value {
    let mut args = extra.to_vec();
    args.push("--json");
    let out = simulate(&args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "stderr: {}",
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn hours(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn unlimited_agents_finish_the_seed_on_its_critical_path() {
    let v = json(&[], 0);
    // 25 h: the post-launch watch (10.2) follows the launch (10.1).
    assert_eq!(hours(&v["makespan_hours"]), 25.0);
    assert_eq!(hours(&v["critical_path_hours"]), 25.0);
    // 25 h of 8-hour business days (09:00–17:00).
    assert_eq!(hours(&v["business_days"]), 3.13);
    assert_eq!(hours(&v["day_hours"]), 8.0);
    assert_eq!(v["complete"], true);
    let tasks = v["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 26);
    let first = &tasks[0];
    assert_eq!(first["id"], "1.1");
    assert_eq!(hours(&first["start_hours"]), 0.0);
    assert_eq!(hours(&first["finish_hours"]), 2.0);
    assert_eq!(first["agents"].as_array().map(Vec::len), Some(2));
    let devops = &v["roles"]["devops"];
    assert!(devops["agents"].as_u64().is_some_and(|n| n >= 2));
    assert!(hours(&devops["busy_hours"]) > 0.0);
    assert!(hours(&devops["utilisation"]) <= 1.0);
    assert_eq!(v["bottlenecks"].as_array().map(Vec::len), Some(0));

    let out = simulate(&[]);
    assert_eq!(out.status.code(), Some(0));
    let human = text(&out.stdout);
    assert!(
        human.contains("makespan: 25 h = 3.13 business days of 8 h"),
        "{human}"
    );
    assert!(human.contains("the critical path is 25 h"), "{human}");
    assert!(human.contains("utilisation"), "{human}");
}

#[test]
fn one_agent_per_role_takes_longer_and_names_the_bottlenecks() {
    let v = json(&["--agents", ONE_PER_ROLE], 0);
    let makespan = hours(&v["makespan_hours"]);
    assert!(makespan > 25.0, "{makespan}");
    assert_eq!(v["roles"]["security"]["agents"], 2);
    assert_eq!(v["roles"]["coder"]["agents"], 1);
    let bottlenecks = v["bottlenecks"].as_array().expect("bottlenecks");
    assert!(!bottlenecks.is_empty());
    for b in bottlenecks {
        assert!(b["role"].is_string());
        assert!(hours(&b["waiting_hours"]) > 0.0);
    }

    let out = simulate(&["--agents", ONE_PER_ROLE]);
    assert_eq!(out.status.code(), Some(0));
    let human = text(&out.stdout);
    assert!(
        human.contains("longer than the critical path of 25 h"),
        "{human}"
    );
    let first = bottlenecks[0]["role"].as_str().expect("role");
    assert!(
        human.contains(&format!("  {first}: ready tasks waited")),
        "{human}"
    );
}

#[test]
fn the_seed_matrix_leaves_tasks_no_day_can_staff_and_says_so() {
    // An answer, not invalid input: exit 5, never 2.
    let out = simulate(&["--matrix"]);
    assert_eq!(out.status.code(), Some(5));
    let human = text(&out.stdout);
    // Day 1 has no coder: the day-4 refactoring waits for day 4.
    assert!(
        human.contains("4.1: ready at 0 h, started at 24 h"),
        "{human}"
    );
    assert!(human.contains("cannot run:"), "{human}");
    assert!(
        human.contains("2.1: needs sre + performance at once; the last pool has 0 of 1 sre"),
        "{human}"
    );
    assert!(human.contains("sre is staffed on day 2"), "{human}");
    assert!(human.contains("no day's pool has them together"), "{human}");
    assert!(text(&out.stderr).contains("can never be staffed: 2.1, 7.2"));

    let v = json(&["--matrix"], 5);
    assert_eq!(v["complete"], false);
    let stuck: Vec<&str> = (v["unrunnable"].as_array().expect("unrunnable").iter())
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(stuck, ["2.1", "7.2"]);
    assert_eq!(v["unrunnable"][0]["missing"][0]["role"], "sre");
    assert!(v["blocked"].as_array().is_some_and(|b| b.len() == 9));
}

#[test]
fn the_seed_with_one_agent_per_role_reaches_its_proven_optimum_in_either_order() {
    // 34 h is the optimum CP-SAT proves for this staffing (bench/schedule.sh).
    for order in ["slack", "strict"] {
        let v = json(&["--agents", ONE_PER_ROLE, "--priority", order], 0);
        assert_eq!(hours(&v["makespan_hours"]), 34.0, "{order}");
        assert_eq!(v["priority"], order);
    }
    let v = json(&["--agents", ONE_PER_ROLE], 0);
    assert_eq!(v["priority"], "slack");
    let out = simulate(&["--priority", "fifo"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("--priority") && err.contains("'fifo'") && err.contains("slack or strict"),
        "{err}"
    );
}

#[test]
fn bad_agents_are_refused_with_the_valid_form() {
    for (arg, says) in [
        ("devops", "'devops' is not ROLE=N"),
        ("wizard=2", "unknown role 'wizard'"),
        ("devops=0", "a count is 1 or more"),
        ("devops=two", "whole number from 1 to"),
        ("devops=1,CI/CD Engineer=1", "devops is given twice"),
        ("", "no agents given"),
    ] {
        let out = simulate(&["--agents", arg]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{arg}: {err}");
        assert!(err.contains(says), "{arg}: {err}");
        assert!(err.contains("--agents"), "{arg}: {err}");
        assert!(out.stdout.is_empty());
    }
    let out = simulate(&["--agents", "devops=1", "--matrix"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_role_the_staffing_lacks_exits_5_naming_the_task() {
    let out = simulate(&["--agents", "devops=2,security=2"]);
    assert_eq!(out.status.code(), Some(5), "an answer, not invalid input");
    let human = text(&out.stdout);
    assert!(
        human.contains("1.2: needs devops + backend at once"),
        "{human}"
    );
    assert!(text(&out.stderr).contains("can never be staffed: 1.2"));
}

#[test]
fn a_plan_without_a_matrix_cannot_use_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plan.md");
    let plan = "# P\n\n### Day 1: A\n\n**Task 1.1**: T\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n";
    std::fs::write(&path, plan).expect("write");
    let out = swarmctl(&["plan", "simulate", &path.display().to_string(), "--matrix"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no allocation matrix"));
}
