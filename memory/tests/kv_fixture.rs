//! The key/value memory against a copy of a real claude-flow 3.42.5
//! `.swarm/memory.db` (three `memory store` calls after `memory init`):
//! its entries read back right, our writes look like claude-flow's own
//! rows, and the ~40 other claude-flow tables stay exactly as they were.

use rusqlite::types::ValueRef;
use rusqlite::Connection;
use swarm_memory::kv::{self, Entry, Expect, KvError, Layout, Provenance, Put, PutOutcome};

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

/// After the fixture's entries were written, before `db/backup` expires.
const BEFORE_EXPIRY: i64 = 1_795_700_000_000;
/// `db/backup`'s `expires_at` (2026-11-27): from here on it is expired.
const EXPIRY: i64 = 1_795_743_664_859;
const MAX: usize = 64 * 1024;

/// A writable copy of the fixture (read and re-written, so the copy does
/// not inherit the fixture's read-only mode) in a fresh temp directory.
fn open_copy() -> (tempfile::TempDir, Connection) {
    let fixture = fixture();
    let bytes = std::fs::read(&fixture).unwrap_or_else(|e| {
        panic!(
            "cannot read the claude-flow fixture {}: {e}",
            fixture.display()
        )
    });
    let dir = tempfile::tempdir().expect("copy of the claude-flow fixture");
    let path = dir.path().join("memory.db");
    std::fs::write(&path, bytes).expect("copy of the claude-flow fixture");
    let conn = Connection::open(&path).expect("copy of the claude-flow fixture");
    (dir, conn)
}

/// Every schema object not belonging to `memory_entries`, with the full
/// contents of each such table, plus `user_version`.
fn snapshot_others(conn: &Connection) -> Vec<String> {
    let mut out = Vec::new();
    let mut stmt = conn
        .prepare(
            "SELECT type, name, tbl_name, sql FROM sqlite_master
             WHERE tbl_name <> 'memory_entries' ORDER BY type, name",
        )
        .expect("snapshot of the other claude-flow tables");
    let objects: Vec<(String, String, String, Option<String>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("snapshot of the other claude-flow tables")
        .collect::<Result<_, _>>()
        .expect("snapshot of the other claude-flow tables");
    for (kind, name, table, sql) in objects {
        out.push(format!("{kind} {name} on {table}: {sql:?}"));
        if kind == "table" {
            let mut rows = dump(conn, &name);
            out.push(format!("{name}: {} rows", rows.len()));
            rows.sort();
            out.extend(rows);
        }
    }
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("snapshot of the other claude-flow tables");
    out.push(format!("user_version {version}"));
    out
}

fn dump(conn: &Connection, table: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM \"{table}\""))
        .expect("dump of a claude-flow table");
    let width = stmt.column_count();
    let mut rows = stmt.query([]).expect("dump of a claude-flow table");
    let mut out = Vec::new();
    while let Some(row) = rows.next().expect("dump of a claude-flow table") {
        let cells: Vec<String> = (0..width)
            .map(
                |i| match row.get_ref(i).expect("dump of a claude-flow table") {
                    ValueRef::Null => "NULL".to_owned(),
                    ValueRef::Integer(v) => format!("i{v}"),
                    ValueRef::Real(v) => format!("r{v:?}"),
                    ValueRef::Text(t) => format!("t{:?}", String::from_utf8_lossy(t)),
                    ValueRef::Blob(b) => format!("b{b:?}"),
                },
            )
            .collect();
        out.push(format!("{table} | {}", cells.join(" | ")));
    }
    out
}

fn memory_entries_schema(conn: &Connection) -> Vec<(String, Option<String>)> {
    let mut stmt = conn
        .prepare(
            "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'memory_entries' ORDER BY name",
        )
        .expect("schema of memory_entries");
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("schema of memory_entries")
        .collect::<Result<_, _>>()
        .expect("schema of memory_entries");
    rows
}

fn get(conn: &Connection, ns: &str, key: &str, now: i64) -> Option<Entry> {
    kv::get(conn, Layout::V3, ns, key, now).expect("kv::get on the fixture copy")
}

