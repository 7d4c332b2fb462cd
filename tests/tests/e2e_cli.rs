//! The operator's command line: `tasks --state/--role`, `events
//! --task/--kind`, and shell completions, with the real binaries.

use std::process::Command;

use swarm_tests::{free_port, workspace_binary, write_plan, Daemon};

const PLAN: &str = "# CLI\n\n### Day 1: Work\n\n\
**Task 1.1**: Deploy\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `true`\n\n\
**Task 1.2**: Verify\n- **Agent**: QA Engineer\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: Task 1.1\n- **Run**: `true`\n";

#[test]
fn tasks_and_events_filter_and_completions_print() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let plan = write_plan(dir.path(), "plan.md", PLAN);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let _sre = d.agent("sre-1", &["sre"]);
    d.wait_task("1.1", "succeeded", 20);

    let ids = |args: &[&str]| -> Vec<String> {
        d.ctl_json(args)
            .as_array()
            .expect("list")
            .iter()
            .map(|t| t["id"].as_str().expect("id").to_string())
            .collect()
    };
    assert_eq!(ids(&["tasks", "--json", "--state", "succeeded"]), ["1.1"]);
    assert_eq!(ids(&["tasks", "--json", "--state", "ready"]), ["1.2"]);
    assert_eq!(ids(&["tasks", "--json", "--role", "QA Engineer"]), ["1.2"]);
    assert!(ids(&["tasks", "--json", "--role", "sre", "--state", "ready"]).is_empty());

    let out = d.ctl(&["events", "--json", "--task", "1.1", "--kind", "attempt"]);
    let kinds: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json line");
            assert_eq!(v["task_id"], "1.1");
            v["kind"].as_str().expect("kind").to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        ["attempt.offered", "attempt.started", "attempt.succeeded"]
    );
    let out = d.ctl(&["events", "--json", "--kind", "attempt.succeeded"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);

    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef swarmctl"),
        ("fish", "complete -c swarmctl"),
    ] {
        let out = Command::new(workspace_binary("swarmctl"))
            .args(["completions", shell])
            .output()
            .expect("completions");
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(
            script.contains(marker),
            "{shell}: {}",
            &script[..script.len().min(200)]
        );
        assert!(script.contains("memory"), "{shell} knows the subcommands");
    }
}

#[test]
fn log_format_json_writes_one_object_a_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut d = Daemon::start_with(dir.path(), free_port(), &["--log-format", "json"]);
    let _agent = swarm_tests::Agent::start(
        &d.url(),
        dir.path(),
        "sre-json",
        &["sre"],
        &["--log-format", "json"],
    );
    swarm_tests::wait_for("the agent's session", 20, || {
        std::fs::read_to_string(dir.path().join("agent-sre-json.log"))
            .is_ok_and(|l| l.contains("session open"))
    });
    d.stop();
    for file in ["swarmd.log", "agent-sre-json.log"] {
        let text = std::fs::read_to_string(dir.path().join(file)).expect("log");
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!(!lines.is_empty(), "{file} is empty");
        for line in lines {
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{file}: not JSON ({e}): {line}"));
            assert!(
                v["level"].is_string() && v["fields"]["message"].is_string(),
                "{line}"
            );
        }
    }
}
