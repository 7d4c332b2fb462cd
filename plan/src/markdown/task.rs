//! The part of the markdown parser that reads one task: its `**Field**:`
//! bullets, their sub-bullets and code blocks.

use super::lines;
use super::phrases::clip;
use crate::claims::{parse_claims, Workspace};
use crate::diagnostic::{Sink, SourceMap, TaskLines};
use crate::fields::{parse_agents, parse_depends, parse_duration, parse_priority};
use crate::model::{Gang, Note, Plan, Task};

/// Deepest nesting kept for deliverables and criteria.
const MAX_DEPTH: usize = 16;

/// What the lines under a field go to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Body {
    Deliverables,
    SuccessCriteria,
    Run,
    Checks,
    Note(usize),
    Ignore,
}

/// A field the model interprets, whatever name the plan gives it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Agent,
    Priority,
    Duration,
    Depends,
    Deliverables,
    Success,
    Blocking,
    Run,
    Check,
    Image,
    Timeout,
    Retries,
    Gang,
    Workspace,
    Touches,
    Pool,
}

struct FieldCursor {
    body: Body,
    /// Indent of the first sub-bullet; deeper ones are nested items.
    item_base: Option<usize>,
    /// Fenced lines collected for Run and Check.
    fenced: Vec<String>,
}

/// The task being read.
pub(crate) struct TaskCursor {
    index: usize,
    lines: TaskLines,
    /// Indent of the task's field bullets (of the first one seen).
    top_indent: Option<usize>,
    field: Option<FieldCursor>,
    /// The fields given so far (but Check), to warn of a repeat.
    seen: Vec<Field>,
    has_agents: bool,
    has_duration: bool,
}

impl TaskCursor {
    /// Opens a new task in the plan.
    pub(crate) fn start(
        plan: &mut Plan,
        map: &mut SourceMap,
        n: usize,
        id: String,
        title: String,
        day: Option<u32>,
        window: Option<usize>,
    ) -> Self {
        plan.tasks.push(Task {
            id,
            title,
            day,
            window,
            ..Task::default()
        });
        let lines = TaskLines {
            header: n,
            agents: n,
            depends: n,
        };
        map.tasks.push(lines);
        TaskCursor {
            index: plan.tasks.len() - 1,
            lines,
            top_indent: None,
            field: None,
            seen: Vec::new(),
            has_agents: false,
            has_duration: false,
        }
    }

