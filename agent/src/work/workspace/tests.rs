//! The workspace of an attempt on a real repository: a bare `origin` with
//! a commit on `main`, the agent's clone and worktrees in a temporary
//! agent directory.

use std::path::{Path, PathBuf};

use swarm_git::{Identity, Repo};

use super::*;

/// A bare `origin` with one commit on `main`, and an agent's workspaces.
pub(crate) struct Fixture {
    _tmp: tempfile::TempDir,
    pub(crate) origin: Repo,
    /// A checkout of `origin` that adds commits to its `main`.
    seed: Repo,
    pub(crate) agent_dir: PathBuf,
    pub(crate) workspaces: Workspaces,
}

pub(crate) fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().expect("tmp");
    let origin = Repo::at(tmp.path().join("origin.git"));
    origin.init(true).expect("bare origin");
    let seed = Repo::at(tmp.path().join("seed"));
    seed.init(false).expect("seed");
    seed.git(&["checkout", "-q", "-b", "main"]).expect("main");
    std::fs::write(seed.dir().join("README"), "base\n").expect("write");
    let operator = Identity {
        name: "operator".into(),
        email: "operator@example.invalid".into(),
    };
    seed.commit_all(&operator, "base", &[]).expect("commit");
    let url = origin.dir().to_string_lossy().into_owned();
    seed.git(&["remote", "add", "origin", &url])
        .expect("remote");
    seed.git(&["push", "-q", "origin", "main"]).expect("push");
    let agent_dir = tmp.path().join("workdir/.swarm-agent/sre-1");
    let workspaces = Workspaces::new(agent_dir.clone(), "sre-1");
    Fixture {
        _tmp: tmp,
        origin,
        seed,
        agent_dir,
        workspaces,
    }
}

impl Fixture {
    /// The workspace of attempt `fence` of `task`, from `main`.
    pub(crate) fn workspace(&self, task: &str, fence: u64) -> Workspace {
        Workspace {
            repo: self.origin.dir().to_string_lossy().into_owned(),
            base_commit: self.main(),
            branch: format!("swarm/backup-7/attempts/{task}/a{fence}"),
            plan: "backup-7".into(),
            checks_only: false,
        }
    }

    pub(crate) fn main(&self) -> String {
        self.origin.branch_tip("main").expect("tip").expect("main")
    }

    fn prepare(&self, task: &str, fence: u64) -> (Prepared, Workspace) {
        let ws = self.workspace(task, fence);
        let r = AttemptRef {
            task_id: task.into(),
            attempt: fence,
        };
        let p = self
            .workspaces
            .prepare(&r, "sre", &format!("Title of {task}"), &ws)
            .expect("prepare");
        (p, ws)
    }

    /// The tip of the attempt's branch in `origin`.
    pub(crate) fn pushed(&self, ws: &Workspace) -> Option<String> {
        self.origin.branch_tip(&ws.branch).expect("tip")
    }
}

fn head_of(dir: &Path) -> (String, String) {
    let tree = Repo::at(dir);
    let head = tree.resolve("HEAD").expect("HEAD").expect("a commit");
    let branch = tree
        .git(&["symbolic-ref", "--short", "HEAD"])
        .expect("branch");
    (head, branch)
}

