//! `.swarm/memory.db` is shared with claude-flow, which writes it whole
//! (sql.js): nothing swarmd acknowledged is lost to such a writer, a copy
//! of the file alone holds every acknowledged entry, a broken file is
//! rebuilt from the journal without stopping anything, and a workdir of
//! the single-file layout moves to two files.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use swarm_tests::events::EventLog;
use swarm_tests::memory_file::{live_values, memory_db};
use swarm_tests::{free_port, write_plan, Daemon};

fn integrity(path: &Path) -> String {
    Connection::open(path)
        .and_then(|db| db.query_row("PRAGMA integrity_check", [], |r| r.get(0)))
        .unwrap_or_else(|e| e.to_string())
}

/// What sql.js does: read the whole file, change a copy, write the whole
/// copy back (truncate, then write) a little later.
fn rewrite_whole_file(path: &Path, scratch: &Path, round: u32) {
    let Ok(bytes) = std::fs::read(path) else {
        return;
    };
    if std::fs::write(scratch, &bytes).is_err() {
        return;
    }
    let changed = Connection::open(scratch).and_then(|db| {
        db.execute(
            "INSERT OR REPLACE INTO memory_entries (id, key, namespace, content, created_at, updated_at)
             VALUES (?1, ?2, 'claude-flow', ?3, 1, 1)",
            (format!("entry_cf_{round}"), format!("round-{round}"), "from claude-flow"),
        )
    });
    if changed.is_err() {
        return;
    }
    // Meanwhile swarmd goes on writing the real file.
    std::thread::sleep(Duration::from_millis(50 + u64::from(round % 5) * 50));
    let Ok(copy) = std::fs::read(scratch) else {
        return;
    };
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
    {
        let _ = f.write_all(&copy);
    }
}

const PUTS_PER_TASK: u32 = 25;

fn writing_plan() -> String {
    let mut plan = String::from("# Memory under fire\n\n### Day 1: Write\n\n");
    for t in 1..=4 {
        plan.push_str(&format!(
            "**Task 1.{t}**: Write 25 keys\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `for i in $(seq 1 {PUTS_PER_TASK}); do until swarmctl memory put t{t}-k$i v$i >/dev/null 2>&1; do sleep 0.1; done; sleep 0.05; done`\n\n"
        ));
    }
    plan
}

#[test]
fn a_whole_file_writer_loses_nothing_swarmd_acknowledged() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let mut d = Daemon::start(dir.path(), port);
    let _a = d.agent("sre-1", &["sre"]);
    let _b = d.agent("sre-2", &["sre"]);
    d.ctl_json(&["memory", "put", "seed", "planted", "--json"]);
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, path) = (stop.clone(), memory_db(dir.path()));
        let scratch = dir.path().join("sqljs-copy.db");
        std::thread::spawn(move || {
            let mut round = 0;
            while !stop.load(Ordering::Relaxed) {
                round += 1;
                rewrite_whole_file(&path, &scratch, round);
                std::thread::sleep(Duration::from_millis(100));
            }
            round
        })
    };
    let plan = write_plan(dir.path(), "plan.md", &writing_plan());
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    d.wait_status(120, |s| s["state"] == "succeeded");
    stop.store(true, Ordering::Relaxed);
    let rounds = writer.join().expect("writer");
    assert!(rounds > 3, "the writer rewrote the file {rounds} times");

    // Every acknowledged key comes back into the file itself.
    let mut want: Vec<String> = vec!["default/seed".into()];
    for t in 1..=4 {
        for i in 1..=PUTS_PER_TASK {
            want.push(format!("default/t{t}-k{i}"));
        }
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let missing = loop {
        let values = live_values(&memory_db(dir.path())).unwrap_or_default();
        let missing: Vec<&String> = want.iter().filter(|k| !values.contains_key(*k)).collect();
        if missing.is_empty() || Instant::now() > deadline {
            break missing.into_iter().cloned().collect::<Vec<_>>();
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(missing.is_empty(), "lost from memory.db: {missing:?}");
    let values = live_values(&memory_db(dir.path())).expect("readable");
    assert_eq!(values["default/t3-k7"], "v7");
    assert_eq!(values["default/seed"], "planted");
    assert_eq!(integrity(&memory_db(dir.path())), "ok");
    assert_eq!(integrity(&dir.path().join(".swarm/swarmd.db")), "ok");
    let log = EventLog::read(&d);
    assert!(
        !log.all(|e| e.kind == "memory.reconciled" || e.kind == "memory.rebuilt")
            .is_empty(),
        "the rewrites were noticed and repaired"
    );

    // And swarmd restarts cleanly on both files.
    d.stop();
    let d = Daemon::start(dir.path(), port);
    let got = d.ctl_json(&["memory", "get", "t4-k25", "--json"]);
    assert_eq!(got["value"], "v25", "{got}");
    assert_eq!(d.ctl_json(&["status", "--json"])["state"], "succeeded");
}

#[test]
fn a_copy_of_memory_db_alone_holds_every_acknowledged_entry() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    for i in 1..=20 {
        d.ctl_json(&[
            "memory",
            "put",
            &format!("k{i}"),
            &format!("v{i}"),
            "--json",
        ]);
    }
    let copy = dir.path().join("copy.db");
    std::fs::copy(memory_db(dir.path()), &copy).expect("copy the file alone");
    assert!(
        !dir.path().join(".swarm/memory.db-wal").exists(),
        "no WAL beside it"
    );
    let values = live_values(&copy).expect("the copy opens on its own");
    for i in 1..=20 {
        assert_eq!(values.get(&format!("default/k{i}")), Some(&format!("v{i}")));
    }
    // Only swarmd's user may read .swarm/ and what is in it.
    use std::os::unix::fs::PermissionsExt;
    let state = dir.path().join(".swarm");
    let mode = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    };
    assert_eq!(mode(&state), 0o700);
    for entry in std::fs::read_dir(&state).expect("dir").flatten() {
        if entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            assert_eq!(mode(&entry.path()), 0o600, "{}", entry.path().display());
        }
    }
}

