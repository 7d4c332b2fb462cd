//! Chaos on a real network: swarmd and three agents in containers (images
//! built from this checkout's static binaries, FROM scratch) on a private
//! Docker network, agents reaching the coordinator by its service name
//! over TLS with client certificates (mTLS); an agent speaking plaintext,
//! one without a certificate, and plaintext or certificate-less swarmctl
//! from the host are refused. While a plan runs, one agent is cut off the network past its lease and
//! put back, the coordinator's container is killed and started again on
//! its volume, and an agent container is frozen past its lease and thawed.
//! The plan still succeeds, each task has exactly one ledger line from the
//! attempt that succeeded, and every late result is rejected and recorded.
//!
//! Needs a Docker engine, and /bin/busybox to build swarmd:dev and
//! swarm-agent:dev when they are missing; without them the test prints why
//! and passes, unless SWARM_REQUIRE_DOCKER is set (CI sets it).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use swarm_tests::docker::{docker_ok, logs, ready_or_skip, unavailable, Cleanup};
use swarm_tests::events::{Event, EventLog};
use swarm_tests::{
    certs_init, free_port, lines, wait_for, workspace_binary, write_plan, Swarmctl, FAST_ENV,
};

const AGENT_IMAGE: &str = "swarm-agent:dev";
const SWARMD_IMAGE: &str = "swarmd:dev";

/// The agents' ids, one container each, all playing the same role so any
/// of them can take over another's work.
const AGENTS: [&str; 3] = ["agent-1", "agent-2", "agent-3"];

/// Agents that must not get in: one speaking plaintext, one with TLS but
/// no client certificate. Each gives up after 2 s without a session
/// (`--orphan-timeout`, exit code 4).
const STRANGERS: [(&str, &str, &[&str]); 2] = [
    ("plaintext", "http://swarmd:7420", &[]),
    (
        "anonymous",
        "https://swarmd:7420",
        &["--ca", "/certs/ca.pem"],
    ),
];

/// Tasks in the plan: enough that work is still running when the last
/// disruption comes.
const TASKS: usize = 12;

/// What every task does: a few seconds of work, then its line in the
/// ledger: the task, the attempt's fence, the agent.
const RUN: &str =
    r#"sleep 3; echo "$SWARM_TASK_ID $SWARM_ATTEMPT_ID $SWARM_AGENT_ID" >> /ledger/ledger"#;

/// An attempt younger than this (its `attempt.started`) is still well
/// inside its 3 s of work: a disruption aimed at it hits it running.
const FRESH_MS: i64 = 1_200;

/// Where the tokens are: swarmd reads them from its environment, swarmctl
/// from a file the test writes.
const ADMIN_TOKEN: &str = "chaos-admin-token";
const AGENT_TOKEN: &str = "chaos-agent-token";

/// The swarm's certificates, made on this host by `swarmd certs init
/// --host swarmd` and mounted read-only at /certs in every container:
/// swarmd serves TLS and requires client certificates (mTLS).
struct Tls {
    dir: PathBuf,
}

impl Tls {
    fn init(dir: &Path) -> Tls {
        Tls {
            dir: certs_init(&dir.join("certs"), &["swarmd"]),
        }
    }

    /// `docker run` flags mounting the certificates at /certs.
    fn mount(&self) -> [String; 2] {
        ["-v".into(), format!("{}:/certs:ro", self.dir.display())]
    }

    /// swarmd's flags: its certificate, and the CA its clients' must come
    /// from.
    const SWARMD: [&'static str; 6] = [
        "--tls-cert",
        "/certs/server.pem",
        "--tls-key",
        "/certs/server.key",
        "--tls-client-ca",
        "/certs/ca.pem",
    ];

    /// An agent's flags: the CA it trusts, its certificate.
    const AGENT: [&'static str; 6] = [
        "--ca",
        "/certs/ca.pem",
        "--cert",
        "/certs/agent.pem",
        "--key",
        "/certs/agent.key",
    ];

    /// swarmctl's flags on this host: the CA, the admin's certificate.
    fn admin(&self) -> [PathBuf; 3] {
        ["ca.pem", "admin.pem", "admin.key"].map(|f| self.dir.join(f))
    }
}

