//! Lists that do not break: on a plan of 100,000 tasks (one reply of every
//! task was about 6 MB, over the 4 MiB a gRPC message may be), `swarmctl
//! tasks` prints every task, `--state`, `--role` and `--limit` are applied
//! by the daemon, `tasks --json` is one array, `tasks | head` ends quietly,
//! `events` carries the whole log (more than the 100,000 events one read
//! used to stop at), and the MCP `tasks` tool answers a page with a note
//! naming the next. Memory values over a limit are refused in words, and
//! a value larger than a default gRPC message is read back whole.

use std::io::{BufRead as _, BufReader};
use std::process::{Output, Stdio};

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::transport::TokioChildProcess;
use rmcp::ServiceExt as _;
use serde_json::{json, Value};
use swarm_tests::{free_port, write_plan, Daemon};

const TASKS: usize = 100_000;
const MIB: usize = 1024 * 1024;

/// `TASKS` independent tasks: every tenth for QA, the rest for a coder.
fn plan() -> String {
    let mut s = String::with_capacity(TASKS * 100);
    s.push_str("# Big lists\n\n### Day 1: Work\n\n");
    for i in 1..=TASKS {
        let agent = if i % 10 == 0 { "QA Engineer" } else { "Coder" };
        s.push_str(&format!(
            "**Task 1.{i}**: Step {i}\n- **Agent**: {agent}\n- **Duration**: 1 hour\n- **Dependencies**: None\n\n"
        ));
    }
    s
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs swarmctl and checks it succeeded with nothing on standard error.
fn quiet_ok(d: &Daemon, args: &[&str]) -> String {
    let out = d.ctl(args);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "swarmctl {args:?}: exit {:?}, stderr: {}",
        out.status.code(),
        stderr(&out)
    );
    stdout(&out)
}

/// The first column of a table's rows (its header left out).
fn table_ids(text: &str) -> Vec<String> {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    assert!(
        header.starts_with("ID") && header.contains("STATE"),
        "{header}"
    );
    lines
        .map(|l| l.split_whitespace().next().unwrap_or_default().to_string())
        .collect()
}

fn expected_ids(range: impl Iterator<Item = usize>) -> Vec<String> {
    range.map(|i| format!("1.{i}")).collect()
}

