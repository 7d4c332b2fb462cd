//! What changed between two versions of a plan: tasks added and removed
//! (matched by id), each kept task's fields that differ, the days'
//! windows and the allocation matrix. Pure: two compiled plans in, typed
//! changes out; [`PlanDiff::lines`] is the one place they are spelled.

use std::collections::BTreeMap;

use crate::compile::{CompiledPlan, Need};

/// One field of a task that differs between two versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    /// `roles`, `priority`, `duration`, `dependencies`, ...
    pub field: &'static str,
    /// As the older version has it (`-` for nothing).
    pub before: String,
    /// As the newer version has it.
    pub after: String,
}

/// A task in both versions whose definition changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskChange {
    /// Its id.
    pub id: String,
    /// Each field that differs, in a fixed order.
    pub fields: Vec<FieldChange>,
}

/// The change from one version of a plan to the next.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanDiff {
    /// Ids of tasks only the newer version has, with a one-line summary.
    pub added: Vec<(String, String)>,
    /// Ids of tasks only the older version has, with their titles.
    pub removed: Vec<(String, String)>,
    /// Tasks in both whose definition differs.
    pub changed: Vec<TaskChange>,
    /// Windows, the allocation matrix, checkpoints and the name, as
    /// lines ("window Day 1 Morning Sprint: 4 hours → 3 hours").
    pub plan: Vec<String>,
}

