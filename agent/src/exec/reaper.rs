//! The resident guard: how a task's process tree ends with its attempt
//! where no PID namespace can be made (no bubblewrap, or `--sandbox off`).
//!
//! Started as `swarm-agent __swarm-guard PARENT [--run-as U:G] --resident
//! -- PROGRAM ARGS...`, it stays between the agent and the command:
//!
//! - it is a *child subreaper* (`PR_SET_CHILD_SUBREAPER`), so whatever the
//!   command starts — pipelines, `bash -c`, double forks, `setsid`
//!   daemons — stays below it when its own parent exits;
//! - its parent-death signal is SIGTERM, which it can catch (the signals
//!   it handles are blocked and taken with `sigwait`, no handler needed);
//! - the command runs through the exec guard (SIGKILL when this process
//!   dies) and, when it exits, everything left below is SIGKILLed and
//!   reaped before this process exits with the command's status;
//! - on SIGTERM, SIGINT or SIGHUP: if the agent is gone (the parent-death
//!   signal), everything below is SIGKILLed at once; otherwise (the agent
//!   stopping the attempt's group) they get SIGTERM, and SIGKILL one
//!   second later.

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{kill, raise, SigSet, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{getpid, getppid, Pid};

use super::guard::{CANNOT_EXEC, GUARD_ARG, PARENT_GONE};

/// The signals the resident guard takes with `sigwait`.
const HANDLED: [Signal; 5] = [
    Signal::SIGCHLD,
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGALRM,
];

/// How long the tree gets between SIGTERM and SIGKILL, in seconds.
const GRACE_SECS: u32 = 1;

/// Runs `program args` as described in the module doc; returns (or dies
/// with) its status.
pub(super) fn run(parent: i32, program: &OsString, args: &[OsString]) -> ExitCode {
    let mut handled = SigSet::empty();
    for s in HANDLED {
        handled.add(s);
    }
    let setup = handled
        .thread_block()
        .and_then(|()| nix::sys::prctl::set_child_subreaper(true))
        .and_then(|()| nix::sys::prctl::set_pdeathsig(Signal::SIGTERM));
    if let Err(err) = setup {
        eprintln!("swarm-agent: cannot set up the task's guard: {err}");
        return ExitCode::from(CANNOT_EXEC);
    }
    if getppid().as_raw() != parent {
        return ExitCode::from(PARENT_GONE);
    }
    // std resets the signal mask of the process it starts. A user the
    // agent's binary is hidden from (`--run-as`) runs the command directly.
    let child = std::process::Command::new("/proc/self/exe")
        .arg(GUARD_ARG)
        .arg(getpid().as_raw().to_string())
        .arg("--")
        .arg(program)
        .args(args)
        .spawn()
        .or_else(|err| match err.kind() {
            std::io::ErrorKind::PermissionDenied => {
                std::process::Command::new(program).args(args).spawn()
            }
            _ => Err(err),
        });
    let main = match child {
        Ok(child) => Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX)),
        Err(err) => {
            eprintln!(
                "swarm-agent: cannot run {}: {err}",
                program.to_string_lossy()
            );
            return ExitCode::from(CANNOT_EXEC);
        }
    };
    let status = watch(parent, main, &handled);
    end_tree(Signal::SIGKILL);
    exit_like(status, &handled)
}

/// Reaps until the main command ends, acting on signals; its status.
fn watch(parent: i32, main: Pid, handled: &SigSet) -> WaitStatus {
    loop {
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) => break,
                Ok(status) if status.pid() == Some(main) => return status,
                Ok(_) | Err(Errno::EINTR) => {}
                // Nothing left to wait for: the command is gone.
                Err(_) => return WaitStatus::Signaled(main, Signal::SIGKILL, false),
            }
        }
        match handled.wait() {
            Ok(Signal::SIGALRM) => signal_tree(Signal::SIGKILL),
            Ok(Signal::SIGTERM | Signal::SIGINT | Signal::SIGHUP) => {
                if getppid().as_raw() != parent {
                    signal_tree(Signal::SIGKILL);
                } else {
                    signal_tree(Signal::SIGTERM);
                    nix::unistd::alarm::set(GRACE_SECS);
                }
            }
            Ok(_) | Err(_) => {}
        }
    }
}

/// Sends `signal` to every process below this one.
fn signal_tree(signal: Signal) {
    let me = getpid().as_raw();
    for p in crate::procfs::descendants(me).unwrap_or_default() {
        let _ = kill(Pid::from_raw(p.pid), signal);
    }
}

/// Kills everything below this one and reaps it all: a process that
/// forks while it is being killed leaves an orphan that comes to this
/// subreaper, so this repeats until nothing is left to reap.
fn end_tree(signal: Signal) {
    loop {
        signal_tree(signal);
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) => break,
                Ok(_) | Err(Errno::EINTR) => {}
                Err(_) => return,
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Exits as the command did: its exit code, or death by its signal.
fn exit_like(status: WaitStatus, handled: &SigSet) -> ExitCode {
    match status {
        WaitStatus::Exited(_, code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        WaitStatus::Signaled(_, signal, _) => {
            let _ = handled.thread_unblock();
            let _ = raise(signal);
            ExitCode::from(128u8.saturating_add(signal as u8))
        }
        _ => ExitCode::from(1),
    }
}
