//! `swarmctl plan apply` against the real binaries: a running plan gets a
//! revision that adds two tasks, changes a pending task's duration and
//! dependencies, removes a pending task and changes the running task's
//! Run. The ledger the tasks append to proves the running attempt
//! finished under the old Run and the next one used the new Run, the
//! removed task never ran, the new tasks ran in dependency order and
//! nothing that had succeeded ran again; `plan history` and `plan diff`
//! show both versions; an invalid revision changed nothing (swarmd.db read
//! with plain SQLite, and status, before and after); and a coordinator
//! killed with SIGKILL right after the apply came back with the new
//! version.

use std::path::Path;

use swarm_tests::events::EventLog;
use swarm_tests::{free_port, lines, wait_for, write_plan, Daemon};

/// One SRE task: id, hours, dependencies, Run, extra bullets.
fn task(id: &str, hours: u32, deps: &str, run: &str, extra: &str) -> String {
    format!(
        "**Task {id}**: Step {id}\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: {hours} hours\n- **Dependencies**: {deps}\n- **Run**: `{run}`\n{extra}\n"
    )
}

/// 1.2 waits for `go.txt` before it writes its line and fails (its one
/// retry then runs the Run of the version that runs by then).
const OLD_RUN: &str = "echo 1.2-old-start >> ledger.txt; while [ ! -f go.txt ]; do sleep 0.05; done; echo 1.2-old >> ledger.txt; false";

fn version_1() -> String {
    [
        "# Revised\n\n### Day 1: Work\n\n".to_string(),
        task("1.1", 1, "None", "echo 1.1 >> ledger.txt", ""),
        task("1.2", 1, "Task 1.1", OLD_RUN, "- **Retries**: 1\n"),
        task("1.3", 1, "Task 1.2", "echo 1.3 >> ledger.txt", ""),
        task("1.4", 1, "Task 1.2", "echo 1.4 >> ledger.txt", ""),
    ]
    .concat()
}

/// 1.2's Run changed, 1.3 longer and after 1.6 too, 1.4 removed, 1.5 and
/// 1.6 added (1.6 after 1.5).
fn version_2() -> String {
    [
        "# Revised\n\n### Day 1: Work\n\n".to_string(),
        task("1.1", 1, "None", "echo 1.1 >> ledger.txt", ""),
        task(
            "1.2",
            1,
            "Task 1.1",
            "echo 1.2-new >> ledger.txt",
            "- **Retries**: 1\n",
        ),
        task("1.3", 2, "Task 1.2, Task 1.6", "echo 1.3 >> ledger.txt", ""),
        task("1.5", 1, "Task 1.1", "echo 1.5 >> ledger.txt", ""),
        task("1.6", 1, "Task 1.5", "echo 1.6 >> ledger.txt", ""),
    ]
    .concat()
}

