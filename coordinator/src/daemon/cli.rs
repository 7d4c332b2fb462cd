//! `swarmd` and `swarmd run`: flags, logging, signals.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::daemon::config::{self, Flags, SettingFlags};
use crate::daemon::exit::Exit;
use crate::daemon::restore::restore;
pub use crate::daemon::signals::Signals;

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
    /// Start over on purpose: the workdir's swarmd.db (and its -wal and
    /// -shm) is moved aside as swarmd.db.aside-TIMESTAMP and a new one
    /// made; tokens, memory.db and backups stay. Without it, a missing,
    /// empty or damaged swarmd.db in a used workdir is refused.
    #[arg(long, global = true)]
    pub fresh: bool,
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
    /// Named tokens for people and tools (admin or viewer), so events
    /// name who did what: `token add NAME --scope admin|viewer`, `token
    /// list`, `token remove NAME`. Give --workdir (or run in it).
    Token {
        /// What to do.
        #[command(subcommand)]
        command: crate::daemon::token_cmd::TokenCmd,
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
    format!(
        "{HELP}\n{}\n{SIGNALS}\n{}",
        config::show::help_keys(),
        crate::daemon::exit::HELP
    )
}

const HELP: &str = "Tokens: on first start swarmd writes WORKDIR/.swarm/admin.token, viewer.token and agent.token (mode
0600), unless SWARM_ADMIN_TOKEN / SWARM_VIEWER_TOKEN / SWARM_AGENT_TOKEN are set; `swarmd token add NAME
--scope admin|viewer` makes a named one. Every call needs 'authorization: Bearer <token>'; a viewer
token reads everything and changes nothing.
`swarmd run` writes none into its workdir, where its tasks run: it holds them in memory and prints the
swarmctl command line (a token file outside the workdir, removed at exit) that reaches the run.
State: a missing, empty or damaged WORKDIR/.swarm/swarmd.db in a used workdir is refused (exit 2) with
the cure: `swarmd restore BACKUP --workdir WORKDIR`, or --fresh to start over (the old file kept aside).
TLS: --tls-cert and --tls-key serve gRPC over TLS; --tls-client-ca also requires client certificates
(mTLS). A non-loopback --listen without TLS is refused unless --insecure. `swarmd certs init` makes a set.
Environment besides the keys below: SWARM_CONFIG (--config), SWARM_LOG_FORMAT, RUST_LOG.";

const SIGNALS: &str = "Signals: SIGTERM or SIGINT stops gracefully within shutdown_timeout_ms (a second one exits at once).";

/// Entry point of the binary. `exit_now` ends the process at once (a
/// second signal); it lives in `main.rs`, the one place that may exit.
pub fn main(exit_now: fn(Exit) -> !) -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return (if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Ok
            })
            .into();
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
            return Exit::Failed.into();
        }
    };
    let code = runtime.block_on(async_main(cli, exit_now));
    // Tasks still parked on a socket are not worth waiting for.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    code.into()
}

async fn async_main(cli: Cli, exit_now: fn(Exit) -> !) -> Exit {
    let signals = match Signals::install(exit_now) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("swarmd: cannot install the signal handlers: {e}");
            return Exit::Failed;
        }
    };
    let env = |k: &str| std::env::var(k).ok();
    if let Some(done) = one_shot(&cli, &env) {
        return done;
    }
    let run_mode = matches!(cli.command, Some(Cmd::Run { .. }));
    if run_mode {
        crate::daemon::run::hide_memory();
    }
    let cfg = match configure(&cli, &env, run_mode) {
        Ok(cfg) => cfg,
        Err(exit) => return exit,
    };
    // One daemon per workdir: the lock is held until this function returns.
    let (_lock, tokens, listener) =
        match crate::daemon::claim::claim(&cfg, &env, cli.fresh, run_mode).await {
            Ok(claimed) => claimed,
            Err(exit) => return exit,
        };
    match cli.command {
        Some(Cmd::Run { plan, exec, .. }) => {
            crate::daemon::run::run(listener, cfg, tokens, plan, exec, signals).await
        }
        Some(Cmd::Restore { .. } | Cmd::Certs { .. } | Cmd::Config { .. } | Cmd::Token { .. }) => {
            Exit::Usage
        }
        None => match crate::daemon::serve::serve(listener, cfg.clone(), tokens, signals.first())
            .await
        {
            Ok(()) => Exit::Ok,
            Err(crate::daemon::serve::ServeError::Core(swarm_core::CoreError::Store(e)))
                if crate::daemon::statefiles::is_damage(&e) =>
            {
                let file = cfg.core.state_db_path();
                let how = e.to_string();
                crate::daemon::claim::refuse(
                    &cfg,
                    &crate::daemon::statefiles::Refusal::Damaged { file, how },
                )
            }
            Err(e @ crate::daemon::serve::ServeError::Store(_)) => {
                eprintln!("swarmd: {e:#}");
                Exit::StoreFailed
            }
            Err(e) => {
                eprintln!("swarmd: {e:#}");
                Exit::Failed
            }
        },
    }
}