    /// Offers a line to the task. Returns false when the line ends the task
    /// (the caller then reads it as something else).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn line(
        &mut self,
        plan: &mut Plan,
        sink: &mut Sink,
        n: usize,
        raw: &str,
        indent: usize,
        text: &str,
        is_bullet: bool,
    ) -> bool {
        let top = *self
            .top_indent
            .get_or_insert(if is_bullet { indent } else { 0 });
        if indent > top && self.field.is_some() {
            self.sub_line(plan, raw, indent, text, is_bullet);
            return true;
        }
        if let Some((name, value)) = lines::bold_field(text) {
            if lines::exit_criteria(name).is_some() {
                return false;
            }
            self.finish_field(plan);
            self.field(plan, sink, n, name, value);
            return true;
        }
        if lines::is_bold_only(text) {
            return false;
        }
        // A plain line or bullet inside the task: prose, kept nowhere.
        self.finish_field(plan);
        true
    }

    /// A line inside or around a code fence.
    pub(crate) fn raw(&mut self, plan: &mut Plan, raw: &str) {
        let task = &mut plan.tasks[self.index];
        if let Some(field) = self.field.as_mut() {
            match field.body {
                Body::Note(i) => task.notes[i].body.push(raw.to_string()),
                Body::Run | Body::Checks => field.fenced.push(raw.to_string()),
                _ => {}
            }
        }
    }

    /// Closes the task: reports required fields that are missing.
    pub(crate) fn finish(mut self, plan: &mut Plan, map: &mut SourceMap, sink: &mut Sink) {
        self.finish_field(plan);
        map.tasks[self.index] = self.lines;
        let id = &plan.tasks[self.index].id;
        if !self.has_agents {
            sink.error(self.lines.header, format!("task {id} has no Agent field; add a bullet like '- **Agent**: DevOps Engineer + Security Auditor'"));
        }
        if !self.has_duration {
            sink.error(
                self.lines.header,
                format!(
                    "task {id} has no Duration field; add a bullet like '- **Duration**: 2 hours'"
                ),
            );
        }
    }

    /// A `**Name**: value` bullet: a field the model reads, or a note kept
    /// as written. Its sub-lines go where [`Body`] says.
    fn field(&mut self, plan: &mut Plan, sink: &mut Sink, n: usize, name: &str, value: &str) {
        let body = match canonical_field(&name.to_ascii_lowercase()) {
            Some(field) => {
                // Check is the one field a task may give more than once.
                if field != Field::Check {
                    self.warn_repeat(plan, sink, n, name, field);
                }
                self.read_value(&mut plan.tasks[self.index], sink, n, field, value)
            }
            None => {
                let task = &mut plan.tasks[self.index];
                task.notes.push(Note {
                    field: name.to_string(),
                    value: value.to_string(),
                    body: Vec::new(),
                });
                Body::Note(task.notes.len() - 1)
            }
        };
        self.field = Some(FieldCursor {
            body,
            item_base: None,
            fenced: Vec::new(),
        });
    }

    /// A warning when the task gave this field before: the last one counts.
    fn warn_repeat(&mut self, plan: &Plan, sink: &mut Sink, n: usize, name: &str, field: Field) {
        if self.seen.contains(&field) {
            sink.warning(
                n,
                format!(
                    "task {} gives '{name}' twice; the last one counts",
                    plan.tasks[self.index].id
                ),
            );
        }
        self.seen.push(field);
    }

    /// Reads a field's value into the task; returns where its sub-lines go.
    fn read_value(
        &mut self,
        task: &mut Task,
        sink: &mut Sink,
        n: usize,
        field: Field,
        value: &str,
    ) -> Body {
        match field {
            Field::Agent => {
                self.has_agents = true;
                self.lines.agents = n;
                sink_result(sink, n, parse_agents(value), |a| task.agents = a);
            }
            Field::Priority => sink_result(sink, n, parse_priority(value), |p| task.priority = p),
            Field::Duration => {
                self.has_duration = true;
                sink_result(sink, n, parse_duration(value), |d| task.duration = d);
            }
            Field::Depends => {
                self.lines.depends = n;
                sink_result(sink, n, parse_depends(value), |d| task.depends = Some(d));
            }
            Field::Deliverables => {
                push_nonempty(&mut task.deliverables, value);
                return Body::Deliverables;
            }
            Field::Success => {
                push_nonempty(&mut task.success_criteria, value);
                return Body::SuccessCriteria;
            }
            Field::Blocking => task.blocking = Some(value.to_string()),
            Field::Run => {
                if !value.is_empty() {
                    task.run = Some(lines::unquote_code(value).to_string());
                }
                return Body::Run;
            }
            Field::Check => {
                if !value.is_empty() {
                    task.checks.push(lines::unquote_code(value).to_string());
                }
                return Body::Checks;
            }
            Field::Image => task.image = Some(lines::unquote_code(value).to_string()),
            Field::Timeout => {
                sink_result(sink, n, parse_duration(value), |d| task.timeout = Some(d))
            }
            Field::Gang => sink_result(sink, n, Gang::parse(value), |g| task.gang = g),
            Field::Workspace => sink_result(sink, n, Workspace::parse(value), |w| {
                task.workspace = w;
            }),
            Field::Pool => sink_result(sink, n, crate::model::parse_pool(value), |p| {
                task.pool = Some(p);
            }),
            Field::Touches => sink_result(sink, n, parse_claims(value), |c| {
                task.touches.extend(c);
            }),
            Field::Retries => match value.trim().parse::<u32>() {
                Ok(r) if r <= 100 => task.retries = Some(r),
                _ => sink.error(
                    n,
                    format!(
                        "malformed retries '{}': expected a whole number from 0 to 100",
                        clip(value)
                    ),
                ),
            },
        }
        Body::Ignore
    }

    /// A line indented under the current field.
    fn sub_line(&mut self, plan: &mut Plan, raw: &str, indent: usize, text: &str, is_bullet: bool) {
        let task = &mut plan.tasks[self.index];
        let Some(field) = self.field.as_mut() else {
            return;
        };
        let list = match field.body {
            Body::Deliverables => &mut task.deliverables,
            Body::SuccessCriteria => &mut task.success_criteria,
            Body::Checks => {
                if is_bullet && !text.is_empty() {
                    task.checks.push(lines::unquote_code(text).to_string());
                }
                return;
            }
            Body::Run => {
                if is_bullet && task.run.is_none() && !text.is_empty() {
                    task.run = Some(lines::unquote_code(text).to_string());
                }
                return;
            }
            Body::Note(i) => {
                task.notes[i].body.push(raw.to_string());
                return;
            }
            Body::Ignore => return,
        };
        if is_bullet {
            let base = *field.item_base.get_or_insert(indent);
            let depth = (indent.saturating_sub(base) / 2).min(MAX_DEPTH);
            list.push(format!("{}{text}", "  ".repeat(depth)));
        } else if let Some(last) = list.last_mut() {
            last.push(' ');
            last.push_str(text);
        }
    }

    fn finish_field(&mut self, plan: &mut Plan) {
        let Some(field) = self.field.take() else {
            return;
        };
        if field.fenced.is_empty() {
            return;
        }
        let code = fenced_content(&field.fenced);
        let task = &mut plan.tasks[self.index];
        match field.body {
            Body::Run if task.run.is_none() => task.run = Some(code),
            Body::Checks => task.checks.push(code),
            _ => {}
        }
    }
}