fn check_task_lists(d: &Daemon) {
    // Every task, in plan order, once.
    let all = quiet_ok(d, &["tasks"]);
    assert_eq!(table_ids(&all), expected_ids(1..=TASKS));

    // The daemon filters: no task is pending, a tenth need QA.
    assert_eq!(
        table_ids(&quiet_ok(d, &["tasks", "--state", "pending"])),
        Vec::<String>::new()
    );
    let qa = quiet_ok(d, &["tasks", "--role", "QA Engineer", "--json"]);
    let qa: Vec<Value> = serde_json::from_str(&qa).expect("one JSON array");
    assert_eq!(qa.len(), TASKS / 10);
    assert!(qa
        .iter()
        .all(|t| t["roles"] == json!(["qa"]) && t["state"] == "ready"));

    // One JSON array of every task.
    let array: Vec<Value> =
        serde_json::from_str(&quiet_ok(d, &["tasks", "--json"])).expect("one JSON array");
    let ids: Vec<String> = array
        .iter()
        .map(|t| t["id"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(ids, expected_ids(1..=TASKS));

    // --limit, with a note naming where the next ones start; --after.
    let cut = d.ctl(&["tasks", "--state", "ready", "--limit", "3"]);
    assert!(cut.status.success(), "{}", stderr(&cut));
    assert_eq!(table_ids(&stdout(&cut)), ["1.1", "1.2", "1.3"]);
    assert!(stderr(&cut).contains("--after 1.3"), "{}", stderr(&cut));
    let tail = quiet_ok(
        d,
        &[
            "tasks",
            "--after",
            &format!("1.{}", TASKS - 2),
            "--limit",
            "5",
        ],
    );
    assert_eq!(table_ids(&tail), expected_ids(TASKS - 1..=TASKS));
    let bad = d.ctl(&["tasks", "--state", "redy"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(
        stderr(&bad).contains("unknown task state 'redy'"),
        "{}",
        stderr(&bad)
    );
}

/// `swarmctl tasks --state ready | head -2`: the reader goes after two
/// lines, and swarmctl ends quietly with exit 0.
fn check_head(d: &Daemon) {
    let mut child = d
        .ctl_command(&["tasks", "--state", "ready"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start swarmctl tasks");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let header = lines.next().expect("a header").expect("text");
    let first = lines.next().expect("a row").expect("text");
    assert!(
        header.starts_with("ID") && first.starts_with("1.1 "),
        "{header}\n{first}"
    );
    drop(lines);
    let out = child.wait_with_output().expect("swarmctl ends");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
}

/// The highest sequence number in swarmd.db, read with plain SQLite.
fn stored_events(d: &Daemon) -> u64 {
    let db = rusqlite::Connection::open_with_flags(
        d.workdir.join(".swarm/swarmd.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open swarmd.db");
    db.query_row("SELECT MAX(seq) FROM swarm_events", [], |r| r.get(0))
        .expect("events")
}

fn check_events(d: &Daemon) {
    let stored = stored_events(d);
    assert!(stored > 100_000, "{stored} events");
    let json = quiet_ok(d, &["events", "--json"]);
    let seqs: Vec<u64> = json
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("one JSON object a line");
            v["seq"].as_u64().expect("seq")
        })
        .collect();
    assert_eq!(
        seqs,
        (1..=stored).collect::<Vec<_>>(),
        "every event once, in order"
    );
    assert_eq!(quiet_ok(d, &["events"]).lines().count() as u64, stored);
    // Filtered by the daemon.
    let one = quiet_ok(d, &["events", "--task", "1.77777", "--json"]);
    let kinds: Vec<Value> = one
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json")["kind"].clone())
        .collect();
    assert_eq!(kinds, [json!("task.ready")], "{one}");
}

fn check_memory_limits(d: &Daemon) {
    let put = |key: &str, bytes: usize| {
        let mut child = d
            .ctl_command(&["memory", "put", key, "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start swarmctl memory put");
        let value = vec![b'v'; bytes];
        std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), &value)
            .expect("value written");
        child.wait_with_output().expect("swarmctl ends")
    };
    // The daemon runs with max_value_bytes = 5 MiB.
    let over = put("over", 5 * MIB + 1);
    assert_eq!(over.status.code(), Some(2), "{}", stderr(&over));
    assert!(
        stderr(&over).contains(&format!("at most {} bytes", 5 * MIB)),
        "{}",
        stderr(&over)
    );
    // Too large for one request: the message limit, in words.
    let huge = put("huge", 12 * MIB);
    assert_eq!(huge.status.code(), Some(2), "{}", stderr(&huge));
    let said = stderr(&huge);
    assert!(
        said.contains(&format!("is {} bytes", 12 * MIB))
            && said.contains("at most")
            && said.contains("max_value_bytes")
            && !said.contains("message length too large"),
        "{said}"
    );
    // A value larger than a default gRPC message is stored and read back.
    let fits = put("fits", 5 * MIB);
    assert!(fits.status.success(), "{}", stderr(&fits));
    let got = d.ctl(&["memory", "get", "fits"]);
    assert!(got.status.success(), "{}", stderr(&got));
    assert_eq!(got.stdout.len(), 5 * MIB + 1, "the value and a newline");
}

/// The text blocks of a tool's answer.
fn texts(result: &CallToolResult) -> Vec<String> {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect()
}

async fn check_mcp(d: &Daemon) {
    let mut cmd = tokio::process::Command::new(swarm_tests::workspace_binary("swarmctl"));
    cmd.arg("--coordinator")
        .arg(d.url())
        .arg("--token-file")
        .arg(d.workdir.join(".swarm/admin.token"))
        .arg("mcp")
        .env_remove("SWARM_TOKEN");
    let client =
        ().serve(TokioChildProcess::new(cmd).expect("start swarmctl mcp"))
            .await
            .expect("MCP handshake");
    let call = |args: Value| {
        let args = args.as_object().cloned().unwrap_or_default();
        client.call_tool(CallToolRequestParams::new("tasks").with_arguments(args))
    };

    // No limit given: the first 500, and a note naming the next page.
    let first = call(json!({})).await.expect("a tool result");
    assert_ne!(first.is_error, Some(true), "{:?}", texts(&first));
    let blocks = texts(&first);
    let rows: Vec<Value> = serde_json::from_str(&blocks[0]).expect("a JSON array");
    assert_eq!(rows.len(), 500);
    assert_eq!(
        (&rows[0]["id"], &rows[499]["id"]),
        (&json!("1.1"), &json!("1.500"))
    );
    assert!(
        blocks.len() == 2 && blocks[1].contains("after = \"1.500\""),
        "{blocks:?}"
    );

    // The last page of the QA tasks: exactly what is left, no note.
    let args = json!({"state": "ready", "role": "qa", "after": "1.50000", "limit": 5000});
    let last = call(args).await.expect("a tool result");
    let blocks = texts(&last);
    assert_eq!(blocks.len(), 1, "{:?}", &blocks[1..]);
    let rows: Vec<Value> = serde_json::from_str(&blocks[0]).expect("a JSON array");
    let ids: Vec<&str> = rows.iter().filter_map(|t| t["id"].as_str()).collect();
    let want = expected_ids((50_010..=TASKS).step_by(10));
    assert_eq!(ids, want.iter().map(String::as_str).collect::<Vec<_>>());
    client.cancel().await.expect("MCP client closed");
}

#[tokio::test]
async fn a_hundred_thousand_tasks_list_stream_and_page_without_a_size_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("swarmd.toml");
    std::fs::write(&config, format!("max_value_bytes = {}\n", 5 * MIB)).expect("config");
    let d = Daemon::start_with(
        dir.path(),
        free_port(),
        &["--config", &config.display().to_string()],
    );
    let file = write_plan(dir.path(), "big.md", &plan());
    let loaded = d.ctl_json(&["plan", "load", &file.display().to_string(), "--json"]);
    assert_eq!(loaded["tasks"], TASKS, "{loaded}");

    check_task_lists(&d);
    check_head(&d);
    check_events(&d);
    check_memory_limits(&d);
    check_mcp(&d).await;
}
