//! The session's state machine: the [`State`]s, what each one owns, and
//! the [`Session`] that drives them. The phases themselves — what happens
//! in each state and which state comes next — are in
//! [`phases`](super::phases); this file holds the states' data and the
//! waiting they share.
//!
//! Invariants: the outbox is open exactly while a [`Link`] exists (it is
//! opened on the Welcome and closed when the session ends), and a phase
//! returns only on a change of state or an [`Exit`].

use std::ops::ControlFlow;
use std::time::Duration;

use swarm_proto::v1 as pb;
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::mpsc;
use tokio::time::{Instant, Interval};

use super::connect::{self, Backoff, Conn, Probe};
use super::lease::LeaseClock;
use super::outbox::Outbox;
use super::{serve, Exit, Settings, RESEND_AFTER};
use crate::forward::Forwarder;
use crate::home::GroupRecords;
use crate::runtime::RuntimeDir;
use crate::work::{ExecEvent, Work};

/// Where the session is.
pub(super) enum State {
    /// No session: connecting, with backoff between tries.
    Connecting(Away),
    /// A session is open and the agent takes work.
    Connected(Box<Link>),
    /// No new work; running attempts finish or are handed back.
    Draining(Drain),
    /// No coordinator for the orphan timeout (how long): the attempts are
    /// stopped and the agent exits.
    Orphaned(Duration),
}

/// What a phase returns: the next state, or how the run ended.
pub(super) type Flow = ControlFlow<Exit, State>;

/// The connecting state's own data.
pub(super) struct Away {
    backoff: Backoff,
    /// When the next try may start.
    next_connect: Instant,
    /// Since when no session has been open: the orphan timeout counts
    /// from here.
    since: Instant,
}

impl Away {
    /// Nothing tried yet: the first try is due at once.
    pub(super) fn new() -> Away {
        let now = Instant::now();
        Away {
            backoff: Backoff::new(),
            next_connect: now,
            since: now,
        }
    }

    /// A session just ended: the next try after a first backoff, which
    /// is returned.
    pub(super) fn after_close() -> (Away, Duration) {
        let mut away = Away::new();
        let wait = away.retry_later();
        (away, wait)
    }

    /// Whether a try is due.
    pub(super) fn due(&self) -> bool {
        Instant::now() >= self.next_connect
    }

    /// A try failed: the next one after the backoff, which is returned.
    pub(super) fn retry_later(&mut self) -> Duration {
        let wait = self.backoff.next(connect::unit_random());
        self.next_connect = Instant::now() + wait;
        wait
    }

    /// When the orphan timeout `limit` runs out.
    pub(super) fn orphan_at(&self, limit: Option<Duration>) -> Option<Instant> {
        limit.map(|t| self.since + t)
    }
}

/// The connected state's own data: the open session and its timers.
pub(super) struct Link {
    pub(super) conn: Conn,
    /// The coordinator's heartbeat interval, from its Welcome.
    heartbeat: Interval,
    /// When unacknowledged results are looked at again.
    resend: Interval,
    /// The health probe in flight, if one is.
    probe: Option<Probe>,
}

impl Link {
    /// A session opened with this Welcome.
    fn new(conn: Conn, welcome: &pb::Welcome) -> Link {
        let every = Duration::from_millis(u64::from(welcome.heartbeat_ms.max(100)));
        Link {
            conn,
            heartbeat: tokio::time::interval(every),
            resend: tokio::time::interval(RESEND_AFTER / 3),
            probe: None,
        }
    }
}

/// The draining state's own data.
pub(super) struct Drain {
    /// When running attempts are stopped and handed back.
    pub(super) deadline: Instant,
    /// The session, or the reconnecting, it drains over.
    pub(super) line: Line,
}

/// Whether a session is open, for a state that may be either way.
pub(super) enum Line {
    /// A session is open.
    Up(Box<Link>),
    /// None is; connecting.
    Down(Away),
}

/// What woke a phase while a session is open.
pub(super) enum UpWake {
    /// A message from the coordinator.
    Message(Box<pb::CoordinatorMessage>),
    /// The session ended or broke.
    Closed,
    /// SIGTERM or SIGINT; how many so far.
    Signal(u32),
    /// The phase's own deadline passed.
    Due,
    /// The coordinator has not acknowledged anything for the lease minus
    /// the margin: the attempts were stopped; the session is given up.
    Unanswered,
    /// A health probe on the session's connection went unanswered: the
    /// connection is dead (a coordinator killed without a word, a link
    /// cut) though no error has reached it yet. The session is given up
    /// and the agent reconnects at once; its attempts keep running under
    /// the lease's rule.
    Silent,
    /// Routine work was done (a message sent, an event handled, a
    /// heartbeat, a probe, a re-send); nothing changed the state.
    Busy,
}

