//! The key/value memory on a fresh database: the created schema matches
//! claude-flow's, and compare-and-swap, TTLs, namespaces, size limits,
//! access counting, deletes and transactions behave as documented.

use rusqlite::Connection;
use swarm_memory::kv::{self, Expect, Kind, KvError, Layout, Provenance, Put, PutOutcome};

/// `shared/fixtures/` beside the main checkout (two levels up) or beside
/// a worktree's parent (three levels up).
fn fixture() -> std::path::PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    ["../../shared", "../../../shared"]
        .iter()
        .map(|up| manifest.join(up).join("fixtures/claude-flow-v3-memory.db"))
        .find(|p| p.exists())
        .unwrap_or_else(|| manifest.join("../../shared/fixtures/claude-flow-v3-memory.db"))
}
const NOW: i64 = 1_800_000_000_000;
const MAX: usize = 1024;

fn fresh() -> Connection {
    let conn = Connection::open_in_memory().expect("fresh in-memory store");
    assert_eq!(
        kv::ensure_schema(&conn).expect("fresh in-memory store"),
        Layout::V3
    );
    conn
}

fn put(conn: &Connection, p: &Put<'_>, now: i64) -> Result<PutOutcome, KvError> {
    kv::put(conn, Layout::V3, p, now, MAX)
}

fn value(conn: &Connection, ns: &str, key: &str, now: i64) -> Option<String> {
    kv::get(conn, Layout::V3, ns, key, now)
        .expect("kv::get on the fresh store")
        .map(|e| e.value)
}

/// DDL without comments and with whitespace normalised, for comparing ours
/// with claude-flow's text.
fn normalise(sql: &str) -> String {
    let no_comments: String = sql
        .lines()
        .map(|line| line.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ");
    let squashed = no_comments.split_whitespace().collect::<Vec<_>>().join(" ");
    squashed
        .replace("( ", "(")
        .replace(" )", ")")
        .replace(" ,", ",")
}

fn memory_entries_ddl(conn: &Connection) -> Vec<(String, Option<String>)> {
    let mut stmt = conn
        .prepare(
            "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'memory_entries'
             AND (name = 'memory_entries' OR name LIKE 'idx_memory_%' OR sql IS NULL)
             ORDER BY name",
        )
        .expect("DDL of memory_entries");
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get::<_, Option<String>>(1)?.map(|s| normalise(&s)),
            ))
        })
        .expect("DDL of memory_entries")
        .collect::<Result<_, _>>()
        .expect("DDL of memory_entries");
    rows
}

