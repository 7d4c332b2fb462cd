//! Traces: a plan of six tasks with a gang, a retry and a coordinator
//! killed with SIGKILL in the middle arrives at an OTLP receiver as one
//! trace, every task and attempt a span under the right parent, nothing
//! lost across the restart and any span sent twice sent identical; the
//! tasks' `TRACEPARENT` names their attempt's span. Without an endpoint
//! nothing is exported.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use swarm_tests::otlp::{Received, Receiver};
use swarm_tests::{free_port, lines, wait_for, write_plan, Agent, Daemon};

const PLAN: &str = "# Traces

### Day 1: Work

**Task 1.1**: Note the trace
- **Agent**: SRE
- **Priority**: P0
- **Duration**: 1 hour
- **Dependencies**: None
- **Run**: `echo \"$TRACEPARENT\" > tp-1.1.txt`

**Task 1.2**: Fails once
- **Agent**: SRE
- **Priority**: P1
- **Duration**: 1 hour
- **Dependencies**: None
- **Run**: `if test -f tried; then echo second; else touch tried; exit 3; fi`
- **Retries**: 1

**Task 1.3**: Harden together
- **Agent**: SRE + Security Auditor
- **Priority**: P0
- **Duration**: 1 hour
- **Dependencies**: Task 1.1
- **Run**: `echo \"$SWARM_ROLE $TRACEPARENT\" >> tp-1.3.txt`

**Task 1.4**: Long, across the restart
- **Agent**: SRE
- **Priority**: P0
- **Duration**: 1 hour
- **Dependencies**: Task 1.3
- **Run**: `touch started-1.4; sleep 3`

**Task 1.5**: Review
- **Agent**: Security Auditor
- **Priority**: P1
- **Duration**: 1 hour
- **Dependencies**: Task 1.4
- **Run**: `true`
- **Check**: `test -f started-1.4`

**Task 1.6**: Wrap up
- **Agent**: SRE
- **Priority**: P1
- **Duration**: 1 hour
- **Dependencies**: Tasks 1.2, 1.4
- **Run**: `true`
";

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The plan's trace id and every attempt (task, number, state) as the
/// store has them, read with plain SQLite.
fn stored(dir: &Path) -> (String, u64, Vec<(String, u32, String)>) {
    let db = rusqlite::Connection::open(dir.join(".swarm/swarmd.db")).expect("swarmd.db");
    let (trace, exported): (String, i64) = db
        .query_row("SELECT trace_id, exported_seq FROM swarm_traces", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("one trace");
    let mut stmt = db
        .prepare(
            "SELECT t.id, a.number, a.state FROM swarm_attempts a
             JOIN swarm_tasks t ON t.plan_id = a.plan_id AND t.idx = a.task_idx ORDER BY a.id",
        )
        .expect("attempts");
    let attempts = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<Result<Vec<_>, _>>()
        .expect("rows");
    (trace, exported as u64, attempts)
}

/// The one span called `name` (however often it was sent).
fn one<'a>(spans: &'a BTreeMap<Vec<u8>, Received>, name: &str) -> &'a Received {
    let found: Vec<&Received> = spans.values().filter(|s| s.span.name == name).collect();
    assert_eq!(found.len(), 1, "one span '{name}': {:#?}", names(spans));
    found[0]
}

fn names(spans: &BTreeMap<Vec<u8>, Received>) -> Vec<String> {
    spans.values().map(|s| s.span.name.clone()).collect()
}

