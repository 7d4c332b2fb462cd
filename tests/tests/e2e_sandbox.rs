//! Tasks run in a sandbox (bubblewrap): the coordinator's `.swarm/` and
//! the agent's token are hidden, host processes are invisible, writes
//! land where the user may write; `--sandbox-filesystem workdir` makes
//! the rest read-only; `--sandbox-network none` takes the network away
//! but keeps swarmd reachable; `--sandbox required` without bubblewrap
//! refuses to start; swarmd's `[sandbox]` reaches the agents it starts,
//! and a role's `sandbox` in the roles file its tasks.

use std::path::Path;

use swarm_tests::{free_port, lines, write_plan, Agent, Daemon};

/// A plan of one task running `run`.
fn one_task(dir: &Path, run: &str) -> String {
    let text = format!(
        "# Sandbox\n\n### Day 1: Work\n\n**Task 1.1**: Probe\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `{run}`\n"
    );
    write_plan(dir, "plan.md", &text).display().to_string()
}

/// Starts swarmd and an agent with `flags`, runs `run` as a task to
/// success, and returns the daemon (for more questions) and the lines of
/// `probe.txt`.
fn probe(dir: &Path, flags: &[&str], run: &str) -> (Daemon, Vec<String>) {
    let d = Daemon::start(dir, free_port());
    let agent = Agent::start(&d.url(), dir, "sre-1", &["sre"], flags);
    let plan = one_task(dir, run);
    d.ctl_json(&["plan", "load", &plan, "--json"]);
    d.wait_task("1.1", "succeeded", 30);
    drop(agent);
    let probe = lines(&dir.join("probe.txt"));
    (d, probe)
}

#[test]
fn secrets_and_host_processes_are_hidden_and_writes_land() {
    let dir = tempfile::tempdir().expect("tmp");
    let elsewhere = tempfile::tempdir().expect("tmp");
    let wd = std::fs::canonicalize(dir.path()).expect("canonical");
    let other = elsewhere.path().join("written.txt");
    // Relative and absolute paths of the admin token, the agent's token
    // file, and the agent's own directory; then the host's processes
    // (swarmd's pid below, filled in once it runs).
    let run = format!(
        "cat .swarm/admin.token >> probe.txt 2>/dev/null; echo rel=$? >> probe.txt; \
         cat {wd}/.swarm/admin.token >> probe.txt 2>/dev/null; echo abs=$? >> probe.txt; \
         cat {wd}/.swarm/agent.token >> probe.txt 2>/dev/null; echo agent=$? >> probe.txt; \
         ls .swarm-agent/sre-1 >> probe.txt 2>/dev/null; echo home=$? >> probe.txt; \
         test -e /proc/SWARMD_PID; echo swarmd=$? >> probe.txt; \
         echo inside > inside.txt; echo outside > {other}; echo done >> probe.txt",
        wd = wd.display(),
        other = other.display()
    );
    let d = Daemon::start(dir.path(), free_port());
    let run = run.replace("SWARMD_PID", &d.child.id().to_string());
    let _agent = Agent::start(
        &d.url(),
        dir.path(),
        "sre-1",
        &["sre"],
        &["--sandbox", "required"],
    );
    let plan = one_task(dir.path(), &run);
    d.ctl_json(&["plan", "load", &plan, "--json"]);
    d.wait_task("1.1", "succeeded", 30);
    let probe = lines(&dir.path().join("probe.txt"));
    let admin = std::fs::read_to_string(dir.path().join(".swarm/admin.token")).expect("token");
    let agent = std::fs::read_to_string(dir.path().join(".swarm/agent.token")).expect("token");
    for secret in [admin.trim(), agent.trim()] {
        assert!(!probe.iter().any(|l| l.contains(secret)), "{probe:?}");
    }
    for failed in ["rel", "abs", "agent", "home", "swarmd"] {
        let line = probe
            .iter()
            .find(|l| l.starts_with(&format!("{failed}=")))
            .unwrap_or_else(|| panic!("no {failed}= line: {probe:?}"));
        assert_ne!(line, &format!("{failed}=0"), "{probe:?}");
    }
    assert_eq!(probe.last().map(String::as_str), Some("done"), "{probe:?}");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    assert_eq!(read(&dir.path().join("inside.txt")), "inside\n");
    assert_eq!(read(&other), "outside\n", "writes elsewhere land too");
}

