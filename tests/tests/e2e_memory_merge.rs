//! `.swarm/memory.db` kept in step with a whole-file writer at work: a
//! writer that behaves like sql.js (reads the whole file, inserts a row in
//! its copy, truncates the file and writes the whole copy back) runs about
//! ten times, then about once, a second while a plan's tasks put keys with
//! `swarmctl memory put`, never retrying. No put fails, and at the end
//! the file itself (read with plain SQLite) holds every acknowledged key
//! and every row the writer wrote; both files pass `integrity_check`, and
//! swarmd restarts cleanly on them.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OpenFlags};
use swarm_tests::memory_file::{live_values, memory_db};
use swarm_tests::{free_port, task_states, write_plan, Daemon};

const TASKS: u32 = 4;
const PUTS_PER_TASK: u32 = 12;

/// What swarmd's copy in swarmd.db says of these `namespace/key`s.
fn copy_of(dir: &Path, keys: &[String]) -> Vec<String> {
    let Ok(db) = Connection::open_with_flags(
        dir.join(".swarm/swarmd.db"),
        OpenFlags::SQLITE_OPEN_READ_ONLY,
    ) else {
        return Vec::new();
    };
    keys.iter()
        .map(|k| {
            db.query_row(
                "SELECT status || ' ' || origin || ' pending=' || pending || ' updated_at=' || updated_at
                 FROM swarm_memory_rows WHERE namespace || '/' || key = ?1",
                [k],
                |r| r.get::<_, String>(0),
            )
            .map_or_else(|e| format!("{k}: {e}"), |row| format!("{k}: {row}"))
        })
        .collect()
}

fn integrity(path: &Path) -> String {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|db| db.query_row("PRAGMA integrity_check", [], |r| r.get(0)))
        .unwrap_or_else(|e| e.to_string())
}

/// One round of a sql.js-like writer: the whole file into a copy, one row
/// inserted there, and some `work_ms` later the whole copy written back
/// over the file (truncate, then write). Returns the row's key once the
/// write-back completed; `None` when the copy it read was not a sound
/// database (sql.js would not open it either) or the file was missing.
fn sqljs_round(path: &Path, scratch: &Path, round: u32, work_ms: u64) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    std::fs::write(scratch, &bytes).ok()?;
    let key = format!("cf-{round}");
    {
        let db = Connection::open(scratch).ok()?;
        let ok: String = db.query_row("PRAGMA quick_check", [], |r| r.get(0)).ok()?;
        if ok != "ok" {
            return None;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        db.execute(
            "INSERT INTO memory_entries (id, key, namespace, content, created_at, updated_at)
             VALUES (?1, ?2, 'claude-flow', ?3, ?4, ?4)",
            params![
                format!("entry_{now}_cf{round}"),
                key,
                format!("round {round}"),
                now
            ],
        )
        .ok()?;
    }
    // Meanwhile swarmd goes on writing the real file.
    std::thread::sleep(Duration::from_millis(work_ms));
    let copy = std::fs::read(scratch).ok()?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .ok()?;
    file.write_all(&copy).ok()?;
    Some(key)
}

/// Runs the writer every `period` until `stop`; what it wrote back, in
/// order, goes to `log`.
fn start_writer(
    dir: &Path,
    period: Duration,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<String>>>,
) -> std::thread::JoinHandle<()> {
    let path = memory_db(dir);
    let scratch = dir.join("sqljs-copy.db");
    std::thread::spawn(move || {
        let mut round = 0;
        while !stop.load(Ordering::Relaxed) {
            round += 1;
            let started = Instant::now();
            let work = (period.as_millis() as u64 / 3).min(150);
            if let Some(key) = sqljs_round(&path, &scratch, round, work) {
                log.lock().expect("log").push(key);
            }
            std::thread::sleep(period.saturating_sub(started.elapsed()));
        }
    })
}

/// Tasks that each put keys one after another, never retrying: a failed
/// put fails the task (and the plan, with no retries).
fn plan(pause: &str) -> String {
    let mut plan = String::from("# Memory beside a whole-file writer\n\n### Day 1: Write\n\n");
    for t in 1..=TASKS {
        plan.push_str(&format!(
            "**Task 1.{t}**: Put {PUTS_PER_TASK} keys\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Retries**: 0\n- **Run**: `set -e; for i in $(seq 1 {PUTS_PER_TASK}); do swarmctl memory put t{t}-k$i v$i >/dev/null; sleep {pause}; done`\n\n"
        ));
    }
    plan
}

