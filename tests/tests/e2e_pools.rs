//! Pools with the real binaries: six tasks of pool `anthropic`
//! (`[pool.anthropic] concurrency = 2`) on three agents running the fake
//! Claude Code, which appends start and end times to a ledger: never
//! three attempts at once, yet two at once (the limit, not a lack of
//! agents); a task of another pool runs beside them.

use std::path::{Path, PathBuf};

use swarm_tests::{free_port, write_plan, Agent, Daemon};

fn fake_claude() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fake-claude.sh")
}

fn plan() -> String {
    let mut md = String::from("# Pools\n\n### Day 1: Review\n\n");
    for n in 1..=6 {
        md.push_str(&format!(
            "**Task 1.{n}**: Review module {n}\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Pool**: anthropic\n\n"
        ));
    }
    md.push_str("**Task 1.7**: Count the lines\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Pool**: local\n");
    md
}

#[test]
fn a_pool_of_concurrency_two_never_runs_three_attempts_at_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path();
    let config = work.join("swarmd.toml");
    std::fs::write(&config, "[pool.anthropic]\nconcurrency = 2\n").expect("config");
    let d = Daemon::start_with(
        work,
        free_port(),
        &["--config", &config.display().to_string()],
    );
    let shown = d.ctl(&["status"]);
    assert!(shown.status.success());
    let plan = write_plan(work, "plan.md", &plan());
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let exec = format!("sh {}", fake_claude().display());
    let _agents: Vec<Agent> = (1..=3)
        .map(|n| {
            Agent::start_with_env(
                &d.url(),
                work,
                &format!("sre-{n}"),
                &["SRE"],
                &["--exec", &exec],
                &[("FAKE_SLEEP", "0.6")],
            )
        })
        .collect();
    let status = d.wait_status(90, |s| s["state"] == "succeeded" || s["state"] == "failed");
    assert_eq!(status["state"], "succeeded", "{status}");

    // (ms, +1 start / -1 end) of the pool's tasks, in time order; an end
    // before a start at the same ms.
    let ledger = std::fs::read_to_string(work.join("fake-claude.ledger")).expect("ledger");
    let mut moments: Vec<(i64, i32)> = Vec::new();
    for line in ledger.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        if w.get(1) == Some(&"1.7") {
            continue;
        }
        let at: i64 = w[4].parse().expect("ms");
        match w[0] {
            "start" => moments.push((at, 1)),
            "end" => moments.push((at, -1)),
            _ => {}
        }
    }
    assert_eq!(moments.len(), 12, "{ledger}");
    moments.sort();
    let (mut now, mut most) = (0, 0);
    for (_, step) in &moments {
        now += step;
        most = most.max(now);
    }
    assert_eq!(
        most, 2,
        "at most two at once, and two did run together:\n{ledger}"
    );
}
