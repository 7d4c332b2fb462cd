//! One `[[task]]` table read into a [`Task`]: the lines its diagnostics
//! point at, its window resolved against its day's, and each phrase field
//! parsed by the markdown form's code. Errors are reported in field order
//! (window, id, agent, priority, duration, dependencies, timeout, retries,
//! gang), as the table lists them.

use toml::Spanned;

use super::raw::{RawTask, RawWindowRef};
use super::LineIndex;
use crate::claims::{check_claim, Workspace};
use crate::diagnostic::{Sink, TaskLines};
use crate::fields::{parse_agents, parse_depends, parse_duration, parse_priority};
use crate::model::{Day, Gang, Note, Task};

/// Reads one task; `days` are the plan's days, read before any task.
pub(super) fn read_task(
    raw: RawTask,
    days: &[Day],
    lines: &LineIndex,
    sink: &mut Sink,
) -> (Task, TaskLines) {
    let task_lines = task_lines(&raw, lines);
    let mut task = Task::default();
    read_place(&raw, days, task_lines.header, sink, &mut task);
    read_staffing(&raw, &task_lines, lines, sink, &mut task);
    read_execution(&raw, lines, sink, &mut task);
    task.title = raw.title;
    task.day = raw.day;
    task.deliverables = raw.deliverables;
    task.success_criteria = raw.success_criteria;
    task.blocking = raw.blocking;
    task.run = raw.run;
    task.checks = raw.check;
    task.image = raw.image;
    task.notes = raw
        .note
        .into_iter()
        .map(|n| Note {
            field: n.field,
            value: n.value,
            body: n.body,
        })
        .collect();
    task.id = raw.id.into_inner();
    task.more.compact();
    (task, task_lines)
}

/// The task's header line, and the lines of its agent and dependencies
/// (the header's when absent).
fn task_lines(raw: &RawTask, lines: &LineIndex) -> TaskLines {
    let header = lines.line(raw.id.span().start);
    let at = |s: &Option<Spanned<String>>| {
        s.as_ref()
            .map(|s| lines.line(s.span().start))
            .unwrap_or(header)
    };
    TaskLines {
        header,
        agents: at(&raw.agent),
        depends: raw
            .depends_on
            .as_ref()
            .map(|d| lines.line(d.span().start))
            .unwrap_or(header),
    }
}

/// Where the task sits: its window in its day, and whether its id reads.
fn read_place(raw: &RawTask, days: &[Day], header: usize, sink: &mut Sink, task: &mut Task) {
    let id = raw.id.get_ref();
    if let Some(wanted) = &raw.window {
        match resolve_window(id, raw.day, wanted, days) {
            Ok(w) => task.window = Some(w),
            Err(m) => sink.error(header, m),
        }
    }
    if let Err(m) = crate::fields::parse_task_id(id) {
        sink.error(header, format!("malformed task id: {m}"));
    }
}

/// Who runs the task, how urgent and long it is, and what it waits for.
fn read_staffing(
    raw: &RawTask,
    task_lines: &TaskLines,
    lines: &LineIndex,
    sink: &mut Sink,
    task: &mut Task,
) {
    let id = raw.id.get_ref();
    let header = task_lines.header;
    match &raw.agent {
        Some(a) => report(sink, task_lines.agents, parse_agents(a.get_ref()), |v| task.agents = v),
        None => sink.error(header, format!("task {id} has no agent; add a line like agent = \"DevOps Engineer + Security Auditor\"")),
    }
    if let Some(p) = &raw.priority {
        report(
            sink,
            lines.line(p.span().start),
            parse_priority(p.get_ref()),
            |v| task.priority = v,
        );
    }
    match &raw.duration {
        Some(d) => report(
            sink,
            lines.line(d.span().start),
            parse_duration(d.get_ref()),
            |v| task.duration = v,
        ),
        None => sink.error(
            header,
            format!("task {id} has no duration; add a line like duration = \"2 hours\""),
        ),
    }
    if let Some(deps) = &raw.depends_on {
        let mut all = Vec::new();
        for phrase in deps.get_ref() {
            match parse_depends(phrase) {
                Ok(refs) => all.extend(refs),
                Err(m) => sink.error(task_lines.depends, m),
            }
        }
        task.depends = Some(all);
    }
}

/// How an attempt runs: its timeout, retries and gang, its workspace and
/// the paths it claims.
fn read_execution(raw: &RawTask, lines: &LineIndex, sink: &mut Sink, task: &mut Task) {
    if let Some(t) = &raw.timeout {
        report(
            sink,
            lines.line(t.span().start),
            parse_duration(t.get_ref()),
            |v| task.timeout = Some(v),
        );
    }
    if let Some(r) = &raw.retries {
        match *r.get_ref() {
            n if n <= 100 => task.retries = Some(n),
            n => sink.error(
                lines.line(r.span().start),
                format!("retries {n} is out of range: expected 0 to 100"),
            ),
        }
    }
    if let Some(p) = &raw.pool {
        report(
            sink,
            lines.line(p.span().start),
            crate::model::parse_pool(p.get_ref()),
            |v| task.pool = Some(v),
        );
    }
    if let Some(g) = &raw.gang {
        report(
            sink,
            lines.line(g.span().start),
            Gang::parse(g.get_ref()),
            |v| task.gang = v,
        );
    }
    if let Some(w) = &raw.workspace {
        report(
            sink,
            lines.line(w.span().start),
            Workspace::parse(w.get_ref()),
            |v| task.workspace = v,
        );
    }
    if let Some(t) = &raw.touches {
        let claims: Result<Vec<String>, String> =
            t.get_ref().iter().map(|c| check_claim(c)).collect();
        report(sink, lines.line(t.span().start), claims, |v| {
            task.touches = v
        });
    }
}

/// The index of the window a task names in its day, or an error message.
fn resolve_window(
    id: &str,
    day: Option<u32>,
    wanted: &RawWindowRef,
    days: &[Day],
) -> Result<usize, String> {
    let shown = match wanted {
        RawWindowRef::Name(name) => format!("'{name}'"),
        RawWindowRef::Number(n) => n.to_string(),
    };
    let Some(number) = day else {
        return Err(format!(
            "task {id} names window {shown} but no day; add a line like day = 1"
        ));
    };
    let Some(day) = days.iter().find(|d| d.number == number) else {
        return Err(format!(
            "task {id} names window {shown} of day {number}, which has no [[day]] table"
        ));
    };
    let found = match wanted {
        RawWindowRef::Name(name) => day.windows.iter().position(|w| &w.name == name),
        RawWindowRef::Number(n) => n.checked_sub(1).filter(|&i| i < day.windows.len()),
    };
    found.ok_or_else(|| {
        let names: Vec<String> = day
            .windows
            .iter()
            .map(|w| format!("'{}'", w.name))
            .collect();
        let have = if names.is_empty() {
            "it has none".to_string()
        } else {
            format!("its windows are {}", names.join(", "))
        };
        format!("task {id} names window {shown}, which day {number} does not have; {have}")
    })
}

/// Applies a parsed value, or reports its error at `line`.
fn report<T>(sink: &mut Sink, line: usize, result: Result<T, String>, apply: impl FnOnce(T)) {
    match result {
        Ok(v) => apply(v),
        Err(m) => sink.error(line, m),
    }
}