/// What woke a phase while no session is open.
pub(super) enum DownWake {
    /// SIGTERM or SIGINT; how many so far.
    Signal(u32),
    /// A try is due, or the phase's own deadline passed.
    Due,
    /// An executor event was handled.
    Busy,
}

/// SIGTERM and SIGINT, counted: the first drains, a second exits at once.
pub(super) struct Signals {
    term: Signal,
    int: Signal,
    count: u32,
}

impl Signals {
    /// Installs the handlers.
    pub(super) fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            count: 0,
        })
    }

    /// The next signal; how many have come in all.
    async fn next(&mut self) -> u32 {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
        self.count += 1;
        self.count
    }
}

/// Everything the phases share: the agent's attempts, its outbox, the
/// executors' events and the signals.
pub(super) struct Session {
    pub(super) settings: Settings,
    pub(super) groups: GroupRecords,
    pub(super) work: Work,
    pub(super) outbox: Outbox,
    pub(super) events: mpsc::UnboundedReceiver<ExecEvent>,
    pub(super) signals: Signals,
    /// The agent's side of its lease, from the last Welcome on.
    pub(super) lease: Option<LeaseClock>,
    /// The sandbox task processes run in; the Welcome names the
    /// coordinator's state directory to hide.
    pub(super) sandbox: crate::exec::Sandbox,
    /// Kept for the tasks while the agent runs: their runtime directory
    /// and, under mTLS, their socket.
    pub(super) _runtime: RuntimeDir,
    pub(super) _forwarder: Option<Forwarder>,
}

impl Session {
    /// Runs the state machine from connecting until it ends.
    pub(super) async fn drive(mut self) -> Exit {
        let mut state = State::Connecting(Away::new());
        loop {
            let next = match state {
                State::Connecting(away) => self.connecting(away).await,
                State::Connected(link) => self.connected(link).await,
                State::Draining(drain) => self.draining(drain).await,
                State::Orphaned(limit) => return self.orphaned(limit).await,
            };
            state = match next {
                ControlFlow::Continue(state) => state,
                ControlFlow::Break(exit) => return exit,
            };
        }
    }

    /// Tries to open a session (then says Draining if `draining`):
    /// `Ok(Some)` with a session, `Ok(None)` after a failure worth
    /// retrying (the next try is set), an [`Exit`] on a refusal.
    pub(super) async fn open(
        &mut self,
        away: &mut Away,
        draining: bool,
    ) -> Result<Option<Box<Link>>, Exit> {
        let listed = self.work.listed();
        let opening = connect::open(&self.settings, &listed, draining);
        tokio::pin!(opening);
        // Connecting can take long against a coordinator that does not
        // answer; the lease keeps running meanwhile.
        // The attempts' events are handled meanwhile: their results are
        // kept for the session to come, and nothing waits on the agent.
        let opened = loop {
            let deadline = super::lease::deadline(self.lease.as_ref(), &self.work);
            tokio::select! {
                opened = &mut opening => break opened,
                Some(ev) = self.events.recv() => {
                    serve::on_event(&mut self.outbox, &mut self.work, ev);
                }
                _ = serve::sleep_until_opt(deadline) => {
                    super::lease::lapse(&mut self.lease, &mut self.work);
                }
            }
        };
        match opened {
            Ok((conn, welcome)) => {
                self.lease = LeaseClock::from_welcome(&welcome, Instant::now());
                self.outbox.open();
                serve::welcomed(&mut self.outbox, &mut self.work, &welcome);
                self.sandbox.set_state_dir(&welcome.state_dir);
                tracing::info!(
                    "session open as {} (role {}), resumed {}",
                    welcome.agent_id,
                    welcome.active_role,
                    welcome.resume.len()
                );
                Ok(Some(Box::new(Link::new(conn, &welcome))))
            }
            Err(connect::OpenError::Refused { message, .. }) => Err(Exit::Refused(message)),
            Err(connect::OpenError::IdInUse(message)) => Err(Exit::IdInUse(message)),
            Err(connect::OpenError::Transient(e)) => {
                let wait = away.retry_later();
                tracing::warn!(
                    "cannot reach the coordinator: {e}; retrying in {} ms{}",
                    wait.as_millis(),
                    connect::plaintext_hint(&self.settings.coordinator, &e)
                );
                Ok(None)
            }
        }
    }

