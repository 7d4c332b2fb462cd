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
//!
//! That covers the command itself. What ends the rest of its process tree
//! is either the PID namespace bubblewrap makes (the guard `exec`s `bwrap
//! --die-with-parent --unshare-pid ...`, keeping the signal: Debian's
//! bwrap is not setuid), or, with `--resident`, the guard staying in place
//! as the tree's subreaper ([`reaper`](super::reaper)).

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::ExitCode;

/// The first argument that selects guard mode; not a flag users see.
pub(crate) const GUARD_ARG: &str = "__swarm-guard";

/// Exit status when the agent was already gone (as if killed by SIGKILL).
pub(super) const PARENT_GONE: u8 = 137;

/// Exit status when the command cannot be executed (as a shell reports it).
pub(super) const CANNOT_EXEC: u8 = 127;

/// The usage line, for malformed arguments.
const USAGE: &str = "usage: swarm-agent __swarm-guard PARENT_PID [--run-as UID:GID] [--resident] -- PROGRAM [ARGS...]";

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

/// `PARENT_PID [--run-as UID:GID] [--resident] -- PROGRAM ARGS...`: see
/// the module doc.
fn run(args: Vec<OsString>) -> ExitCode {
    let Some(Parsed {
        parent,
        run_as,
        resident,
        program,
        rest,
    }) = parse(&args)
    else {
        eprintln!("swarm-agent: {USAGE}");
        return ExitCode::from(2);
    };
    // The user goes first: changing credentials clears the parent-death
    // signal, which is set after it.
    if let Some((uid, gid)) = run_as {
        if let Err(err) = become_user(uid, gid) {
            eprintln!("swarm-agent: cannot run the task as uid {uid}, gid {gid}: {err}");
            return ExitCode::from(CANNOT_EXEC);
        }
    }
    if resident {
        return super::reaper::run(parent, program, rest);
    }
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

/// Drops to `uid`/`gid` with no supplementary groups, for good.
fn become_user(uid: u32, gid: u32) -> nix::Result<()> {
    let gid = nix::unistd::Gid::from_raw(gid);
    nix::unistd::setgroups(&[gid])?;
    nix::unistd::setgid(gid)?;
    nix::unistd::setuid(nix::unistd::Uid::from_raw(uid))
}

/// The user to run as, from `UID:GID`.
type RunAs = Option<(u32, u32)>;

/// The guard's arguments.
struct Parsed<'a> {
    parent: i32,
    run_as: RunAs,
    resident: bool,
    program: &'a OsString,
    rest: &'a [OsString],
}

fn parse(args: &[OsString]) -> Option<Parsed<'_>> {
    let (parent, mut rest) = args.split_first()?;
    let parent: i32 = parent.to_str()?.parse().ok().filter(|p| *p > 0)?;
    let mut run_as = None;
    if rest.first().is_some_and(|a| a == "--run-as") {
        let (uid, gid) = rest.get(1)?.to_str()?.split_once(':')?;
        run_as = Some((uid.parse().ok()?, gid.parse().ok()?));
        rest = &rest[2..];
    }
    let resident = rest.first().is_some_and(|a| a == "--resident");
    if resident {
        rest = &rest[1..];
    }
    let (sep, rest) = rest.split_first()?;
    if sep != "--" {
        return None;
    }
    let (program, rest) = rest.split_first()?;
    Some(Parsed {
        parent,
        run_as,
        resident,
        program,
        rest,
    })
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
        let p = parse(&args).expect("valid");
        assert_eq!((p.parent, p.program.as_os_str()), (42, "sh".as_ref()));
        assert_eq!((p.run_as, p.resident), (None, false));
        assert_eq!(p.rest, os(&["-c", "echo hi"]).as_slice());
        let args = os(&["42", "--run-as", "65534:65534", "--resident", "--", "id"]);
        let p = parse(&args).expect("valid");
        assert_eq!(
            (p.run_as, p.resident, p.program.as_os_str()),
            (Some((65534, 65534)), true, "id".as_ref())
        );
    }

    #[test]
    fn refuses_malformed_arguments() {
        for bad in [
            &["x", "--", "sh"][..],
            &["0", "--", "sh"],
            &["42", "sh"],
            &["42", "--"],
            &["42", "--run-as", "nobody", "--", "sh"],
            &["42", "--run-as", "1:x", "--", "sh"],
            &["42", "--resident", "sh"],
            &[],
        ] {
            assert!(parse(&os(bad)).is_none(), "{bad:?}");
        }
    }
}
