//! A gang is not starved by the single-role work queued behind it.

use swarm_tests::{free_port, write_plan, Daemon};

#[test]
fn a_gang_gets_its_agents_before_the_small_tasks_behind_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let _a = d.agent("devops-a", &["devops"]);
    let _b = d.agent("devops-b", &["devops"]);
    // W keeps one agent busy; G (both agents at once) waits for W. Twelve
    // small tasks behind G would keep at least one agent busy at every
    // moment and starve G forever if free agents were handed out one by one.
    let mut plan = String::from("# Gang\n\n### Day 1: Work\n\n**Task 1.1**: Warm-up\n- **Agent**: DevOps Engineer\n- **Priority**: P0\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `sleep 0.6; echo W >> order.txt`\n\n**Task 1.2**: Gang\n- **Agent**: DevOps Engineer + CI/CD Engineer\n- **Priority**: P0\n- **Duration**: 1 hour\n- **Dependencies**: Task 1.1\n- **Run**: `echo G >> order.txt`\n");
    for i in 3..=14 {
        let pause = if i % 2 == 0 { "0.3" } else { "0.45" };
        plan.push_str(&format!("\n**Task 1.{i}**: Small {i}\n- **Agent**: DevOps Engineer\n- **Priority**: P2\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `sleep {pause}; echo s >> order.txt`\n"));
    }
    let path = write_plan(dir.path(), "plan.md", &plan);
    d.ctl_json(&["plan", "load", &path.display().to_string(), "--json"]);
    d.wait_status(60, |s| s["state"] == "succeeded");
    let order = std::fs::read_to_string(dir.path().join("order.txt")).expect("order");
    let order: Vec<&str> = order.lines().collect();
    let w = order.iter().position(|x| *x == "W").expect("W ran");
    let g = order.iter().position(|x| *x == "G").expect("G ran");
    let small_after_g = order[g..].iter().filter(|x| **x == "s").count();
    assert!(
        small_after_g >= 6,
        "G started soon after W ({w}), not after the small tasks: {order:?}"
    );
}

/// Every member of a `Gang: all` task runs it with its own role, and its
/// log says which member of the gang it is.
#[test]
fn each_gang_members_log_says_its_part() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let _sre = d.agent("sre-a", &["sre"]);
    let _security = d.agent("sec-b", &["security"]);
    let plan = "# Gang\n\n### Day 1: Work\n\n**Task 1.1**: Harden\n- **Agent**: SRE + Security Auditor\n- **Priority**: P0\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `echo $SWARM_ROLE >> roles.txt`\n";
    let path = write_plan(dir.path(), "plan.md", plan);
    d.ctl_json(&["plan", "load", &path.display().to_string(), "--json"]);
    d.wait_status(30, |s| s["state"] == "succeeded");
    let mut roles = swarm_tests::lines(&dir.path().join("roles.txt"));
    roles.sort();
    assert_eq!(roles, ["security", "sre"], "each member ran it");
    for (id, part) in [
        (
            "sre-a",
            "runs it as sre, member 1 of 2 of the gang (its lead))",
        ),
        ("sec-b", "runs it as security, member 2 of 2 of the gang)"),
    ] {
        let log =
            std::fs::read_to_string(dir.path().join(format!("agent-{id}.log"))).expect("agent log");
        let line = log
            .lines()
            .find(|l| l.contains("task 1.1 attempt 1 (fence"))
            .unwrap_or_else(|| panic!("{id} logged no assignment:\n{log}"));
        assert!(line.ends_with(part), "{id}: {line}");
    }
}
