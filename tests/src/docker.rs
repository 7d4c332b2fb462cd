//! Docker from a test: the CLI, the project's images (built from this
//! checkout when missing, never pulled), and the containers, networks and
//! volumes a test creates, removed when it ends however it ends.
//!
//! Without an engine or what it takes to build the images, a Docker test
//! prints why and passes, unless SWARM_REQUIRE_DOCKER is set (CI sets it).

use std::path::Path;
use std::process::Command;

/// Runs the docker CLI; its stdout when it succeeds, None when it fails or
/// cannot run.
pub fn docker(args: &[&str]) -> Option<String> {
    let out = Command::new("docker").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs the docker CLI and returns its stdout, trimmed; panics with its
/// stderr when it fails.
pub fn docker_ok(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run docker {args:?}: {e}"));
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A container's output, stdout then stderr (where swarmd and the agent
/// log); empty when docker cannot tell.
pub fn logs(container: &str) -> String {
    Command::new("docker")
        .args(["logs", container])
        .output()
        .map(|out| {
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .unwrap_or_default()
}

/// Why `images` cannot be had here, if they cannot: no engine, or one of
/// them is missing and `script` (under `scripts/`, run with `args`) cannot
/// build it.
pub fn unavailable(images: &[&str], script: &str, args: &[&str]) -> Option<String> {
    if docker(&["version", "--format", "{{.Server.Version}}"]).is_none() {
        return Some("no Docker engine is reachable".into());
    }
    let missing: Vec<&str> = images
        .iter()
        .copied()
        .filter(|i| docker(&["image", "inspect", i]).is_none())
        .collect();
    if missing.is_empty() {
        return None;
    }
    if !Path::new("/bin/busybox").exists() {
        return Some(format!(
            "{} missing and /bin/busybox (Debian's busybox-static) is not there to build them",
            missing.join(", ")
        ));
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scripts")
        .join(script);
    let built = Command::new("bash")
        .arg(path)
        .args(args)
        .status()
        .is_ok_and(|s| s.success());
    (!built).then(|| format!("scripts/{script} {} failed", args.join(" ")))
}

/// Whether a Docker test can run: true when it can; false, after saying
/// why, when it should pass without running. Panics when it cannot run
/// but SWARM_REQUIRE_DOCKER is set.
pub fn ready_or_skip(test: &str, unavailable: Option<String>) -> bool {
    let Some(why) = unavailable else {
        return true;
    };
    assert!(
        std::env::var_os("SWARM_REQUIRE_DOCKER").is_none(),
        "SWARM_REQUIRE_DOCKER is set but {why}"
    );
    println!("skipping {test}: {why}");
    false
}

/// The containers, networks and volumes a test made, force-removed when
/// dropped (containers first: a network or volume in use stays). When the
/// test failed, each container's output is printed first.
#[derive(Debug, Default)]
pub struct Cleanup {
    containers: Vec<String>,
    networks: Vec<String>,
    volumes: Vec<String>,
}

impl Cleanup {
    /// Creates a network of this name, removed at the end.
    pub fn network(&mut self, name: &str) {
        self.networks.push(name.to_string());
        docker_ok(&["network", "create", name]);
    }

    /// Creates a volume of this name, removed at the end.
    pub fn volume(&mut self, name: &str) {
        self.volumes.push(name.to_string());
        docker_ok(&["volume", "create", name]);
    }

    /// Runs `docker run -d --name NAME ARGS...` and removes that container
    /// at the end.
    pub fn run(&mut self, name: &str, args: &[&str]) {
        self.containers.push(name.to_string());
        let mut all = vec!["run", "-d", "--name", name];
        all.extend_from_slice(args);
        docker_ok(&all);
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &self.containers {
            if std::thread::panicking() {
                eprintln!("---- docker logs {c}\n{}", logs(c));
            }
            // A paused container cannot be removed until it is unpaused.
            let _ = docker(&["unpause", c]);
            let _ = docker(&["rm", "-f", "-v", c]);
        }
        for n in &self.networks {
            let _ = docker(&["network", "rm", n]);
        }
        for v in &self.volumes {
            let _ = docker(&["volume", "rm", "-f", v]);
        }
    }
}

/// Why the engine cannot run swarm services here, if it cannot: it is not
/// an active swarm manager (`.ci/run` makes it one with `docker swarm
/// init`).
pub fn swarm_unavailable() -> Option<String> {
    let state = docker(&[
        "info",
        "--format",
        "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}",
    ])?;
    (state.trim() != "active true").then(|| {
        format!(
            "the Docker engine is not a swarm manager (swarm state: {}); run `docker swarm init`",
            state.trim()
        )
    })
}

/// The swarm services labelled `swarm.coordinator=URL`, force-removed when
/// dropped, so a failed test leaves none behind; their tasks' states are
/// printed first when the test failed.
#[derive(Debug)]
pub struct Services {
    filter: String,
}

impl Services {
    /// The services of the coordinator at `url`.
    pub fn of(url: &str) -> Services {
        Services {
            filter: format!("label=swarm.coordinator={url}"),
        }
    }

    /// `NAME REPLICAS` per service (replicas asked for), sorted by name.
    pub fn replicas(&self) -> Vec<String> {
        let names = docker(&["service", "ls", "-q", "--filter", &self.filter]).unwrap_or_default();
        let mut out: Vec<String> = names
            .split_whitespace()
            .filter_map(|id| {
                docker(&[
                    "service",
                    "inspect",
                    id,
                    "--format",
                    "{{.Spec.Name}} {{.Spec.Mode.Replicated.Replicas}}",
                ])
            })
            .map(|s| s.trim().to_string())
            .collect();
        out.sort();
        out
    }

    /// The running tasks of service `name`, as `NAME.SLOT` (sorted).
    pub fn running(&self, name: &str) -> Vec<String> {
        let out = docker(&[
            "service",
            "ps",
            name,
            "--filter",
            "desired-state=running",
            "--format",
            "{{.Name}} {{.CurrentState}}",
        ])
        .unwrap_or_default();
        let mut running: Vec<String> = out
            .lines()
            .filter(|l| l.contains(" Running"))
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect();
        running.sort();
        running
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        let ids = docker(&["service", "ls", "-q", "--filter", &self.filter]).unwrap_or_default();
        for id in ids.split_whitespace() {
            if std::thread::panicking() {
                eprintln!(
                    "---- docker service ps {id}\n{}",
                    docker(&["service", "ps", "--no-trunc", id]).unwrap_or_default()
                );
            }
            let _ = docker(&["service", "rm", id]);
        }
    }
}
