//! `swarm-agent` flags, logging and start-up.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use swarm_client::TokenFileError;

use crate::session::{self, Settings};

/// swarm-agent: runs swarmd tasks for one or more roles. It registers with
/// the coordinator, holds its session (reconnecting with backoff when the
/// coordinator goes away), runs what each task says — a shell command, a
/// container, a command template fed the task brief, or nothing until an
/// operator marks the task done — and streams the output.
#[derive(Debug, Parser)]
#[command(name = "swarm-agent", version, about, after_help = HELP)]
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
    /// Attempts it runs at once.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub slots: u32,
    /// File holding the agent token (default: SWARM_TOKEN, else
    /// WORKDIR/.swarm/agent.token).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Working directory of the tasks it runs.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub workdir: PathBuf,
    /// Command template for tasks without a Run command, fed the task brief
    /// on stdin; placeholders {role} {task} {title} {attempt}.
    #[arg(long = "exec", value_name = "TEMPLATE")]
    pub template: Option<String>,
    /// Agent id (default: HOST-ROLE-RANDOM).
    #[arg(long)]
    pub id: Option<String>,
    /// A label, KEY=VALUE (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// On SIGTERM, how long running attempts may take to finish before they
    /// are stopped and handed back.
    #[arg(long, default_value = "60", value_name = "SECONDS")]
    pub drain_timeout: u64,
}

const HELP: &str = "Environment: SWARM_COORDINATOR, SWARM_TOKEN, RUST_LOG.
Every task process sees SWARM_TASK_ID, SWARM_ROLE, SWARM_ATTEMPT, SWARM_COORDINATOR and SWARM_TOKEN,
so it can use shared memory with `swarmctl memory put|get`.
Signals: SIGTERM or SIGINT drains (no new work, running attempts finish, then exit); a second one exits at once.
Exit codes: 0 drained and stopped; 2 invalid flags or token.";

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
    let settings = match settings(cli) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("swarm-agent: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("swarm-agent: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(session::run(settings));
    ExitCode::SUCCESS
}

fn settings(cli: Cli) -> Result<Settings, String> {
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
    let mut labels = BTreeMap::new();
    for l in &cli.labels {
        let (k, v) = l
            .split_once('=')
            .ok_or_else(|| format!("label '{l}' must be KEY=VALUE"))?;
        labels.insert(k.trim().to_string(), v.trim().to_string());
    }
    let workdir = std::fs::canonicalize(&cli.workdir)
        .map_err(|e| format!("workdir {}: {e}", cli.workdir.display()))?;
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".into());
    let id = cli.id.unwrap_or_else(|| {
        format!(
            "{host}-{}-{:04x}",
            cli.roles[0].to_lowercase().replace(' ', "-"),
            std::process::id() & 0xffff
        )
    });
    let url = cli.coordinator.trim_end_matches('/').to_string();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!(
            "--coordinator '{url}' must be a URL like http://127.0.0.1:7420"
        ));
    }
    Ok(Settings {
        coordinator: url,
        token,
        id,
        roles: cli.roles,
        slots: cli.slots,
        host,
        labels,
        workdir,
        template: cli.template,
        drain_timeout: Duration::from_secs(cli.drain_timeout),
    })
}
