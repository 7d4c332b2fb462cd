//! Spans from the event log: a pure function of a plan's events (and the
//! stored details of its ended attempts), so the spans built again after
//! a restart are the spans built before it, bit for bit. One trace per
//! plan; under its root, a span per task from ready to its end, under
//! that a span per attempt (and per gang member under the attempt) and
//! per trip through the merge queue, and a span per checkpoint under the
//! root. Events become span events of the
//! span they concern. A span is handed out when it ends; the root when
//! the plan ends (its children name it by id before that).

use std::collections::HashMap;
use std::str::FromStr;

use swarm_core::event::{AttemptEnd, EventKind};
use swarm_core::model::{PlanState, TaskState};
use swarm_core::trace::{span_id, SpanKey, TraceId};
use swarm_core::views::Tally;
use swarm_memory::state::EventRow;

use super::span::Open;
pub use super::span::{AttemptInfo, Span, SpanEvent, Status, Value, MAX_EVENTS};

/// Builds one plan's spans from its events, in sequence order.
pub struct Builder {
    plan_id: i64,
    trace: TraceId,
    root: Open,
    /// Open task spans by task id (only open spans are kept: a
    /// million-task plan costs what is ready or running at once).
    tasks: HashMap<String, Open>,
    /// Open attempt spans by fencing number, with their task and number.
    attempts: HashMap<u64, (String, u32, Open)>,
    checkpoints: u32,
    checkpoint: Option<Open>,
    /// Open merge spans by task id.
    merges: HashMap<String, Open>,
}

impl Builder {
    /// A plan's builder, its root starting at `loaded_at`.
    pub fn new(plan_id: i64, trace: TraceId, loaded_at: i64) -> Builder {
        let mut root = Open::new(
            span_id(&trace, &SpanKey::Plan),
            None,
            format!("plan {plan_id}"),
            loaded_at,
        );
        root.attributes.push(("swarm.plan.id", Value::Int(plan_id)));
        Builder {
            plan_id,
            trace,
            root,
            tasks: HashMap::new(),
            attempts: HashMap::new(),
            checkpoints: 0,
            checkpoint: None,
            merges: HashMap::new(),
        }
    }

    /// The plan it builds.
    pub fn plan_id(&self) -> i64 {
        self.plan_id
    }

    /// The trace.
    pub fn trace(&self) -> TraceId {
        self.trace
    }

    /// The fencing number of the attempt `e` ends, if it ends one this
    /// builder has open: its details are needed for [`Builder::push`].
    pub fn ends_open_attempt(&self, e: &EventRow) -> Option<u64> {
        let kind = EventKind::from_str(&e.kind).ok()?;
        let fence = e.attempt?;
        (kind.ends_attempt() && self.attempts.contains_key(&fence)).then_some(fence)
    }

    /// Takes one event of the plan; returns the spans it ended. `info`
    /// holds the stored details of the attempt it ends, if it ends one.
    pub fn push(&mut self, e: &EventRow, info: Option<&AttemptInfo>) -> Vec<Span> {
        let Ok(kind) = EventKind::from_str(&e.kind) else {
            return Vec::new();
        };
        match kind {
            EventKind::Task(TaskState::Merging) => {
                self.merge_started(e);
                Vec::new()
            }
            EventKind::TaskMerged => self.merge_ended(e, Status::Ok),
            EventKind::TaskConflict => self.merge_ended(e, Status::Error(e.message.clone())),
            EventKind::Task(state) => self.task(e, state),
            EventKind::AttemptOffered => self.offered(e),
            EventKind::AttemptEnded(end) => self.attempt_ended(e, end, info),
            EventKind::AttemptStarted | EventKind::AttemptRejected => {
                match e.attempt.and_then(|a| self.attempts.get_mut(&a)) {
                    Some((_, _, open)) => open.record(e),
                    None => self.root.record(e),
                }
                Vec::new()
            }
            EventKind::CheckpointStarted => {
                self.checkpoints += 1;
                let number = self.checkpoints;
                let id = span_id(&self.trace, &SpanKey::Checkpoint { number });
                let mut open =
                    Open::new(id, Some(self.root.id), format!("checkpoint {number}"), e.at);
                open.attributes
                    .push(("swarm.plan.id", Value::Int(self.plan_id)));
                open.attributes
                    .push(("swarm.checkpoint", Value::Int(i64::from(number))));
                open.record(e);
                self.checkpoint = Some(open);
                Vec::new()
            }
            EventKind::CheckpointReported => match self.checkpoint.take() {
                Some(mut open) => {
                    open.record(e);
                    open.attributes
                        .push(("swarm.checkpoint.report", Value::Str(e.message.clone())));
                    vec![open.end(e.at, Status::Ok)]
                }
                None => Vec::new(),
            },
            EventKind::Plan(
                state @ (PlanState::Succeeded | PlanState::Failed | PlanState::Cancelled),
            ) => self.plan_ended(e, state),
            _ => {
                match e.task_id.as_ref().and_then(|t| self.tasks.get_mut(t)) {
                    Some(task) => task.record(e),
                    None => self.root.record(e),
                }
                Vec::new()
            }
        }
    }

