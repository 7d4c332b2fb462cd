//! Stopping a process group: SIGTERM, a grace period, then SIGKILL.
//!
//! Every host command runs as the leader of its own process group, so one
//! `killpg` reaches the command and everything it started (unless something
//! moved itself into another group or session on purpose).

use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::process::Child;
use tokio::time::{sleep, timeout_at, Instant};

use super::KILL_GRACE;

/// How often a stopping group is checked for survivors.
const POLL: Duration = Duration::from_millis(20);

/// How long to wait for a SIGKILLed leader to be reaped before giving up.
const REAP_AFTER_KILL: Duration = Duration::from_secs(5);

/// A process group led by a child we spawned. Dropping it without calling
/// [`ProcessGroup::stop`] SIGKILLs the group, so an abandoned attempt (its
/// future dropped) leaves nothing behind.
#[derive(Debug)]
pub(crate) struct ProcessGroup {
    /// The group id, which is the leader's pid.
    pgid: Pid,
    /// Whether the group may still hold processes of ours; cleared by `stop`.
    armed: bool,
}

impl ProcessGroup {
    /// Takes charge of the group led by the process `pid`.
    pub(crate) fn new(pid: u32) -> Option<ProcessGroup> {
        let pgid = i32::try_from(pid).ok().filter(|p| *p > 0)?;
        Some(ProcessGroup {
            pgid: Pid::from_raw(pgid),
            armed: true,
        })
    }

    /// Ends whatever is left of the group and reaps the leader.
    ///
    /// Sends SIGTERM to the group; once the leader is reaped and no live
    /// member remains, returns. After [`KILL_GRACE`] the group gets SIGKILL.
    /// If the leader already exited and no member is left this returns at
    /// once. The leader's exit status, if it had not been collected yet, is
    /// discarded.
    pub(crate) async fn stop(&mut self, leader: &mut Child) {
        if !self.armed {
            return;
        }
        let mut leader_reaped = matches!(leader.try_wait(), Ok(Some(_)));
        let sent = self.signal(Signal::SIGTERM);
        if sent == Err(Errno::ESRCH) && leader_reaped {
            self.armed = false;
            return;
        }
        let grace_end = Instant::now() + KILL_GRACE;
        loop {
            if !leader_reaped {
                let poll_end = (Instant::now() + POLL).min(grace_end);
                leader_reaped = timeout_at(poll_end, leader.wait()).await.is_ok();
            } else {
                sleep(POLL).await;
            }
            if leader_reaped && !self.has_live_members() {
                self.armed = false;
                return;
            }
            if Instant::now() >= grace_end {
                break;
            }
        }
        tracing::debug!(pgid = %self.pgid, "process group outlived SIGTERM; sending SIGKILL");
        let _ = self.signal(Signal::SIGKILL);
        if !leader_reaped {
            let _ = tokio::time::timeout(REAP_AFTER_KILL, leader.wait()).await;
        }
        self.armed = false;
    }

    fn signal(&self, signal: Signal) -> Result<(), Errno> {
        killpg(self.pgid, signal)
    }

    /// Whether any member of the group is still alive. Zombies do not count:
    /// where init does not reap orphans they would otherwise linger forever.
    fn has_live_members(&self) -> bool {
        match killpg(self.pgid, None) {
            Err(Errno::ESRCH) => false,
            Err(_) => true,
            Ok(()) => live_member_in_proc(self.pgid.as_raw()).unwrap_or(true),
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if self.armed {
            let _ = self.signal(Signal::SIGKILL);
        }
    }
}

/// Whether group `pgid` has a member that is not a zombie; `None` if
/// `/proc` cannot be read.
fn live_member_in_proc(pgid: i32) -> Option<bool> {
    Some(crate::procfs::members(pgid)?.iter().any(|m| !m.is_dead()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_pid_zero() {
        assert!(ProcessGroup::new(0).is_none());
        assert!(ProcessGroup::new(u32::MAX).is_none());
        let mut group = ProcessGroup::new(1234).expect("a valid pid");
        group.armed = false; // never signal a stranger's group from a test
    }
}
