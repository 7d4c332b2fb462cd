//! The agent's side of its lease: [`LeaseClock`].
//!
//! The coordinator hands an agent's attempts to another agent once the
//! agent's lease (`lease_ttl_ms`, sent in the Welcome) has run out without
//! a word from it. So that a cut-off agent never runs an attempt beside
//! its successor, the agent stops its attempts first: once it has had no
//! acknowledgement from the coordinator for the lease minus a margin
//! ([`margin`]: the larger of one heartbeat interval and a fifth of the
//! lease), whatever the error — a cut link can look like a refused
//! connection behind a firewall or a proxy.
//!
//! An acknowledgement is anything that proves the coordinator alive on
//! this agent's session: a message from it (the Welcome, an assignment, an
//! acknowledged result, ...) or an answer to the health probe the agent
//! sends while it runs attempts and has heard nothing for a heartbeat
//! interval. The rule applies while an attempt the agent leads runs: an
//! idle agent has nothing to stop and keeps its session however quiet.
//! The clock starts at the last acknowledgement, not at the
//! disconnect: a link that died silently is noticed late, and that
//! lateness must not be taken from the coordinator's side of the lease.
//!
//! A coordinator that stops cleanly may grant a longer grace in its
//! Goodbye: the attempts then keep running until the Goodbye's time plus
//! that grace minus the margin, and the coordinator hands nothing of this
//! agent's on before its Goodbye's time plus the grace.
//!
//! Time is passed in, so the rule is tested without waiting.

use std::time::Duration;

use swarm_proto::v1 as pb;
use tokio::time::Instant;

use super::connect::{self, Conn, Probe};
use crate::work::Work;

/// The margin kept before the lease runs out: the larger of one heartbeat
/// interval (the coordinator may have counted from the heartbeat before
/// the last one it saw) and a fifth of the lease (latency, scheduling, and
/// the SIGTERM-to-SIGKILL grace of the attempts' processes).
pub(super) fn margin(lease: Duration, heartbeat: Duration) -> Duration {
    heartbeat.max(lease / 5)
}

/// When the agent must have stopped its attempts, given what it last
/// heard from the coordinator.
#[derive(Debug, Clone)]
pub(super) struct LeaseClock {
    lease: Duration,
    heartbeat: Duration,
    /// The last acknowledgement.
    acked_at: Instant,
    /// A Goodbye's grace: the attempts may run until then.
    grace_until: Option<Instant>,
    /// The attempts were stopped for this acknowledgement already; nothing
    /// is due until the next one.
    spent: bool,
}

impl LeaseClock {
    /// The clock a Welcome received at `at` starts; `None` when it grants
    /// no lease (nothing to keep then).
    pub(super) fn from_welcome(w: &pb::Welcome, at: Instant) -> Option<LeaseClock> {
        let ms = |v: u32| Duration::from_millis(u64::from(v));
        (w.lease_ttl_ms > 0)
            .then(|| LeaseClock::welcomed(ms(w.lease_ttl_ms), ms(w.heartbeat_ms), at))
    }

    /// A Welcome at `at` granted this lease and heartbeat interval.
    pub(super) fn welcomed(lease: Duration, heartbeat: Duration, at: Instant) -> LeaseClock {
        LeaseClock {
            lease,
            heartbeat,
            acked_at: at,
            grace_until: None,
            spent: false,
        }
    }

    /// The coordinator was heard from at `at` (the time a probe that it
    /// answered was sent, or a message's arrival).
    pub(super) fn acked(&mut self, at: Instant) {
        if at > self.acked_at {
            self.acked_at = at;
            self.spent = false;
        }
    }

    /// A Goodbye at `at` granted `grace` (zero: none beyond the lease).
    pub(super) fn goodbye(&mut self, grace: Duration, at: Instant) {
        self.acked(at);
        let until = at + grace.saturating_sub(self.margin());
        self.grace_until = Some(self.grace_until.map_or(until, |u| u.max(until)));
    }

    /// The margin kept before the lease runs out.
    pub(super) fn margin(&self) -> Duration {
        margin(self.lease, self.heartbeat)
    }

    /// The lease the coordinator granted.
    pub(super) fn lease(&self) -> Duration {
        self.lease
    }

    /// The heartbeat interval the coordinator asked for.
    pub(super) fn heartbeat(&self) -> Duration {
        self.heartbeat
    }

