//! The workflow swarmd drives, on a real repository: an integration
//! branch, attempt branches in worktrees, commits with trailers, merges
//! without a work tree, conflicts, and the trailers read back.

use std::path::Path;

use swarm_git::{GitError, Identity, Merge, Repo, Trailer};

fn who(name: &str) -> Identity {
    Identity {
        name: name.to_string(),
        email: format!("{name}@swarmd.invalid"),
    }
}

fn trailers(task: &str, attempt: &str) -> Vec<Trailer> {
    vec![
        Trailer::new("Swarm-Task", task),
        Trailer::new("Swarm-Attempt", attempt),
    ]
}

/// A repository with one commit on `main` holding `shared.txt`.
fn repository(dir: &Path) -> Repo {
    let repo = Repo::at(dir);
    repo.init(false).expect("init");
    std::fs::write(dir.join("shared.txt"), "one\ntwo\nthree\n").expect("write");
    repo.git(&["checkout", "-q", "-b", "main"]).expect("branch");
    let base = repo
        .commit_all(&who("operator"), "base", &[])
        .expect("base commit");
    assert!(base.is_some());
    repo
}

#[test]
fn attempts_commit_in_worktrees_and_merge_into_the_integration_branch_one_at_a_time() {
    let tmp = tempfile::tempdir().expect("tmp");
    let repo = repository(&tmp.path().join("repo"));
    let base = repo.branch_tip("main").expect("tip").expect("main exists");
    let integration = "swarm/plan-1/integration";
    repo.move_branch(integration, &base, None).expect("create");
    // A second creation finds it there: nobody else's branch is taken over.
    let again = repo.move_branch(integration, &base, None);
    assert!(matches!(again, Err(GitError::Moved { .. })), "{again:?}");

    let wt1 = tmp.path().join("wt/1.1");
    let one = repo
        .add_worktree(&wt1, "swarm/plan-1/attempts/1.1/a1", &base)
        .expect("worktree 1.1");
    std::fs::create_dir_all(wt1.join("scripts")).expect("dir");
    std::fs::write(wt1.join("scripts/backup.sh"), "#!/bin/sh\necho backup\n").expect("write");
    let c1 = one
        .commit_all(
            &who("sre-1 (sre)"),
            "1.1 Backup script",
            &trailers("1.1", "1"),
        )
        .expect("commit")
        .expect("a change");
    assert_eq!(
        one.commit_all(&who("sre-1"), "nothing", &[])
            .expect("commit"),
        None
    );
    assert_eq!(
        repo.changed_files(&base, &c1).expect("diff"),
        ["scripts/backup.sh"]
    );

    let wt2 = tmp.path().join("wt/1.2");
    let two = repo
        .add_worktree(&wt2, "swarm/plan-1/attempts/1.2/a1", &base)
        .expect("worktree 1.2");
    std::fs::write(wt2.join("shared.txt"), "one\nTWO\nthree\n").expect("write");
    let c2 = two
        .commit_all(&who("dev-1"), "1.2 Edit", &trailers("1.2", "1"))
        .expect("commit")
        .expect("a change");

    for (task, commit) in [("1.1", &c1), ("1.2", &c2)] {
        let tip = repo.branch_tip(integration).expect("tip").expect("exists");
        let merged = repo
            .merge(
                &tip,
                commit,
                &who("swarmd"),
                &format!("Merge {task}"),
                &trailers(task, "1"),
            )
            .expect("merge");
        let Merge::Clean(m) = merged else {
            panic!("{task} merges cleanly: {merged:?}");
        };
        repo.move_branch(integration, &m, Some(&tip))
            .expect("advance");
        // A stale expectation is refused: the branch moved.
        let stale = repo.move_branch(integration, &tip, Some(&tip));
        assert!(matches!(stale, Err(GitError::Moved { .. })), "{stale:?}");
    }
    let tip = repo.branch_tip(integration).expect("tip").expect("exists");
    assert_eq!(
        repo.merge(&tip, &c1, &who("swarmd"), "again", &[])
            .expect("merge"),
        Merge::Already
    );

    // A third attempt from the old base edits the same line as 1.2.
    let wt3 = tmp.path().join("wt/1.3");
    let three = repo
        .add_worktree(&wt3, "swarm/plan-1/attempts/1.3/a1", &base)
        .expect("worktree 1.3");
    std::fs::write(wt3.join("shared.txt"), "one\n2\nthree\n").expect("write");
    let c3 = three
        .commit_all(&who("dev-2"), "1.3 Edit", &trailers("1.3", "1"))
        .expect("commit")
        .expect("a change");
    let conflict = repo
        .merge(&tip, &c3, &who("swarmd"), "Merge 1.3", &[])
        .expect("merge");
    assert_eq!(conflict, Merge::Conflict(vec!["shared.txt".to_string()]));
    assert_eq!(
        repo.branch_tip(integration).expect("tip"),
        Some(tip.clone())
    );

    let log = repo.trailers(integration, true).expect("log");
    let merged: Vec<&str> = log
        .iter()
        .flat_map(|(_, t)| t.iter())
        .filter(|t| t.key == "Swarm-Task")
        .map(|t| t.value.as_str())
        .collect();
    assert_eq!(merged, ["1.2", "1.1"], "{log:?}");

    repo.remove_worktree(&wt3).expect("remove");
    assert!(!wt3.exists());
    // A worktree made again at the same place starts clean.
    let again = repo
        .add_worktree(&wt1, "swarm/plan-1/attempts/1.1/a2", &tip)
        .expect("again");
    assert!(wt1.join("scripts/backup.sh").exists());
    assert_eq!(
        again.changed_files(&tip, "HEAD").expect("diff"),
        Vec::<String>::new()
    );
}

