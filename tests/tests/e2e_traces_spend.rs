//! What attempts spent, on their spans: an agent driving the fake Claude
//! Code (`tests/fixtures/fake-claude.sh`) and a task that writes
//! `$SWARM_USAGE` export attempt spans with the GenAI conventions' token
//! counts and swarmd's cost, the same numbers `swarm_usage` holds (read
//! with plain SQLite); an attempt that said nothing carries none. A
//! failed attempt's cost is on its span too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use swarm_tests::otlp::{Received, Receiver};
use swarm_tests::{free_port, wait_for, write_plan, Agent, Daemon};

const PLAN: &str = "# Spend traced\n\n### Day 1: Build\n\n\
**Task 1.1**: Tune the alerts\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Retries**: 1\n\n\
**Task 1.2**: Count the pages\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n\
- **Run**: `echo '{\"cost_usd\": 2, \"input_tokens\": 5, \"output_tokens\": 7}' > \"$SWARM_USAGE\"; echo counted`\n\n\
**Task 1.3**: Say nothing\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `true`\n";

fn fake_claude() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fake-claude.sh")
}

/// Per attempt (task, number): cost and input, output, cache read and
/// cache creation tokens, summed over its agents as swarmd stored them.
type Stored = BTreeMap<(String, i64), (f64, i64, i64, i64, i64)>;

fn stored(dir: &Path) -> Stored {
    let db = rusqlite::Connection::open_with_flags(
        dir.join(".swarm/swarmd.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("swarmd.db");
    let mut stmt = db
        .prepare(
            "SELECT u.task_id, a.number, SUM(u.cost_usd), SUM(u.input_tokens),
                    SUM(u.output_tokens), SUM(u.cache_read_tokens), SUM(u.cache_creation_tokens)
             FROM swarm_usage u JOIN swarm_attempts a ON a.id = u.attempt
             GROUP BY u.attempt",
        )
        .expect("query");
    let rows = stmt
        .query_map([], |r| {
            Ok((
                (r.get(0)?, r.get(1)?),
                (r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?),
            ))
        })
        .expect("rows");
    rows.collect::<Result<_, _>>().expect("usage rows")
}

fn int(s: &Received, key: &str) -> i64 {
    s.attr(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{key} on {}: {:?}", s.span.name, s.span.attributes))
}

#[test]
fn attempt_spans_carry_the_tokens_and_cost_swarmd_stored() {
    let rx = Receiver::start_http();
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path();
    // The fake Claude Code fails 1.1's first attempt (costing $0.125).
    std::fs::create_dir_all(work.join("fake-claude")).expect("dir");
    std::fs::write(work.join("fake-claude/fail-1.1"), "1").expect("fail once");
    let d = Daemon::start_with(work, free_port(), &["--otlp-endpoint", &rx.endpoint]);
    let exec = format!("sh {}", fake_claude().display());
    let _sre = Agent::start_with_env(
        &d.url(),
        work,
        "sre-1",
        &["SRE"],
        &["--exec", &exec],
        &[("FAKE_COST_USD", "0.5")],
    );
    let plan = write_plan(work, "plan.md", PLAN);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let status = d.wait_status(60, |s| s["state"] == "succeeded" || s["state"] == "failed");
    assert_eq!(status["state"], "succeeded", "{status}");
    wait_for("the plan's root span", 30, || {
        rx.spans().iter().any(|s| s.span.parent_span_id.is_empty())
    });

    let attempts: BTreeMap<String, Received> = rx
        .spans()
        .into_iter()
        .filter(|s| s.scope == "swarmd" && s.span.name.starts_with("attempt "))
        .map(|s| (s.span.name.clone(), s))
        .collect();
    let names: Vec<&str> = attempts.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "attempt 1.1 #1",
            "attempt 1.1 #2",
            "attempt 1.2 #1",
            "attempt 1.3 #1"
        ]
    );
    let usage = stored(work);
    assert_eq!(
        usage.len(),
        3,
        "three attempts said what they spent: {usage:?}"
    );
    for ((task, number), (cost, input, output, read, created)) in &usage {
        let s = &attempts[&format!("attempt {task} #{number}")];
        let name = &s.span.name;
        let spent: f64 = s
            .attr("swarm.usage.cost_usd")
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN);
        assert_eq!(spent, *cost, "{name}");
        assert_eq!(
            int(s, "gen_ai.usage.input_tokens"),
            input + read + created,
            "{name}: every prompt token"
        );
        assert_eq!(int(s, "gen_ai.usage.output_tokens"), *output, "{name}");
        assert_eq!(int(s, "swarm.usage.cache_read_tokens"), *read, "{name}");
        assert_eq!(
            int(s, "swarm.usage.cache_creation_tokens"),
            *created,
            "{name}"
        );
    }
    // The numbers themselves: the fixture's and the task's own file.
    let first = &attempts["attempt 1.1 #1"];
    assert_eq!(first.attr("swarm.outcome").as_deref(), Some("failed"));
    assert_eq!(first.attr("swarm.usage.cost_usd").as_deref(), Some("0.125"));
    assert_eq!(int(first, "gen_ai.usage.input_tokens"), 50);
    let second = &attempts["attempt 1.1 #2"];
    assert_eq!(second.attr("swarm.usage.cost_usd").as_deref(), Some("0.5"));
    assert_eq!(int(second, "gen_ai.usage.input_tokens"), 1110);
    assert_eq!(int(second, "gen_ai.usage.output_tokens"), 20);
    let own = &attempts["attempt 1.2 #1"];
    assert_eq!(own.attr("swarm.usage.cost_usd").as_deref(), Some("2"));
    assert_eq!(int(own, "gen_ai.usage.output_tokens"), 7);
    let quiet = &attempts["attempt 1.3 #1"];
    assert_eq!(quiet.attr("gen_ai.usage.input_tokens"), None);
    assert_eq!(quiet.attr("swarm.usage.cost_usd"), None);
}