    /// A task's work goes to the merge queue: a merge span under the
    /// task's (the event is the task's too).
    fn merge_started(&mut self, e: &EventRow) {
        let Some(task) = e.task_id.clone() else {
            return;
        };
        let Some(parent) = self.tasks.get_mut(&task) else {
            return;
        };
        parent.record(e);
        let parent = parent.id;
        let opened = e.seq;
        let id = span_id(
            &self.trace,
            &SpanKey::Merge {
                task: &task,
                opened,
            },
        );
        let mut open = Open::new(id, Some(parent), format!("merge {task}"), e.at);
        open.attributes.extend([
            ("swarm.plan.id", Value::Int(self.plan_id)),
            ("swarm.task.id", Value::Str(task.clone())),
        ]);
        open.record(e);
        self.merges.insert(task, open);
    }

    /// The task's work was merged (or conflicted): its merge span ends.
    fn merge_ended(&mut self, e: &EventRow, status: Status) -> Vec<Span> {
        let open = e.task_id.as_ref().and_then(|t| self.merges.remove(t));
        let Some(mut open) = open else {
            if let Some(task) = e.task_id.as_ref().and_then(|t| self.tasks.get_mut(t)) {
                task.record(e);
            }
            return Vec::new();
        };
        open.record(e);
        open.attributes
            .push(("swarm.outcome", Value::Str(e.kind.clone())));
        vec![open.end(e.at, status)]
    }

    fn task(&mut self, e: &EventRow, state: TaskState) -> Vec<Span> {
        let Some(task) = e.task_id.clone() else {
            return Vec::new();
        };
        let ends = matches!(
            state,
            TaskState::Succeeded
                | TaskState::Failed
                | TaskState::Skipped
                | TaskState::Cancelled
                | TaskState::Blocked
                | TaskState::Removed
        );
        if !self.tasks.contains_key(&task) && (ends || state == TaskState::Ready) {
            let opened = e.seq;
            let id = span_id(
                &self.trace,
                &SpanKey::Task {
                    task: &task,
                    opened,
                },
            );
            let mut open = Open::new(id, Some(self.root.id), format!("task {task}"), e.at);
            open.attributes
                .push(("swarm.plan.id", Value::Int(self.plan_id)));
            open.attributes
                .push(("swarm.task.id", Value::Str(task.clone())));
            self.tasks.insert(task.clone(), open);
        }
        let Some(open) = self.tasks.get_mut(&task) else {
            return Vec::new();
        };
        open.record(e);
        if !ends {
            return Vec::new();
        }
        let Some(mut open) = self.tasks.remove(&task) else {
            return Vec::new();
        };
        open.attributes
            .push(("swarm.outcome", Value::Str(state.name().to_string())));
        let status = match state {
            // Left the plan with a revision: not a failure.
            TaskState::Succeeded | TaskState::Skipped | TaskState::Removed => Status::Ok,
            _ => Status::Error(e.message.clone()),
        };
        vec![open.end(e.at, status)]
    }

    fn offered(&mut self, e: &EventRow) -> Vec<Span> {
        let (Some(task), Some(fence), Some(number)) = (e.task_id.clone(), e.attempt, e.number)
        else {
            return Vec::new();
        };
        let parent = self.tasks.get(&task).map_or(self.root.id, |t| t.id);
        let id = span_id(
            &self.trace,
            &SpanKey::Attempt {
                task: &task,
                number,
            },
        );
        let mut open = Open::new(id, Some(parent), format!("attempt {task} #{number}"), e.at);
        open.attributes.extend([
            ("swarm.plan.id", Value::Int(self.plan_id)),
            ("swarm.task.id", Value::Str(task.clone())),
            ("swarm.attempt", Value::Int(i64::from(number))),
            ("swarm.attempt.fence", Value::Int(fence as i64)),
        ]);
        open.record(e);
        self.attempts.insert(fence, (task, number, open));
        Vec::new()
    }

