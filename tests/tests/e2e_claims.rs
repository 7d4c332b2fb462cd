//! Path claims (`**Touches**`): two tasks whose claims overlap never run
//! at the same time, while a task claiming other paths runs beside them.
//! The evidence is the ledger each task appends its start and end to.

use swarm_tests::{free_port, lines, write_plan, Daemon};

/// Appends the task's start and end, in nanoseconds, around a second of
/// work.
const RUN: &str = r#"echo "$SWARM_TASK_ID start $(date +%s%N)" >> ledger; sleep 1; echo "$SWARM_TASK_ID end $(date +%s%N)" >> ledger"#;

fn task(id: &str, touches: &str) -> String {
    format!(
        "**Task {id}**: Edit\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Touches**: {touches}\n- **Run**: `{RUN}`\n\n"
    )
}

/// Each task's (start, end) from the ledger.
fn spans(ledger: &[String], id: &str) -> (u128, u128) {
    let at = |what: &str| {
        ledger
            .iter()
            .find_map(|l| l.strip_prefix(&format!("{id} {what} ")))
            .and_then(|n| n.trim().parse::<u128>().ok())
            .unwrap_or_else(|| panic!("no {what} of {id} in {ledger:?}"))
    };
    (at("start"), at("end"))
}

#[test]
fn tasks_with_overlapping_claims_never_run_at_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let _agents: Vec<_> = ["sre-1", "sre-2", "sre-3"]
        .iter()
        .map(|id| d.agent(id, &["sre"]))
        .collect();
    d.wait_status(20, |s| s["agents"] == 3);
    let plan = format!(
        "# Claims\n\n### Day 1: Code\n\n{}{}{}",
        task("1.1", "`scripts/**`"),
        task("1.2", "scripts/backup.sh, docs/other.md"),
        task("1.3", "docs/backup/**"),
    );
    let plan = write_plan(dir.path(), "plan.md", &plan);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let status = d.wait_status(60, |s| s["state"] == "succeeded");
    assert_eq!(status["tasks"]["succeeded"], 3, "{status}");

    let ledger = lines(&dir.path().join("ledger"));
    let (a, b, c) = (
        spans(&ledger, "1.1"),
        spans(&ledger, "1.2"),
        spans(&ledger, "1.3"),
    );
    let overlap = |x: (u128, u128), y: (u128, u128)| x.0 < y.1 && y.0 < x.1;
    assert!(
        !overlap(a, b),
        "1.1 and 1.2 claim scripts/backup.sh both, yet ran at once: {ledger:?}"
    );
    assert!(
        overlap(a, c) || overlap(b, c),
        "1.3 claims other paths and runs beside them: {ledger:?}"
    );
}
