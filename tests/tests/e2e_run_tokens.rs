//! `swarmd run` keeps its tokens out of its tasks' reach even without
//! bubblewrap: nothing under the workdir holds them, a task that hunts
//! for them (`.swarm/admin.token` by relative and absolute path, every
//! `*.token` under the workdir, its own environment and, unless the
//! tests run as root, every process's) finds
//! neither, its writes in the workdir land, and the operator's swarmctl
//! still reaches the run through the token file it names outside the
//! workdir, which is gone when the run ends.

use std::io::{BufRead as _, BufReader};
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use swarm_tests::{lines, workspace_binary, write_plan};

const ADMIN: &str = "admin-token-of-this-run-0123456789abcdef";
const AGENT: &str = "agent-token-of-this-run-0123456789abcdef";

/// 1.1 hunts for the tokens and writes in the workdir; 1.2 has nothing to
/// run: it waits for the operator's `swarmctl task done`.
fn plan(dir: &Path) -> PathBuf {
    // Every process's environment too, unless the tests run as root,
    // whom no process can refuse (there only bubblewrap or --run-as
    // keeps a task away).
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    let others = if root {
        ""
    } else {
        "cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | grep TOKEN >> probe.txt; "
    };
    let hunt = format!(
        "cat .swarm/admin.token >> probe.txt 2>/dev/null; echo rel=$? >> probe.txt; \
         cat $PWD/.swarm/admin.token >> probe.txt 2>/dev/null; echo abs=$? >> probe.txt; \
         cat .swarm/agent.token >> probe.txt 2>/dev/null; echo agent=$? >> probe.txt; \
         find $PWD -name '*.token' -exec cat {{}} + >> probe.txt 2>/dev/null; \
         env | grep TOKEN >> probe.txt; {others}\
         echo inside > inside.txt; echo done >> probe.txt"
    );
    let text = format!(
        "# Tokens\n\n### Day 1: Work\n\n\
         **Task 1.1**: Hunt\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `{hunt}`\n\n\
         **Task 1.2**: Sign off\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: Task 1.1\n"
    );
    write_plan(dir, "plan.md", &text)
}

/// Every file under `dir` whose bytes hold `needle`.
fn files_holding(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read(&path)
                .is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
            {
                found.push(path);
            }
        }
    }
    found
}

/// `swarmctl ...` as `swarmd run` printed it, with this build's swarmctl.
fn swarmctl(printed: &str, args: &[&str]) -> std::process::Output {
    let mut words = printed.split_whitespace();
    assert_eq!(words.next(), Some("swarmctl"), "{printed}");
    Command::new(workspace_binary("swarmctl"))
        .args(words)
        .args(args)
        .env_remove("SWARM_TOKEN")
        .output()
        .expect("swarmctl")
}

#[test]
fn swarmd_run_keeps_its_tokens_from_its_tasks_without_bubblewrap() {
    let dir = tempfile::tempdir().expect("tmp");
    let runtime = tempfile::tempdir().expect("tmp");
    let plan = plan(dir.path());
    let mut run = Command::new(workspace_binary("swarmd"))
        .arg("run")
        .arg(&plan)
        .arg("--workdir")
        .arg(dir.path())
        .env("SWARM_ADMIN_TOKEN", ADMIN)
        .env("SWARM_AGENT_TOKEN", AGENT)
        // No bubblewrap for its agents: nothing but swarmd run itself
        // keeps the tokens away.
        .env("SWARM_SANDBOX", "off")
        .env("XDG_RUNTIME_DIR", runtime.path())
        .env("RUST_LOG", "info")
        .env_remove("SWARM_LISTEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("swarmd run");
    let stdout = run.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let mut next_with = |needle: &str| -> String {
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("no line with {needle:?}; saw {seen:#?}"));
            seen.push(line.clone());
            if line.contains(needle) {
                return line;
            }
        }
    };
    // The operator's swarmctl: named at start, outside the workdir.
    let line = next_with("swarmctl for this run");
    let printed = line
        .split("): ")
        .nth(1)
        .and_then(|l| l.strip_suffix(" status"))
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    let token_file = PathBuf::from(printed.rsplit(' ').next().expect("the file"));
    assert!(token_file.starts_with(runtime.path()), "{printed}");
    assert_eq!(
        std::fs::read_to_string(&token_file)
            .expect("token file")
            .trim(),
        ADMIN
    );
    // 1.2 waits for the operator: swarmctl reaches the run.
    let waits = next_with("1.2 waits for an operator");
    assert!(
        waits.contains(&format!("{printed} task done 1.2")),
        "{waits}"
    );
    let agents = swarmctl(&printed, &["agents", "--json"]);
    assert!(agents.status.success(), "{agents:?}");
    let agents: serde_json::Value = serde_json::from_slice(&agents.stdout).expect("json");
    assert_eq!(agents[0]["sandbox"], "none", "no bubblewrap: {agents}");
    let done = swarmctl(&printed, &["task", "done", "1.2"]);
    assert!(done.status.success(), "{done:?}");
    let status = run.wait().expect("wait");
    assert!(status.success(), "{seen:#?}");

    let probe = lines(&dir.path().join("probe.txt"));
    assert_eq!(probe.last().map(String::as_str), Some("done"), "{probe:?}");
    for failed in ["rel", "abs", "agent"] {
        let line = probe.iter().find(|l| l.starts_with(&format!("{failed}=")));
        assert!(
            line.is_some_and(|l| l != &format!("{failed}=0")),
            "{failed}: {probe:?}"
        );
    }
    for secret in [ADMIN, AGENT] {
        assert!(!probe.iter().any(|l| l.contains(secret)), "{probe:?}");
        assert_eq!(files_holding(dir.path(), secret), Vec::<PathBuf>::new());
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("inside.txt")).expect("written"),
        "inside\n"
    );
    assert!(!token_file.exists(), "the token file is gone with the run");
}