/// The coordinator and the agents in containers, and the host side of the
/// test: the ledger directory, the admin token file, the published port.
struct Swarm {
    /// Dropped first: the containers go before the directory they write.
    cleanup: Cleanup,
    /// Names of everything the test makes in the engine start with this.
    prefix: String,
    /// The coordinator's port, published on 127.0.0.1 of this host.
    port: u16,
    tls: Tls,
    dir: tempfile::TempDir,
}

impl Swarm {
    /// Starts the network, the coordinator on its volume, and the agents.
    fn start() -> Swarm {
        let dir = tempfile::tempdir().expect("tmp");
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let prefix = format!("swarm-chaos-{}-{nanos:x}", std::process::id());
        std::fs::create_dir(dir.path().join("ledger")).expect("ledger dir");
        std::fs::write(dir.path().join("admin.token"), ADMIN_TOKEN).expect("token");
        let mut swarm = Swarm {
            cleanup: Cleanup::default(),
            port: free_port(),
            tls: Tls::init(dir.path()),
            prefix,
            dir,
        };
        swarm.cleanup.network(&swarm.network());
        swarm.cleanup.volume(&swarm.volume());
        swarm.start_coordinator();
        for id in AGENTS {
            swarm.start_agent(id, "https://swarmd:7420", &Tls::AGENT, &[]);
        }
        swarm
    }

    fn network(&self) -> String {
        format!("{}-net", self.prefix)
    }

    fn volume(&self) -> String {
        format!("{}-data", self.prefix)
    }

    fn coordinator(&self) -> String {
        format!("{}-swarmd", self.prefix)
    }

    fn container(&self, agent: &str) -> String {
        format!("{}-{agent}", self.prefix)
    }

    fn ledger(&self) -> PathBuf {
        self.dir.path().join("ledger/ledger")
    }

    fn start_coordinator(&mut self) {
        let mut args: Vec<String> = [
            "--network",
            &self.network(),
            "--network-alias",
            "swarmd",
            "-v",
            &format!("{}:/data", self.volume()),
            "-p",
            &format!("127.0.0.1:{}:7420", self.port),
            "-e",
            &format!("SWARM_ADMIN_TOKEN={ADMIN_TOKEN}"),
            "-e",
            &format!("SWARM_AGENT_TOKEN={AGENT_TOKEN}"),
        ]
        .map(str::to_string)
        .into();
        // Leases and retries are quick; agents get longer than they need
        // to come back after a restart, so the attempts they run resume.
        for (k, v) in FAST_ENV {
            let v = if *k == "SWARM_RECONNECT_GRACE_MS" {
                "10000"
            } else {
                v
            };
            args.extend(["-e".into(), format!("{k}={v}")]);
        }
        args.extend(self.tls.mount());
        args.push(SWARMD_IMAGE.into());
        args.extend(Tls::SWARMD.map(str::to_string));
        let name = self.coordinator();
        self.cleanup.run(&name, &refs(&args));
        self.wait_ready();
    }

    /// Starts agent `id` in a container of its own, connecting to `url`
    /// with `tls` flags, and `extra` ones.
    fn start_agent(&mut self, id: &str, url: &str, tls: &[&str], extra: &[&str]) {
        let mut args: Vec<String> = [
            "--network",
            &self.network(),
            "-v",
            &format!("{}:/ledger", self.dir.path().join("ledger").display()),
            "-e",
            &format!("SWARM_TOKEN={AGENT_TOKEN}"),
            "-e",
            "RUST_LOG=info",
        ]
        .map(str::to_string)
        .into();
        args.extend(self.tls.mount());
        args.push(AGENT_IMAGE.into());
        let flags = ["--coordinator", url, "--id", id, "--role", "sre"];
        args.extend(flags.iter().chain(tls).chain(extra).map(|a| a.to_string()));
        let name = self.container(id);
        self.cleanup.run(&name, &refs(&args));
    }

    /// Waits until swarmctl on this host gets an answer.
    fn wait_ready(&self) {
        wait_for("swarmd in its container to answer", 30, || {
            self.ctl(&["status", "--json"]).status.success()
        });
    }

