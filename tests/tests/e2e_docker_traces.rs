//! Agents the docker provisioner starts export their own spans to
//! swarmd's OTLP endpoint, under the attempt spans swarmd exports: the
//! container (host networking) reaches the receiver of the test.
//!
//! Needs a Docker engine and the `swarm-agent:dev` image (built from this
//! project's binaries when /bin/busybox is there); without them the test
//! prints why and passes, unless SWARM_REQUIRE_DOCKER is set.

use std::time::{Duration, Instant};

use swarm_tests::docker::{docker, ready_or_skip, unavailable};
use swarm_tests::otlp::Receiver;
use swarm_tests::{free_port, wait_for, write_plan, Daemon};

const IMAGE: &str = "swarm-agent:dev";

#[test]
fn docker_agents_export_their_spans_where_swarmd_does() {
    let why = unavailable(&[IMAGE], "build-agent-image.sh", &[IMAGE]);
    if !ready_or_skip("the docker traces test", why) {
        return;
    }
    let rx = Receiver::start_http();
    let dir = tempfile::tempdir().expect("tmp");
    let mut d = Daemon::start_with(
        dir.path(),
        free_port(),
        &["--provisioner", "docker", "--otlp-endpoint", &rx.endpoint],
    );
    let url = d.url();
    let plan = write_plan(
        dir.path(),
        "plan.md",
        "# Containers traced\n\n### Day 1: QA\n\n**Task 1.1**: Acceptance run\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `echo ran`\n",
    );
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    d.ctl_json(&["standup", "run", "--json"]);
    d.wait_status(90, |s| s["state"] == "succeeded");
    // The agent sends its spans as they end; swarmd's follow within a
    // second.
    wait_for(
        "the container agent's and swarmd's attempt spans",
        30,
        || {
            let spans = rx.spans();
            spans.iter().any(|s| {
                s.scope == "swarm-agent"
                    && s.span.name == "executor"
                    && s.resource_attr("service.instance.id").as_deref() == Some("docker-sre-1")
            }) && spans
                .iter()
                .any(|s| s.scope == "swarmd" && s.span.name == "attempt 1.1 #1")
        },
    );
    let spans = rx.spans();
    let attempt = spans
        .iter()
        .find(|s| s.scope == "swarmd" && s.span.name == "attempt 1.1 #1")
        .expect("swarmd's attempt span");
    let executor = spans
        .iter()
        .find(|s| s.scope == "swarm-agent" && s.span.name == "executor")
        .expect("the agent's executor span");
    assert_eq!(executor.span.trace_id, attempt.span.trace_id, "one trace");
    assert_eq!(
        executor.span.parent_span_id, attempt.span.span_id,
        "the container's span nests under the attempt"
    );
    d.stop();
    let filter = format!("label=swarm.coordinator={url}");
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
