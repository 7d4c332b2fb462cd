//! `swarmctl backup DIR` during a running plan, `swarmd restore DIR
//! --workdir NEW`, and the run goes on there: nothing that had succeeded
//! runs again.

use std::process::Command;

use swarm_tests::{free_port, workspace_binary, write_plan, Daemon};

fn plan(ledger: &std::path::Path) -> String {
    let mut plan = String::from("# Backup\n\n### Day 1: Steps\n\n");
    for i in 1..=4 {
        let deps = if i == 1 {
            "None".to_string()
        } else {
            format!("Task 1.{}", i - 1)
        };
        plan.push_str(&format!(
            "**Task 1.{i}**: Step {i}\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: {deps}\n- **Run**: `sleep 0.5; echo 1.{i} >> {}`\n\n",
            ledger.display()
        ));
    }
    plan
}

/// `swarmd restore BACKUP --workdir WORKDIR`, which must succeed.
fn restore(backup: &std::path::Path, workdir: &std::path::Path) -> std::process::Output {
    let out = Command::new(workspace_binary("swarmd"))
        .arg("restore")
        .arg(backup)
        .arg("--workdir")
        .arg(workdir)
        .output()
        .expect("swarmd restore");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn a_backup_taken_while_running_restores_into_a_workdir_that_goes_on() {
    let root = tempfile::tempdir().expect("tmp");
    let (old, new, backup) = (
        root.path().join("old"),
        root.path().join("new"),
        root.path().join("backup"),
    );
    std::fs::create_dir_all(&old).expect("mkdir");
    let ledger = root.path().join("ledger.txt");
    let mut d = Daemon::start(&old, free_port());
    let mut a = d.agent("sre-1", &["sre"]);
    let plan_file = write_plan(&old, "plan.md", &plan(&ledger));
    d.ctl_json(&["plan", "load", &plan_file.display().to_string(), "--json"]);
    d.wait_task("1.2", "succeeded", 20);
    let manifest = d.ctl_json(&["backup", &backup.display().to_string(), "--json"]);
    assert_eq!(manifest["plan"], "Backup (running)", "{manifest}");
    assert!(backup.join("manifest.json").exists());
    // The old coordinator and its agent are lost.
    a.kill9();
    d.kill9();
    let succeeded_in_backup: Vec<String> = {
        let db = rusqlite::Connection::open(backup.join("swarmd.db")).expect("open");
        let mut stmt = db
            .prepare("SELECT id FROM swarm_tasks WHERE state = 'succeeded' ORDER BY id")
            .expect("query");
        stmt.query_map([], |r| r.get(0))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("ids")
    };
    assert!(succeeded_in_backup.len() >= 2, "{succeeded_in_backup:?}");

    restore(&backup, &new);
    let d = Daemon::start(&new, free_port());
    let _b = d.agent("sre-1", &["sre"]);
    d.wait_status(30, |s| s["state"] == "succeeded");
    let lines = std::fs::read_to_string(&ledger).expect("ledger");
    for id in &succeeded_in_backup {
        assert_eq!(
            lines.lines().filter(|l| l == id).count(),
            1,
            "{id} had succeeded before the backup and ran again: {lines}"
        );
    }
    for i in 1..=4 {
        assert!(lines.lines().any(|l| l == format!("1.{i}")), "{lines}");
    }
    // A workdir a daemon holds is never overwritten.
    let refused = Command::new(workspace_binary("swarmd"))
        .arg("restore")
        .arg(&backup)
        .arg("--workdir")
        .arg(&new)
        .output()
        .expect("swarmd restore");
    assert_eq!(refused.status.code(), Some(3));
}

#[test]
fn periodic_backups_keep_the_newest_and_each_restores() {
    let root = tempfile::tempdir().expect("tmp");
    let work = root.path().join("work");
    std::fs::create_dir_all(&work).expect("mkdir");
    let config = root.path().join("swarmd.toml");
    std::fs::write(
        &config,
        "backup_interval = \"1s\"\nbackup_keep = 2\nbackup_dir = \"snapshots\"\n",
    )
    .expect("config");
    let d = Daemon::start_with(
        &work,
        free_port(),
        &["--config", &config.display().to_string()],
    );
    let plan_file = write_plan(&work, "plan.md", &plan(&root.path().join("ledger.txt")));
    d.ctl_json(&["plan", "load", &plan_file.display().to_string(), "--json"]);
    let dir = work.join("snapshots");
    let list = || -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.starts_with("backup-"))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    // Watch until a fourth backup has appeared; never more than two at once.
    let mut seen = std::collections::BTreeSet::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while seen.len() < 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "backups seen: {seen:?}"
        );
        let now = list();
        assert!(now.len() <= 2, "kept more than backup_keep: {now:?}");
        seen.extend(now);
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let newest = list().pop().expect("a backup");
    let restored = root.path().join("restored");
    let out = restore(&dir.join(&newest), &restored);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("(Backup"),
        "the backup holds the plan: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}