#[test]
fn fixture_is_recognised_as_v3_and_its_schema_is_left_alone() {
    let (_dir, conn) = open_copy();
    let before = memory_entries_schema(&conn);
    let others = snapshot_others(&conn);
    assert_eq!(kv::ensure_schema(&conn).unwrap(), Layout::V3);
    assert_eq!(memory_entries_schema(&conn), before);
    assert_eq!(snapshot_others(&conn), others);
}

#[test]
fn fixture_entries_read_back_with_their_fields_before_expiry() {
    let (_dir, conn) = open_copy();
    let now = BEFORE_EXPIRY;

    let auth = get(&conn, "default", "api/auth", now).expect("api/auth is live");
    assert_eq!(auth.id, "entry_1795657263673_aa3cce84ddffb3f6");
    assert_eq!(auth.value, "JWT, RS256, 15 min access tokens");
    assert_eq!(auth.kind, kv::Kind::Semantic);
    assert!(auth.tags.is_empty());
    assert_eq!(auth.metadata, serde_json::json!({}));
    assert_eq!(auth.owner_id, None);
    assert_eq!(auth.provenance, Provenance::Unknown);
    assert_eq!(auth.created_at_ms, 1_795_657_263_673);
    assert_eq!(auth.updated_at_ms, 1_795_657_263_673);
    assert_eq!(auth.expires_at_ms, None);
    assert_eq!(auth.access_count, 1, "this read counts");
    assert_eq!(auth.last_accessed_at_ms, Some(now));

    let goal = get(&conn, "default", "goal", now).expect("goal is live");
    assert_eq!(goal.value, "ship by Friday");
    assert_eq!(goal.provenance, Provenance::UserClaim);

    let backup = get(&conn, "devops", "db/backup", now).expect("not yet expired");
    assert_eq!(backup.value, "nightly pg_dump to MinIO");
    assert_eq!(
        backup.tags,
        vec!["backup".to_owned(), "postgres".to_owned()]
    );
    assert_eq!(backup.expires_at_ms, Some(EXPIRY));
    assert_eq!(
        get(&conn, "default", "db/backup", now),
        None,
        "wrong namespace"
    );

    let listed = kv::list(&conn, Layout::V3, None, None, now, 100).unwrap();
    let names: Vec<(&str, &str)> = listed
        .iter()
        .map(|e| (e.namespace.as_str(), e.key.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("default", "api/auth"),
            ("default", "goal"),
            ("devops", "db/backup")
        ]
    );
}

#[test]
fn the_expired_fixture_entry_is_invisible_everywhere_and_replaceable() {
    let (_dir, conn) = open_copy();
    for now in [EXPIRY, EXPIRY + 1, 1_900_000_000_000] {
        assert_eq!(get(&conn, "devops", "db/backup", now), None, "at {now}");
        let listed = kv::list(&conn, Layout::V3, None, None, now, 100).unwrap();
        assert_eq!(listed.len(), 2, "at {now}");
        assert!(!kv::delete(&conn, Layout::V3, "devops", "db/backup", now).unwrap());
    }
    let now = EXPIRY + 10;
    let put = Put::new("db/backup", "hourly WAL shipping")
        .with_namespace("devops")
        .with_expect(Expect::Absent);
    assert_eq!(
        kv::put(&conn, Layout::V3, &put, now, MAX).unwrap(),
        PutOutcome::Created
    );
    let rows: i64 = conn
        .query_row(
            "SELECT count(*) FROM memory_entries WHERE namespace = 'devops' AND key = 'db/backup'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 1, "replaced in place, UNIQUE(namespace, key) holds");
    let fresh = get(&conn, "devops", "db/backup", now).unwrap();
    assert_eq!(fresh.value, "hourly WAL shipping");
    assert_eq!(fresh.created_at_ms, now);
    assert_eq!(fresh.expires_at_ms, None);
    assert!(
        fresh.tags.is_empty(),
        "a new entry, not the expired one's tags"
    );
    assert!(
        fresh.id.starts_with(&format!("entry_{now}_")),
        "{}",
        fresh.id
    );
}

/// Type (as SQLite's typeof) and value of every column of one row.
fn raw_row(conn: &Connection, ns: &str, key: &str) -> Vec<(String, String, String)> {
    let mut stmt = conn
        .prepare("SELECT * FROM memory_entries WHERE namespace = ?1 AND key = ?2")
        .expect("raw memory_entries row");
    let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
    stmt.query_row([ns, key], |row| {
        Ok(names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let (ty, val) = match row.get_ref(i).expect("raw memory_entries row") {
                    ValueRef::Null => ("null", "NULL".to_owned()),
                    ValueRef::Integer(v) => ("integer", v.to_string()),
                    ValueRef::Real(v) => ("real", v.to_string()),
                    ValueRef::Text(t) => ("text", String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(_) => ("blob", "<blob>".to_owned()),
                };
                (name.clone(), ty.to_owned(), val)
            })
            .collect())
    })
    .expect("raw memory_entries row")
}

