//! Writing a plan as TOML: the model turned back into the [`super::raw`]
//! shapes, so that [`super::parse`] reads the same plan.

use toml::Spanned;

use super::raw::{
    RawCheckpoint, RawCriterion, RawDay, RawMatrixRow, RawNote, RawPlan, RawTask, RawWindow,
    RawWindowRef,
};
use crate::claims::Workspace;
use crate::markdown::agents_phrase;
use crate::model::{Checkpoint, Criterion, Day, Gang, MatrixRow, Plan, PlanDuration, Task};

/// Renders a plan as TOML that [`super::parse`] reads back to the same plan.
pub fn write(plan: &Plan) -> String {
    let raw = RawPlan {
        name: plan.name.clone(),
        properties: plan.properties.clone(),
        day: plan.days.iter().map(raw_day).collect(),
        task: plan.tasks.iter().map(|t| raw_task(plan, t)).collect(),
        matrix: plan.matrix.iter().map(raw_matrix_row).collect(),
        checkpoint: plan.checkpoints.iter().map(raw_checkpoint).collect(),
    };
    toml::to_string(&raw)
        .unwrap_or_else(|e| format!("# this plan cannot be written as TOML: {e}\n"))
}

/// A value with no place in a source file: written, never read back.
fn spanned<T>(value: T) -> Spanned<T> {
    Spanned::new(0..0, value)
}

/// A duration as the phrase the parsers read (`2 hours`).
fn duration(d: PlanDuration) -> Spanned<String> {
    spanned(d.to_string())
}

fn raw_day(d: &Day) -> RawDay {
    RawDay {
        number: spanned(d.number),
        title: d.title.clone(),
        duration: d.duration.map(duration),
        exit_criteria: raw_criteria(&d.exit_criteria),
        window: d
            .windows
            .iter()
            .map(|w| RawWindow {
                name: spanned(w.name.clone()),
                duration: Some(duration(w.duration)),
                checklist: raw_criteria(&w.checklist),
            })
            .collect(),
    }
}

fn raw_task(plan: &Plan, t: &Task) -> RawTask {
    RawTask {
        id: spanned(t.id.clone()),
        title: t.title.clone(),
        day: t.day,
        window: window_ref(plan, t),
        agent: Some(spanned(agents_phrase(&t.agents))),
        priority: Some(spanned(t.priority.to_string())),
        duration: Some(duration(t.duration)),
        depends_on: t
            .depends
            .as_ref()
            .map(|d| spanned(d.iter().map(ToString::to_string).collect())),
        deliverables: t.deliverables.clone(),
        success_criteria: t.success_criteria.clone(),
        blocking: t.blocking.clone(),
        run: t.run.clone(),
        check: t.checks.clone(),
        image: t.image.clone(),
        timeout: t.timeout.map(duration),
        retries: t.retries.map(spanned),
        gang: (t.gang != Gang::All).then(|| spanned(t.gang.name().to_string())),
        workspace: (t.workspace != Workspace::Repo)
            .then(|| spanned(t.workspace.name().to_string())),
        touches: (!t.touches.is_empty()).then(|| spanned(t.touches.clone())),
        pool: t.pool.clone().map(spanned),
        note: t
            .notes
            .iter()
            .map(|n| RawNote {
                field: n.field.clone(),
                value: n.value.clone(),
                body: n.body.clone(),
            })
            .collect(),
    }
}

/// A matrix row; its roles as `Role (n), …` unless it staffs a swarm.
fn raw_matrix_row(r: &MatrixRow) -> Spanned<RawMatrixRow> {
    spanned(RawMatrixRow {
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
    })
}

fn raw_checkpoint(c: &Checkpoint) -> Spanned<RawCheckpoint> {
    spanned(RawCheckpoint {
        name: c.name.clone(),
        time: c.time_label(),
        agenda: c.agenda.clone(),
    })
}

fn raw_criteria(items: &[Criterion]) -> Vec<RawCriterion> {
    items
        .iter()
        .map(|c| RawCriterion {
            text: c.text.clone(),
            done: c.done,
            check: c.check.clone(),
        })
        .collect()
}

/// How a task names its window: by name, by position when the name repeats.
fn window_ref(plan: &Plan, task: &Task) -> Option<RawWindowRef> {
    let w = task.window?;
    let day = plan.days.iter().find(|d| Some(d.number) == task.day)?;
    let name = &day.windows.get(w)?.name;
    let repeated = day.windows.iter().filter(|x| &x.name == name).count() > 1;
    Some(if repeated {
        RawWindowRef::Number(w + 1)
    } else {
        RawWindowRef::Name(name.clone())
    })
}
