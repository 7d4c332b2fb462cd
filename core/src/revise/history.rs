//! The versions of the running plan, as `swarmctl plan history` lists
//! them, and the text of any one of them, which `swarmctl plan diff`
//! compiles (off the loop) to compare two.

use rusqlite::Connection;
use swarm_memory::state::{latest_plan, loaded_by, plan_versions, version_text, VersionRow};

use crate::active::ActivePlan;
use crate::command::PlanText;
use crate::{CoreError, State};

/// One version of the plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionView {
    /// From 1 (as loaded).
    pub version: u32,
    /// When it was applied (loaded, for version 1), wall ms.
    pub at: i64,
    /// Who applied it (empty when unknown).
    pub actor: String,
    /// Why, as the operator said.
    pub reason: String,
    /// "2 added, 1 removed, 3 changed"; "loaded: N tasks" for version 1.
    pub summary: String,
    /// The change from the version before, one line each.
    pub changes: Vec<String>,
}

/// Version 1 of `plan`, as loaded, stored before its first revision.
pub(super) fn first_version(db: &Connection, plan: &ActivePlan) -> Result<VersionRow, CoreError> {
    Ok(VersionRow {
        plan_id: plan.id(),
        version: 1,
        at: plan.loaded_at(),
        actor: loaded_by(db, plan.id())?.unwrap_or_default(),
        reason: String::new(),
        summary: format!("loaded: {}", swarm_text::count(plan.len() as u64, "task")),
        changes: Vec::new(),
        text: None,
    })
}

impl State {
    /// Every version of the plan, oldest first.
    pub(crate) fn plan_history(&self, db: &Connection) -> Result<Vec<VersionView>, CoreError> {
        let plan = self.plan.as_ref().ok_or_else(no_plan)?;
        let mut rows = plan_versions(db, plan.id())?;
        if rows.is_empty() {
            rows.push(first_version(db, plan)?);
        }
        Ok(rows
            .into_iter()
            .map(|r| VersionView {
                version: r.version,
                at: r.at,
                actor: r.actor,
                reason: r.reason,
                summary: r.summary,
                changes: r.changes,
            })
            .collect())
    }

    /// The text of version `version` of the plan (0: the one running).
    pub(crate) fn plan_text(&self, db: &Connection, version: u32) -> Result<PlanText, CoreError> {
        let plan = self.plan.as_ref().ok_or_else(no_plan)?;
        let version = if version == 0 {
            plan.version()
        } else {
            version
        };
        if version > plan.version() {
            return Err(CoreError::NotFound(format!(
                "plan '{}' has no version {version}; its versions are 1 to {} ('swarmctl plan history')",
                plan.name(),
                plan.version()
            )));
        }
        stored_text(db, plan.id(), version)
    }
}

/// The stored text of version `version` of plan `plan_id`.
pub(super) fn stored_text(
    db: &Connection,
    plan_id: i64,
    version: u32,
) -> Result<PlanText, CoreError> {
    if version > 1 {
        let text = version_text(db, plan_id, version)?.ok_or_else(|| {
            CoreError::Recovery(format!(
                "plan {plan_id}: version {version} has no stored text"
            ))
        })?;
        return Ok(PlanText {
            file_name: text.file,
            text: text.source,
            toml: text.format == "toml",
            roles_toml: text.roles_toml,
        });
    }
    match latest_plan(db)? {
        Some(row) if row.id == plan_id => Ok(PlanText {
            file_name: row.file,
            text: row.source,
            toml: row.format == "toml",
            roles_toml: row.roles_toml,
        }),
        _ => Err(CoreError::NotFound(format!("plan {plan_id} is not stored"))),
    }
}

fn no_plan() -> CoreError {
    CoreError::NotFound("no plan is loaded; load one with 'swarmctl plan load FILE'".into())
}
