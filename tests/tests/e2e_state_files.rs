//! State files that cannot silently reset: an empty, truncated or
//! overwritten `swarmd.db` in a workdir swarmd has used is refused with
//! the file's name and the cure (`swarmd restore`, or `--fresh`), and
//! nothing on disk changes; `--fresh` moves the old state aside and
//! starts over; a backup restored is the other way on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use swarm_tests::{free_port, workspace_binary, write_plan, Daemon};

const PLAN: &str = "# Kept\n\n### Day 1: Work\n\n**Task 1.1**: Waits\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `true`\n";

/// A workdir swarmd has used: a plan loaded, a memory entry written,
/// then stopped gracefully. Returns the backup taken before the stop.
fn used_workdir(dir: &Path, port: u16) -> PathBuf {
    let mut d = Daemon::start(dir, port);
    let plan = write_plan(dir, "plan.md", PLAN);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    d.ctl_json(&["memory", "put", "kept", "yes", "--json"]);
    let backup = dir.join("backup-1");
    let out = d.ctl(&["backup", &backup.display().to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    d.stop();
    backup
}

/// Every file under `.swarm/` but the lock, with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(at: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(at).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.file_name().is_some_and(|n| n != "swarmd.lock") {
                out.insert(path.clone(), std::fs::read(&path).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&dir.join(".swarm"), &mut out);
    out
}

/// The write-ahead log and its index gone, as after a careless copy.
fn drop_wal(dir: &Path) {
    for side in ["swarmd.db-wal", "swarmd.db-shm"] {
        let _ = std::fs::remove_file(dir.join(".swarm").join(side));
    }
}

/// `swarmd` started on `dir` and expected to refuse at once.
fn refused(dir: &Path, port: u16) -> (Output, String) {
    let out = Command::new(workspace_binary("swarmd"))
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--workdir")
        .arg(dir)
        .env_remove("SWARM_ADMIN_TOKEN")
        .env_remove("SWARM_AGENT_TOKEN")
        .output()
        .expect("swarmd");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    (out, err)
}

/// The refusal names the file, says what is wrong and gives both cures.
fn assert_names_file_and_cure(dir: &Path, err: &str, what: &str) {
    let file = dir.join(".swarm/swarmd.db").display().to_string();
    assert!(err.contains(&format!("{file} {what}")), "{err}");
    let workdir = dir.display().to_string();
    assert!(
        err.contains("swarmd restore ") && err.contains(&format!("--workdir {workdir}")),
        "{err}"
    );
    assert!(
        err.contains(&format!("swarmd --fresh --workdir {workdir}")),
        "{err}"
    );
}

#[test]
fn an_empty_state_file_beside_tokens_is_refused_until_fresh() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    used_workdir(dir.path(), port);
    drop_wal(dir.path());
    std::fs::write(dir.path().join(".swarm/swarmd.db"), b"").expect("empty");
    let before = snapshot(dir.path());
    let (_, err) = refused(dir.path(), port);
    assert_names_file_and_cure(dir.path(), &err, "is empty (0 bytes)");
    assert!(
        err.contains("admin.token, agent.token") && err.contains("memory.db"),
        "the signs of use are named: {err}"
    );
    assert_eq!(snapshot(dir.path()), before, "nothing changed on disk");

    // Starting over on purpose: the old file kept aside, a new state.
    let d = Daemon::start_with(dir.path(), port, &["--fresh"]);
    let status = d.ctl_json(&["status", "--json"]);
    assert!(status["plan"].is_null() || status["plan"] == "", "{status}");
    // The shared memory (claude-flow's too) stays.
    assert_eq!(
        d.ctl_json(&["memory", "get", "kept", "--json"])["value"],
        "yes"
    );
    let aside: Vec<String> = std::fs::read_dir(dir.path().join(".swarm"))
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("swarmd.db.aside-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    let log = std::fs::read_to_string(dir.path().join("swarmd.log")).expect("log");
    assert!(log.contains(&aside[0]), "the log says where: {log}");
}

#[test]
fn random_bytes_and_truncation_name_the_file_and_a_restore_goes_on() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let backup = used_workdir(dir.path(), port);
    drop_wal(dir.path());
    let file = dir.path().join(".swarm/swarmd.db");
    let good = std::fs::read(&file).expect("state");
    assert!(good.len() >= 8192, "a state of several pages");

    // Overwritten with noise of the same size.
    let mut x: u32 = 0x1234_5678;
    let noise: Vec<u8> = (0..good.len())
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8
        })
        .collect();
    std::fs::write(&file, &noise).expect("noise");
    let before = snapshot(dir.path());
    let (_, err) = refused(dir.path(), port);
    assert_names_file_and_cure(dir.path(), &err, "is damaged");
    assert_eq!(snapshot(dir.path()), before, "nothing changed on disk");

    // Cut in half.
    std::fs::write(&file, &good[..good.len() / 2 + 100]).expect("truncated");
    let (_, err) = refused(dir.path(), port);
    assert_names_file_and_cure(dir.path(), &err, "is damaged");
    assert!(err.contains("(truncated)"), "{err}");

    // The first cure: the backup restored in place, and swarmd goes on
    // with the plan it had.
    let out = Command::new(workspace_binary("swarmd"))
        .arg("restore")
        .arg(&backup)
        .arg("--workdir")
        .arg(dir.path())
        .output()
        .expect("restore");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = Daemon::start(dir.path(), port);
    assert_eq!(d.ctl_json(&["status", "--json"])["plan"], "Kept");
}

#[test]
fn a_damaged_memory_file_is_named_at_start_and_never_stops_swarmd() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    used_workdir(dir.path(), port);
    let memory = dir.path().join(".swarm/memory.db");
    std::fs::write(&memory, vec![0xab_u8; 8192]).expect("garbage");
    let d = Daemon::start(dir.path(), port);
    assert_eq!(d.ctl_json(&["status", "--json"])["plan"], "Kept");
    assert_eq!(
        d.ctl_json(&["memory", "get", "kept", "--json"])["value"],
        "yes"
    );
    let log = std::fs::read_to_string(dir.path().join("swarmd.log")).expect("log");
    let line = log
        .lines()
        .find(|l| l.contains(&format!("{} is damaged", memory.display())))
        .unwrap_or_else(|| panic!("no warning naming memory.db: {log}"));
    assert!(line.contains("rebuilt"), "{line}");
}
