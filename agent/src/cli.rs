//! `swarm-agent` flags, logging and start-up.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use swarm_client::TokenFileError;

use crate::cli_sandbox::SandboxFlags;
use crate::exit::Code;
use crate::home::{Home, HomeError};
use crate::session::{self, Exit, Settings};

/// The most roles an agent may declare (the coordinator's limit).
pub const MAX_ROLES: usize = 64;

/// The longest agent id, in bytes (the coordinator's limit).
pub const MAX_ID_BYTES: usize = 128;

/// swarm-agent: runs swarmd tasks for one or more roles. It registers with
/// the coordinator, holds its session (reconnecting with backoff when the
/// coordinator goes away), runs what each task says — a shell command, a
/// container, a command template fed the task brief, or nothing until an
/// operator marks the task done — and streams the output.
#[derive(Debug, Parser)]
#[command(name = "swarm-agent", version, about, after_help = after_help())]
pub struct Cli {
    /// The coordinator's URL.
    #[arg(
        long,
        env = "SWARM_COORDINATOR",
        default_value = "http://127.0.0.1:7420"
    )]
    pub coordinator: String,
    /// A role this agent plays (repeat for several; the first is active).
    #[arg(long = "role", required = true, value_name = "ROLE")]
    pub roles: Vec<String>,
    /// Attempts it runs at once (1 to 1024).
    #[arg(long, default_value_t = 1)]
    pub slots: u32,
    /// File holding the agent token (default: SWARM_TOKEN, else
    /// WORKDIR/.swarm/agent.token).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Working directory of the tasks it runs.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub workdir: PathBuf,
    /// Command template for tasks without a Run command, fed the task brief
    /// on stdin; placeholders {role} {task} {title} {attempt} {prompt_file} {brief_file} {model} {tools}; without
    /// it, the role's template from the coordinator (roles file, agent
    /// definitions, config [exec]).
    #[arg(long = "exec", value_name = "TEMPLATE")]
    pub template: Option<String>,
    /// Agent id (default: HOST-ROLE-RANDOM): 1 to 128 bytes, no spaces or
    /// control characters. Restarting an agent with the same id kills what
    /// its previous process left running in this workdir. The swarm
    /// provisioner sets it through the environment, from the service's task
    /// slot, so a replaced container keeps its identity.
    #[arg(long, env = "SWARM_AGENT_ID")]
    pub id: Option<String>,
    /// A label, KEY=VALUE (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// On SIGTERM, how long running attempts may take to finish before they
    /// are stopped and handed back.
    #[arg(long, default_value = "60", value_name = "SECONDS")]
    pub drain_timeout: u64,
    /// Exit (code 4) once the coordinator has been unreachable this long,
    /// stopping the running attempts first (default: retry forever).
    /// Provisioners set it so their agents do not outlive them.
    #[arg(long, value_name = "SECONDS")]
    pub orphan_timeout: Option<u64>,
    /// Run task processes as this user (a name or a uid; the agent must run
    /// as root), with that user's group and no supplementary groups, so
    /// tasks cannot read what only the agent's user may (`.swarm/`, the
    /// token files).
    #[arg(long, value_name = "USER")]
    pub run_as: Option<String>,
    /// Log lines as text, or as one JSON object per line.
    #[arg(long, value_enum, default_value = "text", env = "SWARM_LOG_FORMAT")]
    pub log_format: swarm_client::logging::LogFormat,
    /// Claude Code agent definitions on this host (markdown with front
    /// matter, searched recursively): a role's prompt, model and tools
    /// here win over the coordinator's (default: WORKDIR/.claude/agents
    /// when it exists).
    #[arg(long, value_name = "DIR")]
    pub agents_dir: Option<PathBuf>,
    /// CA certificate (PEM) that signed the coordinator's, for https://
    /// coordinator URLs.
    #[arg(long, env = "SWARM_CA", value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Client certificate (PEM) for a coordinator that requires them
    /// (mTLS); with --key.
    #[arg(long, env = "SWARM_CERT", value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, env = "SWARM_KEY", value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// OTLP collector for the agent's own spans (each attempt's executor
    /// and its steps, under the attempt's span), e.g.
    /// http://localhost:4318; OTEL_EXPORTER_OTLP_PROTOCOL picks grpc or
    /// http/protobuf (the default). Off when unset.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT", value_name = "URL")]
    pub otlp_endpoint: Option<String>,
    /// The sandbox of task processes.
    #[command(flatten)]
    pub sandbox: SandboxFlags,
}

/// `--help`'s text after the flags: the environment, signals, and the
/// exit codes from [`Code`].
fn after_help() -> String {
    format!("{ENVIRONMENT}\n{}", Code::help())
}

const ENVIRONMENT: &str =
    "Environment: SWARM_COORDINATOR, SWARM_AGENT_ID, SWARM_TOKEN, SWARM_CA, SWARM_CERT, SWARM_KEY, RUST_LOG.
