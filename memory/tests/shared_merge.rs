//! The shared memory against real files: swarmd's copy in `swarmd.db`
//! and `memory.db` written behind its back by plain SQLite and by a
//! sql.js-like whole-file writer. Time is passed in; the files are read
//! back with plain SQLite.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection};
use swarm_memory::kv::{Put, V2_TABLE_DDL};
use swarm_memory::shared::journal::Retention;
use swarm_memory::shared::watch::{IDLE_MS, STABLE_MS};
use swarm_memory::shared::{FileState, Repair, SharedMemory, Synced, UNREADABLE_GRACE_MS};
use swarm_memory::Store;

/// A time well inside the fixture's and today's range, ms.
const T0: i64 = 1_800_000_000_000;

struct Fixture {
    dir: tempfile::TempDir,
    mem: SharedMemory,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture::with(|_| {})
    }

    /// A fixture whose memory.db is prepared by `prepare` first.
    fn with(prepare: impl FnOnce(&Path)) -> Fixture {
        let dir = tempfile::tempdir().expect("tmp");
        prepare(&dir.path().join("memory.db"));
        let state = dir.path().join("swarmd.db");
        drop(Store::open(&state).expect("swarmd.db"));
        let copy = Connection::open(&state).expect("copy");
        let keep = Retention {
            max_age_ms: 60_000,
            max_rows: 1_000,
        };
        let path = dir.path().join("memory.db");
        let mem = SharedMemory::new(&path, copy, keep, Duration::from_secs(5));
        Fixture { dir, mem }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("memory.db")
    }

    /// Looks `STABLE_MS` apart until the file is read in (a file that
    /// SQLite converts from WAL on the way takes one round more); what
    /// any of the looks told is kept.
    fn settle(&mut self, now: i64) -> Synced {
        let mut synced = self.mem.sync(now).expect("sync");
        for round in 1..=4 {
            if synced.state != FileState::Settling {
                break;
            }
            let told = synced.repair.take();
            synced = self.mem.sync(now + STABLE_MS * round).expect("sync");
            synced.repair = synced.repair.or(told);
        }
        synced
    }

    fn put(&mut self, key: &str, value: &str, now: i64) {
        self.mem
            .put(&Put::new(key, value), now, 1 << 20)
            .expect("put");
    }

    fn get(&mut self, key: &str, now: i64) -> Option<String> {
        self.mem
            .get("default", key, now)
            .expect("get")
            .map(|e| e.value)
    }

    /// Copy rows by key: (status, origin).
    fn copy_rows(&self) -> BTreeMap<String, (String, String)> {
        let db = Connection::open(self.dir.path().join("swarmd.db")).expect("open");
        let mut stmt = db
            .prepare("SELECT key, status, origin FROM swarm_memory_rows")
            .expect("prepare");
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
            .expect("query");
        rows.collect::<Result<_, _>>().expect("rows")
    }
}

/// Live values of a v3 file, read with plain SQLite.
fn live(path: &Path) -> BTreeMap<String, String> {
    let db = Connection::open(path).expect("open");
    let mut stmt = db
        .prepare("SELECT key, content FROM memory_entries WHERE status = 'active'")
        .expect("prepare");
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query");
    rows.collect::<Result<_, _>>().expect("rows")
}

/// Another tool's write through plain SQLite.
fn foreign_put(path: &Path, key: &str, content: &str, at: i64) {
    Connection::open(path)
        .and_then(|db| {
            db.execute(
                "INSERT OR REPLACE INTO memory_entries (id, key, namespace, content, created_at, updated_at)
                 VALUES (?1, ?2, 'default', ?3, ?4, ?4)",
                params![format!("entry_{at}_cf{key}"), key, content, at],
            )
        })
        .expect("foreign write");
}

fn integrity(path: &Path) -> String {
    Connection::open(path)
        .and_then(|db| db.query_row("PRAGMA integrity_check", [], |r| r.get(0)))
        .unwrap_or_else(|e| e.to_string())
}

