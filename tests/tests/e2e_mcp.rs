//! `swarmctl mcp` as an assistant meets it: rmcp's own client starts the
//! real swarmctl as a child process and speaks MCP over its stdio, against
//! a live swarmd. The tools are listed, a plan is loaded, shared memory is
//! written and read back (and seen by the command line too), a task that
//! waits for an operator is marked done (and the event log says so), the
//! task after it leaves a result the assistant can read, and a
//! refused token is a tool error carrying swarmctl's own message, after
//! which the server still answers.

use std::path::Path;
use std::process::Command;

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt as _};
use serde_json::{json, Value};
use swarm_tests::events::EventLog;
use swarm_tests::{free_port, workspace_binary, write_plan, Daemon};

/// 1.1 has no command: an agent starts it and it waits for an operator
/// (`task_done`); then 1.2 runs and records a result (`task_result`).
const PLAN: &str = "# MCP\n\n### Day 1: Docs\n\n\
**Task 1.1**: Write the runbook\n- **Agent**: Technical Writer\n- **Priority**: P1\n- **Duration**: 2 hours\n\n\
**Task 1.2**: Publish\n- **Agent**: Writer\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: Task 1.1\n\
- **Run**: `echo runbook published > \"$SWARM_RESULT\"`\n";

const TOOLS: [&str; 18] = [
    "memory_get",
    "memory_list",
    "memory_put",
    "plan_apply",
    "plan_cancel",
    "plan_check",
    "plan_history",
    "plan_load",
    "standup_run",
    "standup_show",
    "status",
    "task_done",
    "task_fail",
    "task_logs",
    "task_result",
    "task_retry",
    "task_show",
    "tasks",
];

type Client = RunningService<RoleClient, ()>;

/// swarmctl against `d` with the token in `token_file`.
fn swarmctl(d: &Daemon, token_file: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(workspace_binary("swarmctl"));
    cmd.arg("--coordinator")
        .arg(d.url())
        .arg("--token-file")
        .arg(token_file)
        .args(args)
        .env_remove("SWARM_TOKEN")
        .current_dir(&d.workdir);
    cmd
}

/// `swarmctl mcp` as an MCP client's child process.
async fn connect(d: &Daemon, token_file: &Path) -> Client {
    let cmd = tokio::process::Command::from(swarmctl(d, token_file, &["mcp"]));
    let child = TokioChildProcess::new(cmd).expect("start swarmctl mcp");
    ().serve(child).await.expect("MCP handshake with swarmctl")
}

/// Calls `tool` with `args` (a JSON object); a protocol error fails the
/// test, a tool error is returned for the caller to look at.
async fn call(client: &Client, tool: &'static str, args: Value) -> CallToolResult {
    let args = args.as_object().cloned().unwrap_or_default();
    client
        .call_tool(CallToolRequestParams::new(tool).with_arguments(args))
        .await
        .unwrap_or_else(|e| panic!("{tool}: a protocol error, not a tool result: {e}"))
}

/// The JSON a successful call answered.
async fn call_ok(client: &Client, tool: &'static str, args: Value) -> Value {
    let result = call(client, tool, args).await;
    let text = text_of(&result);
    assert_ne!(result.is_error, Some(true), "{tool} failed: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{tool}: not JSON ({e}): {text}"))
}

/// The message of a failed call.
async fn call_err(client: &Client, tool: &'static str, args: Value) -> String {
    let result = call(client, tool, args).await;
    let text = text_of(&result);
    assert_eq!(result.is_error, Some(true), "{tool} should fail: {text}");
    text
}

fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.as_str()))
        .collect()
}

