//! The key/value memory on a claude-flow v2 `memory_entries` table (created
//! with claude-flow 2.0's own DDL): recognised, read and written in its own
//! layout (seconds, `value`, `ttl`), and never rewritten into v3.

use rusqlite::Connection;
use swarm_memory::kv::{self, Expect, KvError, Layout, Provenance, Put, PutOutcome};

/// A millisecond instant that is not a whole second, to exercise rounding.
const NOW: i64 = 1_760_000_000_250;
const NOW_S: i64 = 1_760_000_000;
const MAX: usize = 4096;

fn v2_db() -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().expect("claude-flow v2 table");
    let conn = Connection::open(dir.path().join("memory.db")).expect("claude-flow v2 table");
    conn.execute_batch(kv::V2_TABLE_DDL)
        .expect("claude-flow v2 table");
    // A row as claude-flow 2.0's store() writes it: namespace, metadata,
    // ttl seconds and expires_at = now + ttl, timestamps from the defaults
    // (here pinned to NOW_S - 100 instead of the wall clock).
    conn.execute(
        "INSERT INTO memory_entries (key, value, namespace, metadata, ttl, expires_at,
           created_at, updated_at, accessed_at)
         VALUES ('swarm/objective', '\"build the API\"', 'swarm', '{\"by\":\"queen\"}', NULL, NULL,
           ?1, ?1, ?1)",
        [NOW_S - 100],
    )
    .expect("claude-flow v2 table");
    (dir, conn)
}

fn schema(conn: &Connection) -> Vec<Option<String>> {
    let mut stmt = conn
        .prepare("SELECT sql FROM sqlite_master ORDER BY name")
        .expect("sqlite_master of the v2 database");
    let rows = stmt
        .query_map([], |r| r.get(0))
        .expect("sqlite_master of the v2 database")
        .collect::<Result<_, _>>()
        .expect("sqlite_master of the v2 database");
    rows
}

fn put(conn: &Connection, p: &Put<'_>, now: i64) -> Result<PutOutcome, KvError> {
    kv::put(conn, Layout::V2, p, now, MAX)
}

#[test]
fn a_v2_table_is_recognised_and_never_rewritten() {
    let (_dir, conn) = v2_db();
    let before = schema(&conn);
    assert_eq!(kv::ensure_schema(&conn).unwrap(), Layout::V2);
    put(&conn, &Put::new("k", "v").with_tags(&["t".to_owned()]), NOW).unwrap();
    kv::get(&conn, Layout::V2, "default", "k", NOW).unwrap();
    kv::delete(&conn, Layout::V2, "default", "k", NOW).unwrap();
    assert_eq!(schema(&conn), before);
    let has_content: i64 = conn
        .query_row(
            "SELECT count(*) FROM pragma_table_info('memory_entries') WHERE name = 'content'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(has_content, 0);
}

#[test]
fn claude_flows_v2_rows_read_back_in_milliseconds() {
    let (_dir, conn) = v2_db();
    let e = kv::get(&conn, Layout::V2, "swarm", "swarm/objective", NOW)
        .unwrap()
        .expect("live");
    assert_eq!(e.id, "1");
    assert_eq!(e.value, "\"build the API\"");
    assert_eq!(e.metadata, serde_json::json!({"by": "queen"}));
    assert_eq!(e.created_at_ms, (NOW_S - 100) * 1000);
    assert_eq!(e.expires_at_ms, None);
    assert_eq!(e.provenance, Provenance::Unknown);
    assert!(e.tags.is_empty());
    assert_eq!(e.access_count, 1);
    assert_eq!(e.last_accessed_at_ms, Some(NOW_S * 1000));
    let (count, accessed): (i64, i64) = conn
        .query_row(
            "SELECT access_count, accessed_at FROM memory_entries WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((count, accessed), (1, NOW_S), "seconds in the table");
}

#[test]
fn writes_land_in_v2_terms_seconds_and_ttl() {
    let (_dir, conn) = v2_db();
    let p = Put::new("task/7", "done").with_ttl_ms(1_500);
    assert_eq!(put(&conn, &p, NOW).unwrap(), PutOutcome::Created);
    let row: (i64, String, String, Option<String>, i64, i64, i64, i64, i64) = conn
        .query_row(
            "SELECT id, value, namespace, metadata, created_at, updated_at, accessed_at, ttl,
               expires_at FROM memory_entries WHERE key = 'task/7'",
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                ))
            },
        )
        .unwrap();
    assert_eq!(row.0, 2, "INTEGER autoincrement id");
    assert_eq!(
        (row.1.as_str(), row.2.as_str(), row.3.as_deref()),
        ("done", "default", None)
    );
    assert_eq!((row.4, row.5, row.6), (NOW_S, NOW_S, NOW_S));
    assert_eq!((row.7, row.8), (2, NOW_S + 2), "1.5 s rounds up to 2 s");

    // claude-flow 2.0's own retrieve query, with its clock pinned.
    let seen: String = conn
        .query_row(
            "SELECT value FROM memory_entries WHERE key = ? AND namespace = ?
               AND (expires_at IS NULL OR expires_at > ?)",
            rusqlite::params!["task/7", "default", NOW_S + 1],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(seen, "done");
}