#[test]
fn foreign_inserts_updates_and_deletes_are_merged() {
    let mut f = Fixture::new();
    f.settle(T0);
    foreign_put(&f.path(), "theirs", "one", T0 + 10);
    let merged = f.settle(T0 + 100);
    assert_eq!(
        merged.repair,
        Some(Repair::Merged {
            adopted: 1,
            deleted: 0,
            reapplied: 0
        })
    );
    assert_eq!(f.get("theirs", T0 + 200).as_deref(), Some("one"));
    foreign_put(&f.path(), "theirs", "two", T0 + 300);
    f.settle(T0 + 400);
    assert_eq!(f.get("theirs", T0 + 500).as_deref(), Some("two"));
    Connection::open(f.path())
        .and_then(|db| db.execute("DELETE FROM memory_entries WHERE key = 'theirs'", []))
        .expect("foreign delete");
    // Merges are told at most every five seconds, summed: the update
    // first (held back since its merge), the delete five seconds later.
    let merged = f.settle(T0 + 6_000);
    assert_eq!(
        merged.repair,
        Some(Repair::Merged {
            adopted: 1,
            deleted: 0,
            reapplied: 0
        }),
    );
    let later = f.mem.sync(T0 + 11_100).expect("sync");
    assert_eq!(
        later.repair,
        Some(Repair::Merged {
            adopted: 0,
            deleted: 1,
            reapplied: 0
        }),
    );
    assert_eq!(f.get("theirs", T0 + 6_100), None);
    assert_eq!(
        f.copy_rows()["theirs"],
        ("deleted".to_string(), "other".to_string()),
        "kept as a tombstone"
    );
}

#[test]
fn a_write_a_rewrite_dropped_is_written_again() {
    let mut f = Fixture::new();
    f.settle(T0);
    foreign_put(&f.path(), "theirs", "kept", T0 + 5);
    f.settle(T0 + 10);
    // sql.js reads the whole file...
    let stale = std::fs::read(f.path()).expect("read");
    // Once the other tool has been quiet a while, writes go in at once.
    f.put("mine", "acknowledged", T0 + IDLE_MS + 100);
    f.mem.sync(T0 + IDLE_MS + 100).expect("flush");
    assert_eq!(live(&f.path())["mine"], "acknowledged", "flushed at once");
    // ...and writes it back whole, without swarmd's write.
    std::fs::write(f.path(), &stale).expect("rewrite");
    assert!(!live(&f.path()).contains_key("mine"));
    let merged = f.settle(T0 + 10_000);
    assert_eq!(
        merged.repair,
        Some(Repair::Merged {
            adopted: 0,
            deleted: 0,
            reapplied: 1
        })
    );
    let values = live(&f.path());
    assert_eq!(values["mine"], "acknowledged");
    assert_eq!(values["theirs"], "kept");
    assert_eq!(integrity(&f.path()), "ok");
}

#[test]
fn newer_updated_at_wins_both_ways() {
    let mut f = Fixture::new();
    f.settle(T0);
    f.put("k", "swarmd", T0 + 100);
    f.mem.sync(T0 + 100).expect("flush");
    // Another tool writes it later: theirs wins.
    let before_theirs = std::fs::read(f.path()).expect("read");
    foreign_put(&f.path(), "k", "theirs", T0 + 200);
    f.settle(T0 + 300);
    assert_eq!(f.get("k", T0 + 400).as_deref(), Some("theirs"));
    // A stale rewrite brings swarmd's older version back: theirs is
    // written again, since it is newer.
    std::fs::write(f.path(), &before_theirs).expect("stale rewrite");
    let merged = f.settle(T0 + 6_000);
    assert!(
        matches!(merged.repair, Some(Repair::Merged { reapplied: 1, .. })),
        "{merged:?}"
    );
    assert_eq!(live(&f.path())["k"], "theirs");
    // swarmd writes after that: swarmd wins, in the file too.
    f.put("k", "swarmd again", T0 + 6_090);
    f.mem.sync(T0 + 6_090).expect("flush");
    assert_eq!(live(&f.path())["k"], "swarmd again");
    // An older foreign write arriving now loses.
    foreign_put(&f.path(), "k", "too old", T0 + 6_050);
    f.settle(T0 + 6_200);
    assert_eq!(f.get("k", T0 + 6_300).as_deref(), Some("swarmd again"));
    assert_eq!(live(&f.path())["k"], "swarmd again");
}

