//! The swarm provisioner: a standup that needs 3 SRE and 2 Performance
//! agents gets them as two Docker Swarm services with those replicas; the
//! agents (ids from their task slots) register and run the work; a killed
//! agent's container is replaced in its slot, with its id; a later
//! checkpoint drains the surplus and the replicas follow, with no attempt
//! lost; the services are gone once swarmd stops.
//!
//! The agents use host networking and reach swarmd on 127.0.0.1. Needs a
//! Docker engine that is a swarm manager, the agent image (built when
//! missing) and /bin/busybox; without them the test prints why and passes,
//! unless SWARM_REQUIRE_DOCKER is set (CI sets it and runs `docker swarm
//! init`).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use swarm_tests::docker::{docker, ready_or_skip, swarm_unavailable, unavailable, Services};
use swarm_tests::events::EventLog;
use swarm_tests::{free_port, wait_for, write_plan, Daemon};

const IMAGE: &str = "swarm-agent:dev";
const SRE: &str = "swarm-swarm-drill-sre";
const PERF: &str = "swarm-swarm-drill-performance";

/// Plan `title` (the tests run in parallel, so each has its own plan and
/// services): five independent day-1 tasks, and a matrix that wants 3 SREs and 2
/// performance engineers on day 1 (and none after). Each task notes which
/// agent ran it in shared memory and takes a moment, so the work spreads.
fn plan(title: &str) -> String {
    let mut text = format!("# {title}\n\n### Day 1: Checks\n\n");
    for (n, role) in [
        (1, "SRE"),
        (2, "SRE"),
        (3, "SRE"),
        (4, "Performance Engineer"),
        (5, "Performance Engineer"),
    ] {
        text.push_str(&format!(
            "**Task 1.{n}**: Check {n}\n- **Agent**: {role}\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `swarmctl memory put ledger/1.{n} \"$SWARM_AGENT_ID\" && sleep 2`\n\n"
        ));
    }
    text.push_str(
        "## Appendix: Agent Allocation Matrix\n\n| Day | Phase | Agents Required | Specializations |\n|-----|-------|-----------------|-----------------|\n| 1 | Checks | 5 | SRE (3), Performance (2) |\n",
    );
    text
}

/// Prints swarmd's log when the test fails.
struct LogOnFailure(std::path::PathBuf);

impl Drop for LogOnFailure {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.0).unwrap_or_default();
            eprintln!("---- swarmd.log\n{log}");
        }
    }
}

