//! The TOML surface of a plan, for generated plans: the same fields as the
//! markdown form, one `[[task]]` table per task. Field values use the
//! markdown phrases (`agent = "DevOps Engineer + Security Auditor"`,
//! `duration = "2 hours"`, `depends_on = ["Task 1.1", "Day 5"]`), parsed by
//! the same code. A task without `depends_on` waits like a markdown task
//! without a Dependencies bullet (the nearest earlier window of its day
//! with tasks, else the previous day); an empty list means no dependency.
//!
//! A day's windows are `[[day.window]]` tables in the order they open
//! (`name`, `duration`, and an optional `checklist` of `{ text, done,
//! check }` items); a task sits in one with `window = "Morning Sprint"`,
//! the name of a window of its `day`. When a day has two windows of the
//! same name, a task names its window by position instead
//! (`window = 2`, counting from 1). Offsets are not written: windows are
//! laid end to end, as in markdown.

mod raw;
mod write;

use toml::Spanned;

use crate::diagnostic::{Sink, SourceMap, TaskLines};
use crate::fields::{
    parse_agents, parse_depends, parse_duration, parse_priority, parse_role_counts,
    parse_time_of_day,
};
use crate::model::{Checkpoint, Criterion, Day, MatrixRow, Note, Plan, PlanDuration, Task, Window};
use crate::Parsed;
use raw::{RawCriterion, RawPlan, RawTask, RawWindow, RawWindowRef};
pub use write::write;

/// Parses a TOML plan. Like the markdown parser it never fails outright:
/// problems are in the returned diagnostics.
pub fn parse(text: &str, file: &str) -> Parsed {
    let mut sink = Sink::new(file);
    let lines = LineIndex::new(text);
    let mut map = SourceMap {
        file: file.to_string(),
        ..SourceMap::default()
    };
    let raw: RawPlan = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let line = e.span().map(|s| lines.line(s.start)).unwrap_or(1);
            sink.error(line, format!("invalid TOML plan: {}", e.message()));
            RawPlan::default()
        }
    };
    let mut plan = Plan {
        name: raw.name,
        properties: raw.properties,
        ..Plan::default()
    };
    for day in raw.day {
        let line = lines.line(day.number.span().start);
        let duration = day.duration.and_then(|d| {
            let l = lines.line(d.span().start);
            parse_duration(d.get_ref())
                .map_err(|m| sink.error(l, m))
                .ok()
        });
        let windows = day
            .window
            .into_iter()
            .map(|w| read_window(w, &lines, &mut sink))
            .collect();
        let mut day = Day {
            number: day.number.into_inner(),
            title: day.title,
            duration,
            exit_criteria: criteria(day.exit_criteria),
            windows,
        };
        day.lay_out_windows();
        plan.days.push(day);
        map.days.push(line);
    }
    for raw_task in raw.task {
        let (task, task_lines) = read_task(raw_task, &plan.days, &lines, &mut sink);
        plan.tasks.push(task);
        map.tasks.push(task_lines);
    }
    for row in raw.matrix {
        map.matrix.push(lines.line(row.span().start));
        let row = row.into_inner();
        let (roles, swarm) = match parse_role_counts(&row.specializations) {
            Some(roles) => (roles, None),
            None => (Vec::new(), Some(row.specializations)),
        };
        plan.matrix.push(MatrixRow {
            day: row.day,
            phase: row.phase,
            agents_required: row.agents_required,
            roles,
            swarm,
        });
    }
    for cp in raw.checkpoint {
        let line = lines.line(cp.span().start);
        let cp = cp.into_inner();
        match parse_time_of_day(&cp.time) {
            Some(minute_of_day) => plan.checkpoints.push(Checkpoint {
                name: cp.name,
                minute_of_day,
                agenda: cp.agenda,
            }),
            None => sink.error(
                line,
                format!(
                    "checkpoint '{}' has time '{}': expected a time like '09:00' or '1:00 PM'",
                    cp.name, cp.time
                ),
            ),
        }
    }
    Parsed {
        plan,
        map,
        diagnostics: sink.found,
    }
}

fn criteria(raw: Vec<RawCriterion>) -> Vec<Criterion> {
    raw.into_iter()
        .map(|c| Criterion {
            text: c.text,
            done: c.done,
            check: c.check,
        })
        .collect()
}

fn read_window(raw: RawWindow, lines: &LineIndex, sink: &mut Sink) -> Window {
    let line = lines.line(raw.name.span().start);
    let name = raw.name.into_inner();
    let duration = match &raw.duration {
        Some(d) => parse_duration(d.get_ref())
            .map_err(|m| sink.error(lines.line(d.span().start), format!("window '{name}': {m}")))
            .unwrap_or_default(),
        None => {
            sink.error(
                line,
                format!("window '{name}' has no duration; add a line like duration = \"4 hours\""),
            );
            PlanDuration::default()
        }
    };
    Window {
        name,
        duration,
        checklist: criteria(raw.checklist),
        ..Window::default()
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

fn read_task(raw: RawTask, days: &[Day], lines: &LineIndex, sink: &mut Sink) -> (Task, TaskLines) {
    let header = lines.line(raw.id.span().start);
    let at = |s: &Option<Spanned<String>>| {
        s.as_ref()
            .map(|s| lines.line(s.span().start))
            .unwrap_or(header)
    };
    let task_lines = TaskLines {
        header,
        agents: at(&raw.agent),
        depends: raw
            .depends_on
            .as_ref()
            .map(|d| lines.line(d.span().start))
            .unwrap_or(header),
    };
    let id = raw.id.into_inner();
    let mut task = Task {
        title: raw.title,
        day: raw.day,
        deliverables: raw.deliverables,
        success_criteria: raw.success_criteria,
        blocking: raw.blocking,
        run: raw.run,
        checks: raw.check,
        image: raw.image,
        notes: raw
            .note
            .into_iter()
            .map(|n| Note {
                field: n.field,
                value: n.value,
                body: n.body,
            })
            .collect(),
        ..Task::default()
    };
    if let Some(wanted) = &raw.window {
        match resolve_window(&id, raw.day, wanted, days) {
            Ok(w) => task.window = Some(w),
            Err(m) => sink.error(header, m),
        }
    }
    if let Err(m) = crate::fields::parse_task_id(&id) {
        sink.error(header, format!("malformed task id: {m}"));
    }
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
    if let Some(g) = &raw.gang {
        report(
            sink,
            lines.line(g.span().start),
            crate::model::Gang::parse(g.get_ref()),
            |v| task.gang = v,
        );
    }
    task.id = id;
    (task, task_lines)
}

fn report<T>(sink: &mut Sink, line: usize, result: Result<T, String>, apply: impl FnOnce(T)) {
    match result {
        Ok(v) => apply(v),
        Err(m) => sink.error(line, m),
    }
}

/// Byte offset to 1-based line.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1)
    }
}
