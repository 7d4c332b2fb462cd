//! Spend with the real binaries: agents driving a fake Claude Code
//! (`tests/fixtures/fake-claude.sh`, which prints Claude Code's result
//! object) and a task that writes `$SWARM_USAGE`; the costs and tokens
//! add up per task, role, day and plan in `status --json`, `task show
//! --json`, the web view's task panel, the checkpoint report and
//! `/metrics`, and the result object's
//! text is the task's result, down to its dependents' briefs.

use std::path::{Path, PathBuf};

use serde_json::Value;
use swarm_tests::{free_port, http_get, write_plan, Agent, Daemon};

const PLAN: &str = "# Spend\n\n### Day 1: Build\n\n\
**Task 1.1**: Tune the alerts\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n\n\
**Task 1.2**: Audit the tokens\n- **Agent**: Security\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n\n\
**Task 1.3**: Write the runbook\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: Task 1.1, Task 1.2\n\n\
**Task 1.4**: Count the pages\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n\
- **Run**: `echo '{\"cost_usd\": 2, \"input_tokens\": 5, \"output_tokens\": 7, \"model\": \"m\"}' > \"$SWARM_USAGE\"; echo counted`\n";

fn fake_claude() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fake-claude.sh")
}

/// An agent of `role` whose command template is the fake Claude Code,
/// each call costing `cost` dollars.
fn agent(d: &Daemon, work: &Path, id: &str, role: &str, cost: &str) -> Agent {
    let exec = format!("sh {}", fake_claude().display());
    Agent::start_with_env(
        &d.url(),
        work,
        id,
        &[role],
        &["--exec", &exec],
        &[("FAKE_COST_USD", cost)],
    )
}

/// The value of one sample of an exposition.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn cost(v: &Value) -> f64 {
    v["cost_usd"].as_f64().unwrap_or(f64::NAN)
}

