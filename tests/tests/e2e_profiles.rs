//! Role profiles with the real binaries and a fake AI CLI
//! (`tests/fixtures/fake-ai.sh`, which records its arguments, stdin,
//! environment and prompt file): profiles from a roles file and from
//! `.claude/agents/*.md`, `{prompt_file}`, `{model}` and `{brief_file}`,
//! the config's `[exec]` reaching hand-started and provisioned agents, and
//! upstream results in a dependent's brief.

use std::path::Path;

use swarm_tests::{free_port, write_plan, Daemon};

fn fake_ai() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/fake-ai.sh")
        .display()
        .to_string()
}

fn read(dir: &Path, task_agent: &str, what: &str) -> String {
    let path = dir.join("fake-ai").join(task_agent).join(what);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const PLAN: &str = "# Profiles\n\n### Day 1: Work\n\n\
**Task 1.1**: Check the error budget\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n\n\
**Task 1.2**: Profile the hot path\n- **Agent**: Performance Engineer\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: Task 1.1\n\n\
**Task 1.3**: Break something on purpose\n- **Agent**: Chaos Gremlin\n- **Priority**: P2\n- **Duration**: 1 hour\n- **Dependencies**: Task 1.1\n\n\
**Task 1.4**: Review the SLOs together\n- **Agent**: SRE + Performance Engineer\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: Task 1.2\n";

#[test]
fn profiles_drive_the_template_for_hand_started_and_provisioned_agents() {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path();
    let agents = work.join(".claude/agents");
    std::fs::create_dir_all(agents.join("ops")).expect("mkdir");
    std::fs::write(
        agents.join("ops/sre.md"),
        "---\nname: sre\ndescription: Keeps production up\ntools: Read, Bash\nmodel: opus\n---\nYou keep production up.\n",
    )
    .expect("sre.md");
    std::fs::write(
        agents.join("gremlin.md"),
        "---\nname: Chaos Gremlin\ndescription: breaks things on purpose\nmodel: haiku\n---\nBreak one thing, then report.\n",
    )
    .expect("gremlin.md");
    let fake = fake_ai();
    std::fs::write(
        work.join("roles.toml"),
        format!(
            "[[role]]\nname = \"performance\"\nprompt = \"Measure before you change.\"\nmodel = \"sonnet\"\nexec = \"sh {fake} perf --brief {{brief_file}} --model {{model}}\"\nenv = {{ FAKE_PROFILE = \"performance\" }}\n"
        ),
    )
    .expect("roles.toml");
    std::fs::write(
        work.join("swarmd.toml"),
        format!(
            "roles_file = \"{}\"\n[exec]\ndefault = \"sh {fake} --prompt-file {{prompt_file}} --model {{model}} --tools {{tools}}\"\n",
            work.join("roles.toml").display()
        ),
    )
    .expect("config");
    let config = work.join("swarmd.toml").display().to_string();
    let d = Daemon::start_with(
        work,
        free_port(),
        &["--config", &config, "--provisioner", "process"],
    );
    // What the daemon knows of each role, and where it came from.
    let roles = d.ctl_json(&["roles", "--json"]);
    let role = |name: &str| {
        roles
            .as_array()
            .and_then(|a| a.iter().find(|r| r["name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("no role {name} in {roles}"))
    };
    let sre = role("sre");
    assert_eq!(sre["model"], "opus");
    assert!(sre["profile_sources"][0]
        .as_str()
        .is_some_and(|s| s.ends_with(".claude/agents/ops/sre.md")));
    assert_eq!(sre["profile_sources"][1], "config [exec].default");
    let perf = role("performance");
    assert!(perf["exec"]
        .as_str()
        .is_some_and(|e| e.contains(" perf --brief ")));
    assert!(perf["profile_sources"][0]
        .as_str()
        .is_some_and(|s| s.ends_with("roles.toml")));
    assert_eq!(
        role("chaos-gremlin")["description"],
        "breaks things on purpose"
    );
    let table = String::from_utf8_lossy(&d.ctl(&["roles"]).stdout).into_owned();
    assert!(table.contains("chaos-gremlin"), "{table}");

    let plan = write_plan(work, "plan.md", PLAN);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    // Hand-started, without --exec: the role's template comes with the work.
    let _sre = d.agent("sre-1", &["sre"]);
    let _perf = d.agent("perf-1", &["performance"]);
    d.wait_task("1.4", "succeeded", 30);
    // Nobody plays the gremlin: a standup provisions one, which runs the
    // config's default template too.
    let standup = d.ctl_json(&["standup", "run", "--json"]);
    assert!(
        standup["decisions"]
            .to_string()
            .contains("asked the process provisioner for agent proc-chaos-gremlin-1"),
        "{standup}"
    );
    let status = d.wait_status(30, |s| s["state"] == "succeeded" || s["state"] == "failed");
    assert_eq!(status["state"], "succeeded", "{status}");

    // 1.1: the agent definition's prompt, model and tools, the default
    // template's arguments, the brief on stdin.
    let args = read(work, "1.1-sre-1", "args");
    let lines: Vec<&str> = args.lines().collect();
    assert_eq!(lines[0], "--prompt-file");
    assert!(
        lines[1].ends_with("prompt-1.md") || lines[1].contains("/prompt-"),
        "{args}"
    );
    assert_eq!(&lines[2..], ["--model", "opus", "--tools", "Read,Bash"]);
    assert_eq!(read(work, "1.1-sre-1", "prompt"), "You keep production up.");
    assert!(read(work, "1.1-sre-1", "stdin").starts_with("# Task 1.1: Check the error budget"));
    assert!(read(work, "1.1-sre-1", "env").contains("SWARM_ROLE=sre\n"));

    // 1.2: the roles file's own template, model, env; the brief file and
    // the upstream result of 1.1 in it.
    let args = read(work, "1.2-perf-1", "args");
    let lines: Vec<&str> = args.lines().collect();
    assert_eq!(lines[0], "perf");
    assert_eq!(lines[1], "--brief");
    assert_eq!(&lines[3..], ["--model", "sonnet"]);
    let brief = read(work, "1.2-perf-1", "stdin");
    assert!(
        brief.contains(
            "## Upstream results\n\n### Task 1.1: Check the error budget\ndone by sre with opus\n"
        ),
        "{brief}"
    );
    assert!(read(work, "1.2-perf-1", "env").contains("FAKE_PROFILE=performance\n"));
    assert_eq!(
        read(work, "1.2-perf-1", "prompt"),
        "Measure before you change."
    );

    // 1.4: a gang; each member ran it with its own role and template,
    // knowing the whole gang, and the result holds both answers.
    let sre_env = read(work, "1.4-sre-1", "env");
    assert!(sre_env.contains("SWARM_ROLE=sre\n"), "{sre_env}");
    assert!(
        sre_env.contains("SWARM_GANG=sre-1:sre,perf-1:performance\n"),
        "{sre_env}"
    );
    let perf_env = read(work, "1.4-perf-1", "env");
    assert!(perf_env.contains("SWARM_ROLE=performance\n"), "{perf_env}");
    assert_eq!(
        read(work, "1.4-perf-1", "args").lines().next(),
        Some("perf")
    );
    let result = d.ctl(&["task", "result", "1.4"]);
    assert_eq!(
        String::from_utf8_lossy(&result.stdout),
        "[sre-1 (sre)]\ndone by sre with opus\n\n[perf-1 (performance)]\ndone by performance with sonnet\n"
    );

    // 1.3: a role that exists only as an agent definition, run by a
    // provisioned agent with the config's template.
    assert_eq!(
        read(work, "1.3-proc-chaos-gremlin-1", "prompt"),
        "Break one thing, then report."
    );
    assert!(read(work, "1.3-proc-chaos-gremlin-1", "args").contains("haiku"));
}

#[test]
fn the_seed_plan_runs_end_to_end_on_provisioned_agents_with_an_exec_template_only() {
    let dir = tempfile::tempdir().expect("tmp");
    let work = dir.path();
    std::fs::write(
        work.join("swarmd.toml"),
        format!(
            "provisioner = \"process\"\ntime_scale = 50000\n[exec]\ndefault = \"sh {}\"\n",
            fake_ai()
        ),
    )
    .expect("config");
    let config = work.join("swarmd.toml").display().to_string();
    let d = Daemon::start_with(work, free_port(), &["--config", &config]);
    let seed = swarm_tests::examples_dir().join("plan-a-execution-timeline.md");
    d.ctl_json(&["plan", "load", &seed.display().to_string(), "--json"]);
    let status = d.wait_status(120, |s| s["state"] == "succeeded" || s["state"] == "failed");
    assert_eq!(status["state"], "succeeded", "{status}");
    // Every task (none has a Run command) ran through the template, on
    // agents the provisioner started, every member of a gang included.
    let ran: Vec<String> = std::fs::read_dir(work.join("fake-ai"))
        .expect("fake-ai ran")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let tasks = d.ctl_json(&["tasks", "--json"]);
    for t in tasks.as_array().expect("tasks") {
        let id = t["id"].as_str().expect("id");
        let members = ran
            .iter()
            .filter(|r| r.starts_with(&format!("{id}-proc-")))
            .count();
        assert!(
            members > 0,
            "task {id} ran on no provisioned agent: {ran:?}"
        );
    }
    assert!(
        ran.iter().any(|r| r.starts_with("1.1-proc-devops-"))
            && ran.iter().any(|r| r.starts_with("1.1-proc-security-")),
        "1.1 (DevOps + Security) ran on both: {ran:?}"
    );
}

#[test]
fn a_malformed_agent_definition_stops_swarmd_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let agents = dir.path().join(".claude/agents");
    std::fs::create_dir_all(&agents).expect("mkdir");
    std::fs::write(
        agents.join("sre.md"),
        "---\nname: sre\nnot a key\n---\nbody\n",
    )
    .expect("write");
    let out = std::process::Command::new(swarm_tests::workspace_binary("swarmd"))
        .arg("--workdir")
        .arg(dir.path())
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .output()
        .expect("swarmd");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(".claude/agents/sre.md:3: expected 'key: value'"),
        "{stderr}"
    );
}
