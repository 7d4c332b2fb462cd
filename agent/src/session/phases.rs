//! The session's phases, one function per [`State`]: what the agent does
//! in it and which state comes next (see the table in the
//! [module doc](super)).

use std::ops::ControlFlow::{Break, Continue};
use std::time::Duration;

use swarm_proto::v1 as pb;
use tokio::time::Instant;

use super::machine::{Away, DownWake, Drain, Flow, Line, Link, Session, State, UpWake};
use super::serve::{self, Heard};
use super::{Exit, STOP_LIMIT};

/// What the log says when the coordinator ends the session.
const CLOSED: &str = "session closed by the coordinator";

/// What the log says when the agent gives a session up for want of an
/// acknowledgement.
const UNANSWERED: &str = "giving the session up: the coordinator does not answer";

/// What the log says when a health probe on the session's connection went
/// unanswered.
const SILENT: &str = "giving the session up: its connection did not answer a health check \
                      (the coordinator may have restarted); the attempts keep running";

impl Session {
    /// No session: tries to open one, with backoff between tries.
    pub(super) async fn connecting(&mut self, mut away: Away) -> Flow {
        loop {
            if let Some(limit) = self.orphan_limit(&away) {
                return Continue(State::Orphaned(limit));
            }
            if away.due() {
                match self.open(&mut away, false).await {
                    Ok(Some(link)) => return Continue(State::Connected(link)),
                    Ok(None) => {}
                    Err(exit) => return Break(exit),
                }
            }
            let orphan_at = away.orphan_at(self.settings.orphan_timeout);
            match self.wait_down(&away, orphan_at).await {
                DownWake::Signal(_) => return Continue(self.start_draining(Line::Down(away))),
                DownWake::Due | DownWake::Busy => {}
            }
        }
    }

    /// A session is open: serves it until it ends or a drain starts.
    pub(super) async fn connected(&mut self, mut link: Box<Link>) -> Flow {
        loop {
            match self.wait_up(&mut link, None).await {
                UpWake::Message(m) => {
                    if self.heard_message(*m, false) == Heard::Drain {
                        self.outbox
                            .control(pb::agent_message::Body::Draining(pb::Draining {}));
                        let deadline = Instant::now() + self.settings.drain_timeout;
                        return Continue(State::Draining(Drain {
                            deadline,
                            line: Line::Up(link),
                        }));
                    }
                }
                UpWake::Closed => return Continue(State::Connecting(self.closed(CLOSED))),
                UpWake::Unanswered => return Continue(State::Connecting(self.closed(UNANSWERED))),
                UpWake::Silent => return Continue(State::Connecting(self.reopen(SILENT))),
                UpWake::Signal(_) => return Continue(self.start_draining(Line::Up(link))),
                UpWake::Due | UpWake::Busy => {}
            }
        }
    }

    /// A signal came: no new work from now on; the coordinator is told.
    fn start_draining(&mut self, line: Line) -> State {
        tracing::info!(
            "draining: no new work; {} to finish (a second signal exits at once)",
            swarm_text::count(self.work.held() as u64, "attempt")
        );
        self.outbox
            .control(pb::agent_message::Body::Draining(pb::Draining {}));
        State::Draining(Drain {
            deadline: Instant::now() + self.settings.drain_timeout,
            line,
        })
    }

    /// Draining: takes no new work, reconnects as connecting does, and
    /// ends once idle, at the drain timeout, or at a second signal.
    pub(super) async fn draining(&mut self, mut d: Drain) -> Flow {
        loop {
            if self.work.is_idle() {
                tracing::info!("drained; exiting");
                serve::close(up(d.line), &mut self.outbox).await;
                return Break(Exit::Drained);
            }
            if let Line::Down(away) = &mut d.line {
                if let Some(limit) = self.orphan_limit(away) {
                    return Continue(State::Orphaned(limit));
                }
                if away.due() {
                    match self.open(away, true).await {
                        Ok(Some(link)) => d.line = Line::Up(link),
                        Ok(None) => {}
                        Err(exit) => return Break(exit),
                    }
                }
            }
            let signals = match &mut d.line {
                Line::Up(link) => match self.wait_up(link, Some(d.deadline)).await {
                    UpWake::Message(m) => {
                        self.heard_message(*m, true);
                        0
                    }
                    UpWake::Closed => {
                        d.line = Line::Down(self.closed(CLOSED));
                        0
                    }
                    UpWake::Unanswered => {
                        d.line = Line::Down(self.closed(UNANSWERED));
                        0
                    }
                    UpWake::Silent => {
                        d.line = Line::Down(self.reopen(SILENT));
                        0
                    }
                    UpWake::Signal(n) => n,
                    UpWake::Due | UpWake::Busy => 0,
                },
                Line::Down(away) => {
                    let orphan_at = away.orphan_at(self.settings.orphan_timeout);
                    let until = orphan_at.map_or(d.deadline, |at| at.min(d.deadline));
                    match self.wait_down(away, Some(until)).await {
                        DownWake::Signal(n) => n,
                        DownWake::Due | DownWake::Busy => 0,
                    }
                }
            };
            if signals > 1 {
                return Break(Exit::Interrupted);
            }
            if Instant::now() >= d.deadline {
                return Break(self.drain_timed_out(d.line).await);
            }
        }
    }

    /// The drain timeout passed: every attempt still held is stopped and
    /// handed back.
    async fn drain_timed_out(&mut self, line: Line) -> Exit {
        tracing::warn!(
            "drain timeout: handing back {}",
            swarm_text::count(self.work.held() as u64, "attempt")
        );
        for r in self.work.release_all() {
            self.outbox
                .control(pb::agent_message::Body::Release(pb::Release {
                    attempt: Some(crate::convert::attempt_to(&r)),
                    reason: "drain timeout".into(),
                }));
        }
        serve::close(up(line), &mut self.outbox).await;
        self.work.stopped(STOP_LIMIT).await;
        Exit::Drained
    }

    /// Orphaned: stops every attempt, reports nothing, and exits.
    pub(super) async fn orphaned(&mut self, limit: Duration) -> Exit {
        tracing::error!(
            "the coordinator has been unreachable for {limit:?} (--orphan-timeout); \
             stopping {} and exiting",
            swarm_text::count(self.work.held() as u64, "attempt")
        );
        self.work.abandon_all();
        self.work.stopped(STOP_LIMIT).await;
        self.groups.kill_recorded();
        Exit::Orphaned(limit)
    }

    /// Handles a coordinator message; a Goodbye's grace goes to the lease.
    fn heard_message(&mut self, m: pb::CoordinatorMessage, draining: bool) -> Heard {
        let heard = serve::handle(&mut self.outbox, &mut self.work, m, draining);
        if let (Heard::Goodbye(grace), Some(lease)) = (heard, &mut self.lease) {
            lease.goodbye(grace, Instant::now());
        }
        heard
    }

    /// The orphan timeout, when it has run out while away.
    fn orphan_limit(&self, away: &Away) -> Option<Duration> {
        let limit = self.settings.orphan_timeout?;
        let at = away.orphan_at(Some(limit))?;
        (Instant::now() >= at).then_some(limit)
    }
}

/// The open session of a line, if there is one.
fn up(line: Line) -> Option<super::connect::Conn> {
    match line {
        Line::Up(link) => Some(link.conn),
        Line::Down(_) => None,
    }
}
