//! The TOML surface of a plan, for generated plans: the same fields as the
//! markdown form, one `[[task]]` table per task. Field values use the
//! markdown phrases (`agent = "DevOps Engineer + Security Auditor"`,
//! `duration = "2 hours"`, `depends_on = ["Task 1.1", "Day 5"]`), parsed by
//! the same code. A task without `depends_on` waits for the previous day,
//! exactly like a markdown task without a Dependencies bullet; an empty
//! list means no dependency.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::diagnostic::{Sink, SourceMap, TaskLines};
use crate::fields::{
    parse_agents, parse_depends, parse_duration, parse_priority, parse_role_counts,
    parse_time_of_day,
};
use crate::markdown::agents_phrase;
use crate::model::{Checkpoint, Criterion, Day, MatrixRow, Note, Plan, PlanDuration, Task};
use crate::Parsed;

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    #[serde(default)]
    name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    properties: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    day: Vec<RawDay>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    task: Vec<RawTask>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    matrix: Vec<Spanned<RawMatrixRow>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    checkpoint: Vec<Spanned<RawCheckpoint>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDay {
    number: Spanned<u32>,
    #[serde(default)]
    title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    duration: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    exit_criteria: Vec<RawCriterion>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCriterion {
    text: String,
    #[serde(default)]
    done: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    check: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    id: Spanned<String>,
    #[serde(default)]
    title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    day: Option<u32>,
    agent: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    priority: Option<Spanned<String>>,
    duration: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    depends_on: Option<Spanned<Vec<String>>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    deliverables: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    success_criteria: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    blocking: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    run: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    check: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timeout: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retries: Option<Spanned<u32>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    note: Vec<RawNote>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNote {
    field: String,
    #[serde(default)]
    value: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    body: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatrixRow {
    day: u32,
    #[serde(default)]
    phase: String,
    #[serde(default)]
    agents_required: String,
    #[serde(default)]
    specializations: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheckpoint {
    name: String,
    time: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    agenda: Vec<String>,
}

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
        plan.days.push(Day {
            number: day.number.into_inner(),
            title: day.title,
            duration,
            exit_criteria: day
                .exit_criteria
                .into_iter()
                .map(|c| Criterion {
                    text: c.text,
                    done: c.done,
                    check: c.check,
                })
                .collect(),
        });
        map.days.push(line);
    }
    for raw_task in raw.task {
        let (task, task_lines) = read_task(raw_task, &lines, &mut sink);
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

fn read_task(raw: RawTask, lines: &LineIndex, sink: &mut Sink) -> (Task, TaskLines) {
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
    task.id = id;
    (task, task_lines)
}

fn report<T>(sink: &mut Sink, line: usize, result: Result<T, String>, apply: impl FnOnce(T)) {
    match result {
        Ok(v) => apply(v),
        Err(m) => sink.error(line, m),
    }
}

/// Renders a plan as TOML that [`parse`] reads back to the same plan.
pub fn write(plan: &Plan) -> String {
    let spanned = |v| Spanned::new(0..0, v);
    let duration = |d: PlanDuration| spanned(d.to_string());
    let raw = RawPlan {
        name: plan.name.clone(),
        properties: plan.properties.clone(),
        day: plan
            .days
            .iter()
            .map(|d| RawDay {
                number: Spanned::new(0..0, d.number),
                title: d.title.clone(),
                duration: d.duration.map(duration),
                exit_criteria: d
                    .exit_criteria
                    .iter()
                    .map(|c| RawCriterion {
                        text: c.text.clone(),
                        done: c.done,
                        check: c.check.clone(),
                    })
                    .collect(),
            })
            .collect(),
        task: plan
            .tasks
            .iter()
            .map(|t| RawTask {
                id: spanned(t.id.clone()),
                title: t.title.clone(),
                day: t.day,
                agent: Some(spanned(agents_phrase(&t.agents))),
                priority: Some(spanned(t.priority.to_string())),
                duration: Some(duration(t.duration)),
                depends_on: t
                    .depends
                    .as_ref()
                    .map(|d| Spanned::new(0..0, d.iter().map(ToString::to_string).collect())),
                deliverables: t.deliverables.clone(),
                success_criteria: t.success_criteria.clone(),
                blocking: t.blocking.clone(),
                run: t.run.clone(),
                check: t.checks.clone(),
                image: t.image.clone(),
                timeout: t.timeout.map(duration),
                retries: t.retries.map(|r| Spanned::new(0..0, r)),
                note: t
                    .notes
                    .iter()
                    .map(|n| RawNote {
                        field: n.field.clone(),
                        value: n.value.clone(),
                        body: n.body.clone(),
                    })
                    .collect(),
            })
            .collect(),
        matrix: plan
            .matrix
            .iter()
            .map(|r| {
                Spanned::new(
                    0..0,
                    RawMatrixRow {
                        day: r.day,
                        phase: r.phase.clone(),
                        agents_required: r.agents_required.clone(),
                        specializations: r.swarm.clone().unwrap_or_else(|| {
                            r.roles
                                .iter()
                                .map(|(p, n)| format!("{p} ({n})"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        }),
                    },
                )
            })
            .collect(),
        checkpoint: plan
            .checkpoints
            .iter()
            .map(|c| {
                Spanned::new(
                    0..0,
                    RawCheckpoint {
                        name: c.name.clone(),
                        time: c.time_label(),
                        agenda: c.agenda.clone(),
                    },
                )
            })
            .collect(),
    };
    toml::to_string(&raw)
        .unwrap_or_else(|e| format!("# this plan cannot be written as TOML: {e}\n"))
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