#[test]
fn a_torn_file_is_not_judged_corrupt_and_calls_go_on() {
    let mut f = Fixture::new();
    f.settle(T0);
    f.put("mine", "v", T0 + 10);
    f.mem.sync(T0 + 10).expect("flush");
    let whole = std::fs::read(f.path()).expect("read");
    // Half-written by a whole-file writer, and still being written.
    std::fs::write(f.path(), &whole[..whole.len() / 2]).expect("torn");
    let mut now = T0 + 100;
    for chunk in 0..5 {
        let state = f.settle(now).state;
        assert!(matches!(state, FileState::Unreadable(_)), "{state:?}");
        // Calls are answered all the same, from swarmd's copy.
        f.put(&format!("during-{chunk}"), "v", now + 70);
        assert_eq!(f.get("mine", now + 80).as_deref(), Some("v"));
        now += UNREADABLE_GRACE_MS - 500;
        // The writer goes on: the file changes, the clock starts again.
        let cut = whole.len() / 2 + (chunk + 1) * 16;
        std::fs::write(f.path(), &whole[..cut]).expect("torn");
    }
    std::fs::write(f.path(), &whole).expect("finished");
    let done = f.settle(now);
    assert_eq!(done.state, FileState::InStep);
    assert!(!matches!(done.repair, Some(Repair::Rebuilt { .. })));
    let aside = std::fs::read_dir(f.dir.path())
        .expect("dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("corrupt"))
        .count();
    assert_eq!(aside, 0, "nothing was moved aside");
    // What swarmd acknowledged meanwhile reaches the file.
    f.mem.sync(now + 100).expect("flush");
    let values = live(&f.path());
    assert_eq!(values["mine"], "v");
    for chunk in 0..5 {
        assert!(
            values.contains_key(&format!("during-{chunk}")),
            "{values:?}"
        );
    }
}

#[test]
fn a_file_unreadable_and_unchanged_is_rebuilt_with_every_row() {
    use std::os::unix::fs::MetadataExt;
    let mut f = Fixture::new();
    f.settle(T0);
    foreign_put(&f.path(), "theirs", "foreign row", T0 + 5);
    f.settle(T0 + 10);
    f.put("mine", "swarmd row", T0 + 100);
    f.mem.sync(T0 + 100).expect("flush");
    std::fs::write(f.path(), vec![0xAB_u8; 8192]).expect("garbage");
    let inode = std::fs::metadata(f.path()).expect("meta").ino();
    let first = f.settle(T0 + 200);
    assert!(matches!(first.state, FileState::Unreadable(_)), "{first:?}");
    let still = f.settle(T0 + 200 + UNREADABLE_GRACE_MS - 100);
    assert!(matches!(still.state, FileState::Unreadable(_)), "{still:?}");
    let rebuilt = f.settle(T0 + 300 + UNREADABLE_GRACE_MS);
    let Some(Repair::Rebuilt { moved_to, rows, .. }) = rebuilt.repair else {
        panic!("not rebuilt: {rebuilt:?}");
    };
    assert_eq!(rows, 2);
    let aside = moved_to.expect("the broken file is kept");
    assert_eq!(std::fs::read(&aside).expect("aside"), vec![0xAB_u8; 8192]);
    assert_ne!(
        std::fs::metadata(f.path()).expect("meta").ino(),
        inode,
        "a new file renamed into place"
    );
    let values = live(&f.path());
    assert_eq!(values["theirs"], "foreign row");
    assert_eq!(values["mine"], "swarmd row");
    assert_eq!(integrity(&f.path()), "ok");
    let leftovers = std::fs::read_dir(f.dir.path())
        .expect("dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("rebuild"))
        .count();
    assert_eq!(leftovers, 0, "the temporary file was renamed");
}

#[test]
fn tombstones_undo_stale_rewrites_and_expire_by_the_retention() {
    let mut f = Fixture::new();
    f.settle(T0);
    foreign_put(&f.path(), "gone", "soon", T0 + 5);
    f.settle(T0 + 10);
    let stale = std::fs::read(f.path()).expect("read");
    assert!(f
        .mem
        .delete("default", "gone", T0 + IDLE_MS + 100)
        .expect("delete"));
    f.mem.sync(T0 + IDLE_MS + 100).expect("flush");
    assert!(!live(&f.path()).contains_key("gone"), "soft-deleted in v3");
    std::fs::write(f.path(), &stale).expect("stale rewrite");
    f.settle(T0 + IDLE_MS + 200);
    assert!(!live(&f.path()).contains_key("gone"), "the delete holds");
    assert_eq!(f.get("gone", T0 + IDLE_MS + 300), None);
    assert!(f.copy_rows().contains_key("gone"));
    // The retention in this fixture is a minute.
    f.mem.prune(T0 + IDLE_MS + 100 + 60_001).expect("prune");
    assert!(!f.copy_rows().contains_key("gone"), "forgotten");
}

#[test]
fn a_locked_file_never_fails_a_call() {
    let mut f = Fixture::new();
    f.settle(T0);
    let other = Connection::open(f.path()).expect("open");
    other.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    f.put("k", "v", T0 + 10);
    assert_eq!(f.get("k", T0 + 20).as_deref(), Some("v"));
    let state = f.mem.sync(T0 + 30).expect("sync").state;
    assert_eq!(state, FileState::Busy);
    assert_eq!(f.mem.pending().expect("pending"), 1);
    // Created and deleted while the file could not take it: nothing to
    // write, and nothing left pending.
    f.put("brief", "v", T0 + 31);
    assert!(f.mem.delete("default", "brief", T0 + 32).expect("delete"));
    other.execute_batch("COMMIT").expect("unlock");
    f.mem.sync(T0 + 40).expect("sync");
    assert_eq!(f.mem.pending().expect("pending"), 0);
    assert_eq!(live(&f.path())["k"], "v");
    let count: i64 = Connection::open(f.path())
        .and_then(|db| {
            db.query_row(
                "SELECT access_count FROM memory_entries WHERE key = 'k'",
                [],
                |r| r.get(0),
            )
        })
        .expect("count");
    assert_eq!(
        count, 1,
        "the read answered from the copy is counted in the file"
    );
}

#[test]
fn a_v2_file_keeps_its_layout() {
    let mut f = Fixture::with(|path| {
        let db = Connection::open(path).expect("v2");
        db.execute_batch(V2_TABLE_DDL).expect("v2 schema");
        db.execute(
            "INSERT INTO memory_entries (key, value, namespace, created_at, updated_at)
             VALUES ('old', 'from v2', 'default', 1800000000, 1800000000)",
            [],
        )
        .expect("v2 row");
    });
    f.settle(T0 + 1_000);
    assert_eq!(f.get("old", T0 + 2_000).as_deref(), Some("from v2"));
    f.put("new", "from swarmd", T0 + 3_000);
    f.mem.sync(T0 + 3_000).expect("flush");
    let db = Connection::open(f.path()).expect("open");
    let (value, updated, id): (String, i64, i64) = db
        .query_row(
            "SELECT value, updated_at, id FROM memory_entries WHERE key = 'new'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("v2 row written");
    assert_eq!(value, "from swarmd");
    assert_eq!(updated, (T0 + 3_000) / 1000, "seconds, as v2 keeps them");
    assert!(id > 1, "numbered by the file");
    let has_content: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM pragma_table_info('memory_entries') WHERE name = 'content'",
            [],
            |r| r.get(0),
        )
        .expect("columns");
    assert_eq!(has_content, 0, "never rewritten as v3");
    // In step afterwards: a full merge changes nothing.
    let again = f.settle(T0 + 10_000);
    assert_eq!(again.repair, None, "{again:?}");
    assert_eq!(again.written, 0);
    assert!(f.mem.delete("default", "old", T0 + 11_000).expect("delete"));
    f.mem.sync(T0 + 11_000).expect("flush");
    let left: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM memory_entries WHERE key = 'old'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(left, 0, "a v2 delete removes the row");
}

#[test]
fn a_real_claude_flow_file_is_merged_and_rebuilt_whole() {
    // /work/shared beside the main checkout, two levels up from a worktree.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture = ["../../shared", "../../../shared"]
        .iter()
        .map(|up| manifest.join(up).join("fixtures/claude-flow-v3-memory.db"))
        .find(|p| p.exists())
        .expect("the claude-flow fixture in shared/fixtures");
    let mut f = Fixture::with(|path| {
        let bytes = std::fs::read(&fixture).expect("the claude-flow fixture");
        std::fs::write(path, bytes).expect("copy of the fixture");
    });
    let schema = |path: &Path| -> i64 {
        Connection::open(path)
            .and_then(|db| db.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0)))
            .expect("schema")
    };
    let objects = schema(&f.path());
    // Before the fixture's TTL entry expired (2026-11-27).
    let now = 1_795_700_000_000;
    f.settle(now);
    let goal = f
        .mem
        .get("default", "goal", now)
        .expect("get")
        .expect("goal");
    assert_eq!(goal.provenance.as_str(), "user_claim");
    assert_eq!(goal.access_count, 1);
    let listed = f.mem.list(None, None, now, 100).expect("list");
    assert_eq!(listed.len(), 3, "{listed:?}");
    f.put("swarm/key", "v", now + 10);
    f.mem.sync(now + 10).expect("flush");
    assert_eq!(
        schema(&f.path()),
        objects,
        "claude-flow's other tables stay"
    );
    assert_eq!(live(&f.path())["swarm/key"], "v");
    // Broken for good: the rebuilt file holds claude-flow's rows too.
    std::fs::write(f.path(), vec![0_u8; 4096]).expect("garbage");
    f.settle(now + 100);
    let rebuilt = f.settle(now + 200 + UNREADABLE_GRACE_MS);
    assert!(
        matches!(rebuilt.repair, Some(Repair::Rebuilt { rows: 4, .. })),
        "{rebuilt:?}"
    );
    let values = live(&f.path());
    for key in ["api/auth", "goal", "db/backup", "swarm/key"] {
        assert!(values.contains_key(key), "{key} missing: {values:?}");
    }
}

