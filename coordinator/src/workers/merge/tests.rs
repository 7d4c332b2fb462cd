//! The merge queue's git work on a real repository: the integration branch
//! opened (and found again), work merged with its trailers, a gang's
//! members folded into one merge, a conflict traced to the task that made
//! it, and a merge made before a crash found rather than made twice.

use std::path::Path;

use swarm_core::jobs::{MergeJob, MergeNotice, MergeWork};
use swarm_git::{Identity, Repo};

use super::work;

const BRANCH: &str = "swarm/plan-7/integration";

fn who() -> Identity {
    Identity {
        name: "agent".into(),
        email: "agent@swarm.invalid".into(),
    }
}

/// The origin: a repository with `shared.txt` on `main`.
fn origin(dir: &Path) -> Repo {
    let repo = Repo::at(dir);
    repo.init(false).expect("init");
    repo.git(&["checkout", "-q", "-b", "main"]).expect("main");
    std::fs::write(dir.join("shared.txt"), "one\ntwo\nthree\n").expect("write");
    repo.commit_all(&who(), "base", &[]).expect("commit");
    repo
}

/// A commit on `branch` of `origin` from `from`, writing `file`.
fn attempt(origin: &Repo, tmp: &Path, branch: &str, from: &str, file: &str, text: &str) -> String {
    let wt = tmp.join(branch.replace('/', "-"));
    let tree = origin.add_worktree(&wt, branch, from).expect("worktree");
    std::fs::write(wt.join(file), text).expect("write");
    let c = tree
        .commit_all(&who(), branch, &[])
        .expect("commit")
        .expect("a change");
    origin.remove_worktree(&wt).expect("remove");
    c
}

fn merge_job(task: &str, attempt: u64, commits: Vec<String>, repo: &str) -> MergeJob {
    MergeJob::Merge(Box::new(MergeWork {
        plan_id: 7,
        repo: repo.to_string(),
        branch: BRANCH.to_string(),
        label: "plan-7".to_string(),
        task_id: task.to_string(),
        title: format!("Task {task}"),
        attempt,
        commits,
        verify: false,
    }))
}

#[test]
fn work_is_merged_once_with_its_trailers_and_conflicts_name_the_task() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = origin(&tmp.path().join("origin"));
    let url = o.dir().display().to_string();
    let repos = tmp.path().join("repos");
    let open = MergeJob::Open {
        plan_id: 7,
        repo: url.clone(),
        base: "main".into(),
        branch: BRANCH.into(),
    };
    let head = match work(&repos, open.clone()) {
        MergeNotice::Opened { head, .. } => head,
        other => panic!("{other:?}"),
    };
    assert_eq!(o.branch_tip(BRANCH).expect("tip"), Some(head.clone()));

    // Two attempts from the same head: one adds a file, the other changes
    // the shared line; a third changes the same line otherwise.
    let a = attempt(&o, tmp.path(), "a/1", &head, "new.txt", "new\n");
    let b = attempt(
        &o,
        tmp.path(),
        "b/1",
        &head,
        "shared.txt",
        "one\nTWO\nthree\n",
    );
    let c = attempt(
        &o,
        tmp.path(),
        "c/1",
        &head,
        "shared.txt",
        "one\n2\nthree\n",
    );
    let first = match work(&repos, merge_job("1.1", 11, vec![a], &url)) {
        MergeNotice::Merged { commit, files, .. } => {
            assert_eq!(files, ["new.txt"]);
            commit
        }
        other => panic!("{other:?}"),
    };
    let second = match work(&repos, merge_job("1.2", 12, vec![b.clone()], &url)) {
        MergeNotice::Merged { commit, .. } => commit,
        other => panic!("{other:?}"),
    };
    assert_eq!(o.branch_tip(BRANCH).expect("tip"), Some(second.clone()));
    let log = o.trailers(BRANCH, true).expect("log");
    assert_eq!(log[0].0, second);
    assert_eq!(log[1].0, first);
    assert!(log[0]
        .1
        .iter()
        .any(|t| t.key == "Swarm-Task" && t.value == "1.2"));

    // The same job again (a restart before the loop heard of it): found,
    // not merged twice.
    match work(&repos, merge_job("1.2", 12, vec![b], &url)) {
        MergeNotice::Merged { commit, files, .. } => {
            assert_eq!(commit, second);
            assert_eq!(files, ["shared.txt"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(o.branch_tip(BRANCH).expect("tip"), Some(second.clone()));

    // An older merge is found below the tip too.
    match work(
        &repos,
        merge_job(
            "1.1",
            11,
            vec!["0000000000000000000000000000000000000000".into()],
            &url,
        ),
    ) {
        MergeNotice::Merged { commit, found, .. } => {
            assert_eq!(commit, first);
            assert!(found);
        }
        other => panic!("{other:?}"),
    }

    // The conflicting change: nothing moves, and 1.2 is named.
    match work(&repos, merge_job("1.3", 13, vec![c], &url)) {
        MergeNotice::Conflict { files, with, .. } => {
            assert_eq!(files, ["shared.txt"]);
            assert_eq!(with, ["1.2"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(o.branch_tip(BRANCH).expect("tip"), Some(second.clone()));
    // Opening again finds the branch where it is.
    match work(&repos, open) {
        MergeNotice::Opened { head, .. } => assert_eq!(head, second),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_gangs_members_land_in_one_merge_and_a_missing_base_is_said() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = origin(&tmp.path().join("origin"));
    let url = o.dir().display().to_string();
    let repos = tmp.path().join("repos");
    let head = o.branch_tip("main").expect("tip").expect("main");
    o.move_branch(BRANCH, &head, None).expect("integration");
    let m1 = attempt(&o, tmp.path(), "g/a1-sre", &head, "sre.txt", "sre\n");
    let m2 = attempt(&o, tmp.path(), "g/a1-dev", &head, "dev.txt", "dev\n");
    match work(&repos, merge_job("2.1", 21, vec![m1, m2], &url)) {
        MergeNotice::Merged { files, .. } => assert_eq!(files, ["dev.txt", "sre.txt"]),
        other => panic!("{other:?}"),
    }
    let first_parent = o.trailers(BRANCH, true).expect("log");
    assert_eq!(
        first_parent.len(),
        2,
        "one merge on top of the base: {first_parent:?}"
    );

    let open = MergeJob::Open {
        plan_id: 8,
        repo: url,
        base: "trunk".into(),
        branch: "swarm/plan-8/integration".into(),
    };
    match work(&repos, open) {
        MergeNotice::OpenFailed { error, .. } => {
            assert!(error.contains("no branch 'trunk'"), "{error}")
        }
        other => panic!("{other:?}"),
    }
}
