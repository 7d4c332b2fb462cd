//! The docker provisioner against a real engine: two agent containers of
//! the `swarm-agent:dev` image register with an in-process coordinator, run
//! a plan (one task talks to the other through shared memory with the
//! image's static `swarmctl`), one is stopped and drains, and nothing of
//! this coordinator is left on the engine afterwards.
//!
//! Skips (and passes) without an engine or `/bin/busybox`, unless
//! `SWARM_REQUIRE_DOCKER` is set. Builds the image with
//! `scripts/build-agent-image.sh` when it is missing (slow the first time:
//! it compiles static binaries); `SWARM_REBUILD_AGENT_IMAGE=1` rebuilds it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bollard::Docker;
use swarm_coordinator::daemon::config::{self, Flags};
use swarm_coordinator::edge::auth::Tokens;
use swarm_coordinator::provision::docker::{
    container_name, DockerProvisioner, DockerSettings, LABEL_COORDINATOR,
};
use swarm_proto::v1 as pb;
use tonic::transport::Channel;

const IMAGE: &str = "swarm-agent:dev";

const PLAN: &str = "# Docker provisioner test plan

### Day 1: In containers

**Task 1.1**: Greet from the SRE container
- **Agent**: SRE
- **Priority**: P0
- **Duration**: 1 hour
- **Run**: `echo \"hello from $SWARM_ROLE in $(pwd)\" && test -x /swarm-agent && swarmctl memory put docker/greeting \"hi from $SWARM_ROLE\" --namespace docker-test`

**Task 1.2**: Answer from the DevOps container
- **Agent**: DevOps Engineer
- **Priority**: P0
- **Duration**: 1 hour
- **Dependencies**: Task 1.1
- **Run**: `echo \"hello from $SWARM_ROLE in $(pwd)\" && swarmctl memory get docker/greeting --namespace docker-test && sleep 3 && echo finished while draining`
";

/// Prints why the test does not run and returns true, or fails when
/// Docker is required.
fn skip(reason: &str) -> bool {
    if std::env::var_os("SWARM_REQUIRE_DOCKER").is_some_and(|v| !v.is_empty()) {
        panic!("SWARM_REQUIRE_DOCKER is set, but {reason}");
    }
    println!("skipping: {reason}");
    true
}

/// The engine, if one answers.
async fn engine() -> Result<Docker, String> {
    let shown = std::env::var("DOCKER_HOST").unwrap_or_else(|_| "the default socket".into());
    let docker =
        Docker::connect_with_defaults().map_err(|e| format!("no Docker engine at {shown}: {e}"))?;
    let ping = async {
        let docker = docker.negotiate_version().await?;
        docker.ping().await?;
        Ok::<_, bollard::errors::Error>(docker)
    };
    match tokio::time::timeout(Duration::from_secs(10), ping).await {
        Ok(Ok(docker)) => Ok(docker),
        Ok(Err(e)) => Err(format!("no Docker engine at {shown}: {e}")),
        Err(_) => Err(format!(
            "the Docker engine at {shown} did not answer in 10s"
        )),
    }
}

