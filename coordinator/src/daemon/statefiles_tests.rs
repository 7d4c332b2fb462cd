use super::*;

/// A `.swarm/` in a fresh temporary directory.
fn workdir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tmp");
    let state = dir.path().join(".swarm");
    std::fs::create_dir_all(&state).expect("mkdir");
    (dir, state)
}

/// A real SQLite file of several pages at `path`.
fn database(path: &Path) {
    let db = rusqlite::Connection::open(path).expect("open");
    db.execute_batch("CREATE TABLE t (v TEXT); INSERT INTO t VALUES (zeroblob(20000));")
        .expect("fill");
}

fn used(state: &Path) {
    std::fs::write(state.join("admin.token"), "a").expect("token");
    std::fs::write(state.join("agent.token"), "b").expect("token");
}

#[test]
fn a_new_workdir_and_a_claude_flow_one_start() {
    let (_d, state) = workdir();
    assert_eq!(check(&state), Ok(vec![]));
    // claude-flow made memory.db before swarmd ever ran here.
    database(&state.join("memory.db"));
    assert_eq!(check(&state), Ok(vec![]));
}

#[test]
fn a_lost_state_file_in_a_used_workdir_is_refused_naming_it_and_the_signs() {
    let (_d, state) = workdir();
    used(&state);
    database(&state.join("memory.db"));
    let refusal = check(&state).expect_err("missing");
    assert_eq!(refusal.file(), state.join("swarmd.db"));
    let what = refusal.what();
    assert!(what.contains("swarmd.db is missing"), "{what}");
    assert!(
        what.contains("admin.token, agent.token, memory.db are there"),
        "{what}"
    );
    std::fs::write(state.join("swarmd.db"), b"").expect("empty");
    let what = check(&state).expect_err("empty").what();
    assert!(what.contains("swarmd.db is empty (0 bytes)"), "{what}");
    // Agents' logs are a sign too.
    let (_d, state) = workdir();
    std::fs::create_dir_all(state.join("agents")).expect("mkdir");
    std::fs::write(state.join("agents/sre-0.log"), "x").expect("log");
    assert!(matches!(check(&state), Err(Refusal::Lost { .. })));
}

#[test]
fn an_empty_state_file_beside_its_log_is_refused_anywhere() {
    let (_d, state) = workdir();
    std::fs::write(state.join("swarmd.db"), b"").expect("empty");
    std::fs::write(state.join("swarmd.db-wal"), vec![1u8; 4096]).expect("wal");
    let refusal = check(&state).expect_err("wal");
    assert_eq!(
        refusal,
        Refusal::EmptyBesideLog {
            file: state.join("swarmd.db"),
            wal_bytes: 4096
        }
    );
}

#[test]
fn the_single_file_layout_is_not_a_lost_state() {
    let (_d, state) = workdir();
    used(&state);
    let db = rusqlite::Connection::open(state.join("memory.db")).expect("open");
    db.execute_batch("CREATE TABLE swarm_plans (id INTEGER PRIMARY KEY);")
        .expect("table");
    drop(db);
    assert_eq!(check(&state), Ok(vec![]));
}

#[test]
fn random_bytes_and_truncation_are_damage_named_with_the_file() {
    let (_d, state) = workdir();
    let file = state.join("swarmd.db");
    std::fs::write(&file, vec![0x5a_u8; 9000]).expect("garbage");
    let what = check(&state).expect_err("garbage").what();
    assert!(
        what.contains("swarmd.db is damaged: it is not a SQLite database"),
        "{what}"
    );
    std::fs::remove_file(&file).expect("rm");
    database(&file);
    assert_eq!(inspect(&file), Health::Sound);
    let size = std::fs::metadata(&file).expect("meta").len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .expect("open");
    f.set_len(size - 4096).expect("cut a page");
    assert_eq!(inspect(&file), Health::Truncated(size - 4096, size));
    f.set_len(size / 2 + 7).expect("cut mid-page");
    let what = check(&state).expect_err("truncated").what();
    assert!(what.contains("(truncated)"), "{what}");
    // With a write-ahead log the rest may be in it.
    std::fs::write(state.join("swarmd.db-wal"), vec![1u8; 100]).expect("wal");
    assert_eq!(inspect(&file), Health::Sound);
}

#[test]
fn a_damaged_memory_file_is_a_warning_naming_it() {
    let (_d, state) = workdir();
    database(&state.join("swarmd.db"));
    std::fs::write(state.join("memory.db"), vec![0xab_u8; 8192]).expect("garbage");
    let warnings = check(&state).expect("starts");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("memory.db is damaged"), "{warnings:?}");
    assert!(warnings[0].contains("rebuilt"), "{warnings:?}");
}

#[test]
fn starting_over_moves_the_state_aside_and_keeps_the_rest() {
    let (_d, state) = workdir();
    used(&state);
    database(&state.join("swarmd.db"));
    std::fs::write(state.join("swarmd.db-wal"), b"log").expect("wal");
    std::fs::write(state.join("memory.db"), b"shared").expect("memory");
    let aside = start_over(&state, "20260101T000000Z")
        .expect("moved")
        .expect("there was a file");
    assert_eq!(aside, state.join("swarmd.db.aside-20260101T000000Z"));
    assert_eq!(inspect(&aside), Health::Sound);
    let wal = state.join("swarmd.db.aside-20260101T000000Z-wal");
    assert_eq!(std::fs::read(wal).expect("wal"), b"log");
    assert!(!state.join("swarmd.db").exists());
    assert!(!state.join("swarmd.db-wal").exists());
    for kept in ["admin.token", "agent.token", "memory.db"] {
        assert!(state.join(kept).exists(), "{kept}");
    }
    // A second start-over in the same second does not overwrite the first.
    database(&state.join("swarmd.db"));
    let second = start_over(&state, "20260101T000000Z").expect("moved");
    assert_eq!(
        second,
        Some(state.join("swarmd.db.aside-20260101T000000Z-2"))
    );
    assert_eq!(start_over(&state, "x"), Ok(None), "nothing left to move");
}

#[test]
fn the_cure_names_restore_and_fresh() {
    let cure = cure(
        Path::new("/srv/w"),
        Path::new("/srv/w/.swarm/swarmd.db"),
        Some(Path::new("/srv/w/.swarm/backups/backup-1")),
    );
    assert!(
        cure.contains("swarmd restore /srv/w/.swarm/backups/backup-1 --workdir /srv/w"),
        "{cure}"
    );
    assert!(cure.contains("swarmd --fresh --workdir /srv/w"), "{cure}");
    assert!(cure.contains("swarmd.db.aside-"), "{cure}");
}