/// The field a bullet's name means, for a field the model interprets.
fn canonical_field(key: &str) -> Option<Field> {
    Some(match key {
        "agent" | "agents" | "role" | "roles" | "assigned to" => Field::Agent,
        "priority" => Field::Priority,
        "duration" | "estimate" | "estimated duration" | "effort" => Field::Duration,
        "dependencies" | "dependency" | "depends on" | "deps" | "prerequisites" => Field::Depends,
        "deliverables" => Field::Deliverables,
        "success criteria" | "acceptance criteria" => Field::Success,
        "blocking" | "blocks" => Field::Blocking,
        "run" | "command" => Field::Run,
        "check" | "checks" => Field::Check,
        "image" => Field::Image,
        "timeout" => Field::Timeout,
        "retries" => Field::Retries,
        "gang" => Field::Gang,
        "workspace" => Field::Workspace,
        "touches" | "claims" => Field::Touches,
        "pool" => Field::Pool,
        _ => return None,
    })
}

fn sink_result<T>(sink: &mut Sink, n: usize, result: Result<T, String>, apply: impl FnOnce(T)) {
    match result {
        Ok(v) => apply(v),
        Err(message) => sink.error(n, message),
    }
}

fn push_nonempty(list: &mut Vec<String>, value: &str) {
    if !value.is_empty() {
        list.push(value.to_string());
    }
}

/// The code inside collected fence lines, de-indented by the fence's own
/// indentation.
fn fenced_content(fenced: &[String]) -> String {
    let indent = fenced.first().map(|l| lines::indent_of(l)).unwrap_or(0);
    let inner = match fenced.len() {
        0 | 1 => &[][..],
        n if lines::fence(&fenced[n - 1]).is_some() => &fenced[1..n - 1],
        _ => &fenced[1..],
    };
    inner
        .iter()
        .map(|l| {
            let cut = l.len() - l.trim_start_matches(' ').len();
            l[cut.min(indent)..].to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}