/// Builds the agent image unless it is there (or a rebuild is asked for).
async fn ensure_image(docker: &Docker) {
    let rebuild = std::env::var_os("SWARM_REBUILD_AGENT_IMAGE").is_some_and(|v| v == "1");
    if !rebuild && docker.inspect_image(IMAGE).await.is_ok() {
        return;
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/build-agent-image.sh");
    println!("building {IMAGE} with {}", script.display());
    let out = tokio::process::Command::new(&script)
        .arg(IMAGE)
        .stderr(std::process::Stdio::inherit())
        .output()
        .await
        .expect("run scripts/build-agent-image.sh");
    assert!(out.status.success(), "{} failed", script.display());
    let id = String::from_utf8_lossy(&out.stdout);
    assert!(id.trim().starts_with("sha256:"), "image id, got {id:?}");
}

/// Force-removes whatever this coordinator left on the engine, however the
/// test ends.
struct Leftovers(String);

impl Drop for Leftovers {
    fn drop(&mut self) {
        for id in containers_of(&self.0) {
            let _ = std::process::Command::new("docker")
                .args(["rm", "-f", &id])
                .output();
        }
    }
}

/// `docker ps -a --filter label=swarm.coordinator=URL`, ids only.
fn containers_of(url: &str) -> Vec<String> {
    let out = std::process::Command::new("docker")
        .args(["ps", "-a", "-q", "--filter"])
        .arg(format!("label={LABEL_COORDINATOR}={url}"))
        .output()
        .expect("docker ps");
    assert!(out.status.success(), "docker ps: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// The control service with the admin token.
#[derive(Clone)]
struct Control {
    client: pb::control_service_client::ControlServiceClient<Channel>,
    admin: String,
}

impl Control {
    fn authed<T>(&self, body: T) -> tonic::Request<T> {
        let mut req = tonic::Request::new(body);
        let value = format!("Bearer {}", self.admin).parse().expect("header");
        req.metadata_mut().insert("authorization", value);
        req
    }

    async fn agents(&self) -> Vec<pb::AgentInfo> {
        let req = self.authed(pb::ListAgentsRequest {});
        let reply = self.client.clone().list_agents(req).await;
        reply.expect("ListAgents").into_inner().agents
    }

    async fn agent_state(&self, id: &str) -> String {
        let agents = self.agents().await;
        let agent = agents.into_iter().find(|a| a.id == id);
        agent.map(|a| a.state).unwrap_or_default()
    }

    async fn status(&self) -> pb::StatusReply {
        let req = self.authed(pb::StatusRequest {});
        let reply = self.client.clone().status(req).await;
        reply.expect("Status").into_inner()
    }

    async fn task(&self, id: &str) -> pb::TaskDetail {
        let req = self.authed(pb::GetTaskRequest { id: id.into() });
        let reply = self.client.clone().get_task(req).await;
        reply.expect("GetTask").into_inner()
    }

    /// The latest attempt's output, stdout and stderr together.
    async fn logs(&self, task: &str) -> String {
        let req = self.authed(pb::TaskLogsRequest {
            id: task.into(),
            attempt: 0,
            follow: false,
            number: 0,
        });
        let reply = self.client.clone().task_logs(req).await;
        let mut stream = reply.expect("TaskLogs").into_inner();
        let mut text = String::new();
        while let Some(line) = stream.message().await.expect("log line") {
            text.push_str(&String::from_utf8_lossy(&line.data));
        }
        text
    }
}

/// Polls `probe` every 200 ms until it returns `Some`, or fails with `what`
/// and the last thing `probe` saw.
async fn wait_for<T, F, Fut>(secs: u64, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = (Option<T>, String)>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let (found, seen) = probe().await;
        if let Some(found) = found {
            return found;
        }
        if Instant::now() > deadline {
            panic!("timed out after {secs}s waiting for {what}; last seen: {seen}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_containers_run_a_plan_drain_and_are_removed() {
    if !std::path::Path::new("/bin/busybox").exists() && skip("/bin/busybox is missing") {
        return;
    }
    let docker = match engine().await {
        Ok(docker) => docker,
        Err(reason) => {
            skip(&reason);
            return;
        }
    };
    if std::process::Command::new("docker")
        .arg("--version")
        .output()
        .is_err()
        && skip("the docker CLI is not on PATH")
    {
        return;
    }
    ensure_image(&docker).await;

    // A real coordinator, reachable from host-networked containers.
    let dir = tempfile::tempdir().expect("tmp");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let cfg = config::load(
        None,
        &|_: &str| None,
        &Flags::default()
            .with("listen", addr.to_string())
            .with("workdir", dir.path().to_path_buf().display().to_string()),
    )
    .expect("config");
    let nonce = format!("{}-{}", std::process::id(), addr.port());
    let admin = format!("admin-{nonce}");
    let agent_token = format!("agent-{nonce}");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(swarm_coordinator::daemon::serve::serve(
        listener,
        cfg,
        Tokens::new(admin.clone(), agent_token.clone()),
        async {
            let _ = stopped.await;
        },
    ));
    let url = format!("http://{addr}");
    let _leftovers = Leftovers(url.clone());
    let channel = Channel::from_shared(url.clone())
        .expect("url")
        .connect_lazy();
    let control = Control {
        client: pb::control_service_client::ControlServiceClient::new(channel),
        admin: admin.clone(),
    };

    let mut settings = DockerSettings::new(url.clone(), agent_token.clone());
    settings.plan = "docker-test".into();
    let mut absent = settings.clone();
    absent.image = format!("swarm-agent:absent-{nonce}");
    let Err(err) = DockerProvisioner::connect(absent).await else {
        panic!("connected with an image that is not there");
    };
    assert!(
        err.to_string().contains("scripts/build-agent-image.sh"),
        "{err}"
    );
    let provisioner = DockerProvisioner::connect(settings).await.expect("connect");
    let sre = format!("dt-sre-{nonce}");
    let devops = format!("dt-devops-{nonce}");
    let started = Instant::now();
    provisioner
        .start_agent("sre", &sre)
        .await
        .expect("start sre");
    provisioner
        .start_agent("devops", &devops)
        .await
        .expect("start devops");
    let taken = provisioner
        .start_agent("sre", &sre)
        .await
        .expect_err("same id twice");
    assert!(taken.to_string().contains("already exists"), "{taken}");
    let listed = provisioner.list().await.expect("list");
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(
        listed.iter().any(|(a, r, _)| a == &sre && r == "sre"),
        "{listed:?}"
    );

    // Both register with the coordinator.
    wait_for(60, "both containers to connect", || async {
        let agents = control.agents().await;
        let connected = |id: &str| agents.iter().any(|a| a.id == id && a.state == "connected");
        let seen: Vec<_> = agents.iter().map(|a| (&a.id, &a.state, &a.roles)).collect();
        let seen = format!("{seen:?}");
        ((connected(&sre) && connected(&devops)).then_some(()), seen)
    })
    .await;
    println!("agents connected after {:?}", started.elapsed());

    // A plan whose tasks run inside the containers.
    let req = control.authed(swarm_client::plan_upload::chunks(
        pb::LoadPlanHeader {
            file_name: "docker-plan.md".into(),
            ..Default::default()
        },
        PLAN.into(),
    ));
    let loaded = control
        .client
        .clone()
        .load_plan(req)
        .await
        .expect("load plan");
    assert_eq!(loaded.into_inner().tasks, 2);

    // The devops agent is stopped while its task runs: it drains (the task
    // finishes), exits, and the coordinator marks it gone.
    wait_for(60, "task 1.2 to run", || async {
        let task = control.task("1.2").await.task.unwrap_or_default();
        assert!(
            !matches!(task.state.as_str(), "failed" | "blocked"),
            "{task:?}"
        );
        ((task.state == "running").then_some(()), format!("{task:?}"))
    })
    .await;
    let stopping = Instant::now();
    provisioner
        .stop_agent(&devops, Duration::from_secs(30))
        .await
        .expect("stop devops");
    println!("devops drained and removed in {:?}", stopping.elapsed());
    let status = control.status().await;
    assert_eq!(status.state, "succeeded", "{status:?}");
    wait_for(10, "the coordinator to mark devops gone", || async {
        let state = control.agent_state(&devops).await;
        ((state == "gone").then_some(()), state)
    })
    .await;

    let first = control.logs("1.1").await;
    assert!(first.contains("hello from sre in /work"), "{first}");
    let second = control.logs("1.2").await;
    assert!(second.contains("hello from devops in /work"), "{second}");
    assert!(
        second.contains("hi from sre"),
        "memory across containers: {second}"
    );
    assert!(second.contains("finished while draining"), "{second}");
    let detail = control.task("1.2").await;
    assert_eq!(detail.attempts[0].agents, vec![devops.clone()]);

    let listed = provisioner.list().await.expect("list");
    assert_eq!(
        listed.len(),
        1,
        "only the sre container is left: {listed:?}"
    );
    let err = provisioner
        .stop_agent(&devops, Duration::from_secs(1))
        .await
        .expect_err("already stopped");
    assert!(
        err.to_string().contains(&sre),
        "names the agents there are: {err}"
    );
    assert!(
        provisioner.reap().await.expect("reap").is_empty(),
        "none exited"
    );

    // An agent that exits by itself is reaped.
    let killed = std::process::Command::new("docker")
        .args(["kill", "--signal", "TERM"])
        .arg(container_name(&sre))
        .output()
        .expect("docker kill");
    assert!(killed.status.success(), "{killed:?}");
    wait_for(30, "the sre container to exit", || async {
        let listed = provisioner.list().await.expect("list");
        let exited = listed.iter().any(|(_, _, state)| state == "exited");
        (exited.then_some(()), format!("{listed:?}"))
    })
    .await;
    assert_eq!(provisioner.reap().await.expect("reap"), vec![sre.clone()]);

    // Shutdown removes whatever is left, running or not.
    let extra = format!("dt-extra-{nonce}");
    provisioner
        .start_agent("sre", &extra)
        .await
        .expect("start extra");
    assert_eq!(provisioner.remove_all().await.expect("remove all"), 1);
    assert!(
        containers_of(&url).is_empty(),
        "a container of this coordinator is left"
    );
    assert!(provisioner.list().await.expect("list").is_empty());

    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("coordinator stops")
        .expect("join")
        .expect("clean stop");
    println!("done after {:?}", started.elapsed());
}