#[test]
fn v2_ttl_expiry_cas_update_and_delete_round_trip() {
    let (_dir, conn) = v2_db();
    put(
        &conn,
        &Put::new("lease", "a")
            .with_ttl_ms(2_000)
            .with_expect(Expect::Absent),
        NOW,
    )
    .unwrap();
    let expiry_ms = (NOW_S + 2) * 1000;
    assert!(
        kv::get(&conn, Layout::V2, "default", "lease", expiry_ms - 1)
            .unwrap()
            .is_some()
    );
    assert!(kv::get(&conn, Layout::V2, "default", "lease", expiry_ms)
        .unwrap()
        .is_none());
    let listed = kv::list(&conn, Layout::V2, None, None, expiry_ms, 10).unwrap();
    assert_eq!(listed.len(), 1, "only the objective is live");

    // Expired reads as absent for CAS, and is replaced without a UNIQUE clash.
    let retake = Put::new("lease", "b").with_expect(Expect::Absent);
    assert_eq!(put(&conn, &retake, expiry_ms).unwrap(), PutOutcome::Created);
    assert!(matches!(
        put(&conn, &retake, expiry_ms),
        Err(KvError::CasMismatch { current: Some(ref c), .. }) if c == "b"
    ));
    let swap = Put::new("lease", "c").with_expect(Expect::Value("b".into()));
    assert_eq!(
        put(&conn, &swap, expiry_ms + 5_000).unwrap(),
        PutOutcome::Updated
    );
    let e = kv::get(&conn, Layout::V2, "default", "lease", expiry_ms + 9_000_000)
        .unwrap()
        .unwrap();
    assert_eq!((e.value.as_str(), e.expires_at_ms), ("c", None));
    assert_eq!(e.created_at_ms, expiry_ms, "update keeps the creation time");
    assert_eq!(e.updated_at_ms, expiry_ms + 5_000);

    let keys: Vec<String> = kv::list(&conn, Layout::V2, Some("default"), Some("le"), NOW, 10)
        .unwrap()
        .into_iter()
        .map(|e| e.key)
        .collect();
    assert_eq!(keys, ["lease"]);

    assert!(kv::delete(&conn, Layout::V2, "default", "lease", NOW).unwrap());
    assert!(!kv::delete(&conn, Layout::V2, "default", "lease", NOW).unwrap());
    let rows: i64 = conn
        .query_row(
            "SELECT count(*) FROM memory_entries WHERE key = 'lease'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 0, "v2 deletes rows, as claude-flow 2.0 does");
}

#[test]
fn v2_metadata_is_kept_unless_replaced_and_limits_apply() {
    let (_dir, conn) = v2_db();
    let meta = serde_json::json!({"agent": "coder-1"});
    put(&conn, &Put::new("k", "v1").with_metadata(&meta), NOW).unwrap();
    put(&conn, &Put::new("k", "v2"), NOW).unwrap();
    let e = kv::get(&conn, Layout::V2, "default", "k", NOW)
        .unwrap()
        .unwrap();
    assert_eq!(e.metadata, meta);
    let big = "x".repeat(MAX + 1);
    assert!(matches!(
        put(&conn, &Put::new("k", &big), NOW),
        Err(KvError::TooLarge { .. })
    ));
}