#[test]
fn a_succeeded_attempt_pushes_one_commit_with_its_trailers_and_author() {
    let f = fixture();
    let base = f.main();
    let (p, ws) = f.prepare("1.2", 41);
    let dir = p.dir().to_path_buf();
    assert_eq!(dir, f.agent_dir.join("work/1.2-41"));
    assert_eq!(head_of(&dir), (base.clone(), ws.branch.clone()));
    assert_eq!(
        std::fs::read_to_string(dir.join("README")).expect("r"),
        "base\n"
    );
    assert!(p.git_dir().starts_with(f.agent_dir.join("repos")));

    std::fs::create_dir_all(dir.join("scripts")).expect("mkdir");
    std::fs::write(dir.join("scripts/backup.sh"), "echo backup\n").expect("write");
    std::fs::remove_file(dir.join("README")).expect("rm");
    let commit = p.finish(true).expect("finish").expect("a commit");

    assert_eq!(f.pushed(&ws), Some(commit.clone()));
    assert!(!dir.exists(), "the worktree is removed");
    let show = |format: &str| {
        f.origin
            .git(&["log", "-1", &format!("--format={format}"), &commit])
            .expect("log")
    };
    assert_eq!(show("%P"), base, "one commit on top of the base");
    assert_eq!(show("%an <%ae>"), "sre-1 (sre) <sre-1@swarm-agent.invalid>");
    assert_eq!(show("%cn <%ce>"), "sre-1 (sre) <sre-1@swarm-agent.invalid>");
    assert_eq!(show("%s"), "1.2 Title of 1.2");
    assert_eq!(
        show("%(trailers:only,unfold)").trim(),
        "Swarm-Task: 1.2\nSwarm-Attempt: 41\nSwarm-Plan: backup-7"
    );
    let file = format!("{commit}:scripts/backup.sh");
    assert_eq!(f.origin.git(&["show", &file]).expect("show"), "echo backup");
    let gone = f
        .origin
        .git(&["ls-tree", "--name-only", &commit])
        .expect("ls");
    assert_eq!(gone, "scripts", "the deleted file is deleted in the commit");
}

#[test]
fn a_failed_attempt_pushes_nothing_and_leaves_no_worktree() {
    let f = fixture();
    let (p, ws) = f.prepare("1.3", 42);
    let dir = p.dir().to_path_buf();
    std::fs::write(dir.join("half.txt"), "half-done\n").expect("write");
    assert_eq!(p.finish(false).expect("finish"), None);
    assert_eq!(f.pushed(&ws), None);
    assert!(!dir.exists());
    // A retry starts clean from the base.
    let (again, _) = f.prepare("1.3", 43);
    assert!(!again.dir().join("half.txt").exists());
    assert_eq!(again.finish(true).expect("finish"), None);
}

#[test]
fn an_attempt_that_changed_nothing_reports_no_commit_and_pushes_nothing() {
    let f = fixture();
    let (p, ws) = f.prepare("1.4", 44);
    let dir = p.dir().to_path_buf();
    assert_eq!(p.finish(true).expect("finish"), None);
    assert_eq!(f.pushed(&ws), None);
    assert!(!dir.exists());
}

#[test]
fn two_tasks_at_once_work_in_separate_worktrees_of_one_clone() {
    let f = fixture();
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| f.prepare("2.1", 51));
        let b = s.spawn(|| f.prepare("2.2", 52));
        (a.join().expect("2.1"), b.join().expect("2.2"))
    });
    let ((a, wa), (b, wb)) = (a, b);
    assert_ne!(a.dir(), b.dir());
    assert_eq!(a.git_dir(), b.git_dir(), "one clone per repository");
    std::fs::write(a.dir().join("a.txt"), "a\n").expect("write");
    std::fs::write(b.dir().join("b.txt"), "b\n").expect("write");
    assert!(!a.dir().join("b.txt").exists());
    let ca = a.finish(true).expect("a").expect("commit a");
    let cb = b.finish(true).expect("b").expect("commit b");
    assert_eq!(f.pushed(&wa), Some(ca.clone()));
    assert_eq!(f.pushed(&wb), Some(cb.clone()));
    let files = |c: &str| f.origin.git(&["ls-tree", "--name-only", c]).expect("ls");
    assert_eq!(files(&ca), "README\na.txt");
    assert_eq!(files(&cb), "README\nb.txt");
}

