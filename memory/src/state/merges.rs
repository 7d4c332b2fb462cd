//! A plan's repository (`swarm_workspaces`) and the merge of each attempt
//! that committed work in it (`swarm_merges`): what the merge queue picks
//! up again after a restart, and what `task show` and reports tell.

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::store::StoreError;

/// A plan's repository and integration branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceRow {
    /// The plan.
    pub plan_id: i64,
    /// The repository's address (a path or a URL).
    pub repo: String,
    /// The branch the integration branch started from.
    pub base: String,
    /// `<plan-slug>-<plan-id>`: the branches' prefix after `swarm/`.
    pub label: String,
    /// The integration branch's head as last known ("" until opened).
    pub head: String,
}

/// The merge of one attempt's work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeRow {
    /// The attempt's fencing number.
    pub attempt: u64,
    /// The plan.
    pub plan_id: i64,
    /// The task's index.
    pub task_idx: u32,
    /// The commits its members pushed, in member order.
    pub commits: Vec<String>,
    /// `queued`, `merged`, `conflict`, `failed` or `dropped`.
    pub state: String,
    /// The merge commit on the integration branch, once merged.
    pub merged: String,
    /// The files it changed (merged) or that conflicted.
    pub files: Vec<String>,
    /// What happened, for people (the conflict, the error).
    pub note: String,
    /// Queued, ms.
    pub queued_at: i64,
    /// Merged, found in conflict, or failed, ms.
    pub ended_at: Option<i64>,
}

/// Records (or replaces) plan `w.plan_id`'s repository.
///
/// # Errors
/// The store's.
pub fn upsert_workspace(conn: &Connection, w: &WorkspaceRow) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO swarm_workspaces (plan_id, repo, base, label, head)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![w.plan_id, w.repo, w.base, w.label, w.head])?;
    Ok(())
}

/// Plan `plan_id`'s repository, if it has one.
///
/// # Errors
/// The store's.
pub fn workspace_of(conn: &Connection, plan_id: i64) -> Result<Option<WorkspaceRow>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT plan_id, repo, base, label, head FROM swarm_workspaces WHERE plan_id = ?1",
        )?
        .query_row([plan_id], |r| {
            Ok(WorkspaceRow {
                plan_id: r.get(0)?,
                repo: r.get(1)?,
                base: r.get(2)?,
                label: r.get(3)?,
                head: r.get(4)?,
            })
        })
        .optional()?)
}

/// Records (or replaces) the merge of attempt `m.attempt`.
///
/// # Errors
/// The store's.
pub fn upsert_merge(conn: &Connection, m: &MergeRow) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO swarm_merges
         (attempt, plan_id, task_idx, commits, state, merged, files, note, queued_at, ended_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        m.attempt as i64,
        m.plan_id,
        m.task_idx,
        m.commits.join(" "),
        m.state,
        m.merged,
        m.files.join("\n"),
        m.note,
        m.queued_at,
        m.ended_at
    ])?;
    Ok(())
}

const MERGE_COLUMNS: &str =
    "attempt, plan_id, task_idx, commits, state, merged, files, note, queued_at, ended_at";

fn merge_row(r: &Row<'_>) -> rusqlite::Result<MergeRow> {
    let words = |s: String, sep: char| -> Vec<String> {
        s.split(sep)
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    };
    Ok(MergeRow {
        attempt: r.get::<_, i64>(0)? as u64,
        plan_id: r.get(1)?,
        task_idx: r.get(2)?,
        commits: words(r.get(3)?, ' '),
        state: r.get(4)?,
        merged: r.get(5)?,
        files: words(r.get(6)?, '\n'),
        note: r.get(7)?,
        queued_at: r.get(8)?,
        ended_at: r.get(9)?,
    })
}

/// Every merge of plan `plan_id`, oldest attempt first.
///
/// # Errors
/// The store's.
pub fn merges_of_plan(conn: &Connection, plan_id: i64) -> Result<Vec<MergeRow>, StoreError> {
    let sql =
        format!("SELECT {MERGE_COLUMNS} FROM swarm_merges WHERE plan_id = ?1 ORDER BY attempt");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([plan_id], merge_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The merges of one task of plan `plan_id`, oldest attempt first.
///
/// # Errors
/// The store's.
pub fn merges_of_task(
    conn: &Connection,
    plan_id: i64,
    task_idx: u32,
) -> Result<Vec<MergeRow>, StoreError> {
    let sql = format!(
        "SELECT {MERGE_COLUMNS} FROM swarm_merges WHERE plan_id = ?1 AND task_idx = ?2 ORDER BY attempt"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![plan_id, task_idx], merge_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The merges of plan `plan_id` that ended after `since` (ms), in the
/// order they ended: what a checkpoint report lists.
///
/// # Errors
/// The store's.
pub fn merged_since(
    conn: &Connection,
    plan_id: i64,
    since: i64,
) -> Result<Vec<MergeRow>, StoreError> {
    let sql = format!(
        "SELECT {MERGE_COLUMNS} FROM swarm_merges
         WHERE plan_id = ?1 AND state = 'merged' AND ended_at > ?2 ORDER BY ended_at, attempt"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![plan_id, since], merge_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}
