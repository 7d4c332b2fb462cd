//! Trace context: each plan is one trace, its id random and kept in
//! `swarm_traces`; every span id is a hash of that id and what the span
//! stands for ([`SpanKey`]), so the loop (which puts an attempt's span
//! into its task's `TRACEPARENT`) and the trace exporter (which builds the
//! spans from the event log, again after a restart) name the same span
//! without telling each other. The loop owns the table's writes: the
//! exporter asks through [`TraceCmd`].

use swarm_memory::state::{ensure_trace, set_trace_exported, TraceRow};

use super::command::Reply;
use super::effects::Turn;
use super::{CoreError, State};

/// A trace id: 16 bytes, never all zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceId(pub [u8; 16]);

impl TraceId {
    /// The id 32 hex digits spell, if they do (and it is not all zero).
    pub fn parse(hex: &str) -> Option<TraceId> {
        if hex.len() != 32 || !hex.is_ascii() {
            return None;
        }
        let mut id = [0u8; 16];
        for (k, byte) in id.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * k..2 * k + 2], 16).ok()?;
        }
        (id != [0; 16]).then_some(TraceId(id))
    }

    /// 32 lower-case hex digits.
    pub fn hex(&self) -> String {
        hex(&self.0)
    }
}

/// What a span stands for; its id is derived from this and the trace id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpanKey<'a> {
    /// The plan: the trace's root.
    Plan,
    /// A task from ready to its end (a task run again after its end
    /// gets another span).
    Task {
        /// Task id.
        task: &'a str,
        /// Sequence number of the event that opened the span.
        opened: u64,
    },
    /// One attempt of a task, by its per-task number.
    Attempt {
        /// Task id.
        task: &'a str,
        /// 1 for the first attempt.
        number: u32,
    },
    /// One member of a gang's attempt (1: the lead).
    Member {
        /// Task id.
        task: &'a str,
        /// The attempt's per-task number.
        number: u32,
        /// The member's place, from 1.
        member: u32,
    },
    /// A merge of a task's work into the integration branch: from
    /// `task.merging` to `task.merged` or `task.conflict`.
    Merge {
        /// Task id.
        task: &'a str,
        /// Sequence number of its `task.merging` event.
        opened: u64,
    },
    /// The plan's n-th checkpoint (from 1).
    Checkpoint {
        /// Its place among the plan's checkpoints.
        number: u32,
    },
}

/// The span id of `key` in `trace`: 8 bytes, never all zero.
pub fn span_id(trace: &TraceId, key: &SpanKey<'_>) -> [u8; 8] {
    let text = match key {
        SpanKey::Plan => "plan".to_string(),
        SpanKey::Task { task, opened } => format!("task\0{task}\0{opened}"),
        SpanKey::Attempt { task, number } => format!("attempt\0{task}\0{number}"),
        SpanKey::Member {
            task,
            number,
            member,
        } => format!("member\0{task}\0{number}\0{member}"),
        SpanKey::Merge { task, opened } => format!("merge\0{task}\0{opened}"),
        SpanKey::Checkpoint { number } => format!("checkpoint\0{number}"),
    };
    let id = mix(fnv1a(trace.0.iter().chain(text.as_bytes())));
    if id == 0 { 1u64 } else { id }.to_be_bytes()
}

/// The W3C `traceparent` naming `span` of `trace` (version 00, sampled).
pub fn traceparent(trace: &TraceId, span: [u8; 8]) -> String {
    format!("00-{}-{}-01", trace.hex(), hex(&span))
}

/// FNV-1a, 64 bits: stable across builds and platforms (the ids outlive
/// the process that made them).
fn fnv1a<'a>(bytes: impl Iterator<Item = &'a u8>) -> u64 {
    bytes.fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A finaliser that spreads FNV's low-entropy high bits (splitmix64's).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// Plan `plan_id`'s trace with its first event's sequence number.
fn current_trace(db: &rusqlite::Connection, plan_id: i64) -> Result<Option<TraceRow>, CoreError> {
    let Some(mut row) = swarm_memory::state::trace(db, plan_id)? else {
        return Ok(None);
    };
    row.first_seq = swarm_memory::state::first_event(db, plan_id)?.unwrap_or(0);
    Ok(Some(row))
}

