//! `swarmd` and `swarmd run`: flags, logging, signals.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::daemon::config::{self, Flags, SettingFlags};
use crate::edge::auth::Tokens;

/// swarmd: the coordinator of a swarm of role-specialised agents. It
/// schedules a plan's ready tasks onto agents by role, priority and
/// critical path, and keeps all state in WORKDIR/.swarm/memory.db.
#[derive(Debug, Parser)]
#[command(name = "swarmd", version, about, after_help = after_help())]
pub struct Cli {
    /// Configuration file (TOML); its keys are listed below, and `swarmd
    /// config show` prints the effective configuration.
    #[arg(long, global = true, value_name = "FILE", env = "SWARM_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log lines as text, or as one JSON object per line.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "SWARM_LOG_FORMAT"
    )]
    pub log_format: swarm_client::logging::LogFormat,
    /// The settings' flags, declared with the settings.
    #[command(flatten)]
    pub settings: SettingFlags,
    /// What to do (default: run the daemon).
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// All in one: start the daemon, load PLAN, start one local agent per
    /// role the plan needs (each can also play the roles the allocation
    /// matrix wants more of, so a standup can switch it over), show
    /// progress, and exit 0 when every task succeeded (1 otherwise).
    Run {
        /// The plan (markdown or .toml).
        plan: PathBuf,
        /// Where agents come from: `local` starts swarm-agent processes.
        #[arg(long, default_value = "local", value_parser = ["local"])]
        agents: String,
        /// Command template for tasks without a Run command (see
        /// swarm-agent --exec); without it such tasks wait for
        /// `swarmctl task done ID`.
        #[arg(long, value_name = "TEMPLATE")]
        exec: Option<String>,
    },
    /// Rebuild a workdir from a backup (`swarmctl backup DIR`): checks the
    /// manifest, refuses a workdir a daemon holds, and writes the state and
    /// the shared memory into WORKDIR/.swarm. Give --workdir.
    Restore {
        /// The backup directory.
        backup: PathBuf,
    },
    /// Certificates for TLS and mTLS.
    Certs {
        /// What to make.
        #[command(subcommand)]
        command: CertsCmd,
    },
    /// The configuration swarmd would run with, given the same flags,
    /// SWARM_* variables and --config file.
    Config {
        /// What to do with it.
        #[command(subcommand)]
        command: ConfigCmd,
    },
}

/// `swarmd config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Print every setting's effective value and where it came from
    /// (default, file, env or flag).
    Show {
        /// An array of {"key", "value", "source"} objects.
        #[arg(long)]
        json: bool,
    },
}

/// `swarmd certs ...`.
#[derive(Debug, Subcommand)]
pub enum CertsCmd {
    /// Create a CA and key pairs for the server, an agent and an admin
    /// client, for a quick start: ca.pem, ca.key, server.pem, server.key,
    /// agent.pem, agent.key, admin.pem, admin.key (keys 0600). Existing
    /// files are never overwritten.
    Init {
        /// Directory to write them into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// A name or address clients use to reach swarmd (repeatable);
        /// localhost, 127.0.0.1 and ::1 are always included.
        #[arg(long = "host", value_name = "NAME")]
        hosts: Vec<String>,
    },
}

/// `swarmd --help` after the flags: tokens, TLS, every config key,
/// signals, exit codes.
fn after_help() -> String {
    format!("{HELP}\n{}\n{EXITS}", config::show::help_keys())
}

const HELP: &str = "Tokens: on first start swarmd writes WORKDIR/.swarm/admin.token and agent.token (mode 0600),
unless SWARM_ADMIN_TOKEN / SWARM_AGENT_TOKEN are set. Every call needs 'authorization: Bearer <token>'.
TLS: --tls-cert and --tls-key serve gRPC over TLS; --tls-client-ca also requires client certificates
(mTLS). A non-loopback --listen without TLS is refused unless --insecure. `swarmd certs init` makes a set.
Environment besides the keys below: SWARM_CONFIG (--config), SWARM_LOG_FORMAT, RUST_LOG.";

