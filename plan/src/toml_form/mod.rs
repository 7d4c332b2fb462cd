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
mod task;
mod write;

use crate::diagnostic::{Sink, SourceMap};
use crate::fields::{parse_duration, parse_role_counts, parse_time_of_day};
use crate::model::{Checkpoint, Criterion, Day, MatrixRow, Plan, PlanDuration, RoleLists, Window};
use crate::Parsed;
use raw::{RawCheckpoint, RawCriterion, RawDay, RawMatrixRow, RawPlan, RawWindow};
use task::read_task;
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
        let (day, line) = read_day(day, &lines, &mut sink);
        plan.days.push(day);
        map.days.push(line);
    }
    let mut roles = RoleLists::default();
    for raw_task in raw.task {
        let (mut task, task_lines) = read_task(raw_task, &plan.days, &lines, &mut sink);
        roles.share_agents(&mut task.agents);
        plan.tasks.push(task);
        map.tasks.push(task_lines);
    }
    for row in raw.matrix {
        map.matrix.push(lines.line(row.span().start));
        plan.matrix.push(matrix_row(row.into_inner()));
    }
    for cp in raw.checkpoint {
        let line = lines.line(cp.span().start);
        if let Some(checkpoint) = read_checkpoint(cp.into_inner(), line, &mut sink) {
            plan.checkpoints.push(checkpoint);
        }
    }
    Parsed {
        plan,
        map,
        diagnostics: sink.found,
    }
}

/// A `[[day]]` table, its windows laid out, and the line it starts on.
fn read_day(raw: RawDay, lines: &LineIndex, sink: &mut Sink) -> (Day, usize) {
    let line = lines.line(raw.number.span().start);
    let duration = raw.duration.and_then(|d| {
        let l = lines.line(d.span().start);
        parse_duration(d.get_ref())
            .map_err(|m| sink.error(l, m))
            .ok()
    });
    let windows = raw
        .window
        .into_iter()
        .map(|w| read_window(w, lines, sink))
        .collect();
    let mut day = Day {
        number: raw.number.into_inner(),
        title: raw.title,
        duration,
        exit_criteria: criteria(raw.exit_criteria),
        windows,
    };
    day.lay_out_windows();
    (day, line)
}

/// A `[[matrix]]` row: roles per count, or a swarm phrase kept as written.
fn matrix_row(row: RawMatrixRow) -> MatrixRow {
    let (roles, swarm) = match parse_role_counts(&row.specializations) {
        Some(roles) => (roles, None),
        None => (Vec::new(), Some(row.specializations)),
    };
    MatrixRow {
        day: row.day,
        phase: row.phase,
        agents_required: row.agents_required,
        roles,
        swarm,
    }
}

/// A `[[checkpoint]]` table, or None (an error at `line`) when its time
/// cannot be read.
fn read_checkpoint(cp: RawCheckpoint, line: usize, sink: &mut Sink) -> Option<Checkpoint> {
    match parse_time_of_day(&cp.time) {
        Some(minute_of_day) => Some(Checkpoint {
            name: cp.name,
            minute_of_day,
            agenda: cp.agenda,
        }),
        None => {
            sink.error(
                line,
                format!(
                    "checkpoint '{}' has time '{}': expected a time like '09:00' or '1:00 PM'",
                    cp.name, cp.time
                ),
            );
            None
        }
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
