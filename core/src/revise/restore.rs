//! After a restart, the plan that runs is its newest version, arranged on
//! the positions its tasks have in the store: the version's text is
//! compiled again, and a task that left the plan takes its definition
//! from the newest older version that still had it.

use std::collections::HashMap;

use rusqlite::Connection;
use swarm_memory::state::{plan_versions, PlanRow, TaskRow};
use swarm_plan::revise::arrange;
use swarm_plan::{CompiledPlan, Need, Task};

use super::history::stored_text;
use crate::command::PlanText;
use crate::setup::{compile, Profiles};
use crate::{CoreError, State};

impl State {
    /// The stored plan `row` compiled at its newest version, on the
    /// positions of its stored `tasks`; with its roles' profiles and the
    /// version.
    pub(crate) fn compile_stored(
        &self,
        db: &Connection,
        row: &PlanRow,
        tasks: &[TaskRow],
    ) -> Result<(CompiledPlan, Profiles, u32), CoreError> {
        let version = plan_versions(db, row.id)?.last().map_or(1, |v| v.version);
        let text = if version > 1 {
            stored_text(db, row.id, version)?
        } else {
            PlanText {
                file_name: row.file.clone(),
                text: row.source.clone(),
                toml: row.format == "toml",
                roles_toml: row.roles_toml.clone(),
            }
        };
        let roles = crate::roles::RolesSource::of(&self.cfg);
        let (compiled, profiles) = compile(&text, &roles)
            .map_err(|e| CoreError::Recovery(format!("the stored plan no longer compiles: {e}")))?;
        let ids: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
        let same = ids.len() == compiled.plan.tasks.len()
            && ids
                .iter()
                .zip(&compiled.plan.tasks)
                .all(|(a, b)| *a == b.id);
        if same || ids.is_empty() {
            return Ok((compiled, profiles, version));
        }
        let mut older = Older::new(db, row, version, &roles);
        let arranged = arrange(&ids, &mut |i| older.definition(ids[i]), compiled);
        if let Some(e) = older.error {
            return Err(e);
        }
        Ok((arranged.plan, profiles, version))
    }
}

/// The older versions of a plan, compiled as they are needed.
struct Older<'a> {
    db: &'a Connection,
    row: &'a PlanRow,
    /// The next version to compile, going back (0: none left).
    next: u32,
    roles: &'a crate::roles::RolesSource,
    /// Definitions found so far, by task id.
    found: HashMap<String, (Task, Need)>,
    /// The first error met.
    error: Option<CoreError>,
}

impl<'a> Older<'a> {
    fn new(
        db: &'a Connection,
        row: &'a PlanRow,
        newest: u32,
        roles: &'a crate::roles::RolesSource,
    ) -> Older<'a> {
        Older {
            db,
            row,
            next: newest.saturating_sub(1),
            roles,
            found: HashMap::new(),
            error: None,
        }
    }

    /// Task `id`'s definition in the newest older version that had it
    /// (a bare one, should none have it).
    fn definition(&mut self, id: &str) -> (Task, Need) {
        while !self.found.contains_key(id) && self.next > 0 {
            let version = self.next;
            self.next -= 1;
            if let Err(e) = self.compile(version) {
                self.error.get_or_insert(e);
            }
        }
        self.found.get(id).cloned().unwrap_or_else(|| {
            let task = Task {
                id: id.to_string(),
                title: id.to_string(),
                ..Task::default()
            };
            (task, Need::Roles(std::sync::Arc::from([])))
        })
    }

    fn compile(&mut self, version: u32) -> Result<(), CoreError> {
        let text = if version > 1 {
            stored_text(self.db, self.row.id, version)?
        } else {
            PlanText {
                file_name: self.row.file.clone(),
                text: self.row.source.clone(),
                toml: self.row.format == "toml",
                roles_toml: self.row.roles_toml.clone(),
            }
        };
        let (compiled, _) = compile(&text, self.roles).map_err(|e| {
            CoreError::Recovery(format!(
                "version {version} of the plan no longer compiles: {e}"
            ))
        })?;
        let CompiledPlan { plan, tasks, .. } = compiled;
        for (spec, task) in plan.tasks.into_iter().zip(tasks) {
            self.found
                .entry(spec.id.clone())
                .or_insert((spec, task.need));
        }
        Ok(())
    }
}