fn column<'a>(row: &'a [(String, String, String)], name: &str) -> (&'a str, &'a str) {
    let (_, ty, val) = row
        .iter()
        .find(|(n, _, _)| n == name)
        .expect("column present in memory_entries");
    (ty.as_str(), val.as_str())
}

#[test]
fn our_writes_look_like_claude_flows_own_rows() {
    let (_dir, conn) = open_copy();
    let now = BEFORE_EXPIRY;
    let plain = Put::new("ci/status", "green");
    kv::put(&conn, Layout::V3, &plain, now, MAX).unwrap();
    let tags = ["backup".to_owned(), "postgres".to_owned()];
    let tagged = Put::new("db/restore", "pg_restore from MinIO")
        .with_namespace("devops")
        .with_tags(&tags);
    kv::put(&conn, Layout::V3, &tagged, now, MAX).unwrap();

    let theirs = raw_row(&conn, "default", "api/auth");
    let ours = raw_row(&conn, "default", "ci/status");
    let names = |row: &[(String, String, String)]| -> Vec<String> {
        row.iter().map(|(n, _, _)| n.clone()).collect()
    };
    assert_eq!(names(&ours), names(&theirs));
    // Same storage class wherever both rows hold a value; the embedding
    // columns are NULL in ours because swarmd computes no embeddings.
    for ((name, our_ty, _), (_, their_ty, _)) in ours.iter().zip(&theirs) {
        if our_ty != "null" && their_ty != "null" {
            assert_eq!(our_ty, their_ty, "column {name}");
        }
    }
    let (_, id) = column(&ours, "id");
    let hex = id
        .strip_prefix(&format!("entry_{now}_"))
        .expect("claude-flow id shape");
    assert!(hex.len() == 16 && hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')));
    assert_eq!(column(&ours, "embedding"), ("null", "NULL"));
    assert_eq!(column(&ours, "embedding_model"), ("text", "local"));
    assert_eq!(
        column(&ours, "tags"),
        column(&theirs, "tags"),
        "NULL when untagged"
    );
    assert_eq!(column(&ours, "metadata"), ("text", "{}"));
    assert_eq!(column(&ours, "type"), ("text", "semantic"));
    assert_eq!(column(&ours, "provenance_type"), ("text", "agent_output"));
    assert_eq!(column(&ours, "status"), ("text", "active"));
    assert_eq!(column(&ours, "access_count"), ("integer", "0"));
    assert_eq!(
        column(&ours, "created_at"),
        ("integer", now.to_string().as_str())
    );
    let theirs_tagged = raw_row(&conn, "devops", "db/backup");
    let ours_tagged = raw_row(&conn, "devops", "db/restore");
    assert_eq!(column(&ours_tagged, "tags"), column(&theirs_tagged, "tags"));

    // claude-flow's own getEntry and listEntries queries find our rows.
    let found: String = conn
        .query_row(
            "SELECT content FROM memory_entries WHERE status = 'active' AND key = ? AND namespace = ? LIMIT 1",
            ["ci/status", "default"],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(found, "green");
    let listed: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM memory_entries WHERE (status = 'active' OR status IS NULL) AND namespace = ?",
            ["devops"],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(listed, 2);
}

#[test]
fn no_operation_touches_any_other_table() {
    let (_dir, conn) = open_copy();
    let others = snapshot_others(&conn);
    let schema = memory_entries_schema(&conn);
    let now = BEFORE_EXPIRY;

    kv::ensure_schema(&conn).unwrap();
    kv::put(
        &conn,
        Layout::V3,
        &Put::new("a", "1").with_ttl_ms(5),
        now,
        MAX,
    )
    .unwrap();
    kv::put(&conn, Layout::V3, &Put::new("a", "2"), now, MAX).unwrap();
    let cas = Put::new("goal", "x").with_expect(Expect::Value("nope".into()));
    assert!(kv::put(&conn, Layout::V3, &cas, now, MAX).is_err());
    get(&conn, "default", "goal", now);
    kv::list(&conn, Layout::V3, Some("devops"), Some("db/"), now, 10).unwrap();
    kv::delete(&conn, Layout::V3, "default", "api/auth", now).unwrap();
    kv::put(&conn, Layout::V3, &Put::new("api/auth", "mTLS"), now, MAX).unwrap();
    kv::put(
        &conn,
        Layout::V3,
        &Put::new("db/backup", "y").with_namespace("devops"),
        EXPIRY,
        MAX,
    )
    .unwrap();

    assert_eq!(snapshot_others(&conn), others);
    assert_eq!(memory_entries_schema(&conn), schema);
}

#[test]
fn updating_a_fixture_entry_keeps_its_identity_and_drops_the_stale_embedding() {
    let (_dir, conn) = open_copy();
    let now = BEFORE_EXPIRY;
    let swap = Put::new("api/auth", "JWT, EdDSA, 10 min access tokens")
        .with_expect(Expect::Value("JWT, RS256, 15 min access tokens".into()));
    assert_eq!(
        kv::put(&conn, Layout::V3, &swap, now, MAX).unwrap(),
        PutOutcome::Updated
    );
    let row = raw_row(&conn, "default", "api/auth");
    assert_eq!(column(&row, "id").1, "entry_1795657263673_aa3cce84ddffb3f6");
    assert_eq!(column(&row, "created_at").1, "1795657263673");
    assert_eq!(column(&row, "updated_at").1, now.to_string());
    assert_eq!(
        column(&row, "embedding"),
        ("null", "NULL"),
        "it described the old text"
    );
    assert_eq!(column(&row, "provenance_type").1, "agent_output");

    let stale = Put::new("api/auth", "x")
        .with_expect(Expect::Value("JWT, RS256, 15 min access tokens".into()));
    match kv::put(&conn, Layout::V3, &stale, now, MAX) {
        Err(KvError::CasMismatch { current, .. }) => {
            assert_eq!(current.as_deref(), Some("JWT, EdDSA, 10 min access tokens"));
        }
        other => panic!("expected a CAS mismatch, got {other:?}"),
    }
}

#[test]
fn delete_is_claude_flows_soft_delete() {
    let (_dir, conn) = open_copy();
    let now = BEFORE_EXPIRY;
    assert!(kv::delete(&conn, Layout::V3, "default", "goal", now).unwrap());
    let row = raw_row(&conn, "default", "goal");
    assert_eq!(column(&row, "status").1, "deleted");
    assert_eq!(column(&row, "embedding").0, "null");
    assert_eq!(column(&row, "updated_at").1, now.to_string());
    assert_eq!(get(&conn, "default", "goal", now), None);
    assert!(!kv::delete(&conn, Layout::V3, "default", "goal", now).unwrap());

    let again = Put::new("goal", "ship by Monday").with_expect(Expect::Absent);
    assert_eq!(
        kv::put(&conn, Layout::V3, &again, now, MAX).unwrap(),
        PutOutcome::Created
    );
    let entry = get(&conn, "default", "goal", now).unwrap();
    assert_eq!(entry.value, "ship by Monday");
    assert_eq!(entry.access_count, 1);
    assert_ne!(entry.id, "entry_1795657265950_c010cdd466f10da7");
}
