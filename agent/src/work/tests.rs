//! Tests of the attempt bookkeeping: results kept until acknowledged,
//! and what a Welcome drops.

use std::path::PathBuf;

use super::*;
use crate::exec::Host;

fn work() -> Work {
    let ctx = Context {
        reach: vec![("SWARM_COORDINATOR".into(), "http://127.0.0.1:1".into())],
        runtime: PathBuf::new(),
        token: "t".into(),
        agent_id: "a".into(),
        workdir: PathBuf::new(),
        template: None,
        local_profiles: swarm_roles::Catalogue::builtin(),
        host: Host::plain(),
        workspaces: Workspaces::new(PathBuf::new(), "a"),
    };
    Work::new(ctx, mpsc::unbounded_channel().0)
}

/// A context whose tasks run in `dir`, as agent `id`.
fn in_dir(dir: &std::path::Path, id: &str, workspaces: Workspaces) -> Context {
    Context {
        reach: Vec::new(),
        runtime: dir.to_path_buf(),
        token: "t".into(),
        agent_id: id.into(),
        workdir: dir.to_path_buf(),
        template: None,
        local_profiles: swarm_roles::Catalogue::builtin(),
        host: Host::plain(),
        workspaces,
    }
}

/// A gang member's slot: held without an executor.
fn joined(attempt: u64) -> Assignment {
    Assignment {
        attempt: AttemptRef {
            task_id: format!("t{attempt}"),
            attempt,
        },
        attempt_no: 1,
        role: "sre".into(),
        lead: false,
        title: String::new(),
        run: None,
        checks: Vec::new(),
        image: None,
        timeout: None,
        brief: String::new(),
        env: Vec::new(),
        profile: swarm_roles::Profile::default(),
        workspace: None,
    }
}

#[test]
fn results_are_sent_again_until_acknowledged() {
    let mut w = work();
    w.assign(joined(7));
    let r = w.finished(joined(7).attempt, Outcome::Succeeded, None, None, None);
    assert!(r.is_some());
    let every = Duration::from_secs(3);
    let t0 = Instant::now();
    assert_eq!(w.results_due(t0, every).len(), 1, "due at once");
    assert!(w.results_due(t0 + Duration::from_secs(1), every).is_empty());
    let again = w.results_due(t0 + every, every);
    assert_eq!(
        again.iter().map(|r| r.attempt.attempt).collect::<Vec<_>>(),
        [7]
    );
    // A Welcome makes every kept result due at once.
    w.keep_results_of(&[7]);
    assert_eq!(w.results_due(t0 + every, every).len(), 1);
    w.acknowledged(7);
    assert!(w.results_due(t0 + every * 10, every).is_empty());
    assert!(w.is_idle());
}

#[test]
fn a_welcome_drops_results_the_coordinator_no_longer_expects() {
    let mut w = work();
    w.assign(joined(1));
    w.assign(joined(2));
    w.finished(joined(1).attempt, Outcome::Succeeded, None, None, None);
    w.finished(joined(2).attempt, Outcome::Succeeded, None, None, None);
    w.keep_results_of(&[2]);
    let due = w.results_due(Instant::now(), Duration::from_secs(3));
    assert_eq!(
        due.iter().map(|r| r.attempt.attempt).collect::<Vec<_>>(),
        [2]
    );
    assert_eq!(w.listed().len(), 1);
}

/// An attempt this agent leads, running `run`.
fn led(attempt: u64, run: &str) -> Assignment {
    Assignment {
        lead: true,
        run: Some(run.into()),
        ..joined(attempt)
    }
}

#[tokio::test]
async fn a_cut_off_stops_the_running_attempts_and_keeps_their_cancelled_results() {
    let dir = tempfile::tempdir().expect("tmp");
    let (tx, mut events) = mpsc::unbounded_channel();
    let ctx = in_dir(dir.path(), "a", Workspaces::new(PathBuf::new(), "a"));
    let mut w = Work::new(ctx, tx);
    w.assign(joined(4));
    assert!(!w.runs_any(), "a gang member's slot runs nothing here");
    w.assign(led(3, "echo started > started; sleep 30; echo ran > ran"));
    let ran = dir.path().join("ran");
    while !dir.path().join("started").exists() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(w.runs_any(), "a led attempt runs");
    let stopped = w.cut_off();
    assert!(!w.runs_any(), "nothing left to stop");
    assert_eq!(
        stopped.iter().map(|r| r.attempt).collect::<Vec<_>>(),
        [3],
        "only a led attempt has processes to stop"
    );
    assert!(w.cut_off().is_empty(), "stopped once");
    let (r, outcome) = loop {
        match events.recv().await.expect("the executor reports") {
            ExecEvent::Done(r, outcome, _, _, _) => break (r, outcome),
            ExecEvent::Started(_) | ExecEvent::Log(..) => {}
        }
    };
    assert_eq!(outcome, Outcome::Cancelled);
    assert!(!ran.exists(), "the attempt's process was stopped");
    let result = w
        .finished(r, outcome, None, None, None)
        .expect("a result to report");
    assert_eq!(result.outcome, Outcome::Cancelled);
    let listed: Vec<u64> = w.listed().iter().map(|r| r.attempt).collect();
    assert_eq!(listed, [3, 4], "both are listed in the next Hello");
}

