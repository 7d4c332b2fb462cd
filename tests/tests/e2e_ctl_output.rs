//! swarmctl's output against a real daemon: every printing command into a
//! closed pipe ends with exit 0 and nothing on stderr (`| head -1`), the
//! control characters of a plan's titles never reach the terminal raw
//! while `--json` keeps them exact, and `standup list` with no standups
//! says so.

use std::io::{BufRead as _, BufReader};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use swarm_tests::{free_port, write_plan, Daemon};

const TITLE: &str = "red \u{1b}[31mX\r bell\u{7} end";

/// A plan whose one task's title holds an ESC sequence, `\r` and a bell;
/// nothing can run it (no agent), so it stays ready.
const PLAN: &str = "name = \"hostile\"\n\n[[task]]\nid = \"1.1\"\ntitle = \"red \\u001b[31mX\\r bell\\u0007 end\"\nagent = \"SRE\"\nduration = \"1h\"\n";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Waits for a child, killing it after `secs` (then the test fails).
fn finish(mut child: std::process::Child, secs: u64, what: &str) -> Output {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not end after its stdout was closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
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
fn printing_into_a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let plan = write_plan(dir.path(), "plan.toml", PLAN);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    d.ctl_json(&["memory", "put", "k", "v", "--json"]);

    // The reader is gone before swarmctl writes a byte.
    for args in [
        vec!["events", "--json"],
        vec!["events", "--follow"],
        vec!["events", "--follow", "--json"],
        vec!["events"],
        vec!["tasks"],
        vec!["tasks", "--json"],
        vec!["status"],
        vec!["task", "show", "1.1"],
        vec!["memory", "list"],
        vec!["agents"],
        vec!["roles"],
    ] {
        let mut child = d
            .ctl_command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("swarmctl");
        drop(child.stdout.take());
        let out = finish(child, 20, &format!("{args:?}"));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(text(&out.stderr), "", "{args:?}");
    }

    // `events --follow | head -1`: one line read, then the pipe closes;
    // swarmctl ends without waiting for another event (none comes).
    let mut child = d
        .ctl_command(&["events", "--follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("swarmctl");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("first line");
    assert!(first.contains("coordinator.started"), "{first}");
    let out = finish(child, 20, "events --follow");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn titles_cannot_reach_the_terminal_raw_and_json_keeps_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let plan = write_plan(dir.path(), "plan.toml", PLAN);
    let load = d.ctl(&["plan", "load", &plan.display().to_string()]);
    assert!(load.status.success(), "{}", text(&load.stderr));
    assert_no_control("plan load", &text(&load.stdout));

    for args in [
        vec!["status"],
        vec!["task", "show", "1.1"],
        vec!["tasks"],
        vec!["events"],
    ] {
        let out = d.ctl(&args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        let shown = text(&out.stdout);
        assert_no_control(&format!("{args:?}"), &shown);
        if args[0] == "task" {
            assert!(
                shown.contains("red \\u{1b}[31mX\\r bell\\u{7} end"),
                "{shown}"
            );
        }
    }
    let tasks = d.ctl_json(&["tasks", "--json"]);
    assert_eq!(tasks[0]["title"], TITLE);
    let shown = d.ctl_json(&["task", "show", "1.1", "--json"]);
    assert_eq!(shown["title"], TITLE, "{shown}");
}

#[test]
fn no_standups_is_said_in_words_and_an_empty_json_list() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let out = d.ctl(&["standup", "list"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "no standups yet\n");
    assert_eq!(
        d.ctl_json(&["standup", "list", "--json"]),
        serde_json::json!([])
    );
    let status = text(&d.ctl(&["status"]).stdout);
    assert!(status.contains("· 0 agents connected"), "{status}");
}