#[test]
fn writes_wait_for_the_moment_after_another_tools_rewrite() {
    let mut f = Fixture::new();
    f.settle(T0);
    foreign_put(&f.path(), "theirs", "one", T0 + 5);
    f.settle(T0 + 10);
    // Another tool is at work: swarmd's write waits in its copy.
    f.put("mine", "v", T0 + 500);
    f.mem.sync(T0 + 500).expect("sync");
    assert!(!live(&f.path()).contains_key("mine"), "not in the middle");
    assert_eq!(f.mem.pending().expect("pending"), 1);
    assert_eq!(f.get("mine", T0 + 510).as_deref(), Some("v"));
    // Its next rewrite is merged, and swarmd's write goes in with it.
    foreign_put(&f.path(), "theirs", "two", T0 + 600);
    f.settle(T0 + 600);
    let values = live(&f.path());
    assert_eq!(values["mine"], "v");
    assert_eq!(values["theirs"], "two");
    // Later writes wait again, until the tool has been quiet a while.
    f.put("later", "v", T0 + 900);
    f.mem.sync(T0 + 900).expect("sync");
    assert!(!live(&f.path()).contains_key("later"));
    f.mem.sync(T0 + 600 + IDLE_MS).expect("sync");
    assert_eq!(live(&f.path())["later"], "v");
    assert_eq!(f.mem.pending().expect("pending"), 0);
}

#[test]
fn a_lost_write_found_while_writes_wait_is_written_later() {
    let mut f = Fixture::new();
    f.settle(T0);
    let stale = std::fs::read(f.path()).expect("read");
    f.put("mine", "v", T0 + 10);
    f.mem.sync(T0 + 10).expect("flush");
    assert_eq!(live(&f.path())["mine"], "v");
    // A whole-file writer drops it, twice, 50 ms apart: the second time
    // its merge falls outside a third of that period, so it only reads.
    std::fs::write(f.path(), &stale).expect("rewrite");
    f.settle(T0 + 100);
    assert_eq!(live(&f.path())["mine"], "v", "re-applied at once");
    std::fs::write(f.path(), &stale).expect("rewrite again");
    f.settle(T0 + 150);
    assert!(!live(&f.path()).contains_key("mine"), "not while it writes");
    assert_eq!(f.mem.pending().expect("pending"), 1, "but not forgotten");
    f.mem.sync(T0 + 150 + IDLE_MS).expect("sync");
    assert_eq!(live(&f.path())["mine"], "v");
    assert_eq!(f.mem.pending().expect("pending"), 0);
}