#[tokio::test]
async fn led_attempts_in_workspaces_run_in_their_worktrees_and_report_what_they_pushed() {
    let f = super::workspace::tests::fixture();
    let runtime = tempfile::tempdir().expect("tmp");
    let (tx, mut events) = mpsc::unbounded_channel();
    let ctx = in_dir(runtime.path(), "sre-1", f.workspaces.clone());
    let mut w = Work::new(ctx, tx);
    let (ok_ws, bad_ws) = (f.workspace("t5", 5), f.workspace("t6", 6));
    w.assign(Assignment {
        title: "Write where".into(),
        workspace: Some(ok_ws.clone()),
        ..led(5, "pwd > where.txt && echo done > \"$SWARM_RESULT\"")
    });
    w.assign(Assignment {
        workspace: Some(bad_ws.clone()),
        ..led(6, "echo half > half.txt; exit 3")
    });
    let mut done = HashMap::new();
    while done.len() < 2 {
        match events.recv().await.expect("the executors report") {
            ExecEvent::Done(r, outcome, result, commit, _) => {
                done.insert(r.attempt, (outcome, result, commit));
            }
            ExecEvent::Started(_) | ExecEvent::Log(..) => {}
        }
    }
    let (outcome, result, commit) = done.remove(&5).expect("attempt 5");
    assert_eq!(
        (outcome, result.as_deref()),
        (Outcome::Succeeded, Some("done\n"))
    );
    let commit = commit.expect("a commit");
    assert_eq!(f.pushed(&ok_ws), Some(commit.clone()));
    let worktree = f.agent_dir.join("work/t5-5");
    let file = format!("{commit}:where.txt");
    let place = f.origin.git(&["show", &file]).expect("where.txt committed");
    assert_eq!(place, worktree.display().to_string(), "ran in its worktree");
    let subject = f
        .origin
        .git(&["log", "-1", "--format=%s", &commit])
        .expect("log");
    assert_eq!(subject, "t5 Write where");
    assert!(!worktree.exists(), "removed once pushed");

    let (outcome, _, commit) = done.remove(&6).expect("attempt 6");
    assert!(
        matches!(
            outcome,
            Outcome::Failed {
                exit_code: Some(3),
                ..
            }
        ),
        "{outcome:?}"
    );
    assert_eq!((commit, f.pushed(&bad_ws)), (None, None), "nothing pushed");
    assert!(!f.agent_dir.join("work/t6-6").exists());
}

#[tokio::test]
async fn a_workspace_that_cannot_be_made_fails_the_attempt_before_it_starts() {
    let f = super::workspace::tests::fixture();
    let runtime = tempfile::tempdir().expect("tmp");
    let (tx, mut events) = mpsc::unbounded_channel();
    let ctx = in_dir(runtime.path(), "sre-1", f.workspaces.clone());
    let mut w = Work::new(ctx, tx);
    let mut ws = f.workspace("t8", 8);
    ws.repo = runtime.path().join("missing.git").display().to_string();
    w.assign(Assignment {
        workspace: Some(ws),
        ..led(8, "echo ran > ran")
    });
    let outcome = loop {
        match events.recv().await.expect("the executor reports") {
            ExecEvent::Done(_, outcome, _, commit, _) => break (outcome, commit),
            ExecEvent::Started(_) | ExecEvent::Log(..) => {}
        }
    };
    match outcome {
        (Outcome::NotStarted { message }, None) => {
            assert!(message.contains("cannot clone the repository"), "{message}");
            assert!(message.contains("missing.git"), "{message}");
        }
        other => panic!("expected a workspace that could not be made, got {other:?}"),
    }
    assert!(!runtime.path().join("ran").exists());
}