Every task process sees SWARM_TASK_ID, SWARM_ROLE, SWARM_ATTEMPT, SWARM_COORDINATOR and
SWARM_TOKEN (minted for its attempt), so it can use shared memory with `swarmctl memory put|get`.
Over TLS tasks also get SWARM_CA; under mTLS their SWARM_COORDINATOR is a private Unix socket the
agent forwards over its own connection, and the agent's certificate and key never reach them.
Signals: SIGTERM or SIGINT drains (no new work, running attempts finish, then exit); a second
one exits at once (130).
A task's process tree (children, pipelines, setsid daemons) ends with its attempt and with the
agent, even after kill -9: a PID namespace under bubblewrap, else a guard that stays as the
tree's subreaper; an agent restarted with the same id first kills what its previous process left
running (recorded in WORKDIR/.swarm-agent/ID/).
Sandbox (Linux, bubblewrap): tasks see the file system and network as this user does, but not
its token and key files, .swarm-agent/ or the coordinator's .swarm/; no new privileges (sudo
fails); host processes are invisible. Role profiles override with SWARM_SANDBOX,
SWARM_SANDBOX_FILESYSTEM and SWARM_SANDBOX_NETWORK in their env.
An unreachable coordinator is retried with capped exponential backoff and jitter (see
--orphan-timeout). With no acknowledgement from the coordinator for its lease minus a margin
(the larger of one heartbeat interval and a fifth of the lease), the agent stops its running
attempts before the coordinator can hand them to another agent, and says so in its log.";

/// Entry point of the binary.
pub fn main() -> ExitCode {
    // The agent token lives in this process, and perhaps in its
    // environment: not dumpable, neither can be read by the user's other
    // processes (its tasks among them) through /proc or ptrace. Children
    // are dumpable again once they exec.
    if let Err(e) = nix::sys::prctl::set_dumpable(false) {
        eprintln!("swarm-agent: cannot close this process's memory to other processes: {e}");
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                Code::Refused
            } else {
                Code::Done
            });
        }
    };
    swarm_client::logging::init(cli.log_format);
    let settings = match settings(cli) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("swarm-agent: {e}");
            return ExitCode::from(Code::Refused);
        }
    };
    let home = match Home::open(&settings.workdir, &settings.id) {
        Ok(home) => home,
        Err(e @ HomeError::InUse { .. }) => {
            eprintln!("swarm-agent: {e}");
            return ExitCode::from(Code::IdInUse);
        }
        Err(e) => {
            eprintln!("swarm-agent: cannot use the agent's directory in the workdir: {e}");
            return ExitCode::from(Code::Failed);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("swarm-agent: cannot start the runtime: {e}");
            return ExitCode::from(Code::Failed);
        }
    };
    let exit = runtime.block_on(session::run(settings, home.groups().clone()));
    match &exit {
        Exit::Drained | Exit::Interrupted => {}
        Exit::Refused(why) => eprintln!("swarm-agent: the coordinator refused this agent: {why}"),
        Exit::IdInUse(why) => eprintln!("swarm-agent: the coordinator refused this agent: {why}"),
        Exit::Orphaned(after) => eprintln!(
            "swarm-agent: the coordinator was unreachable for {} s (--orphan-timeout); \
             stopped the running attempts",
            after.as_secs()
        ),
        Exit::Broken(why) => eprintln!("swarm-agent: {why}"),
    }
    // The runtime's threads may be blocked on a stuck pipe or engine call;
    // the process exits without waiting for them.
    runtime.shutdown_background();
    drop(home);
    ExitCode::from(exit.code())
}

fn settings(cli: Cli) -> Result<Settings, String> {
    let token = token(&cli)?;
    let labels = labels(&cli.labels)?;
    let workdir = std::fs::canonicalize(&cli.workdir)
        .map_err(|e| format!("workdir {}: {e}", cli.workdir.display()))?;
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".into());
    validate_roles(&cli.roles)?;
    if !(1..=1024).contains(&cli.slots) {
        return Err(format!(
            "--slots {} is out of range: an agent runs 1 to 1024 attempts at once",
            cli.slots
        ));
    }
    let id = cli.id.clone().unwrap_or_else(|| {
        format!(
            "{host}-{}-{:04x}",
            cli.roles[0].to_lowercase().replace(' ', "-"),
            std::process::id() & 0xffff
        )
    });
    validate_id(&id)?;
    let url = cli.coordinator.trim_end_matches('/').to_string();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!(
            "--coordinator '{url}' must be a URL like http://127.0.0.1:7420 or https://swarmd:7420"
        ));
    }
    let tls = tls_files(&cli)?;
    let endpoint = swarm_client::Coordinator::new(&url, &tls).map_err(|e| e.to_string())?;
    // What the sandbox hides from tasks: the agent's own secrets.
    let default_token_file = cli.workdir.join(".swarm").join("agent.token");
    let secrets = [
        cli.token_file.as_deref(),
        Some(&default_token_file),
        tls.key.as_deref(),
    ];
    let sandbox = cli.sandbox.resolve(&workdir, &secrets)?;
    let local_profiles = local_profiles(cli.agents_dir.clone(), &workdir)?;
    Ok(Settings {
        coordinator: url,
        endpoint,
        tls,
        local_profiles,
        token,
        id,
        roles: cli.roles,
        slots: cli.slots,
        host,
        labels,
        workdir,
        template: cli.template,
        drain_timeout: Duration::from_secs(cli.drain_timeout),
        orphan_timeout: cli.orphan_timeout.map(Duration::from_secs),
        run_as: cli.run_as.as_deref().map(run_as).transpose()?,
        sandbox,
        otlp_endpoint: cli.otlp_endpoint.filter(|u| !u.trim().is_empty()),
    })
}

