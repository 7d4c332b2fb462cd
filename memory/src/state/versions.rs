//! The versions of a plan (`swarm_plan_versions`): each revision applied
//! while it runs, with its text (recompiled after a restart: the newest
//! version is the one that runs), when, who, why and what changed.
//! Version 1 is the plan as loaded; its text stays in `swarm_plans`
//! (`source` is NULL here), so loading a plan stores its text once.

use rusqlite::{params, Connection, OptionalExtension};

use crate::StoreError;

/// One version of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VersionRow {
    /// The plan.
    pub plan_id: i64,
    /// From 1 (as loaded).
    pub version: u32,
    /// When it was applied, wall ms.
    pub at: i64,
    /// Who applied it (empty when unknown).
    pub actor: String,
    /// Why, as the operator said (may be empty).
    pub reason: String,
    /// "2 added, 1 removed, 3 changed".
    pub summary: String,
    /// The change from the version before, one line each.
    pub changes: Vec<String>,
    /// The version's text; `None` for version 1 (see `swarm_plans`).
    pub text: Option<VersionText>,
}

/// A version's text, as sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VersionText {
    /// File name it was sent as (for messages).
    pub file: String,
    /// `markdown` or `toml`.
    pub format: String,
    /// The plan's text.
    pub source: String,
    /// Extra roles it was compiled with.
    pub roles_toml: String,
}

/// Stores a version.
pub fn insert_version(conn: &Connection, v: &VersionRow) -> Result<(), StoreError> {
    let changes = serde_json::to_string(&v.changes).unwrap_or_else(|_| "[]".into());
    let text = v.text.as_ref();
    conn.prepare_cached(
        "INSERT INTO swarm_plan_versions
         (plan_id, version, at, actor, reason, summary, changes, file, format, source, roles_toml)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        v.plan_id,
        v.version,
        v.at,
        v.actor,
        v.reason,
        v.summary,
        changes,
        text.map_or("", |t| t.file.as_str()),
        text.map_or("markdown", |t| t.format.as_str()),
        text.map(|t| t.source.as_str()),
        text.map_or("", |t| t.roles_toml.as_str()),
    ])?;
    Ok(())
}

/// Every stored version of a plan, oldest first, without their texts.
pub fn plan_versions(conn: &Connection, plan_id: i64) -> Result<Vec<VersionRow>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT version, at, actor, reason, summary, changes FROM swarm_plan_versions
         WHERE plan_id = ?1 ORDER BY version",
    )?;
    let rows = stmt.query_map([plan_id], |r| {
        Ok((
            VersionRow {
                plan_id,
                version: r.get(0)?,
                at: r.get(1)?,
                actor: r.get(2)?,
                reason: r.get(3)?,
                summary: r.get(4)?,
                changes: Vec::new(),
                text: None,
            },
            r.get::<_, String>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (mut v, changes) = row?;
        v.changes = serde_json::from_str(&changes).map_err(|e| StoreError::Corrupt {
            table: "swarm_plan_versions",
            detail: format!("changes of version {} are not a JSON list: {e}", v.version),
        })?;
        out.push(v);
    }
    Ok(out)
}

/// The text of version `version` of a plan: `None` when there is no such
/// version, or it is version 1 (whose text is the plan's own).
pub fn version_text(
    conn: &Connection,
    plan_id: i64,
    version: u32,
) -> Result<Option<VersionText>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT file, format, source, roles_toml FROM swarm_plan_versions
             WHERE plan_id = ?1 AND version = ?2 AND source IS NOT NULL",
            params![plan_id, version],
            |r| {
                Ok(VersionText {
                    file: r.get(0)?,
                    format: r.get(1)?,
                    source: r.get(2)?,
                    roles_toml: r.get(3)?,
                })
            },
        )
        .optional()?)
}

/// Who loaded a plan: the actor of its `plan.loaded` event, if named.
pub fn loaded_by(conn: &Connection, plan_id: i64) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT actor FROM swarm_events WHERE plan_id = ?1 AND kind = 'plan.loaded'
             ORDER BY seq LIMIT 1",
            [plan_id],
            |r| r.get::<_, Option<String>>(0),
        )
        .optional()?
        .flatten())
}

/// A plan's dependencies are stored again (a revision changed them).
pub fn delete_dependencies(conn: &Connection, plan_id: i64) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM swarm_dependencies WHERE plan_id = ?1")?
        .execute([plan_id])?;
    Ok(())
}

/// A revision renamed the plan.
pub fn set_plan_name(conn: &Connection, plan_id: i64, name: &str) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE swarm_plans SET name = ?2 WHERE id = ?1")?
        .execute(params![plan_id, name])?;
    Ok(())
}