impl PlanDiff {
    /// Whether the versions define the same plan.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.plan.is_empty()
    }

    /// One line per change: `+ 4.1 …`, `- 2.2 …`, `~ 2.1 duration: … → …`,
    /// `~ window …`.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (id, summary) in &self.added {
            out.push(format!("+ task {id}: {summary}"));
        }
        for (id, title) in &self.removed {
            out.push(format!("- task {id}: {title}"));
        }
        for c in &self.changed {
            for f in &c.fields {
                out.push(format!(
                    "~ task {} {}: {} → {}",
                    c.id, f.field, f.before, f.after
                ));
            }
        }
        out.extend(self.plan.iter().map(|l| format!("~ {l}")));
        out
    }

    /// "2 added, 1 removed, 3 changed" (or "no change").
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if !self.added.is_empty() {
            parts.push(format!("{} added", self.added.len()));
        }
        if !self.removed.is_empty() {
            parts.push(format!("{} removed", self.removed.len()));
        }
        if !self.changed.is_empty() {
            parts.push(format!("{} changed", self.changed.len()));
        }
        if !self.plan.is_empty() {
            let n = self.plan.len();
            parts.push(format!(
                "{n} plan-level change{}",
                if n == 1 { "" } else { "s" }
            ));
        }
        if parts.is_empty() {
            "no change".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// The change from `old` to `new`. Tasks of `old` for which `present` is
/// false (removed by an earlier revision) are not part of it.
pub fn diff(old: &CompiledPlan, present: &dyn Fn(usize) -> bool, new: &CompiledPlan) -> PlanDiff {
    let old_ids: BTreeMap<&str, usize> = (0..old.plan.tasks.len())
        .filter(|&i| present(i))
        .map(|i| (old.plan.tasks[i].id.as_str(), i))
        .collect();
    let new_ids: BTreeMap<&str, usize> = (new.plan.tasks.iter().enumerate())
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    let mut out = PlanDiff::default();
    for (i, t) in new.plan.tasks.iter().enumerate() {
        match old_ids.get(t.id.as_str()) {
            None => out.added.push((t.id.clone(), summary(new, i))),
            Some(&o) => {
                let fields = task_fields(old, o, new, i);
                if !fields.is_empty() {
                    out.changed.push(TaskChange {
                        id: t.id.clone(),
                        fields,
                    });
                }
            }
        }
    }
    for (&id, &o) in &old_ids {
        if !new_ids.contains_key(id) {
            out.removed
                .push((id.to_string(), old.plan.tasks[o].title.clone()));
        }
    }
    out.plan = plan_fields(old, new);
    out
}

/// A new task in one line: title, roles, priority, duration, after what.
fn summary(p: &CompiledPlan, i: usize) -> String {
    let t = &p.plan.tasks[i];
    let deps = deps_of(p, i);
    let after = if deps == "-" {
        String::new()
    } else {
        format!(", after {deps}")
    };
    format!(
        "{} ({}, {}, {}{after})",
        t.title,
        need(&p.tasks[i].need),
        t.priority,
        t.duration
    )
}

/// Each field of task `o` of `old` and `i` of `new` that differs.
fn task_fields(old: &CompiledPlan, o: usize, new: &CompiledPlan, i: usize) -> Vec<FieldChange> {
    let views = |p: &CompiledPlan, k: usize| -> Vec<(&'static str, String)> {
        let t = &p.plan.tasks[k];
        vec![
            ("title", t.title.clone()),
            ("roles", need(&p.tasks[k].need)),
            ("priority", t.priority.to_string()),
            ("duration", t.duration.to_string()),
            ("dependencies", deps_of(p, k)),
            ("day", t.day.map_or("-".into(), |d| d.to_string())),
            ("window", window_of(p, k)),
            ("run", t.run.clone().unwrap_or_else(|| "-".into())),
            ("check", list(&t.checks, " && ")),
            ("image", t.image.clone().unwrap_or_else(|| "-".into())),
            ("timeout", t.timeout.map_or("-".into(), |d| d.to_string())),
            ("retries", t.retries.map_or("-".into(), |r| r.to_string())),
            ("gang", t.gang.name().to_string()),
            ("touches", list(&t.touches, ", ")),
            ("pool", t.pool.clone().unwrap_or_else(|| "-".into())),
        ]
    };
    views(old, o)
        .into_iter()
        .zip(views(new, i))
        .filter(|((_, a), (_, b))| a != b)
        .map(|((field, before), (_, after))| FieldChange {
            field,
            before,
            after,
        })
        .collect()
}

/// Windows, matrix rows, checkpoints and the name that differ.
fn plan_fields(old: &CompiledPlan, new: &CompiledPlan) -> Vec<String> {
    let mut out = Vec::new();
    if old.plan.name != new.plan.name {
        out.push(format!("name: {} → {}", old.plan.name, new.plan.name));
    }
    let windows = |p: &CompiledPlan| -> BTreeMap<String, String> {
        (p.plan.days.iter())
            .flat_map(|d| {
                (d.windows.iter()).map(move |w| {
                    let at = format!("Day {} {}", d.number, w.name);
                    (
                        at,
                        format!("{}, opening {} into the day", w.duration, w.offset),
                    )
                })
            })
            .collect()
    };
    changed_entries("window", &windows(old), &windows(new), &mut out);
    let matrix = |p: &CompiledPlan| -> BTreeMap<String, String> {
        (p.matrix.iter())
            .map(|a| {
                let roles: Vec<String> = a.roles.iter().map(|(r, n)| format!("{r} {n}")).collect();
                let roles = if a.swarm && roles.is_empty() {
                    "full swarm".to_string()
                } else {
                    roles.join(", ")
                };
                (format!("matrix day {}", a.day), roles)
            })
            .collect()
    };
    changed_entries("", &matrix(old), &matrix(new), &mut out);
    let checkpoints = |p: &CompiledPlan| -> BTreeMap<String, String> {
        (p.plan.checkpoints.iter())
            .map(|c| {
                let m = c.minute_of_day;
                (
                    format!("checkpoint {}", c.name),
                    format!("{:02}:{:02}", m / 60, m % 60),
                )
            })
            .collect()
    };
    changed_entries("", &checkpoints(old), &checkpoints(new), &mut out);
    out
}

/// `what key: before → after` for each key whose value differs (`-` for
/// a key one side lacks).
fn changed_entries(
    what: &str,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
    out: &mut Vec<String>,
) {
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let dash = "-".to_string();
    for k in keys {
        let (a, b) = (old.get(k).unwrap_or(&dash), new.get(k).unwrap_or(&dash));
        if a != b {
            let label = if what.is_empty() {
                k.clone()
            } else {
                format!("{what} {k}")
            };
            out.push(format!("{label}: {a} → {b}"));
        }
    }
}

/// Roles a task needs, lead first (`sre + security`, `swarm of 8-10`).
fn need(n: &Need) -> String {
    match n {
        Need::Roles(r) => r.join(" + "),
        Need::Swarm {
            min,
            max: Some(max),
        } => format!("swarm of {min}-{max}"),
        Need::Swarm { min, max: None } => format!("swarm of at least {min}"),
        Need::Monitoring => "every agent (monitoring)".to_string(),
    }
}

/// Task `k`'s dependencies (expanded) by id, sorted, or `-`.
fn deps_of(p: &CompiledPlan, k: usize) -> String {
    let mut ids: Vec<&str> = (p.tasks[k].deps.iter())
        .map(|&d| p.plan.tasks[d].id.as_str())
        .collect();
    ids.sort_unstable();
    if ids.is_empty() {
        "-".to_string()
    } else {
        ids.join(", ")
    }
}

/// The name of task `k`'s window in its day, or `-`.
fn window_of(p: &CompiledPlan, k: usize) -> String {
    let t = &p.plan.tasks[k];
    let name = t.day.zip(t.window).and_then(|(day, w)| {
        let d = p.plan.days.iter().find(|d| d.number == day)?;
        Some(d.windows.get(w)?.name.clone())
    });
    name.unwrap_or_else(|| "-".to_string())
}

fn list(items: &[String], sep: &str) -> String {
    if items.is_empty() {
        "-".to_string()
    } else {
        items.join(sep)
    }
}