const EXITS: &str = "Signals: SIGTERM or SIGINT stops gracefully (a second one exits at once).
Exit codes: 0 success; 1 `swarmd run`'s plan did not succeed; 2 invalid input (flags, config, plan);
3 another swarmd already runs in this workdir (its PID is in WORKDIR/.swarm/swarmd.lock).";

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    swarm_client::logging::init(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("swarmd: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(async_main(cli));
    // Tasks still parked on a socket are not worth waiting for.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    code
}

async fn async_main(cli: Cli) -> ExitCode {
    let signals = match Signals::install() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("swarmd: cannot install the signal handlers: {e}");
            return ExitCode::from(1);
        }
    };
    if let Some(Cmd::Restore { backup }) = &cli.command {
        return restore(backup, config::workdir_flag(&cli.settings.0).as_deref());
    }
    if let Some(Cmd::Certs {
        command: CertsCmd::Init { out, hosts },
    }) = &cli.command
    {
        return match crate::daemon::certs::init(out, hosts) {
            Ok(written) => {
                for path in written {
                    println!("{}", path.display());
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("swarmd certs init: {e}");
                ExitCode::from(2)
            }
        };
    }
    let env = |k: &str| std::env::var(k).ok();
    let run_mode = matches!(cli.command, Some(Cmd::Run { .. }));
    let mut flags: Flags = cli.settings.0.clone();
    if let Some(Cmd::Config {
        command: ConfigCmd::Show { json },
    }) = &cli.command
    {
        return config_show(cli.config.as_deref(), &env, &flags, *json);
    }
    if run_mode {
        // The all-in-one mode picks a free port unless told one.
        flags = flags.with_fallback("listen", "127.0.0.1:0");
    }
    let cfg = match config::load(cli.config.as_deref(), &env, &flags) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("swarmd: {e}");
            return ExitCode::from(2);
        }
    };
    if run_mode && cfg.tls.is_some() {
        eprintln!(
            "swarmd run: TLS settings are for the daemon; `swarmd run` serves its own agents on \
             loopback (unset tls_cert/tls_key or SWARM_TLS_CERT/SWARM_TLS_KEY)"
        );
        return ExitCode::from(2);
    }
    // Roles are read again at each plan load; a broken definition or
    // roles file is said now, naming the file and line.
    if let Err(e) = swarm_core::roles::RolesSource::of(&cfg.core).catalogue() {
        eprintln!("swarmd: {e}");
        return ExitCode::from(2);
    }
    if let Some(tls) = &cfg.tls {
        if let Err(e) = tls.builder() {
            eprintln!("swarmd: {e}");
            return ExitCode::from(2);
        }
    }
    if let Err(e) = crate::daemon::statedir::secure(&cfg.core.state_dir()) {
        eprintln!(
            "swarmd: cannot close {} to other users: {e}",
            cfg.core.state_dir().display()
        );
        return ExitCode::from(2);
    }
    // One daemon per workdir: held until this function returns.
    let _lock = match crate::daemon::lock::WorkdirLock::acquire(&cfg.core.state_dir()) {
        Ok(lock) => lock,
        Err(e @ crate::daemon::lock::LockError::Held { .. }) => {
            eprintln!("swarmd: {e}");
            return ExitCode::from(3);
        }
        Err(e) => {
            eprintln!("swarmd: {e}");
            return ExitCode::from(2);
        }
    };
    let tokens = match Tokens::load_or_create(&cfg.core.state_dir(), &env) {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "swarmd: cannot read or create the tokens in {}: {e}",
                cfg.core.state_dir().display()
            );
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(cfg.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("swarmd: cannot listen on {}: {e}", cfg.listen);
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Some(Cmd::Run { plan, exec, .. }) => {
            crate::daemon::run::run(listener, cfg, tokens, plan, exec, signals).await
        }
        Some(Cmd::Restore { .. } | Cmd::Certs { .. } | Cmd::Config { .. }) => ExitCode::from(2),
        None => match crate::daemon::serve::serve(listener, cfg, tokens, signals.first()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("swarmd: {e:#}");
                ExitCode::from(1)
            }
        },
    }
}

/// `swarmd config show [--json]`.
fn config_show(
    file: Option<&std::path::Path>,
    env: &dyn Fn(&str) -> Option<String>,
    flags: &Flags,
    json: bool,
) -> ExitCode {
    let loaded = match config::load_traced(file, env, flags) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("swarmd config show: {e}");
            return ExitCode::from(2);
        }
    };
    let rows = config::show::rows(&loaded);
    if json {
        println!("{:#}", config::show::json(&rows));
    } else {
        print!("{}", config::show::table(&rows));
    }
    ExitCode::SUCCESS
}

/// `swarmd restore BACKUP --workdir NEW`.
fn restore(backup: &std::path::Path, workdir: Option<&std::path::Path>) -> ExitCode {
    let Some(workdir) = workdir else {
        eprintln!("swarmd restore: give the workdir to rebuild with --workdir NEW");
        return ExitCode::from(2);
    };
    let state = workdir.join(".swarm");
    // A daemon holding the workdir keeps it: nothing is overwritten.
    let _lock = match crate::daemon::lock::WorkdirLock::acquire(&state) {
        Ok(lock) => lock,
        Err(e @ crate::daemon::lock::LockError::Held { .. }) => {
            eprintln!("swarmd restore: {e}");
            return ExitCode::from(3);
        }
        Err(e) => {
            eprintln!("swarmd restore: {e}");
            return ExitCode::from(2);
        }
    };
    match swarm_memory::backup::restore(backup, &state) {
        Ok(m) => {
            println!(
                "restored {} into {} ({}); start swarmd --workdir {} to go on",
                backup.display(),
                state.display(),
                if m.plan.is_empty() {
                    "no plan".to_string()
                } else {
                    m.plan
                },
                workdir.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("swarmd restore: {e}");
            ExitCode::from(2)
        }
    }
}

/// SIGTERM and SIGINT, caught from the moment swarmd starts: a signal
/// that arrives before the server is up still shuts down gracefully.
pub struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers (inside the runtime).
    ///
    /// # Errors
    /// When the OS refuses a handler.
    pub fn install() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// Resolves on the first signal; a second one exits at once (130).
    pub async fn first(mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
        tracing::info!("shutting down (a second signal exits at once)");
        tokio::spawn(async move {
            tokio::select! {
                _ = self.term.recv() => {}
                _ = self.int.recv() => {}
            }
            std::process::exit(130);
        });
    }
}

#[cfg(test)]
mod cli_tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