#[test]
fn swarm_services_scale_up_run_the_work_drain_down_and_go_away() {
    let why = unavailable(&[IMAGE], "build-agent-image.sh", &[IMAGE]).or_else(swarm_unavailable);
    if !ready_or_skip("the swarm provisioner test", why) {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let _log = LogOnFailure(dir.path().join("swarmd.log"));
    let config = dir.path().join("swarmd.toml");
    // One SRE stays after day 1 (the pool's minimum); performance goes to 0.
    std::fs::write(
        &config,
        format!("docker_image = \"{IMAGE}\"\n[scale.sre]\nmin = 1\n"),
    )
    .expect("config");
    let config = config.display().to_string();
    // Monday 16:00, one plan hour per 1/4 s: day 2 starts 4.25 s after load.
    let mut d = Daemon::start_with(
        dir.path(),
        free_port(),
        &[
            "--config",
            &config,
            "--provisioner",
            "swarm",
            "--start",
            "2026-11-23T16:00",
            "--time-scale",
            "14400",
        ],
    );
    let services = Services::of(&d.url());
    let plan = write_plan(dir.path(), "plan.md", &plan("Swarm Drill"));
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let loaded = Instant::now();
    let standup = d.ctl_json(&["standup", "run", "--json"]);
    let decisions = standup["decisions"].to_string();
    for (role, service, n) in [("sre", SRE, 3), ("performance", PERF, 2)] {
        let asked = format!("asked the swarm provisioner for one more {role} agent");
        assert_eq!(decisions.matches(&asked).count(), n, "{standup}");
        assert!(
            decisions.contains(&format!("in service {service}")),
            "{standup}"
        );
    }

    // The services appear with those replicas, and their agents register
    // with the ids of their slots.
    wait_for("both services with their replicas", 30, || {
        services.replicas() == [format!("{PERF} 2"), format!("{SRE} 3")]
    });
    let expected: BTreeSet<String> = [
        format!("{PERF}.1"),
        format!("{PERF}.2"),
        format!("{SRE}.1"),
        format!("{SRE}.2"),
        format!("{SRE}.3"),
    ]
    .into();
    let registered = || -> BTreeSet<String> {
        EventLog::read(&d)
            .all(|e| e.kind == "agent.connected")
            .iter()
            .map(|e| e.agent_id.clone())
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while registered() != expected {
        assert!(
            Instant::now() < deadline,
            "the agents that registered: {:?}; agents: {}",
            registered(),
            d.ctl_json(&["agents", "--json"])
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // They run the work: every task succeeded, on an agent of its role.
    d.wait_status(60, |s| s["state"] == "succeeded");
    for (n, service) in [(1, SRE), (2, SRE), (3, SRE), (4, PERF), (5, PERF)] {
        let ran = d.ctl(&["memory", "get", &format!("ledger/1.{n}")]);
        let agent = String::from_utf8_lossy(&ran.stdout).trim().to_string();
        assert!(
            expected.contains(&agent) && agent.starts_with(&format!("{service}.")),
            "task 1.{n} ran on `{agent}`"
        );
    }

    // A container that dies is replaced by Swarm in its slot, and its
    // agent comes back with the same id.
    let slot1 = format!("{SRE}.1");
    let before = docker(&["ps", "-q", "--filter", &format!("name={slot1}.")])
        .unwrap_or_default()
        .trim()
        .to_string();
    assert!(!before.is_empty(), "the container of {slot1}");
    docker(&["kill", &before]).expect("docker kill");
    EventLog::wait(&d, 30, &format!("{slot1} back in its slot"), |e| {
        e.kind == "agent.reconnected" && e.agent_id == slot1
    });
    let after = docker(&["ps", "-q", "--filter", &format!("name={slot1}.")]).unwrap_or_default();
    assert!(
        !after.trim().is_empty() && after.trim() != before,
        "a new container: {before} then {after}"
    );

    // A checkpoint on day 2 (none of the day's matrix, no work left): the
    // surplus is drained, then the replicas are lowered for it.
    let day2 = Duration::from_millis(4_500);
    std::thread::sleep(day2.saturating_sub(loaded.elapsed()));
    d.ctl_json(&["standup", "run", "--json"]);
    wait_for("the replicas to follow the drain", 40, || {
        services.replicas() == [format!("{PERF} 0"), format!("{SRE} 1")]
            && services.running(SRE).len() == 1
            && services.running(PERF).is_empty()
    });
    let log = EventLog::read(&d);
    let drained: BTreeSet<String> = log
        .all(|e| e.kind == "agent.draining")
        .iter()
        .map(|e| e.agent_id.clone())
        .collect();
    assert_eq!(
        drained.len(),
        4,
        "two SREs and both performance agents: {drained:?}"
    );
    assert!(drained.contains(&format!("{PERF}.1")) && drained.contains(&format!("{PERF}.2")));
    let kept: Vec<&String> = expected.iter().filter(|a| !drained.contains(*a)).collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        services.running(SRE),
        [kept[0].clone()],
        "the slot left running is the agent that was not drained"
    );
    for kind in ["attempt.lost", "attempt.failed", "attempt.cancelled"] {
        assert!(
            log.all(|e| e.kind == kind).is_empty(),
            "no attempt ended as {kind}"
        );
    }

    // swarmd removes its services when it stops.
    d.stop();
    let filter = format!("label=swarm.coordinator={}", d.url());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = docker(&["service", "ls", "-q", "--filter", &filter]).unwrap_or_default();
        if left.trim().is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "services left behind: {left}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_missing_image_is_a_shortfall_with_its_reason_and_no_service() {
    let why = unavailable(&[IMAGE], "build-agent-image.sh", &[IMAGE]).or_else(swarm_unavailable);
    if !ready_or_skip("the swarm provisioner's missing-image test", why) {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let _log = LogOnFailure(dir.path().join("swarmd.log"));
    let config = dir.path().join("swarmd.toml");
    std::fs::write(&config, "docker_image = \"swarm-agent:no-such-tag\"\n").expect("config");
    let config = config.display().to_string();
    let d = Daemon::start_with(
        dir.path(),
        free_port(),
        &["--config", &config, "--provisioner", "swarm"],
    );
    let services = Services::of(&d.url());
    let plan = write_plan(dir.path(), "plan.md", &plan("Swarm Missing Image"));
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    d.ctl_json(&["standup", "run", "--json"]);
    let failed = EventLog::wait(&d, 20, "a failed start", |e| {
        e.kind == "agent.provision_failed"
    });
    assert!(
        failed
            .message
            .contains("image `swarm-agent:no-such-tag` is not on the Docker engine"),
        "{failed}"
    );
    let status = d.wait_status(10, |s| !s["shortfall"].to_string().contains("[]"));
    assert!(
        status["shortfall"]
            .to_string()
            .contains("swarm-agent:no-such-tag"),
        "{status}"
    );
    assert!(services.replicas().is_empty(), "no service was made");
}

#[test]
fn an_agent_no_node_can_place_is_a_shortfall_and_its_slot_goes() {
    let why = unavailable(&[IMAGE], "build-agent-image.sh", &[IMAGE]).or_else(swarm_unavailable);
    if !ready_or_skip("the swarm provisioner's placement test", why) {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let _log = LogOnFailure(dir.path().join("swarmd.log"));
    let config = dir.path().join("swarmd.toml");
    std::fs::write(
        &config,
        format!(
            "docker_image = \"{IMAGE}\"\n[scale.performance]\nconstraints = [\"node.labels.pool==nowhere\"]\nmemory = \"64m\"\n"
        ),
    )
    .expect("config");
    let config = config.display().to_string();
    let d = Daemon::start_with(
        dir.path(),
        free_port(),
        &["--config", &config, "--provisioner", "swarm"],
    );
    let services = Services::of(&d.url());
    const PERF: &str = "swarm-swarm-placement-performance";
    const SRE: &str = "swarm-swarm-placement-sre";
    let plan = write_plan(dir.path(), "plan.md", &plan("Swarm Placement"));
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    d.ctl_json(&["standup", "run", "--json"]);
    wait_for("the performance service", 20, || {
        services.replicas().iter().any(|s| s.starts_with(PERF))
    });
    let spec = docker(&[
        "service",
        "inspect",
        PERF,
        "--format",
        "{{json .Spec.TaskTemplate.Placement.Constraints}} {{.Spec.TaskTemplate.Resources.Limits.MemoryBytes}}",
    ])
    .unwrap_or_default();
    assert_eq!(spec.trim(), "[\"node.labels.pool==nowhere\"] 67108864");
    let failed = EventLog::wait(&d, 20, "a failed placement", |e| {
        e.kind == "agent.provision_failed"
    });
    assert!(
        failed
            .message
            .contains(&format!("Swarm cannot place task {PERF}."))
            && failed.message.contains("no suitable node"),
        "{failed}"
    );
    // The slots that cannot be placed go; the SREs are unaffected.
    wait_for("the performance replicas to go back to 0", 20, || {
        services.replicas() == [format!("{PERF} 0"), format!("{SRE} 3")]
    });
}