#[test]
fn an_unknown_name_resolves_to_none_and_a_missing_repository_is_an_error() {
    let tmp = tempfile::tempdir().expect("tmp");
    let repo = repository(&tmp.path().join("repo"));
    assert_eq!(repo.resolve("no-such-branch").expect("resolve"), None);
    let missing = Repo::at(tmp.path().join("absent"));
    let err = missing.resolve("HEAD").expect_err("no repository");
    assert!(err.to_string().contains("absent"), "{err}");
}

#[test]
fn a_clone_fetches_new_commits_and_pushes_a_branch_back() {
    let tmp = tempfile::tempdir().expect("tmp");
    let origin = repository(&tmp.path().join("origin"));
    let base = origin.branch_tip("main").expect("tip").expect("main");
    let clone = Repo::at(tmp.path().join("clones/one"));
    clone
        .clone_from(&origin.dir().to_string_lossy())
        .expect("clone");
    assert_eq!(clone.resolve(&base).expect("resolve"), Some(base.clone()));
    assert!(
        !clone.dir().join("shared.txt").exists(),
        "nothing is checked out"
    );

    std::fs::write(origin.dir().join("later.txt"), "later\n").expect("write");
    let later = origin
        .commit_all(&who("operator"), "later", &[])
        .expect("commit")
        .expect("a change");
    assert_eq!(clone.resolve(&later).expect("resolve"), None);
    clone.fetch("origin").expect("fetch");
    assert_eq!(clone.resolve(&later).expect("resolve"), Some(later.clone()));

    let wt = tmp.path().join("wt");
    let tree = clone
        .add_worktree(&wt, "swarm/p/attempts/t/a1", &later)
        .expect("wt");
    std::fs::write(wt.join("new.txt"), "new\n").expect("write");
    let c = tree
        .commit_all(&who("a1 (sre)"), "t New", &trailers("t", "1"))
        .expect("commit")
        .expect("a change");
    clone
        .push_branch("origin", "swarm/p/attempts/t/a1")
        .expect("push");
    assert_eq!(
        origin.branch_tip("swarm/p/attempts/t/a1").expect("tip"),
        Some(c)
    );

    let err = Repo::at(tmp.path().join("clones/two"))
        .clone_from(&tmp.path().join("nowhere").to_string_lossy())
        .expect_err("no such repository");
    assert!(err.to_string().contains("git clone"), "{err}");
}