/// The agent token: `--token-file`, else `SWARM_TOKEN`, else
/// `WORKDIR/.swarm/agent.token`; one that fits in a header.
fn token(cli: &Cli) -> Result<String, String> {
    let default_file = cli.workdir.join(".swarm").join("agent.token");
    let token = swarm_client::resolve_token(cli.token_file.as_deref(), &default_file).map_err(
        |e| match e {
            TokenFileError::Unreadable { path, source } => format!(
                "cannot read the agent token from {}: {source} (give --token-file or SWARM_TOKEN)",
                path.display()
            ),
            TokenFileError::Empty { .. } => e.to_string(),
        },
    )?;
    swarm_client::Bearer::new(&token)
        .map_err(|e| format!("the agent token cannot be sent in a header: {e}"))?;
    Ok(token)
}

/// `--label KEY=VALUE` pairs.
fn labels(given: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut labels = BTreeMap::new();
    for l in given {
        let (k, v) = l
            .split_once('=')
            .ok_or_else(|| format!("label '{l}' must be KEY=VALUE"))?;
        labels.insert(k.trim().to_string(), v.trim().to_string());
    }
    Ok(labels)
}

/// `--ca`, `--cert` and `--key` as absolute paths: relative ones would
/// break for tasks, which run elsewhere.
fn tls_files(cli: &Cli) -> Result<swarm_client::TlsFiles, String> {
    let absolute = |p: &Option<PathBuf>, flag: &str| {
        p.as_ref()
            .map(|p| std::path::absolute(p).map_err(|e| format!("--{flag} {}: {e}", p.display())))
            .transpose()
    };
    Ok(swarm_client::TlsFiles {
        ca: absolute(&cli.ca, "ca")?,
        cert: absolute(&cli.cert, "cert")?,
        key: absolute(&cli.key, "key")?,
    })
}

/// The built-in profiles with this host's agent definitions laid over
/// them: `--agents-dir`, else `WORKDIR/.claude/agents` when it exists.
fn local_profiles(
    agents_dir: Option<PathBuf>,
    workdir: &std::path::Path,
) -> Result<swarm_roles::Catalogue, String> {
    let mut profiles = swarm_roles::Catalogue::builtin();
    let dir = agents_dir.or_else(|| Some(workdir.join(".claude/agents")).filter(|d| d.is_dir()));
    if let Some(dir) = dir {
        profiles
            .extend_from_agents_dir(&dir)
            .map_err(|e| format!("--agents-dir: {e}"))?;
    }
    Ok(profiles)
}

/// Resolves `--run-as` to (uid, gid); only root can switch users.
fn run_as(user: &str) -> Result<(u32, u32), String> {
    let found = match user.parse::<u32>() {
        Ok(uid) => nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)),
        Err(_) => nix::unistd::User::from_name(user),
    };
    let user_entry = found
        .map_err(|e| format!("--run-as {user}: cannot look the user up: {e}"))?
        .ok_or_else(|| format!("--run-as {user}: no such user"))?;
    if !nix::unistd::geteuid().is_root() {
        return Err(format!(
            "--run-as {user} needs the agent to run as root (it runs as uid {})",
            nix::unistd::geteuid()
        ));
    }
    Ok((user_entry.uid.as_raw(), user_entry.gid.as_raw()))
}

/// What the coordinator would refuse in an id, refused here first.
fn validate_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("--id is empty; give a name such as sre-1".into());
    }
    if id.len() > MAX_ID_BYTES {
        return Err(format!(
            "--id is {} bytes long; an agent id has at most {MAX_ID_BYTES}",
            id.len()
        ));
    }
    if let Some(c) = id.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "--id {id:?} contains {c:?}; an agent id has no spaces or control characters"
        ));
    }
    Ok(())
}

/// What the coordinator would refuse in the roles, refused here first.
fn validate_roles(roles: &[String]) -> Result<(), String> {
    if roles.len() > MAX_ROLES {
        return Err(format!(
            "{} roles given; an agent plays at most {MAX_ROLES}",
            roles.len()
        ));
    }
    if let Some(i) = roles.iter().position(|r| r.trim().is_empty()) {
        return Err(format!("--role number {} is empty", i + 1));
    }
    Ok(())
}

#[cfg(test)]
#[path = "cli_tests.rs"]
mod tests;