#[test]
fn a_base_commit_made_after_the_clone_is_fetched() {
    let f = fixture();
    let (first, _) = f.prepare("3.1", 61);
    first.finish(false).expect("finish");
    std::fs::write(f.seed.dir().join("later.txt"), "later\n").expect("write");
    let operator = Identity {
        name: "operator".into(),
        email: "operator@example.invalid".into(),
    };
    f.seed.commit_all(&operator, "later", &[]).expect("commit");
    f.seed.git(&["push", "-q", "origin", "main"]).expect("push");
    let (p, _) = f.prepare("3.2", 62);
    assert_eq!(head_of(p.dir()).0, f.main());
    assert!(p.dir().join("later.txt").exists());

    let mut ws = f.workspace("3.3", 63);
    ws.base_commit = "0123456789abcdef0123456789abcdef01234567".into();
    let r = AttemptRef {
        task_id: "3.3".into(),
        attempt: 63,
    };
    let err = f
        .workspaces
        .prepare(&r, "sre", "t", &ws)
        .expect_err("no base");
    let text = err.to_string();
    assert!(
        text.contains("0123456789abcdef") && text.contains("3.3"),
        "{text}"
    );
}

#[test]
fn a_refused_push_fails_naming_the_step_and_the_worktree_goes() {
    let f = fixture();
    let hook = f.origin.dir().join("hooks/pre-receive");
    std::fs::write(&hook, "#!/bin/sh\necho 'no pushes today' >&2\nexit 1\n").expect("hook");
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let (p, ws) = f.prepare("4.1", 71);
    let dir = p.dir().to_path_buf();
    std::fs::write(dir.join("x.txt"), "x\n").expect("write");
    let err = p.finish(true).expect_err("push refused");
    assert!(
        matches!(
            err,
            WorkspaceError::Git {
                step: Step::Push,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("cannot push the attempt's branch"), "{text}");
    assert!(
        text.contains("no pushes today") && text.contains("4.1"),
        "{text}"
    );
    assert_eq!(f.pushed(&ws), None);
    assert!(!dir.exists());
}

#[test]
fn a_clone_that_cannot_be_made_names_the_repository() {
    let f = fixture();
    let mut ws = f.workspace("5.1", 81);
    ws.repo = f
        .agent_dir
        .join("no-such-repo")
        .to_string_lossy()
        .into_owned();
    let r = AttemptRef {
        task_id: "5.1".into(),
        attempt: 81,
    };
    let err = f
        .workspaces
        .prepare(&r, "sre", "t", &ws)
        .expect_err("no repo");
    assert!(
        matches!(
            err,
            WorkspaceError::Git {
                step: Step::Clone,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("no-such-repo"), "{err}");
}

#[test]
fn worktrees_left_by_a_killed_agent_are_swept_at_start() {
    let f = fixture();
    let (p, _) = f.prepare("6.1", 91);
    let dir = p.dir().to_path_buf();
    std::fs::write(dir.join("x.txt"), "x\n").expect("write");
    std::mem::forget(p);
    let restarted = Workspaces::new(f.agent_dir.clone(), "sre-1");
    assert_eq!(restarted.sweep(), vec![dir.clone()]);
    assert!(!dir.exists());
    let clone = Repo::at(
        f.agent_dir
            .join("repos")
            .join(repo_key(&f.workspace("6.1", 91).repo)),
    );
    let list = clone
        .git(&["worktree", "list", "--porcelain"])
        .expect("list");
    assert!(!list.contains("6.1-91"), "the clone forgot it: {list}");
    // The same attempt can be prepared again.
    let (again, _) = f.prepare("6.1", 91);
    assert!(!again.dir().join("x.txt").exists());
}

#[test]
fn repository_keys_are_stable_and_distinct() {
    assert_eq!(repo_key("/srv/git/app.git"), repo_key("/srv/git/app.git"));
    assert_ne!(repo_key("/srv/git/app.git"), repo_key("/srv/git/app2.git"));
    assert_eq!(repo_key(""), "cbf29ce484222325");
}
