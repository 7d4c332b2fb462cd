//! The event log as a test reads it: `swarmctl events --json` parsed into
//! [`Event`]s, and the questions tests ask of it — what happened to a task,
//! in which order, and what happened between two events.
//!
//! A state polled once after a sleep proves little; the log records every
//! transition with its sequence number, so "nothing was dispatched while
//! the plan was paused" becomes a check over the events between
//! `plan.paused` and `plan.resumed`.

use std::fmt;
use std::time::{Duration, Instant};

use crate::Swarmctl;

/// One event, as one line of `swarmctl events --json` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Position in the log: 1, 2, 3, ... without gaps.
    pub seq: u64,
    /// When the coordinator recorded it, in ms since the Unix epoch.
    pub at_ms: i64,
    /// `task.running`, `attempt.offered`, `plan.paused`, ...
    pub kind: String,
    /// The task it concerns, or empty.
    pub task_id: String,
    /// The attempt's number within its task: 1, 2, ... (`attempt` in the
    /// JSON); 0 when the event concerns no attempt.
    pub number: u32,
    /// The attempt's fencing number, unique across the coordinator's life
    /// (`fence` in the JSON); 0 when the event concerns no attempt.
    pub fence: u64,
    /// The agent it concerns (for attempts, the gang's lead), or empty.
    pub agent_id: String,
    /// Free text: a reason, an exit code, who acted.
    pub message: String,
    /// Who did it, for an operator's action (`admin (as Ann)`), or empty.
    pub actor: String,
}

impl Event {
    fn from_json(line: &str) -> Event {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("events --json: not JSON ({e}): {line}"));
        let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        Event {
            seq: v["seq"].as_u64().unwrap_or_default(),
            at_ms: v["at_ms"].as_i64().unwrap_or_default(),
            kind: text("kind"),
            task_id: text("task_id"),
            number: v["attempt"].as_u64().unwrap_or_default() as u32,
            fence: v["fence"].as_u64().unwrap_or_default(),
            agent_id: text("agent_id"),
            message: text("message"),
            actor: text("actor"),
        }
    }

    /// Whether this is an event of `kind` about task `task`.
    pub fn is(&self, kind: &str, task: &str) -> bool {
        self.kind == kind && self.task_id == task
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>4} {:>14} {:<22}", self.seq, self.at_ms, self.kind)?;
        if !self.task_id.is_empty() {
            write!(f, " task {}", self.task_id)?;
        }
        if self.fence > 0 {
            write!(f, " attempt {} (fence {})", self.number, self.fence)?;
        }
        if !self.agent_id.is_empty() {
            write!(f, " agent {}", self.agent_id)?;
        }
        if !self.actor.is_empty() {
            write!(f, " by {}", self.actor)?;
        }
        if !self.message.is_empty() {
            write!(f, " — {}", self.message)?;
        }
        Ok(())
    }
}

/// The event log of a daemon, in order; printed one event a line, so an
/// assertion can show the whole log when it fails.
#[derive(Debug, Clone)]
pub struct EventLog {
    events: Vec<Event>,
}

impl EventLog {
    /// Reads the whole log with `swarmctl events --json`; panics if that
    /// fails or the log has a gap.
    pub fn read(d: &impl Swarmctl) -> EventLog {
        let out = d.ctl(&["events", "--json"]);
        assert!(
            out.status.success(),
            "swarmctl events --json failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let events: Vec<Event> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(Event::from_json)
            .collect();
        for (i, e) in events.iter().enumerate() {
            assert_eq!(e.seq, i as u64 + 1, "the event log has a gap at {e}");
        }
        EventLog { events }
    }

    /// Polls the log until an event matches `pred` and returns it; panics
    /// after `secs` with the log, saying it waited for `what`.
    pub fn wait(d: &impl Swarmctl, secs: u64, what: &str, pred: impl Fn(&Event) -> bool) -> Event {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let log = EventLog::read(d);
            if let Some(e) = log.events.iter().find(|e| pred(e)) {
                return e.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no event for {what} within {secs} s; the log:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every event, in order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The sequence number of the last event; 0 for an empty log.
    pub fn last_seq(&self) -> u64 {
        self.events.last().map_or(0, |e| e.seq)
    }

    /// The events matching `pred`, in order.
    pub fn all(&self, pred: impl Fn(&Event) -> bool) -> Vec<&Event> {
        self.events.iter().filter(|e| pred(e)).collect()
    }

    /// The one event matching `pred`; panics with the log, naming `what`,
    /// if there is none or more than one.
    pub fn only(&self, what: &str, pred: impl Fn(&Event) -> bool) -> &Event {
        match self.all(pred).as_slice() {
            [one] => one,
            many => panic!(
                "expected exactly one event for {what}, found {}; the log:\n{self}",
                many.len()
            ),
        }
    }

    /// The events after `from`, which is excluded.
    pub fn after(&self, from: &Event) -> &[Event] {
        &self.events[(from.seq as usize).min(self.events.len())..]
    }

    /// The events before `to`, which is excluded.
    pub fn before(&self, to: &Event) -> &[Event] {
        let end = (to.seq as usize).saturating_sub(1).min(self.events.len());
        &self.events[..end]
    }
}

impl fmt::Display for EventLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.events {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}
