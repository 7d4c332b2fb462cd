//! Shared memory through swarmctl: namespaces, TTL, compare-and-swap, size
//! limits, and a database claude-flow itself wrote.

use std::path::PathBuf;

use swarm_tests::{free_port, Daemon};

/// `shared/fixtures/` beside the main checkout (two levels up) or beside
/// a worktree's parent (three levels up).
fn fixture() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    ["../../shared", "../../../shared"]
        .iter()
        .map(|up| manifest.join(up).join("fixtures/claude-flow-v3-memory.db"))
        .find(|p| p.exists())
        .unwrap_or_else(|| manifest.join("../../shared/fixtures/claude-flow-v3-memory.db"))
}

#[test]
fn put_get_list_delete_cas_and_ttl() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let out = d.ctl(&["memory", "put", "lock/deploy", "agent-1", "--if-absent"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = d.ctl(&["memory", "put", "lock/deploy", "agent-2", "--if-absent"]);
    assert_eq!(out.status.code(), Some(3), "a held lock is not taken twice");
    let out = d.ctl(&[
        "memory",
        "put",
        "lock/deploy",
        "agent-2",
        "--expect",
        "agent-9",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let out = d.ctl(&[
        "memory",
        "put",
        "lock/deploy",
        "agent-2",
        "--expect",
        "agent-1",
    ]);
    assert!(out.status.success());
    let got = d.ctl(&["memory", "get", "lock/deploy"]);
    assert_eq!(String::from_utf8_lossy(&got.stdout), "agent-2\n");

    d.ctl_json(&[
        "memory",
        "put",
        "db/host",
        "10.0.0.5",
        "--namespace",
        "devops",
        "--tag",
        "db",
        "--json",
    ]);
    let listed = d.ctl_json(&["memory", "list", "--namespace", "devops", "--json"]);
    assert_eq!(listed[0]["key"], "db/host");
    assert_eq!(listed[0]["tags"], serde_json::json!(["db"]));
    let missing = d.ctl(&["memory", "get", "db/host"]);
    assert_eq!(missing.status.code(), Some(4), "namespaces are apart");

    d.ctl_json(&["memory", "put", "short", "lived", "--ttl", "1", "--json"]);
    std::thread::sleep(std::time::Duration::from_millis(1300));
    assert_eq!(
        d.ctl(&["memory", "get", "short"]).status.code(),
        Some(4),
        "expired entries are invisible"
    );

    let deleted = d.ctl_json(&["memory", "delete", "lock/deploy", "--json"]);
    assert_eq!(deleted["deleted"], true);
    assert_eq!(
        d.ctl(&["memory", "get", "lock/deploy"]).status.code(),
        Some(4)
    );

    let big = "x".repeat(1024 * 1024 + 1);
    let mut child = std::process::Command::new(swarm_tests::workspace_binary("swarmctl"))
        .args(["--coordinator", &d.url(), "--token-file"])
        .arg(dir.path().join(".swarm/admin.token"))
        .args(["memory", "put", "big", "-"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("swarmctl");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(big.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(2),
        "over the size limit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        d.ctl(&["memory", "get", "big"]).status.code(),
        Some(4),
        "nothing was stored"
    );
}

#[test]
fn a_database_written_by_claude_flow_works_unchanged() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(dir.path().join(".swarm")).expect("mkdir");
    let db_path = dir.path().join(".swarm/memory.db");
    std::fs::copy(fixture(), &db_path).expect("copy the fixture (never write into shared/)");
    let before = schema_and_counts(&db_path);
    let d = Daemon::start(dir.path(), free_port());
    let got = d.ctl(&["memory", "get", "api/auth"]);
    assert_eq!(
        String::from_utf8_lossy(&got.stdout),
        "JWT, RS256, 15 min access tokens\n"
    );
    let goal = d.ctl_json(&["memory", "get", "goal", "--json"]);
    assert_eq!(goal["provenance"], "user_claim");
    let backup = d.ctl(&["memory", "get", "db/backup", "--namespace", "devops"]);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    if now_ms >= 1_795_743_664_859 {
        assert_eq!(
            backup.status.code(),
            Some(4),
            "the fixture's TTL has run out"
        );
    } else {
        assert_eq!(
            String::from_utf8_lossy(&backup.stdout),
            "nightly pg_dump to MinIO\n"
        );
    }
    d.ctl_json(&["memory", "put", "swarm/note", "written by swarmd", "--json"]);
    drop(d);
    let after = schema_and_counts(&db_path);
    for (table, (sql, rows)) in &before {
        if table.starts_with("swarm_") || table == "memory_entries" || table == "sqlite_sequence" {
            continue;
        }
        assert_eq!(
            after.get(table),
            Some(&(sql.clone(), *rows)),
            "claude-flow's table {table} is untouched"
        );
    }
    let db = rusqlite::Connection::open(&db_path).expect("open");
    let (id, ns, kind, prov): (String, String, String, String) = db
        .query_row("SELECT id, namespace, type, provenance_type FROM memory_entries WHERE key = 'swarm/note'", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("our row");
    assert!(id.starts_with("entry_"));
    assert_eq!(
        (ns.as_str(), kind.as_str(), prov.as_str()),
        ("default", "semantic", "agent_output")
    );
}

fn schema_and_counts(path: &std::path::Path) -> std::collections::BTreeMap<String, (String, i64)> {
    let db = rusqlite::Connection::open(path).expect("open");
    let mut stmt = db
        .prepare("SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'table'")
        .expect("prepare");
    let tables: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .filter_map(Result::ok)
        .collect();
    tables
        .into_iter()
        .map(|(name, sql)| {
            let rows: i64 = db
                .query_row(&format!("SELECT COUNT(*) FROM \"{name}\""), [], |r| {
                    r.get(0)
                })
                .unwrap_or(-1);
            (name, (sql, rows))
        })
        .collect()
}