    /// Kills the coordinator's container (SIGKILL, no goodbye) and starts
    /// the same container again: the same volume, the same name.
    fn kill_and_restart_coordinator(&self) {
        let name = self.coordinator();
        docker_ok(&["kill", &name]);
        docker_ok(&["start", &name]);
        self.wait_ready();
    }

    /// An agent running an attempt it started less than [`FRESH_MS`] ago
    /// (one of `among`), and that attempt's fence: a disruption now hits
    /// work in progress.
    fn busy_agent(&self, among: &[&str]) -> (String, u64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let log = EventLog::read(self);
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            let ended = ended_fences(&log);
            let fresh = log.all(|e| {
                e.kind == "attempt.started"
                    && among.contains(&e.agent_id.as_str())
                    && now - e.at_ms < FRESH_MS
                    && !ended.contains(&e.fence)
            });
            if let Some(e) = fresh.last() {
                return (e.agent_id.clone(), e.fence);
            }
            assert!(
                Instant::now() < deadline,
                "no agent of {among:?} started an attempt in 30 s; the log:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// swarmctl on this host against `url` with the admin token, and no
    /// TLS flags yet.
    fn client(&self, url: &str) -> Command {
        let mut cmd = Command::new(workspace_binary("swarmctl"));
        cmd.arg("--coordinator")
            .arg(url)
            .arg("--token-file")
            .arg(self.dir.path().join("admin.token"))
            .env_remove("SWARM_TOKEN")
            .env_remove("SWARM_CA")
            .env_remove("SWARM_CERT")
            .env_remove("SWARM_KEY")
            .current_dir(self.dir.path());
        cmd
    }

    /// The last event's sequence number.
    fn last_seq(&self) -> u64 {
        EventLog::read(self).last_seq()
    }

    /// Waits for an event after `after` that matches `pred`.
    fn wait_event(&self, after: u64, what: &str, pred: impl Fn(&Event) -> bool) -> Event {
        EventLog::wait(self, 60, what, |e| e.seq > after && pred(e))
    }
}

impl Swarmctl for Swarm {
    fn ctl_command(&self, args: &[&str]) -> Command {
        let [ca, cert, key] = self.tls.admin();
        let mut cmd = self.client(&format!("https://127.0.0.1:{}", self.port));
        cmd.arg("--ca")
            .arg(ca)
            .arg("--cert")
            .arg(cert)
            .arg("--key")
            .arg(key)
            .args(args);
        cmd
    }
}

impl Drop for Swarm {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut names = vec![self.coordinator()];
            names.extend(AGENTS.iter().map(|a| self.container(a)));
            names.extend(STRANGERS.iter().map(|(a, _, _)| self.container(a)));
            for name in names {
                eprintln!("---- docker logs {name}\n{}", logs(&name));
            }
        }
    }
}

fn refs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// Fences of the attempts that ended, however they ended.
fn ended_fences(log: &EventLog) -> BTreeSet<u64> {
    log.all(|e| {
        e.kind.starts_with("attempt.")
            && !matches!(
                e.kind.as_str(),
                "attempt.offered" | "attempt.started" | "attempt.rejected"
            )
    })
    .iter()
    .map(|e| e.fence)
    .collect()
}

/// One ledger line: the task, the attempt's fence, the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    task: String,
    fence: u64,
    agent: String,
}

fn ledger(path: &Path) -> Vec<Entry> {
    lines(path)
        .iter()
        .map(|l| {
            let parts: Vec<&str> = l.split(' ').collect();
            match parts.as_slice() {
                [task, fence, agent] => Entry {
                    task: task.to_string(),
                    fence: fence
                        .parse()
                        .unwrap_or_else(|_| panic!("ledger line {l:?}")),
                    agent: agent.to_string(),
                },
                _ => panic!("ledger line {l:?} is not 'TASK FENCE AGENT'"),
            }
        })
        .collect()
}

fn plan_text() -> String {
    let mut plan = String::from("# Chaos\n\n### Day 1: Work\n");
    for i in 1..=TASKS {
        plan.push_str(&format!(
            "\n**Task 1.{i}**: Step {i}\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `{RUN}`\n"
        ));
    }
    plan
}

