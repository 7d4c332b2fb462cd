//! The merge queue as the loop keeps it: nothing runs in the repository
//! before its integration branch is open; a succeeded attempt's commit
//! makes its task `merging`, and only the merge makes it `succeeded` and
//! readies its dependents; the worker has one merge in hand at a time; a
//! conflict runs the task again on top of the new head, with the conflict
//! in its brief; a restart hands the queued merge over again.

use crate::command::{AttemptRef, AttemptReport, Command, FromAgent, Outcome, ToAgent};
use crate::config::WorkspaceConfig;
use crate::jobs::{MergeJob, MergeNotice};
use crate::testkit::{config, plan, Harness, TestAgent};

fn cfg() -> crate::config::CoreConfig {
    crate::config::CoreConfig {
        workspace: Some(WorkspaceConfig::new("/srv/git/app")),
        ..config()
    }
}

fn jobs(h: &mut Harness) -> Vec<MergeJob> {
    let mut out = Vec::new();
    while let Ok(j) = h.receivers.merges.try_recv() {
        out.push(j);
    }
    out
}

/// The lead's success with a commit.
fn committed(h: &mut Harness, a: &TestAgent, task: &str, fence: u64, commit: &str) {
    let report = AttemptReport {
        commit: Some(commit.to_string()),
        ..AttemptReport::of(Outcome::Succeeded)
    };
    let attempt = AttemptRef {
        task_id: task.into(),
        attempt: fence,
    };
    h.say(a, FromAgent::Result { attempt, report });
}

fn notice(h: &mut Harness, n: MergeNotice) {
    h.turn(vec![Command::Merge(n)]);
}

/// Each assignment's (task, fence, base commit, branch, brief).
fn assigned(a: &mut TestAgent) -> Vec<(String, u64, String, String, String)> {
    a.inbox()
        .into_iter()
        .filter_map(|m| match m {
            ToAgent::Assign(x) => {
                let w = x.workspace.clone()?;
                Some((
                    x.attempt.task_id.clone(),
                    x.attempt.attempt,
                    w.base_commit,
                    w.branch,
                    x.brief.clone(),
                ))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn work_is_merged_before_its_task_succeeds_and_its_dependents_start() {
    let mut h = Harness::on_disk(cfg());
    h.load(&plan(&[
        ("1.1", "SRE", "P1", 1, ""),
        ("1.2", "SRE", "P1", 1, ""),
        ("1.3", "SRE", "P1", 1, "Task 1.1"),
    ]))
    .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let mut b = h.connect("sre-2", &["sre"]);
    // Nothing runs before the integration branch is open.
    let open = jobs(&mut h);
    let Some(MergeJob::Open {
        plan_id,
        branch,
        base,
        ..
    }) = open.first().cloned()
    else {
        panic!("{open:?}");
    };
    assert_eq!(
        (branch.as_str(), base.as_str()),
        ("swarm/test-plan-1/integration", "main")
    );
    assert!(a.assignments().is_empty() && b.assignments().is_empty());
    notice(
        &mut h,
        MergeNotice::Opened {
            plan_id,
            head: "base0".into(),
        },
    );
    let (mut on_a, mut on_b) = (assigned(&mut a), assigned(&mut b));
    assert_eq!(on_a.len() + on_b.len(), 2, "{on_a:?} {on_b:?}");
    let mut all: Vec<_> = on_a.drain(..).chain(on_b.drain(..)).collect();
    all.sort();
    assert_eq!(all[0].2, "base0");
    assert_eq!(all[0].3, "swarm/test-plan-1/attempts/1.1/a1");
    let (f11, f12) = (all[0].1, all[1].1);
    let (a11, a12) = if h.task("1.1").attempts[0].agents[0] == "sre-1" {
        (&a, &b)
    } else {
        (&b, &a)
    };
    committed(&mut h, a11, "1.1", f11, "c11");
    committed(&mut h, a12, "1.2", f12, "c12");
    assert_eq!(h.state_of("1.1"), "merging");
    assert_eq!(h.state_of("1.3"), "pending", "1.3 waits for the merge");
    // One merge in hand at a time.
    let queued = jobs(&mut h);
    assert_eq!(queued.len(), 1, "{queued:?}");
    let MergeJob::Merge(w) = &queued[0] else {
        panic!("{queued:?}")
    };
    assert_eq!(
        (w.task_id.as_str(), w.commits.as_slice()),
        ("1.1", &["c11".to_string()][..])
    );
    let merged = MergeNotice::Merged {
        plan_id,
        attempt: f11,
        commit: "m11".into(),
        head: "m11".into(),
        files: vec!["a".into()],
        found: false,
    };
    notice(&mut h, merged);
    assert_eq!(h.state_of("1.1"), "succeeded");
    // The next merge goes out; 1.3 starts from the new head.
    let next = jobs(&mut h);
    assert!(
        matches!(&next[..], [MergeJob::Merge(w)] if w.task_id == "1.2"),
        "{next:?}"
    );
    let started: Vec<_> = assigned(&mut a)
        .into_iter()
        .chain(assigned(&mut b))
        .collect();
    assert_eq!(started.len(), 1, "{started:?}");
    assert_eq!(
        (started[0].0.as_str(), started[0].2.as_str()),
        ("1.3", "m11")
    );

    // 1.2 conflicts with 1.1: it runs again on top, the conflict in its
    // brief, without using a retry.
    let conflict = MergeNotice::Conflict {
        plan_id,
        attempt: f12,
        files: vec!["a".into()],
        with: vec!["1.1".into()],
    };
    notice(&mut h, conflict);
    assert_eq!(h.events_of("task.conflict").len(), 1);
    let again: Vec<_> = assigned(&mut a)
        .into_iter()
        .chain(assigned(&mut b))
        .collect();
    let rerun = again.iter().find(|x| x.0 == "1.2").expect("1.2 again");
    assert_eq!(rerun.2, "m11");
    assert_eq!(rerun.3, "swarm/test-plan-1/attempts/1.2/a2");
    assert!(
        rerun.4.contains("## Merge conflict")
            && rerun.4.contains("merge conflict in a, changed by task 1.1"),
        "{}",
        rerun.4
    );

    // A restart hands the merge of 1.3, queued before it, over again.
    let f13 = started[0].1;
    let a13 = if h.task("1.3").attempts[0].agents[0] == "sre-1" {
        &a
    } else {
        &b
    };
    committed(&mut h, a13, "1.3", f13, "c13");
    let _ = jobs(&mut h);
    let mut h = h.reopen(cfg());
    let resent = jobs(&mut h);
    assert!(matches!(&resent[0], MergeJob::Open { .. }), "{resent:?}");
    assert!(
        matches!(&resent[1..], [MergeJob::Merge(w)] if w.task_id == "1.3" && w.commits == ["c13"]),
        "{resent:?}"
    );
    assert_eq!(h.state_of("1.3"), "merging");
}
