//! A swarm in containers: swarmd (`swarmd:dev`) with its workdir on a
//! volume, and agents (`swarm-agent:dev`), on a private Docker network of
//! their own, the agents reaching the coordinator by its service name
//! (`https://swarmd:7420`) over TLS with client certificates (mTLS). The
//! test drives it from this host with swarmctl, through the port swarmd
//! publishes on 127.0.0.1. A host directory is shared with every agent at
//! /shared. Everything made in the engine is removed when it is dropped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::docker::{docker_ok, Cleanup};
use crate::{certs_init, free_port, wait_for, workspace_binary, Swarmctl};

/// The agent's image (`scripts/build-images.sh`).
pub const AGENT_IMAGE: &str = "swarm-agent:dev";

/// The coordinator's image (`scripts/build-images.sh`).
pub const SWARMD_IMAGE: &str = "swarmd:dev";

/// Where agents find the coordinator: its service name on the network.
pub const COORDINATOR_URL: &str = "https://swarmd:7420";

/// swarmd reads the tokens from its environment; swarmctl reads the
/// admin's from a file on this host, agents theirs from SWARM_TOKEN.
const ADMIN_TOKEN: &str = "containers-admin-token";
const AGENT_TOKEN: &str = "containers-agent-token";

/// The swarm's certificates, made on this host by `swarmd certs init
/// --host swarmd` and mounted read-only at /certs in every container.
#[derive(Debug)]
pub struct Tls {
    dir: PathBuf,
}

impl Tls {
    /// swarmd's flags: its certificate, and the CA its clients' must come
    /// from.
    pub const SWARMD: [&'static str; 6] = [
        "--tls-cert",
        "/certs/server.pem",
        "--tls-key",
        "/certs/server.key",
        "--tls-client-ca",
        "/certs/ca.pem",
    ];

    /// An agent's flags: the CA it trusts, its certificate.
    pub const AGENT: [&'static str; 6] = [
        "--ca",
        "/certs/ca.pem",
        "--cert",
        "/certs/agent.pem",
        "--key",
        "/certs/agent.key",
    ];

    /// Makes the set in `dir`/certs.
    fn init(dir: &Path) -> Tls {
        Tls {
            dir: certs_init(&dir.join("certs"), &["swarmd"]),
        }
    }

    /// `docker run` flags mounting the certificates at /certs.
    fn mount(&self) -> [String; 2] {
        ["-v".into(), format!("{}:/certs:ro", self.dir.display())]
    }

    /// The files swarmctl on this host needs: the CA, the admin's
    /// certificate and key.
    pub fn admin(&self) -> [PathBuf; 3] {
        ["ca.pem", "admin.pem", "admin.key"].map(|f| self.dir.join(f))
    }
}

/// The coordinator's container, the agents' and the host side: the shared
/// directory, the admin token file, the published port.
#[derive(Debug)]
pub struct ContainerSwarm {
    /// Dropped first: the containers go before the directory they write.
    cleanup: Cleanup,
    /// Names of everything made in the engine start with this.
    prefix: String,
    /// The coordinator's port, published on 127.0.0.1 of this host.
    port: u16,
    /// The certificates.
    pub tls: Tls,
    dir: tempfile::TempDir,
}

impl ContainerSwarm {
    /// Makes the network, the volume and the certificates, and starts the
    /// coordinator with `env` (`SWARM_*` settings); returns once swarmctl
    /// on this host gets an answer.
    pub fn start(env: &[(&str, &str)]) -> ContainerSwarm {
        let dir = tempfile::tempdir().expect("tmp");
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let prefix = format!("swarm-test-{}-{nanos:x}", std::process::id());
        std::fs::create_dir(dir.path().join("shared")).expect("shared dir");
        std::fs::write(dir.path().join("admin.token"), ADMIN_TOKEN).expect("token");
        let mut swarm = ContainerSwarm {
            cleanup: Cleanup::default(),
            port: free_port(),
            tls: Tls::init(dir.path()),
            prefix,
            dir,
        };
        swarm.cleanup.network(&swarm.network());
        let volume = format!("{}-data", swarm.prefix);
        swarm.cleanup.volume(&volume);
        let mut args: Vec<String> = [
            "--network",
            &swarm.network(),
            "--network-alias",
            "swarmd",
            "-v",
            &format!("{volume}:/data"),
            "-p",
            &format!("127.0.0.1:{}:7420", swarm.port),
            "-e",
            &format!("SWARM_ADMIN_TOKEN={ADMIN_TOKEN}"),
            "-e",
            &format!("SWARM_AGENT_TOKEN={AGENT_TOKEN}"),
        ]
        .map(str::to_string)
        .into();
        for (k, v) in env {
            args.extend(["-e".into(), format!("{k}={v}")]);
        }
        args.extend(swarm.tls.mount());
        args.push(SWARMD_IMAGE.into());
        args.extend(Tls::SWARMD.map(str::to_string));
        let name = swarm.coordinator();
        swarm.cleanup.run(&name, &refs(&args));
        swarm.wait_ready();
        swarm
    }

    /// Starts agent `id` for role `sre` in a container of its own,
    /// connecting to `url` with `tls` flags, and `extra` ones.
    pub fn start_agent(&mut self, id: &str, url: &str, tls: &[&str], extra: &[&str]) {
        let mut args: Vec<String> = [
            "--network",
            &self.network(),
            "-v",
            &format!("{}:/shared", self.shared().display()),
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

    /// The network's name.
    pub fn network(&self) -> String {
        format!("{}-net", self.prefix)
    }

    /// The coordinator's container.
    pub fn coordinator(&self) -> String {
        format!("{}-swarmd", self.prefix)
    }

    /// Agent `id`'s container.
    pub fn container(&self, id: &str) -> String {
        format!("{}-{id}", self.prefix)
    }

    /// The host directory every agent has at /shared.
    pub fn shared(&self) -> PathBuf {
        self.dir.path().join("shared")
    }

    /// A directory of this host's for the test's own files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The coordinator's URL from this host, with `scheme` (`https`, or
    /// `http` to see plaintext refused).
    pub fn host_url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// Waits until swarmctl on this host gets an answer.
    pub fn wait_ready(&self) {
        wait_for("swarmd in its container to answer", 30, || {
            self.ctl(&["status", "--json"]).status.success()
        });
    }

    /// Kills the coordinator's container (SIGKILL, no goodbye) and starts
    /// the same container again: the same volume, the same name.
    pub fn kill_and_restart_coordinator(&self) {
        let name = self.coordinator();
        docker_ok(&["kill", &name]);
        docker_ok(&["start", &name]);
        self.wait_ready();
    }

    /// swarmctl on this host against `url` with the admin token, and no
    /// TLS flags yet.
    pub fn client(&self, url: &str) -> Command {
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
}

impl Swarmctl for ContainerSwarm {
    fn ctl_command(&self, args: &[&str]) -> Command {
        let [ca, cert, key] = self.tls.admin();
        let mut cmd = self.client(&self.host_url("https"));
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

fn refs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}