#[test]
fn workdir_filesystem_refuses_writes_outside_it() {
    let dir = tempfile::tempdir().expect("tmp");
    // Outside /tmp (which the sandbox replaces with its own): the target
    // directory's scratch space, which the agent's user may write.
    let outside = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tmp");
    let target = outside.path().join("escaped.txt");
    let run = format!(
        "echo in > inside.txt; echo inside=$? >> probe.txt; \
         echo out > {t} 2>/dev/null; echo outside=$? >> probe.txt; \
         echo tmp > /tmp/scratch && echo tmp=$? >> probe.txt",
        t = target.display()
    );
    let flags = ["--sandbox", "required", "--sandbox-filesystem", "workdir"];
    let (_d, probe) = probe(dir.path(), &flags, &run);
    inside_landed_outside_refused(&probe);
    assert_eq!(probe.get(2).map(String::as_str), Some("tmp=0"), "{probe:?}");
    assert!(!target.exists(), "a write outside the workdir landed");
}

#[test]
fn without_a_network_tcp_fails_but_shared_memory_works() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    // The coordinator listens on this port: with the host's network the
    // connection would open.
    let run = format!(
        "bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}' 2>/dev/null; echo tcp=$? >> probe.txt; \
         swarmctl memory put from-sandbox yes >/dev/null; echo put=$? >> probe.txt",
        port = d.port
    );
    let flags = ["--sandbox", "required", "--sandbox-network", "none"];
    let _agent = Agent::start(&d.url(), dir.path(), "sre-1", &["sre"], &flags);
    let plan = one_task(dir.path(), &run);
    d.ctl_json(&["plan", "load", &plan, "--json"]);
    d.wait_task("1.1", "succeeded", 30);
    let probe = lines(&dir.path().join("probe.txt"));
    assert_ne!(
        probe.first().map(String::as_str),
        Some("tcp=0"),
        "{probe:?}"
    );
    assert_eq!(probe.get(1).map(String::as_str), Some("put=0"), "{probe:?}");
    let got = d.ctl_json(&["memory", "get", "from-sandbox", "--json"]);
    assert_eq!(got["value"], "yes", "{got}");
    // swarmctl agents says which sandbox the agent has.
    let agents = d.ctl_json(&["agents", "--json"]);
    assert_eq!(agents[0]["sandbox"], "bwrap", "{agents}");
    let table = String::from_utf8_lossy(&d.ctl(&["agents"]).stdout).into_owned();
    assert!(
        table.contains("SANDBOX") && table.contains("bwrap"),
        "{table}"
    );
}

#[test]
fn the_same_probe_without_a_sandbox_reaches_the_network() {
    // The control for the test above: the probe itself can succeed.
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    let run = format!(
        "bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}' 2>/dev/null; echo tcp=$? >> probe.txt",
        port = d.port
    );
    let _agent = Agent::start(
        &d.url(),
        dir.path(),
        "sre-1",
        &["sre"],
        &["--sandbox", "off"],
    );
    let plan = one_task(dir.path(), &run);
    d.ctl_json(&["plan", "load", &plan, "--json"]);
    d.wait_task("1.1", "succeeded", 30);
    assert_eq!(lines(&dir.path().join("probe.txt")), ["tcp=0"]);
    let agents = d.ctl_json(&["agents", "--json"]);
    assert_eq!(agents[0]["sandbox"], "none", "{agents}");
}

#[test]
fn required_without_bubblewrap_refuses_to_start() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = Daemon::start(dir.path(), free_port());
    // A PATH with a shell and no bwrap.
    let nobwrap = tempfile::tempdir().expect("tmp");
    std::os::unix::fs::symlink("/bin/sh", nobwrap.path().join("sh")).expect("symlink");
    let path = nobwrap.path().display().to_string();
    let env = [("PATH", path.as_str())];
    let url = d.url();
    let flags = ["--sandbox", "required"];
    let mut agent = Agent::start_with_env(&url, dir.path(), "sre-1", &["sre"], &flags, &env);
    assert_eq!(
        agent.wait_exit(20, "--sandbox required without bwrap"),
        Some(2)
    );
    let log = std::fs::read_to_string(dir.path().join("agent-sre-1.log")).unwrap_or_default();
    assert!(
        log.contains("--sandbox required") && log.contains("bwrap"),
        "{log}"
    );
    // With auto, the same agent starts, says so once, and runs tasks.
    let _auto = Agent::start_with_env(&url, dir.path(), "sre-2", &["sre"], &[], &env);
    let plan = one_task(dir.path(), "echo ran >> probe.txt");
    d.ctl_json(&["plan", "load", &plan, "--json"]);
    d.wait_task("1.1", "succeeded", 30);
    assert_eq!(lines(&dir.path().join("probe.txt")), ["ran"]);
    let log = std::fs::read_to_string(dir.path().join("agent-sre-2.log")).unwrap_or_default();
    assert_eq!(log.matches("no sandbox").count(), 1, "{log}");
}

