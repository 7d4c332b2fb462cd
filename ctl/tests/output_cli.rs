//! What swarmctl prints, offline, with the real binary: a closed pipe ends
//! it quietly, files are read with a cap, control characters in a plan
//! never reach the terminal raw (and `--json` keeps them exact), and
//! counts read "1 task", "1 day".

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Output, Stdio};

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

/// A TOML plan whose one task's title holds an ESC sequence, a carriage
/// return and a bell.
const HOSTILE_TITLE: &str = "red \u{1b}[31mX\r bell\u{7} end";

fn hostile_plan(dir: &std::path::Path) -> String {
    let body = "name = \"evil \\u001b]0;pwned\\u0007\"\n\n[[task]]\nid = \"1.1\"\ntitle = \"red \\u001b[31mX\\r bell\\u0007 end\"\nagent = \"SRE\"\nduration = \"1h\"\n";
    let path = dir.join("hostile.toml");
    std::fs::write(&path, body).expect("write plan");
    path.display().to_string()
}

fn assert_no_control(what: &str, out: &str) {
    let raw: Vec<char> = out
        .chars()
        .filter(|c| c.is_control() && *c != '\n')
        .collect();
    assert!(
        raw.is_empty(),
        "{what} holds raw controls {raw:?}:\n{out:?}"
    );
}

#[test]
fn an_endless_plan_file_is_refused_at_the_cap() {
    let out = swarmctl(&["plan", "check", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "/dev/zero is larger than {} bytes (the limit of a plan file",
            swarm_plan::MAX_PLAN_BYTES
        )),
        "{err}"
    );
    let dir = tempfile::tempdir().expect("tmp");
    let plan = hostile_plan(dir.path());
    let out = swarmctl(&["plan", "check", &plan, "--roles", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("/dev/zero is larger than 16777216 bytes (the limit of a roles file)"),
        "{err}"
    );
}

#[test]
fn plan_show_into_a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut body = String::from("# Big\n\n### Day 1: Work\n\n");
    for i in 1..=3000 {
        body.push_str(&format!(
            "**Task 1.{i}**: Task number {i} with a longish title to fill the table\n- **Agent**: SRE\n- **Priority**: P2\n- **Duration**: 1 hour\n- **Dependencies**: None\n\n"
        ));
    }
    let path = dir.path().join("big.md");
    std::fs::write(&path, body).expect("write plan");
    let mut child = Command::new(env!("CARGO_BIN_EXE_swarmctl"))
        .args(["plan", "show"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("swarmctl runs");
    let mut first = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("first line");
    assert_eq!(first, "Big\n");
    // The reader is gone (as `head -1` leaves): the rest, far more than a
    // pipe holds, cannot be written.
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn control_characters_in_a_plan_are_escaped_and_json_is_exact() {
    let dir = tempfile::tempdir().expect("tmp");
    let plan = hostile_plan(dir.path());
    for args in [
        vec!["plan", "show", plan.as_str()],
        vec!["plan", "check", plan.as_str()],
    ] {
        let out = swarmctl(&args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        let shown = text(&out.stdout);
        assert_no_control(&format!("{args:?}"), &shown);
        assert!(shown.contains("evil \\u{1b}]0;pwned\\u{7}"), "{shown}");
        assert_no_control(&format!("{args:?} stderr"), &text(&out.stderr));
    }
    let shown = text(&swarmctl(&["plan", "show", &plan]).stdout);
    assert!(
        shown.contains("red \\u{1b}[31mX\\r bell\\u{7} end"),
        "{shown}"
    );
    let out = swarmctl(&["plan", "show", &plan, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let titles: Vec<&str> = v["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|t| t["title"].as_str())
        .collect();
    assert_eq!(titles, [HOSTILE_TITLE]);
}

#[test]
fn one_task_over_one_day_is_counted_in_the_singular() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("one.md");
    std::fs::write(
        &path,
        "# One\n\n### Day 1: Work\n\n**Task 1.1**: Only\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n",
    )
    .expect("write");
    let path = path.display().to_string();
    let check = text(&swarmctl(&["plan", "check", &path]).stdout);
    assert!(check.contains("— 1 task over 1 day,"), "{check}");
    let show = text(&swarmctl(&["plan", "show", &path]).stdout);
    assert!(show.contains("1 task · 1 day · "), "{show}");
}