#[test]
fn a_partition_a_killed_coordinator_and_a_frozen_agent_lose_nothing_and_repeat_nothing() {
    let images = [AGENT_IMAGE, SWARMD_IMAGE];
    let why = unavailable(&images, "build-images.sh", &images);
    if !ready_or_skip("the chaos network test", why) {
        return;
    }
    let began = Instant::now();
    let mut swarm = Swarm::start();
    for (id, url, tls) in STRANGERS {
        swarm.start_agent(id, url, tls, &["--orphan-timeout", "2"]);
    }
    refused_from_this_host(&swarm);
    let plan = write_plan(swarm.dir.path(), "plan.md", &plan_text());
    swarm.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);

    let cut_fence = partition(&swarm);
    let running_at_kill = kill_coordinator(&swarm);
    let frozen_fence = freeze(&swarm);

    let status = swarm.wait_status(90, |s| s["state"] == "succeeded");
    assert_eq!(status["tasks"]["succeeded"], TASKS, "{status}");
    let log = EventLog::read(&swarm);
    let entries = ledger(&swarm.ledger());
    let winners = one_line_per_task_from_its_success(&swarm, &log, &entries);
    // Every other line came from an attempt that was lost, and its late
    // result was refused and recorded.
    for late in entries.iter().filter(|l| !winners.contains(&l.fence)) {
        log.only(&format!("the loss of {late:?}"), |e| {
            e.kind == "attempt.lost" && e.fence == late.fence && e.task_id == late.task
        });
        assert!(
            !log.all(|e| e.kind == "attempt.rejected" && e.fence == late.fence)
                .is_empty(),
            "the late line {late:?} has its rejection recorded; the log:\n{log}"
        );
    }
    assert!(
        entries.iter().any(|l| l.fence == cut_fence),
        "the cut-off agent's late line is in the ledger: {entries:?}"
    );
    for fence in [cut_fence, frozen_fence] {
        assert!(!winners.contains(&fence), "fence {fence} was lost: {log}");
    }
    // What ran when the coordinator was killed resumed and succeeded.
    assert!(!running_at_kill.is_empty());
    for fence in &running_at_kill {
        assert!(
            winners.contains(fence),
            "attempt fence {fence}, running at the kill, succeeded after the restart; the log:\n{log}"
        );
    }
    strangers_never_got_in(&swarm, &log);
    println!("chaos test took {:.1} s", began.elapsed().as_secs_f64());
}

/// Cuts an agent running an attempt off the network until the coordinator
/// has lost it (longer than the lease) and the attempt's work is done (its
/// line is in the ledger, which is not on the network), then puts it back:
/// its result, now late, is refused. Returns that attempt's fence.
fn partition(swarm: &Swarm) -> u64 {
    let (cut, fence) = swarm.busy_agent(&AGENTS);
    let container = swarm.container(&cut);
    let before = swarm.last_seq();
    docker_ok(&["network", "disconnect", &swarm.network(), &container]);
    swarm.wait_event(before, "the cut-off agent to be lost", |e| {
        e.kind == "agent.lost" && e.agent_id == cut
    });
    wait_for("the cut-off agent's attempt to finish its work", 30, || {
        ledger(&swarm.ledger()).iter().any(|l| l.fence == fence)
    });
    docker_ok(&["network", "connect", &swarm.network(), &container]);
    swarm.wait_event(
        before,
        "the cut-off agent's late result to be rejected",
        |e| e.kind == "attempt.rejected" && e.fence == fence && e.agent_id == cut,
    );
    fence
}

/// Kills the coordinator's container while attempts run and starts it
/// again on its volume; waits until every agent is back. Returns the
/// fences of the attempts that were running at the kill.
fn kill_coordinator(swarm: &Swarm) -> BTreeSet<u64> {
    swarm.busy_agent(&AGENTS);
    let log = EventLog::read(swarm);
    let ended = ended_fences(&log);
    let running = log
        .all(|e| e.kind == "attempt.started" && !ended.contains(&e.fence))
        .iter()
        .map(|e| e.fence)
        .collect();
    swarm.kill_and_restart_coordinator();
    let restarted = swarm.wait_event(log.last_seq(), "the coordinator to start again", |e| {
        e.kind == "coordinator.started"
    });
    for agent in AGENTS {
        swarm.wait_event(restarted.seq, "every agent to reconnect", |e| {
            e.kind == "agent.reconnected" && e.agent_id == agent
        });
    }
    running
}