#[test]
fn costs_add_up_per_task_role_day_and_plan_everywhere() {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path();
    let http = format!("127.0.0.1:{}", free_port());
    let d = Daemon::start_with(work, free_port(), &["--http", &http]);
    let plan = write_plan(work, "plan.md", PLAN);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let _sre = agent(&d, work, "sre-1", "SRE", "0.5");
    let _security = agent(&d, work, "security-1", "Security", "0.25");
    let status = d.wait_status(60, |s| s["state"] == "succeeded" || s["state"] == "failed");
    assert_eq!(status["state"], "succeeded", "{status}");

    // 1.1 and 1.3 at $0.50 (sre), 1.2 at $0.25 (security), 1.4's file $2.
    let spend = &status["spend"];
    assert_eq!(cost(&spend["total"]), 3.25, "{spend}");
    assert_eq!(spend["total"]["reports"], 4, "{spend}");
    assert_eq!(spend["total"]["tokens"]["input"], 305, "{spend}");
    assert_eq!(spend["total"]["tokens"]["output"], 67, "{spend}");
    assert_eq!(spend["total"]["tokens"]["cache_read"], 3000, "{spend}");
    assert_eq!(spend["total"]["tokens"]["cache_creation"], 30, "{spend}");
    assert_eq!(cost(&spend["by_role"]["sre"]), 3.0, "{spend}");
    assert_eq!(cost(&spend["by_role"]["security"]), 0.25, "{spend}");
    assert_eq!(cost(&spend["by_agent"]["sre-1"]), 3.0, "{spend}");
    let days = spend["by_day"].as_object().expect("by day");
    assert_eq!(days.len(), 1, "one plan day: {spend}");
    assert_eq!(days.values().map(cost).sum::<f64>(), 3.25, "{spend}");

    let show = d.ctl_json(&["task", "show", "1.1", "--json"]);
    assert_eq!(cost(&show["spend"]), 0.5, "{show}");
    let first = &show["attempt_history"][0];
    assert_eq!(first["session_id"], "sess-1.1-1", "{show}");
    assert_eq!(first["usage"]["tokens"]["cache_read"], 1000, "{show}");
    let show = d.ctl_json(&["task", "show", "1.4", "--json"]);
    assert_eq!(cost(&show["spend"]), 2.0, "{show}");

    // The web view's task panel: each attempt's cost and tokens, and the
    // task's sum.
    let admin = std::fs::read_to_string(work.join(".swarm/admin.token")).expect("admin token");
    let (code, html) = http_get(&http, "/view/task/1.4", Some(admin.trim()));
    assert_eq!(code, 200, "{html}");
    assert!(html.contains("<th>Cost</th><th>Tokens</th>"), "{html}");
    assert!(
        html.contains(
            r#"<td class="cost" data-cost-usd="2">$2.00</td><td class="tokens">5 in, 7 out</td>"#
        ),
        "{html}"
    );
    assert!(html.contains("<b>Spent:</b> $2.00 · 5 in, 7 out"), "{html}");
    let (_, html) = http_get(&http, "/view/task/1.1", Some(admin.trim()));
    assert!(
        html.contains(r#"<td class="cost" data-cost-usd="0.5">$0.5000</td>"#),
        "{html}"
    );

    // The result object's text is the result, and reaches the dependent.
    let out = d.ctl(&["task", "result", "1.1"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "answer for 1.1 by sre\n"
    );
    let brief = std::fs::read_to_string(work.join("fake-claude/1.3-1.brief")).expect("1.3's brief");
    assert!(
        brief.contains("### Task 1.1: Tune the alerts\nanswer for 1.1 by sre\n"),
        "{brief}"
    );
    assert!(
        brief.contains("### Task 1.2: Audit the tokens\nanswer for 1.2 by security\n"),
        "{brief}"
    );

    let (code, text) = http_get(&http, "/metrics", None);
    assert_eq!(code, 200, "{text}");
    assert_eq!(
        sample(&text, "swarmd_cost_usd_total{role=\"sre\"}"),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "swarmd_cost_usd_total{role=\"security\"}"),
        Some(0.25),
        "{text}"
    );
    assert_eq!(
        sample(&text, "swarmd_tokens_total{role=\"sre\",kind=\"input\"}"),
        Some(205.0),
        "{text}"
    );

    let standup = d.ctl_json(&["standup", "run", "--json"]);
    let report = standup["report"].as_str().unwrap_or_default();
    assert!(report.contains("### Spend\n\n$3.25 in all"), "{standup}");
    assert!(report.contains("| sre | 3.00 | 2272 |"), "{report}");
    assert!(report.contains("| security | 0.25 | 1130 |"), "{report}");

    // What is stored is what was reported, per attempt, read with plain SQLite.
    let db = rusqlite::Connection::open_with_flags(
        work.join(".swarm/swarmd.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("swarmd.db");
    let (rows, sum): (i64, f64) = db
        .query_row("SELECT COUNT(*), SUM(cost_usd) FROM swarm_usage", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("usage rows");
    assert_eq!((rows, sum), (4, 3.25));
}

const RETRIED: &str = "# Resume\n\n### Day 1: Build\n\n\
**Task 5.1**: Fix the flaky test\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Retries**: 1\n";

#[test]
fn a_retry_gets_the_previous_attempts_session_and_a_failure_still_costs() {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path();
    std::fs::create_dir_all(work.join("fake-claude")).expect("dir");
    std::fs::write(work.join("fake-claude/fail-5.1"), "1").expect("fail once");
    let d = Daemon::start(work, free_port());
    let plan = write_plan(work, "plan.md", RETRIED);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let exec = format!("sh {} --resume {{session}}", fake_claude().display());
    let _sre = Agent::start(&d.url(), work, "sre-1", &["SRE"], &["--exec", &exec]);
    let status = d.wait_status(60, |s| s["state"] == "succeeded" || s["state"] == "failed");
    assert_eq!(status["state"], "succeeded", "{status}");

    let ledger = std::fs::read_to_string(work.join("fake-claude.ledger")).expect("ledger");
    let starts: Vec<&str> = ledger
        .lines()
        .filter(|l| l.starts_with("start 5.1"))
        .collect();
    assert_eq!(starts.len(), 2, "{ledger}");
    assert!(
        starts[0].ends_with("args: --resume "),
        "empty on the first: {ledger}"
    );
    assert!(starts[1].ends_with("args: --resume sess-5.1-1"), "{ledger}");

    let show = d.ctl_json(&["task", "show", "5.1", "--json"]);
    let history = &show["attempt_history"];
    assert_eq!(history[0]["state"], "failed", "{show}");
    assert!(
        history[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("3 tests failed"),
        "is_error fails the attempt with its text: {show}"
    );
    assert_eq!(cost(&history[0]["usage"]), 0.125, "{show}");
    assert_eq!(cost(&show["spend"]), 0.625, "{show}");
}