/// The commands that do their work and exit without a daemon: `restore`,
/// `certs init`, `config show`.
fn one_shot(cli: &Cli, env: &dyn Fn(&str) -> Option<String>) -> Option<Exit> {
    match &cli.command {
        Some(Cmd::Restore { backup }) => Some(restore(
            backup,
            config::workdir_flag(&cli.settings.0).as_deref(),
        )),
        Some(Cmd::Certs {
            command: CertsCmd::Init { out, hosts },
        }) => Some(match crate::daemon::certs::init(out, hosts) {
            Ok(written) => {
                for path in written {
                    println!("{}", path.display());
                }
                Exit::Ok
            }
            Err(e) => {
                eprintln!("swarmd certs init: {e}");
                Exit::Usage
            }
        }),
        Some(Cmd::Config {
            command: ConfigCmd::Show { json },
        }) => Some(config_show(
            cli.config.as_deref(),
            env,
            &cli.settings.0,
            *json,
        )),
        Some(Cmd::Token { command }) => Some(
            match config::load(cli.config.as_deref(), env, &cli.settings.0) {
                Ok(cfg) => crate::daemon::token_cmd::run(&cfg.core.state_dir(), command),
                Err(e) => {
                    eprintln!("swarmd token: {e}");
                    Exit::Usage
                }
            },
        ),
        Some(Cmd::Run { .. }) | None => None,
    }
}

/// The configuration, and everything that can be checked before
/// anything is created (roles, TLS files); a refusal is said here.
fn configure(
    cli: &Cli,
    env: &dyn Fn(&str) -> Option<String>,
    run_mode: bool,
) -> Result<config::Config, Exit> {
    let mut flags: Flags = cli.settings.0.clone();
    if run_mode {
        // The all-in-one mode picks a free port unless told one.
        flags = flags.with_fallback("listen", "127.0.0.1:0");
    }
    let refuse = |e: &dyn std::fmt::Display| {
        eprintln!("swarmd: {e}");
        Exit::Usage
    };
    let cfg = config::load(cli.config.as_deref(), env, &flags).map_err(|e| refuse(&e))?;
    if run_mode && cfg.tls.is_some() {
        eprintln!(
            "swarmd run: TLS settings are for the daemon; `swarmd run` serves its own agents on \
             loopback (unset tls_cert/tls_key or SWARM_TLS_CERT/SWARM_TLS_KEY)"
        );
        return Err(Exit::Usage);
    }
    // Roles are read again at each plan load; a broken definition or
    // roles file is said now, naming the file and line.
    if let Err(e) = swarm_core::roles::RolesSource::of(&cfg.core).catalogue() {
        return Err(refuse(&e));
    }
    if let Some(tls) = &cfg.tls {
        tls.builder().map_err(|e| refuse(&e))?;
    }
    Ok(cfg)
}

/// `swarmd config show [--json]`.
fn config_show(
    file: Option<&std::path::Path>,
    env: &dyn Fn(&str) -> Option<String>,
    flags: &Flags,
    json: bool,
) -> Exit {
    let loaded = match config::load_traced(file, env, flags) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("swarmd config show: {e}");
            return Exit::Usage;
        }
    };
    let rows = config::show::rows(&loaded);
    if json {
        println!("{:#}", config::show::json(&rows));
    } else {
        print!("{}", config::show::table(&rows));
    }
    Exit::Ok
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
