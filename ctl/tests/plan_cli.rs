//! `swarmctl plan ...` as a user runs it: the real binary, real files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn swarmctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_swarmctl"))
        .args(args)
        .env_remove("SWARM_ROLES")
        .output()
        .expect("swarmctl runs")
}

fn seed() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/plan-a-execution-timeline.md")
        .display()
        .to_string()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Writes `body` to a fresh plan file and returns (dir guard, path).
fn plan_file(name: &str, body: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, body).expect("write plan");
    (dir, path.display().to_string())
}

/// A valid one-day plan with a hole to fill in task 1.2.
fn with_task_12(fields: &str) -> String {
    format!(
        "# Test plan\n\n### Day 1: Start\n\n**Task 1.1**: First\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n\n**Task 1.2**: Second\n{fields}\n"
    )
}

/// Runs `plan check` on a plan that must fail; returns stderr.
fn check_fails(body: &str) -> (String, String) {
    let (_dir, path) = plan_file("plan.md", body);
    let out = swarmctl(&["plan", "check", &path]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    (text(&out.stderr), path)
}

#[test]
fn seed_checks_and_summarises() {
    let out = swarmctl(&["plan", "check", &seed()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("26 tasks over 10 days, critical path 25 h"),
        "{stdout}"
    );
}

#[test]
fn check_json_is_the_public_shape() {
    let out = swarmctl(&["plan", "check", &seed(), "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v["name"].as_str().unwrap_or("").starts_with("Plan A"));
    let tasks = v["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 26);
    let t14 = tasks.iter().find(|t| t["id"] == "1.4").expect("1.4");
    assert_eq!(t14["roles"], serde_json::json!(["devops", "devops"]));
    assert_eq!(t14["priority"], "P0");
    assert_eq!(t14["duration_hours"], 2.0);
    assert_eq!(t14["day"], 1);
    assert_eq!(t14["depends_on"], serde_json::json!(["1.2"]));
    let t31 = tasks.iter().find(|t| t["id"] == "3.1").expect("3.1");
    assert_eq!(
        t31["depends_on"],
        serde_json::json!(["2.1", "2.2", "2.3", "2.4"])
    );
    let t101 = tasks.iter().find(|t| t["id"] == "10.1").expect("10.1");
    assert_eq!(t101["depends_on"], serde_json::json!(["9.1", "9.2"]));
    assert_eq!(t101["roles"].as_array().map(Vec::len), Some(8));
    let t102 = tasks.iter().find(|t| t["id"] == "10.2").expect("10.2");
    assert_eq!(t102["depends_on"], serde_json::json!(["10.1"]));
    assert_eq!(t102["window"], "Post-Launch Monitoring");
    assert_eq!(v["critical_path"]["hours"], 25.0);
    let day10 = &v["days"][9]["windows"];
    assert_eq!(day10[0]["name"], "Pre-Launch Checklist");
    assert_eq!(day10[0]["checklist"].as_array().map(Vec::len), Some(10));
    assert_eq!(day10[0]["tasks"], serde_json::json!([]));
    assert_eq!(day10[1]["offset_hours"], 1.0);
    assert_eq!(day10[1]["hours"], 3.0);
    assert_eq!(day10[1]["tasks"], serde_json::json!(["10.1"]));
    assert_eq!(day10[2]["offset_hours"], 4.0);
    assert_eq!(v["critical_path"]["tasks"][0], "1.1");
}

#[test]
fn show_marks_the_critical_path_per_day() {
    let out = swarmctl(&["plan", "show", &seed()]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Day 1: Production Foundation (8 h)"));
    assert!(stdout.contains("* 1.1  Backup Scripts Review"), "{stdout}");
    assert!(stdout.contains("critical path (marked *): 1.1 → 1.2 → 1.4"));
    assert!(stdout.contains("! performance needs 2 h but has no agent planned"));
    assert!(stdout.contains("\n  09:00–13:00  Morning Sprint: 1.1, 1.2\n  13:00–17:00  Afternoon Sprint: 1.3, 1.4\n"), "{stdout}");
    assert!(
        stdout.contains(
            "\n  09:00–12:00  Morning Sprint: 7.1\n  12:00–15:00  Afternoon Sprint: 7.2\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("\n  09:00–10:00  Pre-Launch Checklist: checklist of 10\n                [x] All tests passing\n"), "{stdout}");
    assert!(stdout.contains("\n  10:00–13:00  Deployment Window: 10.1\n  13:00–17:00  Post-Launch Monitoring: 10.2\n"), "{stdout}");
    assert!(stdout.contains("earlier window (1)"), "{stdout}");
    let early = swarmctl(&["plan", "show", &seed(), "--day-start", "08:30"]);
    assert!(text(&early.stdout).contains("\n  12:30–16:30  Post-Launch Monitoring: 10.2\n"));
    let json = swarmctl(&["plan", "show", &seed(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(v["days"][0]["windows"][1]["name"], "Afternoon Sprint");
}

#[test]
fn graph_in_dot_and_mermaid() {
    let dot = swarmctl(&["plan", "graph", &seed(), "--format", "dot"]);
    assert!(dot.status.success());
    let dot = text(&dot.stdout);
    assert!(dot.starts_with("digraph plan {"));
    assert!(
        dot.contains("\"1.1\" -> \"1.2\" [color=red, penwidth=2];"),
        "{dot}"
    );
    assert!(dot.contains("\"1.1\" -> \"3.3\";"));
    let mermaid = swarmctl(&["plan", "graph", &seed(), "--format", "mermaid"]);
    let mermaid = text(&mermaid.stdout);
    assert!(mermaid.starts_with("flowchart LR"));
    assert!(mermaid.contains("t1_1 --> t1_2"));
    // A title too long for its node is cut with an ellipsis.
    assert!(
        mermaid.contains("1.1 Backup Scripts Review & Validation (CRI…<br/>"),
        "{mermaid}"
    );
    assert!(mermaid.contains("class t1_1,t1_2,t1_4,t2_1,t2_2,t3_1,t3_2,t9_1,t10_1,t10_2 critical"));
}

#[test]
fn convert_to_toml_and_back_keeps_the_plan() {
    let dir = tempfile::tempdir().expect("temp dir");
    let toml = dir.path().join("plan.toml");
    let out = swarmctl(&[
        "plan",
        "convert",
        &seed(),
        "--to",
        "toml",
        "-o",
        &toml.display().to_string(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let from_md = swarmctl(&["plan", "check", &seed(), "--json"]);
    let from_toml = swarmctl(&["plan", "check", &toml.display().to_string(), "--json"]);
    assert!(from_toml.status.success(), "{}", text(&from_toml.stderr));
    let a: serde_json::Value = serde_json::from_slice(&from_md.stdout).expect("json");
    let b: serde_json::Value = serde_json::from_slice(&from_toml.stdout).expect("json");
    assert_eq!(a["tasks"], b["tasks"]);
    assert_eq!(a["critical_path"], b["critical_path"]);
    let md = swarmctl(&[
        "plan",
        "convert",
        &toml.display().to_string(),
        "--to",
        "markdown",
    ]);
    assert!(
        text(&md.stdout).contains("**Task 1.1**: Backup Scripts Review & Validation (CRITICAL)")
    );
}

#[test]
fn unknown_task_is_named_with_its_line() {
    let (err, path) = check_fails(&with_task_12(
        "- **Agent**: SRE\n- **Duration**: 1h\n- **Dependencies**: Task 1.9",
    ));
    assert!(err.contains(&format!("{path}:14: error: task 1.2 depends on task 1.9, which does not exist (known ids like it: 1.1, 1.2)")), "{err}");
    assert!(err.contains("1 error in the plan; nothing was changed"));
}

#[test]
fn unknown_day_is_named_with_its_line() {
    let (err, path) = check_fails(&with_task_12(
        "- **Agent**: SRE\n- **Duration**: 1h\n- **Dependencies**: Days 1-4",
    ));
    assert!(err.contains(&format!("{path}:14: error: task 1.2 depends on days 1-4, but day 4 does not exist; the plan has only day 1")), "{err}");
}

#[test]
fn cycle_prints_its_tasks_in_order() {
    let body = "# Cycle\n\n### Day 1: Loop\n\n**Task 1.1**: A\n- **Agent**: SRE\n- **Duration**: 1h\n- **Dependencies**: Task 1.3\n\n**Task 1.2**: B\n- **Agent**: SRE\n- **Duration**: 1h\n- **Dependencies**: Task 1.1\n\n**Task 1.3**: C\n- **Agent**: SRE\n- **Duration**: 1h\n- **Dependencies**: Task 1.2\n";
    let (err, path) = check_fails(body);
    assert!(
        err.contains(&format!(
            "{path}:8: error: dependency cycle: 1.1 → 1.3 → 1.2 → 1.1"
        )),
        "{err}"
    );
}

#[test]
fn duplicate_id_points_at_both() {
    let (err, path) = check_fails(&with_task_12("- **Agent**: SRE\n- **Duration**: 1h\n\n**Task 1.1**: Again\n- **Agent**: SRE\n- **Duration**: 1h"));
    assert!(
        err.contains(&format!(
            "{path}:15: error: duplicate task id 1.1 (first defined at line 5)"
        )),
        "{err}"
    );
}

#[test]
fn unknown_role_lists_the_closest() {
    let (err, path) = check_fails(&with_task_12(
        "- **Agent**: Site Reliabilty Engineer + Coder\n- **Duration**: 1h",
    ));
    assert!(err.contains(&format!("{path}:12: error: task 1.2: unknown role 'Site Reliabilty Engineer'; closest known roles: sre")), "{err}");
}

#[test]
fn malformed_duration_and_priority() {
    let (err, path) = check_fails(&with_task_12(
        "- **Agent**: SRE\n- **Priority**: urgent\n- **Duration**: 2 fortnights",
    ));
    assert!(
        err.contains(&format!(
            "{path}:13: error: malformed priority 'urgent': expected P0, P1, P2 or P3"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{path}:14: error: malformed duration '2 fortnights'"
        )),
        "{err}"
    );
}

#[test]
fn plan_without_tasks() {
    let (err, path) = check_fails("# Nothing here\n\nJust prose.\n");
    assert!(
        err.contains(&format!("{path}:1: error: the plan has no tasks")),
        "{err}"
    );
}

#[test]
fn errors_as_json() {
    let (_dir, path) = plan_file(
        "plan.md",
        &with_task_12("- **Agent**: SRE\n- **Duration**: soon"),
    );
    let out = swarmctl(&["plan", "check", &path, "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["errors"][0]["line"], 13);
    assert_eq!(v["errors"][0]["severity"], "error");
}

#[test]
fn toml_errors_have_lines_too() {
    let body = "name = \"t\"\n\n[[task]]\nid = \"1\"\nagent = \"SRE\"\nduration = \"1h\"\n\n[[task]]\nid = \"2\"\nagent = \"Wizard\"\nduration = \"1h\"\ndepends_on = [\"Task 7\"]\n";
    let (_dir, path) = plan_file("plan.toml", body);
    let out = swarmctl(&["plan", "check", &path]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("{path}:10: error: task 2: unknown role 'Wizard'")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{path}:12: error: task 2 depends on task 7, which does not exist"
        )),
        "{err}"
    );
}

#[test]
fn missing_and_garbage_files_fail_cleanly() {
    let out = swarmctl(&["plan", "check", "/no/such/plan.md"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/no/such/plan.md: cannot read the plan"));
    let garbage: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("garbage.md");
    std::fs::write(&path, garbage).expect("write");
    let out = swarmctl(&["plan", "check", &path.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("the plan has no tasks"));
}

#[test]
fn roles_file_extends_the_catalogue() {
    let (dir, path) = plan_file(
        "plan.md",
        &with_task_12("- **Agent**: UI Engineer\n- **Duration**: 1h"),
    );
    let out = swarmctl(&["plan", "check", &path]);
    assert_eq!(out.status.code(), Some(2));
    let roles = Path::new(dir.path()).join("roles.toml");
    std::fs::write(
        &roles,
        "[[role]]\nname = \"frontend\"\naliases = [\"UI Engineer\"]\n",
    )
    .expect("write");
    let out = swarmctl(&[
        "plan",
        "check",
        &path,
        "--roles",
        &roles.display().to_string(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["tasks"][1]["roles"], serde_json::json!(["frontend"]));
}

#[test]
fn help_and_usage_errors() {
    let out = swarmctl(&["--help"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("Exit codes:"));
    let out = swarmctl(&["plan", "graph", &seed(), "--format", "png"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("invalid value 'png'"));
}