    fn attempt_ended(
        &mut self,
        e: &EventRow,
        end: AttemptEnd,
        info: Option<&AttemptInfo>,
    ) -> Vec<Span> {
        let Some((task, number, mut open)) = e.attempt.and_then(|a| self.attempts.remove(&a))
        else {
            return Vec::new();
        };
        open.record(e);
        let info = info.cloned().unwrap_or_default();
        let lead = info
            .agents
            .first()
            .cloned()
            .or_else(|| e.agent_id.clone())
            .unwrap_or_default();
        let role = info.roles.first().cloned().unwrap_or_default();
        let outcome = end.state_name();
        let common = ended_attributes(&info, outcome);
        let status = match end {
            AttemptEnd::Succeeded => Status::Ok,
            _ => Status::Error(if info.message.is_empty() {
                outcome.to_string()
            } else {
                info.message.clone()
            }),
        };
        let mut out = Vec::new();
        if info.agents.len() > 1 {
            for (k, agent) in info.agents.iter().enumerate() {
                let member = k as u32 + 1;
                let id = span_id(
                    &self.trace,
                    &SpanKey::Member {
                        task: &task,
                        number,
                        member,
                    },
                );
                let r = info.roles.get(k).cloned().unwrap_or_default();
                let mut m = Open::new(
                    id,
                    Some(open.id),
                    format!("member {agent} ({r})"),
                    open.start_ms,
                );
                m.attributes = open.attributes.clone();
                m.attributes.extend(agent_attributes(agent, &r));
                m.attributes
                    .push(("swarm.member", Value::Int(i64::from(member))));
                m.attributes.extend(common.clone());
                out.push(m.end(e.at, status.clone()));
            }
        }
        open.attributes.extend(agent_attributes(&lead, &role));
        open.attributes.push((
            "swarm.attempt.members",
            Value::Int(info.agents.len().max(1) as i64),
        ));
        open.attributes.extend(common);
        // What it spent goes on the attempt only: a member's share is not
        // known apart, and a sum over the trace must count it once.
        if let Some(usage) = &info.usage {
            open.attributes.extend(usage_attributes(usage));
        }
        out.push(open.end(e.at, status));
        out
    }

    fn plan_ended(&mut self, e: &EventRow, state: PlanState) -> Vec<Span> {
        self.root.record(e);
        let mut root = self.root.clone();
        root.attributes
            .push(("swarm.outcome", Value::Str(state.name().to_string())));
        let status = match state {
            PlanState::Succeeded => Status::Ok,
            _ => Status::Error(e.message.clone()),
        };
        vec![root.end(e.at, status)]
    }
}

/// Who ran it: ours, and the GenAI conventions' agent attributes.
fn agent_attributes(agent: &str, role: &str) -> [(&'static str, Value); 4] {
    [
        ("swarm.agent.id", Value::Str(agent.to_string())),
        ("swarm.role", Value::Str(role.to_string())),
        ("gen_ai.agent.id", Value::Str(agent.to_string())),
        ("gen_ai.agent.name", Value::Str(role.to_string())),
    ]
}

/// What an attempt spent: the GenAI conventions' token counts (input
/// counts every prompt token, the cache's included, as they say), the
/// cache's share and the cost as ours.
fn usage_attributes(u: &Tally) -> [(&'static str, Value); 5] {
    let int = |n: u64| Value::Int(n.min(i64::MAX as u64) as i64);
    let prompt = u
        .input_tokens
        .saturating_add(u.cache_read_tokens)
        .saturating_add(u.cache_creation_tokens);
    [
        ("gen_ai.usage.input_tokens", int(prompt)),
        ("gen_ai.usage.output_tokens", int(u.output_tokens)),
        ("swarm.usage.cache_read_tokens", int(u.cache_read_tokens)),
        (
            "swarm.usage.cache_creation_tokens",
            int(u.cache_creation_tokens),
        ),
        ("swarm.usage.cost_usd", Value::Float(u.cost_usd)),
    ]
}

/// What every span of an ended attempt carries: its outcome, the GenAI
/// operation, the exit code and the output shed, when known.
fn ended_attributes(info: &AttemptInfo, outcome: &str) -> Vec<(&'static str, Value)> {
    let mut common = vec![
        ("swarm.outcome", Value::Str(outcome.to_string())),
        (
            "gen_ai.operation.name",
            Value::Str("invoke_agent".to_string()),
        ),
    ];
    if let Some(code) = info.exit_code {
        common.push(("process.exit.code", Value::Int(i64::from(code))));
    }
    if info.output_dropped > 0 {
        let shed = info.output_dropped.min(i64::MAX as u64) as i64;
        common.push(("swarm.output.dropped_bytes", Value::Int(shed)));
    }
    common
}

#[cfg(test)]
#[path = "spans_tests.rs"]
mod tests;