fn run_beside_writer(period: Duration, pause: &str) {
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let mut d = Daemon::start(dir.path(), port);
    let _a = d.agent("sre-1", &["sre"]);
    let _b = d.agent("sre-2", &["sre"]);
    d.ctl_json(&["memory", "put", "seed", "planted", "--json"]);
    let stop = Arc::new(AtomicBool::new(false));
    let log = Arc::new(Mutex::new(Vec::new()));
    let writer = start_writer(dir.path(), period, stop.clone(), log.clone());
    let plan_file = write_plan(dir.path(), "plan.md", &plan(pause));
    d.ctl_json(&["plan", "load", &plan_file.display().to_string(), "--json"]);
    let status = d.wait_status(120, |s| {
        s["state"] == "succeeded" || s["state"] == "failed" || s["tasks"]["failed"] != 0
    });
    stop.store(true, Ordering::Relaxed);
    writer.join().expect("writer");
    assert_eq!(
        status["state"],
        "succeeded",
        "a put failed: {:?}\n{status}",
        task_states(&d.ctl_json(&["tasks", "--json"]))
    );
    let written = log.lock().expect("log").clone();
    assert!(
        written.len() >= 3,
        "the writer rewrote the file {} times",
        written.len()
    );

    let mut want: Vec<String> = vec!["default/seed".into()];
    for t in 1..=TASKS {
        for i in 1..=PUTS_PER_TASK {
            want.push(format!("default/t{t}-k{i}"));
        }
    }
    want.extend(written.iter().map(|k| format!("claude-flow/{k}")));
    // swarmd merges the writer's last rewrite and puts back what it lost.
    let deadline = Instant::now() + Duration::from_secs(20);
    let missing = loop {
        let values = live_values(&memory_db(dir.path())).unwrap_or_default();
        let missing: Vec<String> = want
            .iter()
            .filter(|k| !values.contains_key(*k))
            .cloned()
            .collect();
        if missing.is_empty() || Instant::now() > deadline {
            break missing;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        missing.is_empty(),
        "missing from memory.db: {missing:?}; swarmd's copy of them: {:?}; .swarm holds {:?}; events: {:?}",
        copy_of(dir.path(), &missing),
        std::fs::read_dir(dir.path().join(".swarm"))
            .map(|r| r.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
            .unwrap_or_default(),
        swarm_tests::events::EventLog::read(&d)
            .all(|e| e.kind.starts_with("memory."))
            .iter()
            .map(|e| format!("{} {}", e.kind, e.message))
            .collect::<Vec<_>>()
    );
    // Status tells what the file still lacks and when it was merged.
    let status = d.wait_status(10, |s| {
        s["memory"]
            .as_str()
            .is_some_and(|m| m.contains("0 writes pending for memory.db, last merged"))
    });
    assert!(!status["memory"]
        .as_str()
        .unwrap_or("")
        .contains("unreachable"));
    let values = live_values(&memory_db(dir.path())).expect("readable");
    assert_eq!(values["default/t2-k7"], "v7");
    assert_eq!(values[&format!("claude-flow/{}", written[0])], "round 1");
    assert_eq!(integrity(&memory_db(dir.path())), "ok");
    assert_eq!(integrity(&dir.path().join(".swarm/swarmd.db")), "ok");
    let corrupt = std::fs::read_dir(dir.path().join(".swarm"))
        .expect("dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("corrupt"))
        .count();
    assert_eq!(corrupt, 0, "a rewritten file is never judged corrupt");

    // A restart is clean, on both files.
    d.stop();
    let d = Daemon::start(dir.path(), port);
    assert_eq!(d.ctl_json(&["status", "--json"])["state"], "succeeded");
    let got = d.ctl_json(&["memory", "get", "t4-k12", "--json"]);
    assert_eq!(got["value"], "v12", "{got}");
    let last = written.last().expect("a row");
    let theirs = d.ctl_json(&["memory", "get", last, "-n", "claude-flow", "--json"]);
    assert!(theirs["value"].as_str().is_some(), "{theirs}");
}

#[test]
fn a_whole_file_writer_ten_times_a_second_loses_nothing_and_fails_no_put() {
    run_beside_writer(Duration::from_millis(100), "0.05");
}

#[test]
fn a_whole_file_writer_once_a_second_loses_nothing_and_fails_no_put() {
    run_beside_writer(Duration::from_millis(1000), "0.3");
}