    /// The session ended (`how`, for the log): queued messages are
    /// dropped (results stay in the work), and reconnecting starts after a
    /// backoff.
    pub(super) fn closed(&mut self, how: &str) -> Away {
        let (away, wait) = Away::after_close();
        tracing::warn!("{how}; reconnecting in {} ms", wait.as_millis());
        self.outbox.close();
        away
    }

    /// The session's connection went silent (`how`, for the log): as
    /// [`closed`](Self::closed), but the next try is due at once — the
    /// coordinator may well be there, on a new connection.
    pub(super) fn reopen(&mut self, how: &str) -> Away {
        tracing::warn!("{how}; reconnecting now");
        self.outbox.close();
        Away::new()
    }

    /// Waits, with a session open, for something a phase must act on,
    /// doing the routine work (sending, heartbeats, probes, re-sends,
    /// executor events) as it comes; `until` is the phase's own deadline.
    /// The lease's deadline wakes it too, and the next call then stops the
    /// attempts and answers [`UpWake::Unanswered`].
    pub(super) async fn wait_up(&mut self, link: &mut Link, until: Option<Instant>) -> UpWake {
        if super::lease::lapse(&mut self.lease, &mut self.work) {
            return UpWake::Unanswered;
        }
        let out = link.conn.out.clone();
        let until = earliest(
            until,
            super::lease::deadline(self.lease.as_ref(), &self.work),
        );
        let probe = &mut link.probe;
        tokio::select! {
            msg = link.conn.inbound.message() => match msg.ok().flatten() {
                Some(m) => {
                    self.heard(Instant::now());
                    UpWake::Message(Box::new(m))
                }
                None => UpWake::Closed,
            },
            answered = async { probe.as_mut()?.await }, if probe.is_some() => {
                *probe = None;
                match answered {
                    Some(sent) => {
                        self.heard(sent);
                        UpWake::Busy
                    }
                    None => UpWake::Silent,
                }
            }
            Ok(permit) = out.reserve_owned(), if self.outbox.has_next() => {
                if let Some(m) = self.outbox.pop() {
                    permit.send(m);
                }
                UpWake::Busy
            }
            Some(ev) = self.events.recv() => {
                serve::on_event(&mut self.outbox, &mut self.work, ev);
                UpWake::Busy
            }
            _ = link.heartbeat.tick() => {
                self.outbox.control(pb::agent_message::Body::Heartbeat(pb::Heartbeat {}));
                if probe.is_none() {
                    *probe = super::lease::probe_due(self.lease.as_ref(), &self.work, &link.conn);
                }
                UpWake::Busy
            }
            _ = link.resend.tick() => {
                serve::send_due_results(&mut self.outbox, &mut self.work);
                UpWake::Busy
            }
            _ = serve::sleep_until_opt(until) => UpWake::Due,
            n = self.signals.next() => UpWake::Signal(n),
        }
    }

    /// The coordinator was heard from at `at`.
    fn heard(&mut self, at: Instant) {
        if let Some(lease) = &mut self.lease {
            lease.acked(at);
        }
    }

    /// Waits, with no session open, until a try is due, `until` passes, a
    /// signal comes or an executor event was handled. The lease's deadline
    /// wakes it too; the attempts are stopped when it has passed.
    pub(super) async fn wait_down(&mut self, away: &Away, until: Option<Instant>) -> DownWake {
        super::lease::lapse(&mut self.lease, &mut self.work);
        let until = earliest(
            until,
            super::lease::deadline(self.lease.as_ref(), &self.work),
        );
        tokio::select! {
            Some(ev) = self.events.recv() => {
                serve::on_event(&mut self.outbox, &mut self.work, ev);
                DownWake::Busy
            }
            _ = tokio::time::sleep_until(away.next_connect) => DownWake::Due,
            _ = serve::sleep_until_opt(until) => DownWake::Due,
            n = self.signals.next() => DownWake::Signal(n),
        }
    }
}

/// The earlier of two optional instants.
fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}
