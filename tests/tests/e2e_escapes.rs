//! A plan whose title, day, exit criterion and task titles hold ESC
//! sequences, `\r` and the bell, and a task that prints some: no human
//! output carries a raw control byte — `swarmd run` (its progress, summary
//! and failed task's output), `DAILY_PROGRESS_REPORT.md`, `swarmctl plan
//! check|show|load`, `status`, `tasks`, `task show`, `events` and the
//! standups — each shows the escape visibly instead, and `--json` keeps the
//! exact title.

use std::process::Command;

use swarm_tests::{free_port, workspace_binary, write_plan, Daemon};

/// The plan's title as it is, control characters and all.
const NAME: &str = "Ops \u{1b}[31mred\r plan";
/// Task 1.1's title.
const TITLE: &str = "Deploy \u{1b}]0;pwned\u{7} end";

/// In TOML the escapes are spelled out; the values hold the raw bytes.
const PLAN: &str = r#"name = "Ops \u001b[31mred\r plan"

[[day]]
number = 1
title = "Work \u001b[2J day"
exit_criteria = [{ text = "Backups \u001b[1mverified\r", check = "true" }]

[[task]]
id = "1.1"
title = "Deploy \u001b]0;pwned\u0007 end"
day = 1
agent = "SRE"
duration = "1h"
run = "echo deployed"

[[task]]
id = "1.2"
title = "Break \u001b[5m blink"
day = 1
agent = "SRE"
duration = "1h"
retries = 0
run = "printf 'boom \\033[31m red\\r over\\n'; exit 3"
"#;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Fails naming `what` if `bytes` hold a control byte other than the
/// newline and the tab.
fn assert_plain(what: &str, bytes: &[u8]) {
    let raw: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|&b| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f)
        .collect();
    assert!(
        raw.is_empty(),
        "{what} holds raw control bytes {raw:?}:\n{}",
        text(bytes)
    );
}

/// Runs swarmctl against `d` and checks both of its outputs.
fn shown(d: &Daemon, args: &[&str]) -> String {
    let out = d.ctl(args);
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    assert_plain(&format!("{args:?} stdout"), &out.stdout);
    assert_plain(&format!("{args:?} stderr"), &out.stderr);
    text(&out.stdout)
}

#[test]
fn swarmd_run_and_its_report_show_control_characters_escaped() {
    let dir = tempfile::tempdir().expect("tmp");
    let plan = write_plan(dir.path(), "plan.toml", PLAN);
    let out = Command::new(workspace_binary("swarmd"))
        .arg("run")
        .arg(&plan)
        .arg("--workdir")
        .arg(dir.path())
        .env("SWARM_RETRY_BACKOFF_MS", "100")
        .env("RUST_LOG", "info")
        .env_remove("SWARM_LISTEN")
        .output()
        .expect("swarmd run");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "1.2 fails: {stdout}");
    assert_plain("swarmd run's stdout", &out.stdout);
    assert_plain("swarmd run's stderr", &out.stderr);
    for escaped in [
        "running plan 'Ops \\u{1b}[31mred\\r plan' (2 tasks)",
        "▶ 1.1 Deploy \\u{1b}]0;pwned\\u{7} end",
        "Break \\u{1b}[5m blink",
        "  | boom \\u{1b}[31m red\\r over",
    ] {
        assert!(stdout.contains(escaped), "{escaped} missing:\n{stdout}");
    }
    let report = std::fs::read(dir.path().join("docs/plans/DAILY_PROGRESS_REPORT.md"))
        .expect("the final report");
    assert_plain("DAILY_PROGRESS_REPORT.md", &report);
    let report = text(&report);
    for escaped in [
        "Plan *Ops \\u{1b}[31mred\\r plan* has failed",
        "Backups \\u{1b}[1mverified\\r",
    ] {
        assert!(report.contains(escaped), "{escaped} missing:\n{report}");
    }
}

#[test]
fn swarmctl_shows_control_characters_escaped_and_json_keeps_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let plan = write_plan(dir.path(), "plan.toml", PLAN);
    let path = plan.display().to_string();
    let check = shown(&d, &["plan", "check", &path]);
    assert!(
        check.contains("ok: Ops \\u{1b}[31mred\\r plan — 2 tasks over 1 day"),
        "{check}"
    );
    let show = shown(&d, &["plan", "show", &path]);
    assert!(show.contains("Deploy \\u{1b}]0;pwned\\u{7} end"), "{show}");
    let load = shown(&d, &["plan", "load", &path]);
    assert!(
        load.contains("loaded plan 'Ops \\u{1b}[31mred\\r plan' (2 tasks)"),
        "{load}"
    );
    for args in [
        vec!["status"],
        vec!["tasks"],
        vec!["task", "show", "1.1"],
        vec!["events"],
        vec!["standup", "run"],
        vec!["standup", "list"],
        vec!["standup", "show"],
    ] {
        let out = shown(&d, &args);
        let visible = [
            "Ops \\u{1b}[31mred\\r plan",
            "Deploy \\u{1b}]0;pwned\\u{7} end",
        ];
        assert!(
            visible.iter().any(|v| out.contains(v)) || args == ["standup", "list"],
            "{args:?} shows neither title escaped:\n{out}"
        );
    }
    // JSON keeps the exact text.
    let checked = d.ctl_json(&["plan", "check", &path, "--json"]);
    assert_eq!(checked["name"], NAME, "{checked}");
    let status = d.ctl_json(&["status", "--json"]);
    assert_eq!(status["plan"], NAME, "{status}");
    let task = d.ctl_json(&["task", "show", "1.1", "--json"]);
    assert_eq!(task["title"], TITLE, "{task}");
}
