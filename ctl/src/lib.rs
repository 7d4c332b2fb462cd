//! `swarmctl`, the operator's command line: every command a user needs,
//! human tables by default and `--json` for scripts.
//!
//! The binary's `main` only calls [`run`]. Commands live one module each
//! (`swarmctl mcp` serves the same commands as MCP tools);
//! [`exit`] fixes the exit codes scripts can rely on.

#![warn(missing_docs)]

mod cli;
pub mod exit;
mod mcp;
pub(crate) mod out;
mod plan;
mod plural;
mod remote;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

pub use cli::Cli;

/// Parses the arguments and runs the command, returning the process's exit
/// code. Errors are printed to standard error.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit::USAGE.into()
            } else {
                exit::OK.into()
            };
        }
    };
    if let cli::Command::Completions { shell } = cli.command {
        let mut cmd = <Cli as clap::CommandFactory>::command();
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut cmd, "swarmctl", &mut script);
        out::bytes(&script);
        return exit::OK.into();
    }
    let code = match cli.command {
        cli::Command::Plan(cmd)
            if !matches!(
                cmd,
                cli::PlanCommand::Load { .. }
                    | cli::PlanCommand::Cancel { .. }
                    | cli::PlanCommand::Apply { .. }
                    | cli::PlanCommand::History { .. }
                    | cli::PlanCommand::Diff { .. }
            ) =>
        {
            plan::run(cmd)
        }
        _ => remote::run(cli),
    };
    code.into()
}