#[test]
fn the_created_schema_is_claude_flows() {
    let ours = memory_entries_ddl(&fresh());
    // Opened from a copy: even a read-only open of a WAL database creates
    // -wal/-shm files next to it, and the fixture must stay untouched.
    let fixture = fixture();
    let bytes = std::fs::read(&fixture).unwrap_or_else(|e| {
        panic!(
            "cannot read the claude-flow fixture {}: {e}",
            fixture.display()
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("memory.db");
    std::fs::write(&copy, bytes).unwrap();
    let theirs = Connection::open(&copy).unwrap();
    assert_eq!(ours, memory_entries_ddl(&theirs));
    assert_eq!(
        ours.len(),
        1 + 2 + 7,
        "table, two autoindexes, seven idx_memory_*"
    );
}

#[test]
fn compare_and_swap_on_absent_and_on_value() {
    let conn = fresh();
    let create = Put::new("lock", "agent-1").with_expect(Expect::Absent);
    assert_eq!(put(&conn, &create, NOW).unwrap(), PutOutcome::Created);
    match put(
        &conn,
        &Put::new("lock", "agent-2").with_expect(Expect::Absent),
        NOW,
    ) {
        Err(KvError::CasMismatch { current, .. }) => {
            assert_eq!(current.as_deref(), Some("agent-1"))
        }
        other => panic!("expected CAS mismatch, got {other:?}"),
    }
    let swap = Put::new("lock", "agent-2").with_expect(Expect::Value("agent-1".into()));
    assert_eq!(put(&conn, &swap, NOW).unwrap(), PutOutcome::Updated);
    assert!(matches!(
        put(&conn, &swap, NOW),
        Err(KvError::CasMismatch { current: Some(ref c), .. }) if c == "agent-2"
    ));
    let on_missing = Put::new("other", "x").with_expect(Expect::Value("y".into()));
    assert!(matches!(
        put(&conn, &on_missing, NOW),
        Err(KvError::CasMismatch { current: None, .. })
    ));
    assert_eq!(
        value(&conn, "default", "lock", NOW).as_deref(),
        Some("agent-2")
    );
    assert_eq!(value(&conn, "default", "other", NOW), None);
}

#[test]
fn ttl_expires_entries_and_is_reapplied_or_cleared_on_update() {
    let conn = fresh();
    put(&conn, &Put::new("lease", "a").with_ttl_ms(1_000), NOW).unwrap();
    assert_eq!(
        value(&conn, "default", "lease", NOW + 999).as_deref(),
        Some("a")
    );
    assert_eq!(value(&conn, "default", "lease", NOW + 1_000), None);
    assert!(kv::list(&conn, Layout::V3, None, None, NOW + 1_000, 10)
        .unwrap()
        .is_empty());
    // CAS sees the expired entry as absent.
    let retake = Put::new("lease", "b")
        .with_ttl_ms(500)
        .with_expect(Expect::Absent);
    assert_eq!(
        put(&conn, &retake, NOW + 2_000).unwrap(),
        PutOutcome::Created
    );
    // Renewing re-applies the TTL from the new write.
    put(&conn, &Put::new("lease", "b").with_ttl_ms(500), NOW + 2_400).unwrap();
    let e = kv::get(&conn, Layout::V3, "default", "lease", NOW + 2_600)
        .unwrap()
        .unwrap();
    assert_eq!(e.expires_at_ms, Some(NOW + 2_900));
    // An update without a TTL clears it.
    put(&conn, &Put::new("lease", "c"), NOW + 2_700).unwrap();
    let e = kv::get(&conn, Layout::V3, "default", "lease", NOW + 1_000_000)
        .unwrap()
        .unwrap();
    assert_eq!((e.value.as_str(), e.expires_at_ms), ("c", None));
}

#[test]
fn namespaces_are_separate_and_list_filters_orders_and_limits() {
    let conn = fresh();
    for (ns, key) in [
        ("b", "k2"),
        ("a", "x/2"),
        ("a", "x/1"),
        ("a", "y"),
        ("b", "x/1"),
    ] {
        put(
            &conn,
            &Put::new(key, &format!("{ns}:{key}")).with_namespace(ns),
            NOW,
        )
        .unwrap();
    }
    assert_eq!(value(&conn, "a", "x/1", NOW).as_deref(), Some("a:x/1"));
    assert_eq!(value(&conn, "b", "x/1", NOW).as_deref(), Some("b:x/1"));
    assert_eq!(value(&conn, "default", "x/1", NOW), None);

    let keys = |ns: Option<&str>, prefix: Option<&str>, limit: usize| -> Vec<String> {
        kv::list(&conn, Layout::V3, ns, prefix, NOW, limit)
            .unwrap()
            .into_iter()
            .map(|e| format!("{}:{}", e.namespace, e.key))
            .collect()
    };
    assert_eq!(
        keys(None, None, 10),
        ["a:x/1", "a:x/2", "a:y", "b:k2", "b:x/1"]
    );
    assert_eq!(keys(Some("a"), Some("x/"), 10), ["a:x/1", "a:x/2"]);
    assert_eq!(keys(None, Some("x/"), 10), ["a:x/1", "a:x/2", "b:x/1"]);
    assert_eq!(keys(None, None, 2), ["a:x/1", "a:x/2"]);
    assert_eq!(
        keys(Some("a"), Some("%"), 10),
        Vec::<String>::new(),
        "no LIKE wildcards"
    );
    assert_eq!(
        keys(None, Some(""), 10).len(),
        5,
        "an empty prefix matches all"
    );
}

#[test]
fn values_over_the_limit_are_refused_and_not_written() {
    let conn = fresh();
    let exact = "x".repeat(MAX);
    put(&conn, &Put::new("big", &exact), NOW).unwrap();
    let over = "é".repeat(MAX / 2 + 1); // counted in UTF-8 bytes
    match put(&conn, &Put::new("big", &over), NOW) {
        Err(e @ KvError::TooLarge { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("1026 bytes") && msg.contains("at most 1024"),
                "{msg}"
            );
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert_eq!(value(&conn, "default", "big", NOW), Some(exact));
}

#[test]
fn bad_namespaces_and_keys_are_invalid_everywhere() {
    let conn = fresh();
    let long = "k".repeat(1025);
    for (ns, key) in [
        ("", "k"),
        ("default", ""),
        (long.as_str(), "k"),
        ("default", long.as_str()),
    ] {
        let p = Put::new(key, "v").with_namespace(ns);
        assert!(
            matches!(put(&conn, &p, NOW), Err(KvError::Invalid { .. })),
            "{ns:?}/{key:?}"
        );
        assert!(matches!(
            kv::get(&conn, Layout::V3, ns, key, NOW),
            Err(KvError::Invalid { .. })
        ));
        assert!(matches!(
            kv::delete(&conn, Layout::V3, ns, key, NOW),
            Err(KvError::Invalid { .. })
        ));
    }
    assert!(matches!(
        kv::list(&conn, Layout::V3, Some(""), None, NOW, 1),
        Err(KvError::Invalid { .. })
    ));
    let max = "k".repeat(1024);
    put(&conn, &Put::new(&max, "v").with_namespace(&max), NOW).unwrap();
}

#[test]
fn get_counts_accesses_and_list_does_not() {
    let conn = fresh();
    put(&conn, &Put::new("k", "v"), NOW).unwrap();
    kv::list(&conn, Layout::V3, None, None, NOW + 1, 10).unwrap();
    let listed = &kv::list(&conn, Layout::V3, None, None, NOW + 1, 10).unwrap()[0];
    assert_eq!((listed.access_count, listed.last_accessed_at_ms), (0, None));
    for n in 1..=3 {
        let e = kv::get(&conn, Layout::V3, "default", "k", NOW + n)
            .unwrap()
            .unwrap();
        assert_eq!((e.access_count, e.last_accessed_at_ms), (n, Some(NOW + n)));
    }
    // An update is not an access.
    put(&conn, &Put::new("k", "w"), NOW + 10).unwrap();
    let listed = &kv::list(&conn, Layout::V3, None, None, NOW + 11, 10).unwrap()[0];
    assert_eq!(listed.access_count, 3);
    assert_eq!(listed.updated_at_ms, NOW + 10);
    assert_eq!(listed.created_at_ms, NOW);
}

#[test]
fn delete_hides_the_entry_and_reports_whether_it_was_live() {
    let conn = fresh();
    put(&conn, &Put::new("k", "v"), NOW).unwrap();
    assert!(kv::delete(&conn, Layout::V3, "default", "k", NOW).unwrap());
    assert!(!kv::delete(&conn, Layout::V3, "default", "k", NOW).unwrap());
    assert!(!kv::delete(&conn, Layout::V3, "default", "never", NOW).unwrap());
    assert_eq!(value(&conn, "default", "k", NOW), None);
    assert!(matches!(
        put(
            &conn,
            &Put::new("k", "x").with_expect(Expect::Value("v".into())),
            NOW
        ),
        Err(KvError::CasMismatch { current: None, .. })
    ));
    assert_eq!(
        put(&conn, &Put::new("k", "again"), NOW).unwrap(),
        PutOutcome::Created
    );
}

#[test]
fn optional_fields_are_kept_on_update_unless_given() {
    let conn = fresh();
    let meta = serde_json::json!({"task": "7.2"});
    let tags = ["a".to_owned(), "b".to_owned()];
    let first = Put::new("k", "v1")
        .with_tags(&tags)
        .with_kind(Kind::Procedural)
        .with_owner("agent-3")
        .with_provenance(Provenance::ToolResult)
        .with_metadata(&meta);
    put(&conn, &first, NOW).unwrap();
    // No tags, no owner (an empty one counts as none), no kind, no metadata.
    put(&conn, &Put::new("k", "v2").with_owner(""), NOW + 1).unwrap();
    let e = kv::get(&conn, Layout::V3, "default", "k", NOW + 2)
        .unwrap()
        .unwrap();
    assert_eq!(e.tags, tags);
    assert_eq!(e.kind, Kind::Procedural);
    assert_eq!(e.owner_id.as_deref(), Some("agent-3"));
    assert_eq!(e.metadata, meta);
    assert_eq!(
        e.provenance,
        Provenance::AgentOutput,
        "the new value's author"
    );

    let other = ["c".to_owned()];
    put(
        &conn,
        &Put::new("k", "v3")
            .with_tags(&other)
            .with_kind(Kind::Working),
        NOW + 3,
    )
    .unwrap();
    let e = kv::get(&conn, Layout::V3, "default", "k", NOW + 4)
        .unwrap()
        .unwrap();
    assert_eq!(
        (e.tags.as_slice(), e.kind),
        (other.as_slice(), Kind::Working)
    );

    put(&conn, &Put::new("untagged", "v"), NOW).unwrap();
    let stored: Option<String> = conn
        .query_row(
            "SELECT tags FROM memory_entries WHERE key = 'untagged'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, None, "no tags are stored as NULL, like claude-flow");
}

#[test]
fn writes_join_the_callers_transaction() {
    let mut conn = fresh();
    {
        let tx = conn.transaction().unwrap();
        put(&tx, &Put::new("k", "v"), NOW).unwrap();
        // A failed CAS inside the transaction leaves it usable.
        assert!(put(&tx, &Put::new("k", "w").with_expect(Expect::Absent), NOW).is_err());
        assert_eq!(value(&tx, "default", "k", NOW).as_deref(), Some("v"));
        tx.rollback().unwrap();
    }
    assert_eq!(value(&conn, "default", "k", NOW), None);
    let tx = conn.transaction().unwrap();
    put(&tx, &Put::new("k", "kept"), NOW).unwrap();
    tx.commit().unwrap();
    assert_eq!(value(&conn, "default", "k", NOW).as_deref(), Some("kept"));
}
