//! Workspace-level end-to-end tests.
//!
//! Tests in this crate start the real binaries (`swarmd`, `swarm-agent`,
//! `swarmctl`) on ephemeral ports and temporary directories and assert on
//! what a user sees: `swarmctl ... --json`, the database, the files tasks
//! write. This library holds what those tests share: finding the built
//! binaries, starting and killing daemons and agents, running swarmctl.

#![warn(missing_docs)]

pub mod browser;
pub mod containers;
pub mod docker;
pub mod events;
mod http;
pub mod memory_file;
pub mod otlp;
pub mod procs;
pub mod relay;
pub mod repo;

pub use http::{http_get, https_get};

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Path of a binary built from this workspace (`swarmctl`, `swarmd`, ...).
///
/// `cargo test --workspace` builds every binary of the workspace into the
/// target directory whose `deps/` holds the test executable itself.
pub fn workspace_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is not built: run `cargo build --workspace` (cargo test --workspace builds it)",
        path.display()
    );
    path
}

/// Path of the example plans shipped with the repository.
pub fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("examples")
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Settings that make leases, retries and reconnects quick in tests.
pub const FAST_ENV: &[(&str, &str)] = &[
    ("SWARM_HEARTBEAT_MS", "200"),
    ("SWARM_LEASE_TTL_MS", "2500"),
    ("SWARM_RECONNECT_GRACE_MS", "3000"),
    ("SWARM_RETRY_BACKOFF_MS", "200"),
    ("RUST_LOG", "info"),
];

/// A running `swarmd`, killed when dropped.
pub struct Daemon {
    /// The process.
    pub child: Child,
    /// Its port.
    pub port: u16,
    /// Its working directory.
    pub workdir: PathBuf,
    /// `https` when it serves TLS, else `http`.
    pub scheme: &'static str,
    /// Flags every swarmctl run against it gets (`--ca`, `--cert`, ...).
    pub client_args: Vec<String>,
}

impl Daemon {
    /// Starts swarmd on `port` in `workdir` and waits until it answers.
    pub fn start(workdir: &Path, port: u16) -> Daemon {
        Self::start_with(workdir, port, &[])
    }

    /// Starts swarmd with extra flags.
    pub fn start_with(workdir: &Path, port: u16, extra: &[&str]) -> Daemon {
        Self::start_client(workdir, port, extra, &[], "http", Vec::new())
    }

    /// Starts swarmd with extra flags and environment variables.
    pub fn start_with_env(
        workdir: &Path,
        port: u16,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Daemon {
        Self::start_client(workdir, port, extra, env, "http", Vec::new())
    }

    /// Starts swarmd over TLS with extra flags; swarmctl connects with
    /// `https://` and `client_args` (`--ca`, `--cert`, `--key`).
    pub fn start_tls(workdir: &Path, port: u16, extra: &[&str], client_args: &[&str]) -> Daemon {
        let client = client_args.iter().map(|a| a.to_string()).collect();
        Self::start_client(workdir, port, extra, &[], "https", client)
    }

    fn start_client(
        workdir: &Path,
        port: u16,
        extra: &[&str],
        env: &[(&str, &str)],
        scheme: &'static str,
        client_args: Vec<String>,
    ) -> Daemon {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(workdir.join("swarmd.log"))
            .expect("daemon log");
        let child = Command::new(workspace_binary("swarmd"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--workdir")
            .arg(workdir)
            .args(extra)
            .envs(FAST_ENV.iter().copied())
            .envs(env.iter().copied())
            .env_remove("SWARM_ADMIN_TOKEN")
            .env_remove("SWARM_AGENT_TOKEN")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start swarmd");
        let d = Daemon {
            child,
            port,
            workdir: workdir.to_path_buf(),
            scheme,
            client_args,
        };
        d.wait_ready();
        d
    }

    /// The daemon's URL.
    pub fn url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme, self.port)
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.workdir.join(".swarm/admin.token").exists()
                && self.ctl(&["status", "--json"]).status.success()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "swarmd did not come up; log:\n{}",
            std::fs::read_to_string(self.workdir.join("swarmd.log")).unwrap_or_default()
        );
    }

    /// Runs swarmctl against this daemon with the admin token.
    pub fn ctl(&self, args: &[&str]) -> Output {
        Swarmctl::ctl(self, args)
    }

    /// Starts swarmctl in the background (`events --follow`, ...), its
    /// output discarded.
    pub fn ctl_spawn(&self, args: &[&str]) -> Child {
        self.ctl_command(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start swarmctl")
    }

    /// A swarmctl command against this daemon with the admin token, not
    /// started yet: for a test that wants its output as a pipe.
    pub fn ctl_command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(workspace_binary("swarmctl"));
        cmd.arg("--coordinator")
            .arg(self.url())
            .arg("--token-file")
            .arg(self.workdir.join(".swarm/admin.token"))
            .args(&self.client_args)
            .args(args)
            .env_remove("SWARM_TOKEN")
            .env_remove("SWARM_CA")
            .env_remove("SWARM_CERT")
            .env_remove("SWARM_KEY")
            .current_dir(&self.workdir);
        cmd
    }

    /// Runs swarmctl and parses its JSON output; panics with stderr if it
    /// fails.
    pub fn ctl_json(&self, args: &[&str]) -> serde_json::Value {
        Swarmctl::ctl_json(self, args)
    }

    /// Starts an agent for these roles.
    pub fn agent(&self, id: &str, roles: &[&str]) -> Agent {
        Agent::start(&self.url(), &self.workdir, id, roles, &[])
    }

    /// Polls `status --json` until `pred` holds; panics after `secs`.
    pub fn wait_status(
        &self,
        secs: u64,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        Swarmctl::wait_status(self, secs, pred)
    }