#[tokio::test]
async fn an_mcp_client_drives_swarmd_through_swarmctl() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let client = connect(&d, &d.workdir.join(".swarm/admin.token")).await;

    let mut names: Vec<String> = client
        .list_all_tools()
        .await
        .expect("tools/list")
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    names.sort();
    assert_eq!(names, TOOLS);

    let idle = call_ok(&client, "status", json!({})).await;
    assert_eq!(idle["state"], "idle", "{idle}");

    let plan = write_plan(dir.path(), "manual.md", PLAN);
    let loaded = call_ok(&client, "plan_load", json!({"path": plan})).await;
    assert_eq!(
        (loaded["name"].as_str(), loaded["tasks"].as_u64()),
        (Some("MCP"), Some(2)),
        "{loaded}"
    );
    // The same file as a revision: a dry run finds nothing to change, and
    // the history has the version as loaded.
    let same = call_ok(
        &client,
        "plan_apply",
        json!({"path": plan, "dry_run": true}),
    )
    .await;
    assert_eq!(
        (same["applied"].as_bool(), same["summary"].as_str()),
        (Some(false), Some("no change")),
        "{same}"
    );
    let history = call_ok(&client, "plan_history", json!({})).await;
    assert_eq!(history[0]["version"], 1, "{history}");

    let put = json!({"key": "runbook", "value": "draft ready", "namespace": "docs"});
    let stored = call_ok(&client, "memory_put", put).await;
    assert_eq!(
        stored,
        json!({"namespace": "docs", "key": "runbook", "created": true})
    );
    let got = call_ok(
        &client,
        "memory_get",
        json!({"key": "runbook", "namespace": "docs"}),
    )
    .await;
    assert_eq!(got["value"], "draft ready", "{got}");
    // The same entry, seen by the command line.
    let cli = d.ctl_json(&["memory", "get", "runbook", "-n", "docs", "--json"]);
    assert_eq!(cli["value"], "draft ready", "{cli}");
    let none = call_err(&client, "task_result", json!({"id": "1.1"})).await;
    assert!(
        none.starts_with("task 1.1 is ")
            && none.ends_with("; only a task that succeeded has a result"),
        "{none}"
    );

    // An agent starts 1.1, which then waits for an operator.
    let _writer = d.agent("writer-1", &["writer"]);
    EventLog::wait(&d, 20, "1.1 started", |e| e.is("attempt.started", "1.1"));
    let waiting = call_ok(&client, "status", json!({})).await;
    assert_eq!(waiting["waiting_for_operator"], json!(["1.1"]), "{waiting}");
    // The task list, whole and filtered as `swarmctl tasks --state` does.
    let all = call_ok(&client, "tasks", json!({})).await;
    assert_eq!(all.as_array().map(Vec::len), Some(2), "{all}");
    let running = call_ok(&client, "tasks", json!({"state": "running"})).await;
    assert_eq!(running.as_array().map(Vec::len), Some(1), "{running}");
    assert_eq!(running[0]["id"], "1.1", "{running}");
    let none = call_ok(&client, "tasks", json!({"role": "sre"})).await;
    assert_eq!(none, json!([]), "no task needs an SRE");
    let done = call_ok(
        &client,
        "task_done",
        json!({"id": "1.1", "reason": "reviewed"}),
    )
    .await;
    assert_eq!(done, json!({"id": "1.1", "state": "succeeded"}));
    let log = EventLog::read(&d);
    let ended = log.only("1.1's attempt ending", |e| {
        e.task_id == "1.1" && matches!(e.kind.as_str(), "attempt.succeeded" | "attempt.failed")
    });
    assert_eq!(
        (ended.kind.as_str(), ended.message.as_str()),
        (
            "attempt.succeeded",
            "marked succeeded by an operator: reviewed"
        ),
        "{log}"
    );
    // 1.2 ran after it and left a result.
    d.wait_status(30, |s| s["state"] == "succeeded");
    let result = call_ok(&client, "task_result", json!({"id": "1.2"})).await;
    assert_eq!(
        (&result["namespace"], &result["key"], &result["value"]),
        (
            &json!("swarm:results"),
            &json!("1.2"),
            &json!("runbook published\n")
        ),
        "{result}"
    );
    let unknown = call_err(&client, "task_show", json!({"id": "9.9"})).await;
    assert!(unknown.contains("9.9"), "{unknown}");
    a_plan_is_cancelled_with_its_reason(&d, &client, &plan).await;
    client.cancel().await.expect("close the session");

    a_refused_token_is_a_tool_error(&d).await;
}

/// Once the plan has succeeded it cannot be cancelled; the same plan
/// loaded again can, and the event log keeps the reason.
async fn a_plan_is_cancelled_with_its_reason(d: &Daemon, client: &Client, plan: &Path) {
    let over = call_err(client, "plan_cancel", json!({"reason": "late"})).await;
    assert_eq!(
        over, "plan 'MCP' has succeeded; there is nothing to cancel",
        "{over}"
    );
    call_ok(client, "plan_load", json!({"path": plan})).await;
    let cancelled = call_ok(client, "plan_cancel", json!({"reason": "replanned"})).await;
    assert_eq!(
        cancelled,
        json!({"name": "MCP", "cancelled": 2, "state": "cancelled"}),
        "{cancelled}"
    );
    let why = EventLog::read(d);
    let ended = why.only("the plan's cancellation", |e| e.kind == "plan.cancelled");
    assert_eq!(
        ended.message, "cancelled by an operator: replanned",
        "{why}"
    );
}

/// A bad token fails each call with the message swarmctl prints, and the
/// server goes on answering.
async fn a_refused_token_is_a_tool_error(d: &Daemon) {
    let bad = d.workdir.join("bad.token");
    std::fs::write(&bad, "not-the-token\n").expect("write token");
    let client = connect(d, &bad).await;
    let refused = call_err(&client, "status", json!({})).await;
    let cli = swarmctl(d, &bad, &["status"])
        .output()
        .expect("swarmctl status");
    let printed = String::from_utf8_lossy(&cli.stderr);
    assert_eq!(
        printed.trim_end().strip_prefix("swarmctl: "),
        Some(refused.as_str()),
        "the tool's message is swarmctl's"
    );
    let again = call_err(&client, "memory_get", json!({"key": "runbook"})).await;
    assert_eq!(again, refused);
    assert_eq!(
        client.list_all_tools().await.expect("still serving").len(),
        TOOLS.len()
    );
    client.cancel().await.expect("close the session");
}
