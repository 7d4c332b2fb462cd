//! A real git repository for the workspace tests: made with a first
//! commit on `main`, read back with `git` as a user would.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A repository on disk.
pub struct TestRepo {
    /// Its directory (with a work tree, `main` checked out).
    pub dir: PathBuf,
}

impl TestRepo {
    /// A new repository in `dir` with one commit on `main` holding a
    /// README.
    pub fn init(dir: &Path) -> TestRepo {
        std::fs::create_dir_all(dir).expect("repo dir");
        let repo = TestRepo {
            dir: dir.to_path_buf(),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        std::fs::write(dir.join("README.md"), "# App\n").expect("README");
        repo.git(&["add", "-A"]);
        repo.git(&["commit", "-q", "-m", "First commit"]);
        repo
    }

    /// Runs git here with a fixed identity; its standard output. Panics
    /// when git fails.
    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(&self.dir)
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The branches whose names start with `prefix`.
    pub fn branches(&self, prefix: &str) -> Vec<String> {
        self.git(&["for-each-ref", "--format=%(refname:short)", "refs/heads/"])
            .lines()
            .filter(|b| b.starts_with(prefix))
            .map(str::to_string)
            .collect()
    }

    /// The `Swarm-Task` trailer of each commit of `rev`'s history, oldest
    /// first (`args`: `--first-parent`, `--no-merges`, …); commits without
    /// one are left out.
    pub fn tasks_in(&self, rev: &str, args: &[&str]) -> Vec<String> {
        let mut all = vec![
            "log",
            "--reverse",
            "--format=%(trailers:key=Swarm-Task,valueonly,separator=%x2C)",
        ];
        all.extend_from_slice(args);
        all.push(rev);
        self.git(&all)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// The file `path` at `rev`, or `None` when it is not there.
    pub fn show(&self, rev: &str, path: &str) -> Option<String> {
        let out = Command::new("git")
            .args(["show", &format!("{rev}:{path}")])
            .current_dir(&self.dir)
            .output()
            .expect("run git");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}