/// Freezes an agent's container while it runs an attempt until the
/// coordinator has lost it (past its lease), then thaws it: what it still
/// holds is refused. Returns that attempt's fence.
fn freeze(swarm: &Swarm) -> u64 {
    let (frozen, fence) = swarm.busy_agent(&AGENTS);
    let container = swarm.container(&frozen);
    let before = swarm.last_seq();
    docker_ok(&["pause", &container]);
    swarm.wait_event(before, "the frozen agent to be lost", |e| {
        e.kind == "agent.lost" && e.agent_id == frozen
    });
    docker_ok(&["unpause", &container]);
    swarm.wait_event(before, "the frozen agent's attempt to be rejected", |e| {
        e.kind == "attempt.rejected" && e.fence == fence && e.agent_id == frozen
    });
    fence
}

/// Checks that each task has exactly one ledger line from the attempt that
/// succeeded (one `attempt.succeeded`, the same in `task show`), written by
/// the agent that ran it. Returns the fences of those attempts.
fn one_line_per_task_from_its_success(
    swarm: &Swarm,
    log: &EventLog,
    entries: &[Entry],
) -> BTreeSet<u64> {
    let mut winners = BTreeSet::new();
    for i in 1..=TASKS {
        let task = format!("1.{i}");
        let won = log.only(&format!("{task}'s attempt succeeding"), |e| {
            e.is("attempt.succeeded", &task)
        });
        let mine: Vec<&Entry> = entries.iter().filter(|l| l.task == task).collect();
        let by_winner: Vec<&&Entry> = mine.iter().filter(|l| l.fence == won.fence).collect();
        assert!(
            matches!(by_winner.as_slice(), [one] if one.agent == won.agent_id),
            "task {task}: one ledger line from its succeeded attempt {won}; its lines: {mine:?}"
        );
        let show = swarm.ctl_json(&["task", "show", &task, "--json"]);
        let done: Vec<u64> = show["attempt_history"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["state"] == "succeeded")
            .filter_map(|a| a["fence"].as_u64())
            .collect();
        assert_eq!(done, vec![won.fence], "task show agrees: {show}");
        winners.insert(won.fence);
    }
    winners
}

/// swarmctl on this host is refused in plaintext, and over TLS without a
/// client certificate.
fn refused_from_this_host(swarm: &Swarm) {
    let plain = swarm
        .client(&format!("http://127.0.0.1:{}", swarm.port))
        .args(["status", "--json"])
        .output()
        .expect("swarmctl");
    assert!(!plain.status.success(), "plaintext was accepted");
    let [ca, _, _] = swarm.tls.admin();
    let anonymous = swarm
        .client(&format!("https://127.0.0.1:{}", swarm.port))
        .arg("--ca")
        .arg(ca)
        .args(["status", "--json"])
        .output()
        .expect("swarmctl");
    assert!(
        !anonymous.status.success(),
        "a client without a certificate was accepted"
    );
}

/// The strangers never opened a session: not an agent swarmd knows, in no
/// event, and gone with exit code 4 (no session within --orphan-timeout)
/// or 2 (refused for good).
fn strangers_never_got_in(swarm: &Swarm, log: &EventLog) {
    let agents = swarm.ctl_json(&["agents", "--json"]);
    for (id, _, _) in STRANGERS {
        assert!(
            agents
                .as_array()
                .is_some_and(|a| a.iter().all(|x| x["id"] != id)),
            "{id} is an agent: {agents}"
        );
        assert!(
            log.all(|e| e.agent_id == id).is_empty(),
            "{id} is in the event log:\n{log}"
        );
        let container = swarm.container(id);
        let code = docker_ok(&["wait", &container]);
        assert!(
            code == "4" || code == "2",
            "{id} exited {code}:\n{}",
            logs(&container)
        );
    }
}
