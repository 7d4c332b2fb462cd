//! The docker provisioner: swarmd scales a starved role with real agent
//! containers (built from this project's own binaries, FROM scratch), they
//! register and run the work, and they are removed afterwards.
//!
//! Needs a Docker engine and /bin/busybox; without them the test prints
//! why and passes, unless SWARM_REQUIRE_DOCKER is set (CI sets it).

use std::time::{Duration, Instant};

use swarm_tests::docker::{docker, ready_or_skip, unavailable};
use swarm_tests::{free_port, write_plan, Daemon};

const IMAGE: &str = "swarm-agent:dev";

#[test]
fn the_docker_provisioner_starts_agent_containers_that_run_tasks_and_removes_them() {
    let why = unavailable(&[IMAGE], "build-agent-image.sh", &[IMAGE]);
    if !ready_or_skip("the docker provisioner test", why) {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let mut d = Daemon::start_with(dir.path(), free_port(), &["--provisioner", "docker"]);
    let url = d.url();
    let plan = write_plan(
        dir.path(),
        "plan.md",
        "# Containers\n\n### Day 1: QA\n\n**Task 1.1**: Acceptance run\n- **Agent**: QA Engineer\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `echo \"$SWARM_AGENT_ID in $(pwd)\" && swarmctl memory put docker/ran \"$SWARM_AGENT_ID in $(pwd)\"`\n",
    );
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let standup = d.ctl_json(&["standup", "run", "--json"]);
    assert!(
        standup["decisions"]
            .to_string()
            .contains("asked the docker provisioner for agent docker-qa-1 (qa)"),
        "{standup}"
    );
    let filter = format!("label=swarm.coordinator={url}");
    d.wait_status(90, |s| s["state"] == "succeeded");
    let ran = d.ctl(&["memory", "get", "docker/ran"]);
    assert_eq!(
        String::from_utf8_lossy(&ran.stdout),
        "docker-qa-1 in /work\n",
        "the task ran inside the container"
    );
    let agents = d.ctl_json(&["agents", "--json"]);
    assert!(
        agents
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["id"] == "docker-qa-1")),
        "{agents}"
    );
    // The final review drains the container agent; swarmd removes what is
    // left when it stops.
    d.stop();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = docker(&["ps", "-a", "-q", "--filter", &filter]).unwrap_or_default();
        if left.trim().is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "containers left behind: {left}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
