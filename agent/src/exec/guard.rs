//! The parent-death guard: how a task's command dies with its agent.
//!
//! Linux delivers a process's *parent-death signal* (`PR_SET_PDEATHSIG`)
//! when the thread that forked it exits. The usual way to set it is a
//! `pre_exec` hook, which is `unsafe`; this workspace forbids unsafe code.
//! So the agent starts every host command through itself instead:
//!
//! ```text
//! swarm-agent __swarm-guard PARENT_PID -- sh -c SCRIPT
//! ```
//!
//! [`main_if_guard`] runs first in `main`, before flags, logging or the
//! runtime: it sets SIGKILL as the parent-death signal (through nix's safe
//! wrapper), checks that the agent did not already die in between (then the
//! process was re-parented and must not run), and `exec`s the command, which
//! keeps the pid, the process group, the signal and the standard streams.
//! The forking thread is the agent's spawner thread
//! ([`Host`](super::Host)), which lives as long as the agent.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::ExitCode;

/// The first argument that selects guard mode; not a flag users see.
pub(crate) const GUARD_ARG: &str = "__swarm-guard";

/// Exit status when the agent was already gone (as if killed by SIGKILL).
const PARENT_GONE: u8 = 137;

/// Exit status when the command cannot be executed (as a shell reports it).
const CANNOT_EXEC: u8 = 127;

/// If this process was started as a guard, runs it: never returns on
/// success (the command replaces this process), returns the exit code on
/// failure. `None` when started normally.
pub fn main_if_guard() -> Option<ExitCode> {
    let mut args = std::env::args_os().skip(1);
    if args.next().as_deref() != Some(GUARD_ARG.as_ref()) {
        return None;
    }
    Some(run(args.collect()))
}

/// `PARENT_PID -- PROGRAM ARGS...`: see the module doc.
fn run(args: Vec<OsString>) -> ExitCode {
    let Some((parent, program, rest)) = parse(&args) else {
        eprintln!("swarm-agent: usage: swarm-agent {GUARD_ARG} PARENT_PID -- PROGRAM [ARGS...]");
        return ExitCode::from(2);
    };
    if let Err(err) = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL) {
        eprintln!("swarm-agent: cannot set the parent-death signal: {err}");
        return ExitCode::from(CANNOT_EXEC);
    }
    // The agent may have died between the fork and the prctl: then this
    // process was re-parented and no signal will ever come.
    if nix::unistd::getppid().as_raw() != parent {
        return ExitCode::from(PARENT_GONE);
    }
    let err = std::process::Command::new(program).args(rest).exec();
    eprintln!(
        "swarm-agent: cannot run {}: {err}",
        program.to_string_lossy()
    );
    ExitCode::from(CANNOT_EXEC)
}

fn parse(args: &[OsString]) -> Option<(i32, &OsString, &[OsString])> {
    let (parent, rest) = args.split_first()?;
    let parent: i32 = parent.to_str()?.parse().ok().filter(|p| *p > 0)?;
    let (sep, rest) = rest.split_first()?;
    if sep != "--" {
        return None;
    }
    let (program, rest) = rest.split_first()?;
    Some((parent, program, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn parses_parent_separator_and_command() {
        let args = os(&["42", "--", "sh", "-c", "echo hi"]);
        let (parent, program, rest) = parse(&args).expect("valid");
        assert_eq!((parent, program.as_os_str()), (42, "sh".as_ref()));
        assert_eq!(rest, os(&["-c", "echo hi"]).as_slice());
    }

    #[test]
    fn refuses_malformed_arguments() {
        for bad in [
            &["x", "--", "sh"][..],
            &["0", "--", "sh"],
            &["42", "sh"],
            &["42", "--"],
            &[],
        ] {
            assert!(parse(&os(bad)).is_none(), "{bad:?}");
        }
    }
}
