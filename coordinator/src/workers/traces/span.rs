//! What one span is ([`Span`]), and one still open ([`Open`]): the
//! builder's output and its working state. Values and statuses are ours;
//! [`super::export`] turns them into the SDK's.

use swarm_core::views::Tally;
use swarm_memory::state::EventRow;

/// Most events one span keeps; later ones are counted as dropped (the
/// limit OpenTelemetry SDKs apply by default).
pub const MAX_EVENTS: usize = 128;

/// An attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text.
    Str(String),
    /// A whole number.
    Int(i64),
    /// A number with a fraction (dollars).
    Float(f64),
}

/// How a span ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// It did what it was for.
    Ok,
    /// It failed; why.
    Error(String),
}

/// An event on a span.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanEvent {
    /// The event kind (`attempt.started`).
    pub name: String,
    /// When, ms since the epoch.
    pub at_ms: i64,
    /// The event log's sequence number and message.
    pub attributes: Vec<(&'static str, Value)>,
}

/// One finished span.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// Its id.
    pub id: [u8; 8],
    /// Its parent's id; `None` for the root.
    pub parent: Option<[u8; 8]>,
    /// What it is (`task 1.2`).
    pub name: String,
    /// Start and end, ms since the epoch.
    pub start_ms: i64,
    /// End, ms.
    pub end_ms: i64,
    /// Attributes.
    pub attributes: Vec<(&'static str, Value)>,
    /// Events, at most [`MAX_EVENTS`].
    pub events: Vec<SpanEvent>,
    /// Events over the limit.
    pub dropped_events: u32,
    /// Outcome.
    pub status: Status,
}

/// What the store says about an ended attempt (its agents, the roles they
/// played, its exit code and outcome message, what it spent).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttemptInfo {
    /// Agents, lead first.
    pub agents: Vec<String>,
    /// Their roles, same order.
    pub roles: Vec<String>,
    /// The executor's exit code, if it had one.
    pub exit_code: Option<i32>,
    /// How it ended, in words.
    pub message: String,
    /// Output bytes the agent shed under pressure.
    pub output_dropped: u64,
    /// What it spent, summed over its agents (none: nobody said).
    pub usage: Option<Tally>,
}

/// A span not ended yet.
#[derive(Debug, Clone)]
pub(super) struct Open {
    pub(super) id: [u8; 8],
    pub(super) parent: Option<[u8; 8]>,
    pub(super) name: String,
    pub(super) start_ms: i64,
    pub(super) attributes: Vec<(&'static str, Value)>,
    pub(super) events: Vec<SpanEvent>,
    pub(super) dropped_events: u32,
}

impl Open {
    pub(super) fn new(id: [u8; 8], parent: Option<[u8; 8]>, name: String, start_ms: i64) -> Open {
        Open {
            id,
            parent,
            name,
            start_ms,
            attributes: Vec::new(),
            events: Vec::new(),
            dropped_events: 0,
        }
    }

    pub(super) fn record(&mut self, e: &EventRow) {
        if self.events.len() >= MAX_EVENTS {
            self.dropped_events += 1;
            return;
        }
        let mut attributes = vec![("swarm.event.seq", Value::Int(e.seq as i64))];
        if !e.message.is_empty() {
            attributes.push(("swarm.event.message", Value::Str(e.message.clone())));
        }
        if let Some(agent) = &e.agent_id {
            attributes.push(("swarm.agent.id", Value::Str(agent.clone())));
        }
        self.events.push(SpanEvent {
            name: e.kind.clone(),
            at_ms: e.at,
            attributes,
        });
    }

    pub(super) fn end(self, end_ms: i64, status: Status) -> Span {
        Span {
            id: self.id,
            parent: self.parent,
            name: self.name,
            start_ms: self.start_ms,
            end_ms: end_ms.max(self.start_ms),
            attributes: self.attributes,
            events: self.events,
            dropped_events: self.dropped_events,
            status,
        }
    }
}