/// Waits for a rebuild logged after event `since`.
fn wait_rebuilt(d: &Daemon, since: u64) {
    EventLog::wait(d, 20, "memory.db rebuilt", |e| {
        e.kind == "memory.rebuilt" && e.seq > since
    });
}

#[test]
fn a_corrupt_memory_db_is_rebuilt_while_running_and_before_start() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let mut d = Daemon::start(dir.path(), port);
    let _a = d.agent("sre-1", &["sre"]);
    for i in 1..=5 {
        d.ctl_json(&[
            "memory",
            "put",
            &format!("k{i}"),
            &format!("v{i}"),
            "--json",
        ]);
    }
    // Garbage pages over the file while swarmd runs.
    std::fs::write(memory_db(dir.path()), vec![0xAB_u8; 8192]).expect("garbage");
    let plan = write_plan(
        dir.path(),
        "plan.md",
        "# Goes on\n\n### Day 1: Work\n\n**Task 1.1**: Runs regardless\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Run**: `echo ran >> ledger.txt`\n",
    );
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    d.wait_status(20, |s| s["state"] == "succeeded");
    wait_rebuilt(&d, 0);
    let values = live_values(&memory_db(dir.path())).expect("a fresh file");
    for i in 1..=5 {
        assert_eq!(values.get(&format!("default/k{i}")), Some(&format!("v{i}")));
    }
    let aside: Vec<String> = std::fs::read_dir(dir.path().join(".swarm"))
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("memory.db.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1, "the broken file is kept aside: {aside:?}");
    let status = d.ctl_json(&["status", "--json"]);
    assert!(
        status["memory"].as_str().unwrap_or("").contains("rebuilt"),
        "{status}"
    );

    // Truncated before swarmd starts: it starts all the same.
    let before = EventLog::read(&d).last_seq();
    d.stop();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(memory_db(dir.path()))
        .expect("open");
    f.set_len(50).expect("truncate");
    drop(f);
    let d = Daemon::start(dir.path(), port);
    wait_rebuilt(&d, before);
    let got = d.ctl_json(&["memory", "get", "k3", "--json"]);
    assert_eq!(got["value"], "v3");
}

#[test]
fn a_single_file_workdir_moves_to_two_files() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(dir.path().join(".swarm")).expect("mkdir");
    // Made by the release before the split (see tests/fixtures/README.md).
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/single-file-memory.db");
    std::fs::copy(&fixture, memory_db(dir.path())).expect("copy the fixture");
    let d = Daemon::start(dir.path(), free_port());
    let status = d.ctl_json(&["status", "--json"]);
    assert_eq!(status["plan"], "Single file", "{status}");
    assert_eq!(status["state"], "succeeded", "{status}");
    assert_eq!(
        d.ctl_json(&["memory", "get", "old/key", "--json"])["value"],
        "old-value"
    );
    let log = EventLog::read(&d);
    assert!(
        !log.all(|e| e.kind == "plan.succeeded").is_empty(),
        "the old event log came along"
    );
    let shared = Connection::open(memory_db(dir.path())).expect("open");
    let left: i64 = shared
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'swarm_%'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(left, 0, "memory.db holds the shared memory alone");
    let state = Connection::open(dir.path().join(".swarm/swarmd.db")).expect("open");
    let plans: i64 = state
        .query_row("SELECT COUNT(*) FROM swarm_plans", [], |r| r.get(0))
        .expect("count");
    assert_eq!(plans, 1);
}