/// What the trace exporter asks of the loop.
pub enum TraceCmd {
    /// The current plan's trace, with its first event (none before a
    /// plan is loaded).
    Get(Reply<Option<TraceRow>>),
    /// The spans of `plan_id` finished by events up to `seq` were
    /// exported: a restart sends only what comes after.
    Exported {
        /// The plan.
        plan_id: i64,
        /// The last event whose spans went out.
        seq: u64,
    },
}

impl State {
    /// Makes (or reads back) the trace of plan `plan_id` and keeps its id
    /// for the attempts' `TRACEPARENT`.
    pub(crate) fn open_trace(&mut self, t: &mut Turn<'_>, plan_id: i64) -> Result<(), CoreError> {
        let row = ensure_trace(t.db, plan_id)?;
        let id = TraceId::parse(&row.trace_id).ok_or_else(|| {
            CoreError::Recovery(format!(
                "swarm_traces: plan {plan_id} has trace id '{}', not 32 hex digits",
                row.trace_id
            ))
        })?;
        self.trace = Some(id);
        Ok(())
    }

    /// Adds `TRACEPARENT`, naming the span of attempt `number` of task
    /// `task`, to that attempt's environment: an instrumented task nests
    /// its spans under it.
    pub(crate) fn add_traceparent(
        &self,
        env: &mut std::collections::BTreeMap<String, String>,
        task: &str,
        number: u32,
    ) {
        if let Some(trace) = self.trace.as_ref() {
            let span = span_id(trace, &SpanKey::Attempt { task, number });
            env.insert("TRACEPARENT".to_string(), traceparent(trace, span));
        }
    }

    /// Answers the trace exporter.
    pub(crate) fn trace_cmd(&mut self, t: &mut Turn<'_>, cmd: TraceCmd) -> Result<(), CoreError> {
        match cmd {
            TraceCmd::Get(reply) => {
                let r = match &self.plan {
                    Some(plan) => current_trace(t.db, plan.id()),
                    None => Ok(None),
                };
                t.reply(reply, r);
            }
            TraceCmd::Exported { plan_id, seq } => set_trace_exported(t.db, plan_id, seq)?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: TraceId = TraceId([7; 16]);

    #[test]
    fn ids_are_stable_and_distinct() {
        let a1 = span_id(
            &TRACE,
            &SpanKey::Attempt {
                task: "1.1",
                number: 1,
            },
        );
        assert_eq!(
            a1,
            span_id(
                &TRACE,
                &SpanKey::Attempt {
                    task: "1.1",
                    number: 1
                }
            )
        );
        let others = [
            span_id(
                &TRACE,
                &SpanKey::Attempt {
                    task: "1.1",
                    number: 2,
                },
            ),
            span_id(
                &TRACE,
                &SpanKey::Attempt {
                    task: "1.2",
                    number: 1,
                },
            ),
            span_id(
                &TRACE,
                &SpanKey::Task {
                    task: "1.1",
                    opened: 1,
                },
            ),
            span_id(&TRACE, &SpanKey::Plan),
            span_id(
                &TraceId([8; 16]),
                &SpanKey::Attempt {
                    task: "1.1",
                    number: 1,
                },
            ),
        ];
        assert!(others.iter().all(|o| *o != a1), "{others:?} vs {a1:?}");
        // Pinned: ids outlive the build that made them.
        assert_eq!(hex(&span_id(&TRACE, &SpanKey::Plan)), "c55561844a4a5959");
    }

    #[test]
    fn traceparent_is_w3c() {
        let span = span_id(&TRACE, &SpanKey::Plan);
        let tp = traceparent(&TRACE, span);
        let parts: Vec<&str> = tp.split('-').collect();
        assert_eq!(parts[0], "00");
        assert_eq!(parts[1], "07".repeat(16));
        assert_eq!(parts[2], hex(&span));
        assert_eq!(parts[3], "01");
    }

    #[test]
    fn trace_ids_parse_back() {
        assert_eq!(TraceId::parse(&TRACE.hex()), Some(TRACE));
        assert_eq!(TraceId::parse(&"0".repeat(32)), None);
        assert_eq!(TraceId::parse("abc"), None);
        assert_eq!(TraceId::parse(&"zz".repeat(16)), None);
    }
}