/// Version 1 with a cycle: 1.3 after 1.4, 1.4 after 1.3.
fn invalid() -> String {
    version_1()
        .replace(
            "- **Dependencies**: Task 1.2\n- **Run**: `echo 1.3",
            "- **Dependencies**: Task 1.4\n- **Run**: `echo 1.3",
        )
        .replace(
            "- **Dependencies**: Task 1.2\n- **Run**: `echo 1.4",
            "- **Dependencies**: Task 1.3\n- **Run**: `echo 1.4",
        )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A task row as swarmd.db holds it: position, id, state, attempts.
type TaskRow = (u32, String, String, u32);

/// What swarmd.db holds about the plan: every task row, the versions and
/// the plan's text.
fn stored(workdir: &Path) -> (Vec<TaskRow>, i64, String) {
    let db = rusqlite::Connection::open(workdir.join(".swarm/swarmd.db")).expect("open swarmd.db");
    let mut stmt = db
        .prepare("SELECT idx, id, state, attempts FROM swarm_tasks ORDER BY idx")
        .expect("tasks");
    let tasks = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("rows")
        .collect::<Result<Vec<_>, _>>()
        .expect("tasks");
    let versions: i64 = db
        .query_row("SELECT COUNT(*) FROM swarm_plan_versions", [], |r| r.get(0))
        .expect("versions");
    let source: String = db
        .query_row("SELECT source FROM swarm_plans", [], |r| r.get(0))
        .expect("plan");
    (tasks, versions, source)
}

/// Position of `line` in the ledger.
fn at(ledger: &[String], line: &str) -> usize {
    (ledger.iter().position(|l| l == line)).unwrap_or_else(|| panic!("no {line} in {ledger:?}"))
}

#[test]
fn a_revision_applies_to_the_running_plan_and_survives_a_kill() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let mut d = Daemon::start(dir.path(), port);
    let _a = d.agent("sre-1", &["sre"]);
    let _b = d.agent("sre-2", &["sre"]);
    let v1 = write_plan(dir.path(), "v1.md", &version_1());
    let v2 = write_plan(dir.path(), "v2.md", &version_2());
    let bad = write_plan(dir.path(), "bad.md", &invalid());
    d.ctl_json(&["plan", "load", &v1.display().to_string(), "--json"]);
    let ledger = dir.path().join("ledger.txt");
    wait_for("1.2 to start", 30, || {
        lines(&ledger).contains(&"1.2-old-start".to_string())
    });

    // An invalid revision is refused with its file and line; nothing changes.
    let before = (
        stored(dir.path()),
        d.ctl_json(&["status", "--json"])["tasks"].clone(),
    );
    let refused = d.ctl(&["plan", "apply", &bad.display().to_string()]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    let err = text(&refused.stderr);
    assert!(
        err.contains("bad.md:") && err.contains("dependency cycle"),
        "{err}"
    );
    let after = (
        stored(dir.path()),
        d.ctl_json(&["status", "--json"])["tasks"].clone(),
    );
    assert_eq!(before, after, "an invalid revision changed nothing");
    assert_eq!(before.0 .1, 0, "no version was stored");

    // A dry run says what would change, and changes nothing either.
    let dry = d.ctl_json(&[
        "plan",
        "apply",
        &v2.display().to_string(),
        "--dry-run",
        "--json",
    ]);
    assert_eq!(dry["applied"], false, "{dry}");
    assert_eq!(stored(dir.path()), before.0);

    let applied = d.ctl_json(&[
        "--as",
        "Ann",
        "plan",
        "apply",
        &v2.display().to_string(),
        "--reason",
        "standup",
        "--json",
    ]);
    // Killed right after the apply answered: the new version is durable.
    d.kill9();
    assert_eq!(
        (applied["applied"].clone(), applied["version"].clone()),
        (true.into(), 2.into()),
        "{applied}"
    );
    assert_eq!(
        applied["summary"], "2 added, 1 removed, 2 changed",
        "{applied}"
    );
    let changes: Vec<&str> = (applied["changes"].as_array().expect("changes").iter())
        .filter_map(|c| c.as_str())
        .collect();
    for want in [
        "+ task 1.5: Step 1.5 (sre, P1, 1 hour, after 1.1)",
        "+ task 1.6: Step 1.6 (sre, P1, 1 hour, after 1.5)",
        "- task 1.4: Step 1.4",
        "~ task 1.3 duration: 1 hour → 2 hours",
        "~ task 1.3 dependencies: 1.2 → 1.2, 1.6",
    ] {
        assert!(changes.contains(&want), "{want} not in {changes:?}");
    }
    assert!(
        changes
            .iter()
            .any(|c| c.starts_with("~ task 1.2 run: echo 1.2-old-start")),
        "{changes:?}"
    );

    let d = Daemon::start(dir.path(), port);
    let history = d.ctl_json(&["plan", "history", "--json"]);
    let versions: Vec<(u64, &str, &str)> = (history.as_array().expect("history").iter())
        .map(|v| {
            (
                v["version"].as_u64().unwrap_or(0),
                v["actor"].as_str().unwrap_or(""),
                v["reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        versions,
        [(1, "admin", ""), (2, "admin (as Ann)", "standup")],
        "{history}"
    );
    assert_eq!(d.wait_task("1.4", "removed", 10)["attempts"], 0);
    // The next report says what changed, when, by whom and why.
    let report = text(&d.ctl(&["standup", "run"]).stdout);
    let section = report
        .find("### Plan changes")
        .unwrap_or_else(|| panic!("{report}"));
    assert!(
        report[section..]
            .contains("— version 2 by admin (as Ann) (standup): 2 added, 1 removed, 2 changed"),
        "{report}"
    );

    // The old attempt, resumed by its agent, ends under the old Run and
    // fails; its retry runs the new Run; the rest follows the new DAG.
    std::fs::write(dir.path().join("go.txt"), "go").expect("go");
    let status = d.wait_status(60, |s| s["state"] == "succeeded");
    assert_eq!(status["tasks"]["total"], 5, "{status}");
    assert_eq!(status["tasks"]["removed"], 1, "{status}");
    let shown = text(&d.ctl(&["status"]).stdout);
    assert!(shown.contains("· 5/5 done ·"), "{shown}");
    assert!(
        shown.contains("0 cancelled (1 removed from the plan)"),
        "{shown}"
    );
    let seen = lines(&ledger);
    for line in [
        "1.1",
        "1.2-old-start",
        "1.2-old",
        "1.2-new",
        "1.3",
        "1.5",
        "1.6",
    ] {
        assert_eq!(
            seen.iter().filter(|l| *l == line).count(),
            1,
            "{line} once: {seen:?}"
        );
    }
    assert!(
        !seen.contains(&"1.4".to_string()),
        "the removed task never ran: {seen:?}"
    );
    assert!(at(&seen, "1.2-old") < at(&seen, "1.2-new"), "{seen:?}");
    assert!(
        at(&seen, "1.5") < at(&seen, "1.6") && at(&seen, "1.6") < at(&seen, "1.3"),
        "{seen:?}"
    );
    assert!(at(&seen, "1.2-new") < at(&seen, "1.3"), "{seen:?}");

    let diff = d.ctl_json(&["plan", "diff", "1", "2", "--json"]);
    assert_eq!(diff["summary"], "2 added, 1 removed, 2 changed", "{diff}");
    let shown = text(&d.ctl(&["plan", "diff"]).stdout);
    assert!(
        shown.starts_with("version 1 → version 2: 2 added"),
        "{shown}"
    );
    let log = EventLog::read(&d);
    let revised = log.only("the revision", |e| e.kind == "plan.revised");
    assert!(revised.message.starts_with("version 2: "), "{log}");
    log.only("1.4 leaving the plan", |e| e.is("task.removed", "1.4"));
    let (_, stored_versions, _) = stored(dir.path());
    assert_eq!(stored_versions, 2);
}