#[test]
fn a_role_profile_turns_the_sandbox_off_for_its_tasks_only() {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path();
    std::fs::write(
        work.join("roles.toml"),
        "[[role]]\nname = \"sre\"\nsandbox = \"off\"\n",
    )
    .expect("roles.toml");
    std::fs::write(
        work.join("swarmd.toml"),
        format!("roles_file = \"{}\"\n", work.join("roles.toml").display()),
    )
    .expect("config");
    let config = work.join("swarmd.toml").display().to_string();
    let d = Daemon::start_with(work, free_port(), &["--config", &config]);
    // Whether swarmd, a host process, is visible: only outside a sandbox.
    let probe = format!(
        "test -e /proc/{}; echo $SWARM_TASK_ID=$? >> probe.txt",
        d.child.id()
    );
    let task = |n: u32, agent: &str| {
        format!(
            "\n**Task 1.{n}**: Probe\n- **Agent**: {agent}\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `{probe}`\n"
        )
    };
    let text = format!(
        "# Roles\n\n### Day 1: Work\n{}{}",
        task(1, "SRE"),
        task(2, "Backend")
    );
    let plan = write_plan(work, "plan.md", &text).display().to_string();
    let url = d.url();
    let flags = ["--sandbox", "required"];
    let _sre = Agent::start(&url, work, "sre-1", &["sre"], &flags);
    let _backend = Agent::start(&url, work, "backend-1", &["backend"], &flags);
    d.ctl_json(&["plan", "load", &plan, "--json"]);
    d.wait_status(30, |s| s["state"] == "succeeded");
    let mut probe = lines(&work.join("probe.txt"));
    probe.sort();
    assert_eq!(
        probe,
        ["1.1=0", "1.2=1"],
        "the sre role's tasks run unsandboxed"
    );
}

#[test]
fn swarmd_s_sandbox_table_reaches_the_agents_it_starts() {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path();
    let outside = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tmp");
    let target = outside.path().join("escaped.txt");
    std::fs::write(
        work.join("swarmd.toml"),
        "[sandbox]\nmode = \"required\"\nfilesystem = \"workdir\"\n",
    )
    .expect("config");
    let config = work.join("swarmd.toml").display().to_string();
    let d = Daemon::start_with(
        work,
        free_port(),
        &["--config", &config, "--provisioner", "process"],
    );
    let run = format!(
        "echo in > inside.txt; echo inside=$? >> probe.txt; \
         echo out > {t} 2>/dev/null; echo outside=$? >> probe.txt",
        t = target.display()
    );
    let plan = one_task(work, &run);
    d.ctl_json(&["plan", "load", &plan, "--json"]);
    // Nobody plays sre: a standup has the process provisioner start one.
    let standup = d.ctl_json(&["standup", "run", "--json"]);
    assert!(
        standup["decisions"]
            .to_string()
            .contains("asked the process provisioner"),
        "{standup}"
    );
    d.wait_task("1.1", "succeeded", 30);
    let probe = lines(&work.join("probe.txt"));
    inside_landed_outside_refused(&probe);
    assert!(probe.get(1).is_some(), "{probe:?}");
    assert!(!target.exists(), "a write outside the workdir landed");
    let agents = d.ctl_json(&["agents", "--json"]);
    assert_eq!(agents[0]["sandbox"], "bwrap", "{agents}");
}

/// The probe's first line says the write in the working directory landed,
/// its second that the write outside it did not.
fn inside_landed_outside_refused(probe: &[String]) {
    assert_eq!(
        probe.first().map(String::as_str),
        Some("inside=0"),
        "{probe:?}"
    );
    assert_ne!(
        probe.get(1).map(String::as_str),
        Some("outside=0"),
        "{probe:?}"
    );
}