#[test]
fn a_plan_across_a_kill_is_one_complete_trace() {
    // The daemon inherits these: OTLP over gRPC, and the resource.
    std::env::set_var("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
    std::env::set_var("OTEL_SERVICE_NAME", "swarmd-e2e");
    std::env::set_var("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test");
    let rx = Receiver::start();
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let flags = ["--otlp-endpoint", rx.endpoint.as_str()];
    let mut d = Daemon::start_with(dir.path(), port, &flags);
    // The agents export their own spans to the same receiver.
    let url = d.url();
    let agent = |id: &str, role: &str| Agent::start(&url, dir.path(), id, &[role], &flags);
    let _agents = [
        agent("sre-1", "sre"),
        agent("sre-2", "sre"),
        agent("sec-1", "security"),
    ];
    let plan = write_plan(dir.path(), "plan.md", PLAN);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    wait_for("task 1.4 to start", 40, || {
        dir.path().join("started-1.4").exists()
    });
    let killed_at = now_ms();
    d.kill9();
    std::thread::sleep(Duration::from_millis(300));
    let d = Daemon::start_with(dir.path(), port, &flags);
    let restarted_at = now_ms();
    d.wait_status(60, |s| s["state"] == "succeeded");
    wait_for("the plan's root span and the agents' last", 30, || {
        let got = rx.spans();
        got.iter().any(|s| s.span.parent_span_id.is_empty())
            && got.iter().any(|s| {
                s.scope == "swarm-agent" && s.attr("swarm.task.id").as_deref() == Some("1.6")
            })
    });

    let received = rx.spans();
    let (trace, exported, attempts) = stored(dir.path());
    // One trace, the plan's, as stored.
    let traces: BTreeSet<String> = received.iter().map(|s| hex(&s.span.trace_id)).collect();
    assert_eq!(traces, BTreeSet::from([trace.clone()]));
    assert!(exported > 0, "how far the export got is kept");
    // A span sent twice was sent identical.
    let mut spans: BTreeMap<Vec<u8>, Received> = BTreeMap::new();
    for s in &received {
        if let Some(seen) = spans.get(&s.span.span_id) {
            assert_eq!(
                seen.span, s.span,
                "span '{}' sent twice, differently",
                s.span.name
            );
        }
        spans.insert(s.span.span_id.clone(), s.clone());
    }
    let root = one(&spans, "plan 1");
    assert!(root.span.parent_span_id.is_empty());
    assert_eq!(root.attr("swarm.outcome").as_deref(), Some("succeeded"));
    assert_eq!(
        root.resource_attr("service.name").as_deref(),
        Some("swarmd-e2e")
    );
    assert_eq!(
        root.resource_attr("deployment.environment").as_deref(),
        Some("test")
    );
    assert_eq!(root.scope, "swarmd");
    let restarts = root
        .span
        .events
        .iter()
        .filter(|e| e.name == "coordinator.started")
        .count();
    assert_eq!(restarts, 1, "the restart shows on the plan's span");
    // A span per task, under the root.
    for i in 1..=6 {
        let task = one(&spans, &format!("task 1.{i}"));
        assert_eq!(task.span.parent_span_id, root.span.span_id, "task 1.{i}");
        assert_eq!(task.attr("swarm.task.id"), Some(format!("1.{i}")));
        assert_eq!(task.attr("swarm.outcome").as_deref(), Some("succeeded"));
    }
    // A span per stored attempt, under its task, with its outcome:
    // nothing lost across the kill.
    assert_eq!(attempts.len(), 7, "six tasks and one retry: {attempts:?}");
    for (task, number, state) in &attempts {
        let a = one(&spans, &format!("attempt {task} #{number}"));
        let parent = one(&spans, &format!("task {task}"));
        assert_eq!(
            a.span.parent_span_id, parent.span.span_id,
            "{task} #{number}"
        );
        assert_eq!(a.attr("swarm.outcome").as_ref(), Some(state));
        assert_eq!(a.attr("swarm.plan.id").as_deref(), Some("1"));
        assert_eq!(a.attr("swarm.task.id").as_ref(), Some(task));
        assert_eq!(a.attr("swarm.attempt"), Some(number.to_string()));
        assert!(
            a.attr("swarm.agent.id").is_some_and(|x| !x.is_empty()),
            "{a:?}"
        );
        assert!(a.attr("swarm.role").is_some_and(|x| !x.is_empty()), "{a:?}");
    }
    let failed = one(&spans, "attempt 1.2 #1");
    assert_eq!(failed.attr("swarm.outcome").as_deref(), Some("failed"));
    assert_eq!(failed.attr("process.exit.code").as_deref(), Some("3"));
    // The gang's members, under its attempt, each with its role.
    let gang = one(&spans, "attempt 1.3 #1");
    let mut roles: Vec<String> = spans
        .values()
        .filter(|s| s.scope == "swarmd" && s.span.parent_span_id == gang.span.span_id)
        .filter_map(|s| s.attr("swarm.role"))
        .collect();
    roles.sort();
    assert_eq!(roles, ["security", "sre"]);
    // The attempt that ran across the kill keeps its real start.
    let across = one(&spans, "attempt 1.4 #1");
    let (start, end) = (
        across.span.start_time_unix_nano / 1_000_000,
        across.span.end_time_unix_nano / 1_000_000,
    );
    assert!(
        start < killed_at && end >= restarted_at,
        "{start} < {killed_at} <= {restarted_at} <= {end}"
    );
    // The agents' own spans nest under the attempt that ran them: the
    // executor, its run command and its checks.
    let under = |attempt: &Received, name: &str| -> Vec<Received> {
        spans
            .values()
            .filter(|s| s.scope == "swarm-agent" && s.span.name == name)
            .filter(|s| s.span.parent_span_id == attempt.span.span_id)
            .cloned()
            .collect()
    };
    assert_eq!(under(failed, "executor").len(), 1, "{:#?}", names(&spans));
    let run = under(failed, "run");
    assert_eq!(run.len(), 1);
    assert_eq!(run[0].attr("process.exit.code").as_deref(), Some("3"));
    assert_eq!(under(gang, "executor").len(), 2, "each member runs it");
    assert_eq!(under(one(&spans, "attempt 1.5 #1"), "check 1").len(), 1);
    // The tasks' TRACEPARENT names their attempt's span.
    let tp = std::fs::read_to_string(dir.path().join("tp-1.1.txt")).expect("tp-1.1.txt");
    let first = one(&spans, "attempt 1.1 #1");
    assert_eq!(
        tp.trim(),
        format!("00-{trace}-{}-01", hex(&first.span.span_id))
    );
    for line in lines(&dir.path().join("tp-1.3.txt")) {
        assert!(
            line.ends_with(&format!("00-{trace}-{}-01", hex(&gang.span.span_id))),
            "{line}"
        );
    }
}

/// Spans finished while the collector was down are still in `swarmd.db`'s
/// event log when swarmd dies; the next swarmd sends them.
#[test]
fn spans_unsent_when_swarmd_dies_are_sent_after_the_restart() {
    std::env::set_var("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
    let dir = tempfile::tempdir().expect("tmp");
    let (port, collector) = (free_port(), free_port());
    let endpoint = format!("http://127.0.0.1:{collector}");
    let flags = ["--otlp-endpoint", endpoint.as_str()];
    let mut d = Daemon::start_with(dir.path(), port, &flags);
    let _a = d.agent("sre-1", &["sre"]);
    let plan = "# Down\n\n### Day 1: Work\n\n**Task 1.1**: One\n- **Agent**: SRE\n- **Priority**: P0\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `true`\n\n**Task 1.2**: Two\n- **Agent**: SRE\n- **Priority**: P0\n- **Duration**: 1 hour\n- **Dependencies**: Task 1.1\n- **Run**: `true`\n";
    let path = write_plan(dir.path(), "plan.md", plan);
    d.ctl_json(&["plan", "load", &path.display().to_string(), "--json"]);
    d.wait_status(30, |s| s["state"] == "succeeded");
    let log = std::fs::read_to_string(dir.path().join("swarmd.log")).unwrap_or_default();
    assert_eq!(stored(dir.path()).1, 0, "nothing was acknowledged:\n{log}");
    d.kill9();
    let rx = Receiver::start_on(collector);
    let _d = Daemon::start_with(dir.path(), port, &flags);
    wait_for("the plan's root span", 30, || {
        rx.spans().iter().any(|s| s.span.parent_span_id.is_empty())
    });
    wait_for("the export mark", 10, || stored(dir.path()).1 > 0);
    let mut got: Vec<String> = rx.spans().into_iter().map(|s| s.span.name).collect();
    got.sort();
    got.dedup();
    let want = [
        "attempt 1.1 #1",
        "attempt 1.2 #1",
        "plan 1",
        "task 1.1",
        "task 1.2",
    ];
    for name in want {
        assert!(got.iter().any(|g| g == name), "{name} in {got:?}");
    }
}

/// A crash between an export and its mark in `swarmd.db` (made here by
/// setting the mark back with plain SQLite) sends the spans again: every
/// span arrives twice, identical.
#[test]
fn spans_sent_again_are_sent_identical() {
    std::env::set_var("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
    let rx = Receiver::start();
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let flags = ["--otlp-endpoint", rx.endpoint.as_str()];
    let mut d = Daemon::start_with(dir.path(), port, &flags);
    let _a = d.agent("sre-1", &["sre"]);
    let _b = d.agent("sec-1", &["security"]);
    let plan = "# Again\n\n### Day 1: Work\n\n**Task 1.1**: Flaky\n- **Agent**: SRE\n- **Priority**: P0\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `if test -f tried; then true; else touch tried; exit 4; fi`\n- **Retries**: 1\n\n**Task 1.2**: Pair\n- **Agent**: SRE + Security Auditor\n- **Priority**: P0\n- **Duration**: 1 hour\n- **Dependencies**: Task 1.1\n- **Run**: `true`\n";
    let path = write_plan(dir.path(), "plan.md", plan);
    d.ctl_json(&["plan", "load", &path.display().to_string(), "--json"]);
    d.wait_status(30, |s| s["state"] == "succeeded");
    let roots = |rx: &Receiver| {
        rx.spans()
            .iter()
            .filter(|s| s.span.parent_span_id.is_empty())
            .count()
    };
    wait_for("the root span", 30, || roots(&rx) == 1);
    wait_for("the export mark", 10, || stored(dir.path()).1 > 0);
    d.kill9();
    let first = rx.spans().len();
    let db = rusqlite::Connection::open(dir.path().join(".swarm/swarmd.db")).expect("db");
    db.execute("UPDATE swarm_traces SET exported_seq = 0", [])
        .expect("mark set back");
    drop(db);
    let _d = Daemon::start_with(dir.path(), port, &flags);
    wait_for("everything a second time", 30, || {
        rx.spans().len() >= 2 * first
    });
    let mut by_id: BTreeMap<Vec<u8>, Vec<Received>> = BTreeMap::new();
    for s in rx.spans() {
        by_id.entry(s.span.span_id.clone()).or_default().push(s);
    }
    assert!(
        by_id.len() >= 8,
        "plan, 2 tasks, 3 attempts, 2 members: {}",
        by_id.len()
    );
    for copies in by_id.values() {
        assert_eq!(copies.len(), 2, "'{}' twice", copies[0].span.name);
        assert_eq!(
            copies[0].span, copies[1].span,
            "'{}' identical",
            copies[0].span.name
        );
    }
}

/// In a repository (`--repo`) each task's work goes through the merge
/// queue: a merge span under its task, ending when the work is merged.
#[test]
fn a_merge_is_a_span_under_its_task() {
    std::env::set_var("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
    let rx = Receiver::start();
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).expect("workdir");
    let repo = swarm_tests::repo::TestRepo::init(&dir.path().join("repo"));
    let repo_arg = repo.dir.display().to_string();
    let flags = [
        "--repo",
        repo_arg.as_str(),
        "--otlp-endpoint",
        rx.endpoint.as_str(),
    ];
    let d = Daemon::start_with(&work, free_port(), &flags);
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/agent-edits.sh");
    let exec = format!("sh {}", fixture.display());
    let ledger = dir.path().join("ledger").display().to_string();
    let _agent = Agent::start_with_env(
        &d.url(),
        &work,
        "sre-1",
        &["sre"],
        &["--exec", &exec],
        &[("EDITS_LEDGER", &ledger)],
    );
    let plan = "# Merged\n\n### Day 1: Code\n\n**Task 1.1**: Notes\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Deliverables**:\n  - append docs/notes.md: one\n\n**Task 1.2**: More notes\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: Task 1.1\n- **Deliverables**:\n  - append docs/more.md: two\n";
    let path = write_plan(&work, "plan.md", plan);
    d.ctl_json(&["plan", "load", &path.display().to_string(), "--json"]);
    d.wait_status(60, |s| s["state"] == "succeeded");
    wait_for("the plan's root span", 30, || {
        rx.spans().iter().any(|s| s.span.parent_span_id.is_empty())
    });
    let mut spans: BTreeMap<Vec<u8>, Received> = BTreeMap::new();
    for s in rx.spans() {
        spans.insert(s.span.span_id.clone(), s);
    }
    for task in ["1.1", "1.2"] {
        let merge = one(&spans, &format!("merge {task}"));
        let parent = one(&spans, &format!("task {task}"));
        assert_eq!(merge.span.parent_span_id, parent.span.span_id, "{task}");
        assert_eq!(merge.attr("swarm.outcome").as_deref(), Some("task.merged"));
        let attempt = one(&spans, &format!("attempt {task} #1"));
        assert!(
            merge.span.start_time_unix_nano >= attempt.span.end_time_unix_nano,
            "{task}: merged after its attempt"
        );
    }
}

/// A plan loaded after another is a trace of its own.
#[test]
fn each_plan_is_its_own_trace() {
    std::env::set_var("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
    let rx = Receiver::start();
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let flags = ["--otlp-endpoint", rx.endpoint.as_str()];
    let d = Daemon::start_with(dir.path(), port, &flags);
    let _a = d.agent("sre-1", &["sre"]);
    let roots = |rx: &Receiver| -> Vec<Received> {
        rx.spans()
            .into_iter()
            .filter(|s| s.span.parent_span_id.is_empty())
            .collect()
    };
    for (n, name) in [(1, "First"), (2, "Second")] {
        let plan = format!("# {name}\n\n### Day 1: Work\n\n**Task 1.1**: One\n- **Agent**: SRE\n- **Priority**: P0\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `true`\n");
        let path = write_plan(dir.path(), &format!("plan{n}.md"), &plan);
        d.ctl_json(&["plan", "load", &path.display().to_string(), "--json"]);
        d.wait_status(30, |s| s["state"] == "succeeded");
        wait_for("the plan's root span", 30, || roots(&rx).len() == n);
    }
    let db = rusqlite::Connection::open(dir.path().join(".swarm/swarmd.db")).expect("db");
    let mut stmt = db
        .prepare("SELECT trace_id FROM swarm_traces ORDER BY plan_id")
        .expect("traces");
    let stored: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let got: Vec<String> = roots(&rx).iter().map(|r| hex(&r.span.trace_id)).collect();
    assert_eq!(got, stored, "one trace per plan, in load order");
    assert_ne!(stored[0], stored[1]);
    for r in roots(&rx) {
        let trace = r.span.trace_id.clone();
        let tasks = rx
            .spans()
            .into_iter()
            .filter(|s| s.span.trace_id == trace && s.span.name == "task 1.1");
        assert_eq!(tasks.count(), 1, "each plan's task in its own trace");
    }
}

#[test]
fn without_an_endpoint_nothing_is_exported_and_tasks_still_get_traceparent() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let _a = d.agent("sre-1", &["sre"]);
    let plan = "# Off\n\n### Day 1: Work\n\n**Task 1.1**: Note\n- **Agent**: SRE\n- **Priority**: P0\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `echo \"$TRACEPARENT\" > tp.txt`\n";
    let path = write_plan(dir.path(), "plan.md", plan);
    d.ctl_json(&["plan", "load", &path.display().to_string(), "--json"]);
    d.wait_status(30, |s| s["state"] == "succeeded");
    let (trace, exported, _) = stored(dir.path());
    assert_eq!(exported, 0, "no exporter ran");
    let log = std::fs::read_to_string(dir.path().join("swarmd.log")).unwrap_or_default();
    assert!(!log.contains("exporting traces"), "{log}");
    let tp = std::fs::read_to_string(dir.path().join("tp.txt")).expect("tp.txt");
    assert!(tp.trim().starts_with(&format!("00-{trace}-")), "{tp}");
}