    /// Polls `tasks --json` until task `id` is in `state`.
    pub fn wait_task(&self, id: &str, state: &str, secs: u64) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut last = serde_json::Value::Null;
        while Instant::now() < deadline {
            let out = self.ctl(&["tasks", "--json"]);
            if out.status.success() {
                let tasks: serde_json::Value =
                    serde_json::from_slice(&out.stdout).unwrap_or_default();
                if let Some(t) = tasks
                    .as_array()
                    .and_then(|a| a.iter().find(|t| t["id"] == id))
                {
                    last = t.clone();
                    if t["state"] == state {
                        return t.clone();
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("task {id} never reached {state}; last: {last}");
    }

    /// Stops the daemon gracefully (SIGTERM) and waits up to 30 s.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill9();
    }

    /// Kills the daemon with SIGKILL and waits for it.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Swarmctl for Daemon {
    fn ctl_command(&self, args: &[&str]) -> Command {
        Daemon::ctl_command(self, args)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A coordinator that swarmctl can be pointed at with the admin's
/// credentials: a [`Daemon`] on this host, or one in a container. The
/// provided methods are what tests ask of it through swarmctl.
pub trait Swarmctl {
    /// A swarmctl command against the coordinator, not started yet.
    fn ctl_command(&self, args: &[&str]) -> Command;

    /// Runs swarmctl.
    fn ctl(&self, args: &[&str]) -> Output {
        self.ctl_command(args).output().expect("run swarmctl")
    }

    /// Runs swarmctl and parses its JSON output; panics with stderr if it
    /// fails.
    fn ctl_json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.ctl(args);
        assert!(
            out.status.success(),
            "swarmctl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "swarmctl {args:?}: not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Polls `status --json` until `pred` holds; panics after `secs`.
    fn wait_status(
        &self,
        secs: u64,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut last = serde_json::Value::Null;
        while Instant::now() < deadline {
            let out = self.ctl(&["status", "--json"]);
            if out.status.success() {
                last = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
                if pred(&last) {
                    return last;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "status never matched; last: {last}\ntasks: {}",
            String::from_utf8_lossy(&self.ctl(&["tasks"]).stdout)
        );
    }
}

/// A running `swarm-agent`, killed when dropped.
pub struct Agent {
    /// The process.
    pub child: Child,
}

impl Agent {
    /// Starts an agent with extra flags.
    pub fn start(url: &str, workdir: &Path, id: &str, roles: &[&str], extra: &[&str]) -> Agent {
        Self::start_with_env(url, workdir, id, roles, extra, &[])
    }

    /// Starts an agent with extra flags and environment variables.
    pub fn start_with_env(
        url: &str,
        workdir: &Path,
        id: &str,
        roles: &[&str],
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Agent {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(workdir.join(format!("agent-{id}.log")))
            .expect("agent log");
        let bin_dir = workspace_binary("swarmctl")
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )))
        .expect("PATH");
        let mut cmd = Command::new(workspace_binary("swarm-agent"));
        cmd.arg("--coordinator")
            .arg(url)
            .arg("--id")
            .arg(id)
            .arg("--workdir")
            .arg(workdir);
        cmd.arg("--token-file")
            .arg(workdir.join(".swarm/agent.token"));
        for r in roles {
            cmd.arg("--role").arg(r);
        }
        cmd.args(extra)
            .env("PATH", path)
            .env("RUST_LOG", "info")
            .env_remove("SWARM_TOKEN")
            .envs(env.iter().copied());
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start swarm-agent");
        Agent { child }
    }

    /// Sends a signal to the agent.
    pub fn signal(&self, sig: &str) {
        let _ = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status();
    }

    /// Kills the agent with SIGKILL and waits for it.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits up to `secs` for the agent to exit on its own; its exit code
    /// (`None` if killed by a signal), or a panic naming `what` if it is
    /// still running.
    pub fn wait_exit(&mut self, secs: u64, what: &str) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "the agent did not exit within {secs} s ({what})"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.signal("CONT");
        self.kill9();
    }
}

/// `swarmd certs init --out OUT --host HOST...`: a CA, and the key pairs
/// of the server (for `hosts` and loopback), an agent and the admin, in
/// `out`, which it returns.
pub fn certs_init(out: &Path, hosts: &[&str]) -> PathBuf {
    let mut cmd = Command::new(workspace_binary("swarmd"));
    cmd.args(["certs", "init", "--out"]).arg(out);
    for h in hosts {
        cmd.args(["--host", h]);
    }
    let run = cmd.output().expect("run swarmd certs init");
    assert!(
        run.status.success(),
        "swarmd certs init: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    out.to_path_buf()
}

/// Writes a plan file into `dir` and returns its path.
pub fn write_plan(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write plan");
    path
}

/// The `state` of every task, by id.
pub fn task_states(tasks: &serde_json::Value) -> std::collections::BTreeMap<String, String> {
    tasks
        .as_array()
        .map(|a| {
            a.iter()
                .map(|t| {
                    (
                        t["id"].as_str().unwrap_or("").to_string(),
                        t["state"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts that `text` holds no ANSI escape sequence: logs written to a
/// file and output written to a pipe are plain text.
pub fn assert_no_escape_codes(what: &str, text: &str) {
    assert!(
        !text.contains("\x1b["),
        "{what} holds escape codes:\n{}",
        text.replace('\x1b', "<ESC>")
    );
}

/// The lines of a file (a ledger), none when it does not exist yet.
pub fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Waits up to `secs` for `cond`, checking every 50 ms; panics naming
/// `what` when it never holds.
pub fn wait_for(what: &str, secs: u64, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