    /// How long since the last acknowledgement, at `now`.
    pub(super) fn silence(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.acked_at)
    }

    /// When the attempts must be stopped; `None` once they were for the
    /// last acknowledgement.
    pub(super) fn deadline(&self) -> Option<Instant> {
        if self.spent {
            return None;
        }
        let by_lease = self.acked_at + self.lease.saturating_sub(self.margin());
        Some(self.grace_until.map_or(by_lease, |g| g.max(by_lease)))
    }

    /// Whether the attempts must be stopped at `now`; if so the clock is
    /// spent until the next acknowledgement.
    pub(super) fn expire(&mut self, now: Instant) -> bool {
        match self.deadline() {
            Some(at) if now >= at => {
                self.spent = true;
                true
            }
            Some(_) | None => false,
        }
    }
}

/// Applies the rule at this instant: when the coordinator has not
/// acknowledged anything for the lease minus the margin, the processes of
/// every attempt the agent runs are stopped (as a cancellation stops
/// them) and the log says so. Returns whether that happened now.
pub(super) fn lapse(lease: &mut Option<LeaseClock>, work: &mut Work) -> bool {
    let now = Instant::now();
    let Some(clock) = lease.as_mut().filter(|_| work.runs_any()) else {
        return false;
    };
    if !clock.expire(now) {
        return false;
    }
    let stopped = work.cut_off();
    let tasks: Vec<String> = stopped
        .iter()
        .map(|r| format!("{} (fence {})", r.task_id, r.attempt))
        .collect();
    tracing::error!(
        "no acknowledgement from the coordinator for {:?} (lease {:?} minus a margin of {:?}): \
         stopping {} before the coordinator can hand them on{}{}",
        clock.silence(now),
        clock.lease(),
        clock.margin(),
        swarm_text::count(stopped.len() as u64, "attempt"),
        if tasks.is_empty() { "" } else { ": " },
        tasks.join(", ")
    );
    true
}

/// When [`lapse`] will stop the attempts, if the agent runs any (an idle
/// agent has nothing to stop, and keeps its session however quiet).
pub(super) fn deadline(lease: Option<&LeaseClock>, work: &Work) -> Option<Instant> {
    lease.filter(|_| work.runs_any())?.deadline()
}

/// A health probe to start now, if one is due: the agent runs attempts
/// (an idle agent has nothing to stop, and costs the coordinator nothing)
/// and has heard nothing from the coordinator for a heartbeat interval.
pub(super) fn probe_due(lease: Option<&LeaseClock>, work: &Work, conn: &Conn) -> Option<Probe> {
    let clock = lease?;
    let quiet = clock.silence(Instant::now()) >= clock.heartbeat();
    (quiet && work.runs_any()).then(|| connect::probe(conn.channel.clone(), clock.heartbeat() * 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn the_margin_is_a_heartbeat_or_a_fifth_of_the_lease_whichever_is_larger() {
        assert_eq!(margin(15 * S, 5 * S), 5 * S);
        assert_eq!(margin(15 * S, S), 3 * S);
        assert_eq!(margin(2500 * S / 1000, S / 5), S / 2);
    }

    #[test]
    fn the_clock_counts_from_the_last_acknowledgement_not_from_a_disconnect() {
        let t0 = Instant::now();
        let mut c = LeaseClock::welcomed(15 * S, 5 * S, t0);
        assert_eq!(c.deadline(), Some(t0 + 10 * S));
        c.acked(t0 + 4 * S);
        assert_eq!(c.deadline(), Some(t0 + 14 * S));
        // An older acknowledgement (a probe sent earlier) changes nothing.
        c.acked(t0 + 2 * S);
        assert_eq!(c.deadline(), Some(t0 + 14 * S));
        assert!(!c.expire(t0 + 13 * S));
        assert!(c.expire(t0 + 14 * S));
        assert_eq!(c.silence(t0 + 14 * S), 10 * S);
        // Spent: nothing more is due until the coordinator is heard again.
        assert_eq!(c.deadline(), None);
        assert!(!c.expire(t0 + 60 * S));
        c.acked(t0 + 61 * S);
        assert_eq!(c.deadline(), Some(t0 + 71 * S));
    }

    #[test]
    fn a_goodbye_grace_longer_than_the_lease_is_honoured_minus_the_margin() {
        let t0 = Instant::now();
        let mut c = LeaseClock::welcomed(15 * S, 5 * S, t0);
        c.goodbye(120 * S, t0 + S);
        assert_eq!(c.deadline(), Some(t0 + S + 115 * S));
        assert!(!c.expire(t0 + 100 * S));
        assert!(c.expire(t0 + 116 * S));
        // A grace shorter than the lease leaves the lease's rule.
        let mut c = LeaseClock::welcomed(15 * S, 5 * S, t0);
        c.goodbye(2 * S, t0);
        assert_eq!(c.deadline(), Some(t0 + 10 * S));
    }
}
