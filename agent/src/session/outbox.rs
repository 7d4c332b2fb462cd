//! What the agent has to say on its session, in order: [`Outbox`].
//!
//! Two kinds of message share one ordered queue, because a task's output
//! must reach the coordinator before its result:
//!
//! - control (Started, Result, Draining, Release, Heartbeat) is never
//!   dropped while the session is open; a heartbeat goes to the front (it
//!   only proves the agent alive) and at most one waits at a time;
//! - output may be shed under pressure: when the output already queued
//!   exceeds [`QUEUE_BYTES`], or the agent sends more than
//!   [`RATE_BYTES_PER_SEC`] (bursts up to [`BURST_BYTES`]) — a coordinator
//!   keeps only a tail of each attempt's log, and a flood must not starve
//!   the results of everyone else. Once shedding, output resumes only with
//!   room to spare ([`RESUME_BYTES`]). Shed bytes are counted per attempt; when
//!   that attempt's output flows again a `[N bytes of output dropped]` chunk
//!   goes first, and [`Outbox::finish`] adds the last marker and returns the
//!   total for the result's `output_dropped`.
//!
//! The session loop owns the outbox and feeds the gRPC stream from it
//! ([`Outbox::pop`]) as fast as the stream takes messages. While no session
//! is open ([`Outbox::close`]) control messages are discarded — results
//! stay in [`Work`](crate::work::Work) and are sent again after the next
//! Welcome — and output is counted as shed.

use std::collections::{HashMap, VecDeque};

use swarm_proto::v1 as pb;
use tokio::time::Instant;

use crate::convert;
use crate::exec::Stream;
use crate::work::AttemptRef;

/// Output bytes that may wait in the queue; more is shed.
pub(crate) const QUEUE_BYTES: usize = 4 * 1024 * 1024;

/// Sustained output rate the agent sends, over all its attempts.
pub(crate) const RATE_BYTES_PER_SEC: u64 = 8 * 1024 * 1024;

/// Output the agent may send at once above the sustained rate.
pub(crate) const BURST_BYTES: u64 = 16 * 1024 * 1024;

/// Once shedding, output flows again only when the queue is down to half
/// its budget and this much allowance has built up, so a flood gives a few
/// large gaps (and markers) rather than one per chunk.
pub(crate) const RESUME_BYTES: u64 = 1024 * 1024;

/// A queued message and what it is, for the accounting.
#[derive(Debug)]
struct Queued {
    msg: pb::AgentMessage,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Control,
    Heartbeat,
    /// A chunk of output, `len` bytes.
    Output {
        attempt: u64,
        stream: Stream,
        len: usize,
    },
    /// A marker reporting `pending` shed bytes; `summary` if it also gave
    /// the total.
    Marker {
        attempt: u64,
        len: usize,
        pending: u64,
        summary: bool,
    },
}

/// Shed output of one attempt.
#[derive(Debug, Default)]
struct Shed {
    /// Bytes shed since the last marker.
    pending: u64,
    /// Bytes shed in all.
    total: u64,
    /// The stream the last shed bytes came from; the marker goes there.
    stream: Option<Stream>,
    /// Whether the attempt's last marker (with the total) was queued.
    summarized: bool,
}

/// See the module doc.
#[derive(Debug)]
pub(crate) struct Outbox {
    queue: VecDeque<Queued>,
    /// Whether a session is open to take the messages.
    open: bool,
    /// Output bytes in `queue`.
    queued_output: usize,
    /// Whether a heartbeat waits in `queue`.
    heartbeat_queued: bool,
    /// Send allowance for output, in bytes (a token bucket).
    allowance: u64,
    /// When `allowance` was last refilled.
    refilled: Instant,
    /// Whether output is being shed (see [`RESUME_BYTES`]).
    shedding: bool,
    shed: HashMap<u64, Shed>,
}

impl Outbox {
    /// An empty, closed outbox with a full burst allowance.
    pub(crate) fn new(now: Instant) -> Outbox {
        Outbox {
            queue: VecDeque::new(),
            open: false,
            queued_output: 0,
            heartbeat_queued: false,
            allowance: BURST_BYTES,
            refilled: now,
            shedding: false,
            shed: HashMap::new(),
        }
    }

    /// A session opened: messages are queued from now on.
    pub(crate) fn open(&mut self) {
        self.open = true;
        self.shedding = false;
    }

    /// The session closed: queued output is counted as shed, queued control
    /// messages are discarded (the next session starts with a Hello).
    pub(crate) fn close(&mut self) {
        self.open = false;
        for queued in std::mem::take(&mut self.queue) {
            match queued.kind {
                Kind::Output {
                    attempt,
                    stream,
                    len,
                } => self.count_shed(attempt, stream, len),
                Kind::Marker {
                    attempt,
                    pending,
                    summary,
                    ..
                } => {
                    let shed = self.shed.entry(attempt).or_default();
                    shed.pending += pending;
                    shed.summarized &= !summary;
                }
                Kind::Control | Kind::Heartbeat => {}
            }
        }
        self.queued_output = 0;
        self.heartbeat_queued = false;
    }

    /// Queues a control message (never a Log). A heartbeat goes first, and
    /// only if none is waiting.
    pub(crate) fn control(&mut self, body: pb::agent_message::Body) {
        if !self.open {
            return;
        }
        let heartbeat = matches!(body, pb::agent_message::Body::Heartbeat(_));
        if heartbeat && self.heartbeat_queued {
            return;
        }
        let msg = pb::AgentMessage { body: Some(body) };
        if heartbeat {
            self.heartbeat_queued = true;
            self.queue.push_front(Queued {
                msg,
                kind: Kind::Heartbeat,
            });
        } else {
            self.queue.push_back(Queued {
                msg,
                kind: Kind::Control,
            });
        }
    }

    /// Queues a chunk of an attempt's output, or sheds it (see the module
    /// doc); a pending marker goes first.
    pub(crate) fn output(&mut self, r: &AttemptRef, stream: Stream, data: Vec<u8>, now: Instant) {
        self.refill(now);
        let len = data.len();
        if self.shedding {
            self.shedding = self.queued_output > QUEUE_BYTES / 2
                || self.allowance < RESUME_BYTES.max(len as u64);
        }
        let fits = self.queued_output + len <= QUEUE_BYTES && self.allowance >= len as u64;
        if !self.open || !fits || self.shedding {
            self.shedding = self.open;
            self.count_shed(r.attempt, stream, len);
            return;
        }
        self.allowance -= len as u64;
        if let Some(shed) = self.shed.get_mut(&r.attempt).filter(|s| s.pending > 0) {
            let pending = std::mem::take(&mut shed.pending);
            let text = format!("\n[{pending} bytes of output dropped]\n");
            let kind = Kind::Marker {
                attempt: r.attempt,
                len: text.len(),
                pending,
                summary: false,
            };
            self.push_log(r, stream, text.into_bytes(), kind);
        }
        let kind = Kind::Output {
            attempt: r.attempt,
            stream,
            len,
        };
        self.push_log(r, stream, data, kind);
    }

    /// The attempt's output is complete: queues its last marker if output
    /// was shed, and returns how many bytes were shed in all. The counts
    /// are kept (a result sent again reports the same total) until
    /// [`Outbox::forget`].
    pub(crate) fn finish(&mut self, r: &AttemptRef) -> u64 {
        let open = self.open;
        let Some(shed) = self.shed.get_mut(&r.attempt) else {
            return 0;
        };
        let (pending, total) = (shed.pending, shed.total);
        if !open || (pending == 0 && shed.summarized) {
            return total;
        }
        let mut text = String::from("\n");
        if pending > 0 {
            text.push_str(&format!("[{pending} bytes of output dropped]\n"));
        }
        if !shed.summarized && total > pending {
            text.push_str(&format!("[{total} bytes of output dropped in total]\n"));
        }
        let summary = !shed.summarized && total > pending;
        shed.pending = 0;
        shed.summarized = true;
        let stream = shed.stream.unwrap_or(Stream::Stdout);
        let kind = Kind::Marker {
            attempt: r.attempt,
            len: text.len(),
            pending,
            summary,
        };
        self.push_log(r, stream, text.into_bytes(), kind);
        total
    }

    /// The attempt is settled (acknowledged or ended by the coordinator).
    pub(crate) fn forget(&mut self, attempt: u64) {
        self.shed.remove(&attempt);
    }

    /// Whether a message waits.
    pub(crate) fn has_next(&self) -> bool {
        !self.queue.is_empty()
    }

    /// The next message for the stream.
    pub(crate) fn pop(&mut self) -> Option<pb::AgentMessage> {
        let queued = self.queue.pop_front()?;
        match queued.kind {
            Kind::Output { len, .. } | Kind::Marker { len, .. } => {
                self.queued_output = self.queued_output.saturating_sub(len);
            }
            Kind::Heartbeat => self.heartbeat_queued = false,
            Kind::Control => {}
        }
        Some(queued.msg)
    }

    fn push_log(&mut self, r: &AttemptRef, stream: Stream, data: Vec<u8>, kind: Kind) {
        self.queued_output += data.len();
        let msg = pb::AgentMessage {
            body: Some(pb::agent_message::Body::Log(pb::LogChunk {
                attempt: Some(convert::attempt_to(r)),
                stream: convert::stream_to(stream),
                data,
            })),
        };
        self.queue.push_back(Queued { msg, kind });
    }

    fn count_shed(&mut self, attempt: u64, stream: Stream, len: usize) {
        let shed = self.shed.entry(attempt).or_default();
        shed.pending += len as u64;
        shed.total += len as u64;
        shed.stream = Some(stream);
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled);
        let earned = (elapsed.as_secs_f64() * RATE_BYTES_PER_SEC as f64) as u64;
        if earned > 0 {
            self.allowance = (self.allowance + earned).min(BURST_BYTES);
            self.refilled = now;
        }
    }
}

#[cfg(test)]
#[path = "outbox_tests.rs"]
mod tests;
