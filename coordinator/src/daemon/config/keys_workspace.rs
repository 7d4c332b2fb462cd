//! `[workspace]`: the repository the plan's tasks work in. Each attempt
//! works on a branch of its own in a worktree its agent makes; swarmd
//! merges succeeded attempts into the plan's integration branch in
//! dependency order (`repo` is also `SWARM_REPO` and `--repo`).

use swarm_core::config::{Verify, WorkspaceConfig};
use toml::Value;

use super::setting::{count, text, Bad, Flag, FlagUnit, Kind, Setting};
use super::Config;

/// The table's settings, made when its first key is applied (`repo` is
/// checked to be there in [`check`]).
fn table(d: &mut super::Draft) -> &mut WorkspaceConfig {
    d.c.core
        .workspace
        .get_or_insert_with(|| WorkspaceConfig::new(""))
}

/// The `[workspace]` settings, in the order they are applied.
pub static WORKSPACE: &[Setting] = &[
    Setting {
        key: "workspace.repo",
        env: Some("SWARM_REPO"),
        flag: Some(Flag {
            long: "repo",
            value_name: "PATH|URL",
            unit: FlagUnit::Same,
        }),
        default: "none",
        help: "The git repository tasks work in, a branch per attempt merged into the plan's \
               integration branch (a path, relative to the workdir, or a URL agents reach); \
               unset: tasks work in their agent's directory",
        kind: Kind::Text { env_expected: None },
        apply: |d, v| {
            let repo = text(v)?.trim().to_string();
            if repo.is_empty() {
                d.c.core.workspace = None;
            } else {
                table(d).repo = repo;
            }
            Ok(())
        },
        show: |c| {
            c.core
                .workspace
                .as_ref()
                .map(|w| Value::String(w.repo.clone()))
        },
    },
    Setting {
        key: "workspace.base",
        env: None,
        flag: None,
        default: "main",
        help: "The branch each plan's integration branch starts from",
        kind: Kind::Text { env_expected: None },
        apply: |d, v| {
            let base = text(v)?.trim().to_string();
            if base.is_empty() {
                return Err(Bad::Value("workspace.base is empty; name a branch".into()));
            }
            table(d).base = base;
            Ok(())
        },
        show: |c| {
            c.core
                .workspace
                .as_ref()
                .map(|w| Value::String(w.base.clone()))
        },
    },
    Setting {
        key: "workspace.verify",
        env: None,
        flag: None,
        default: "merged",
        help: "Where a task's Checks must pass before its work is merged: merged (on the \
               merged tree, run by an agent of its role, before the integration branch moves) \
               or branch (on its attempt's branch only); tasks without Checks merge at once",
        kind: Kind::Text {
            env_expected: Some("branch or merged"),
        },
        apply: |d, v| {
            let verify: Verify = text(v)?
                .parse()
                .map_err(|e: String| Bad::Value(format!("workspace.{e}")))?;
            table(d).verify = verify;
            Ok(())
        },
        show: |c| {
            let w = c.core.workspace.as_ref()?;
            let name = match w.verify {
                Verify::Branch => "branch",
                Verify::Merged => "merged",
            };
            Some(Value::String(name.into()))
        },
    },
    Setting {
        key: "workspace.max_conflicts",
        env: None,
        flag: None,
        default: "3",
        help: "Re-runs a task gets when its work conflicts with the integration branch \
               (no retry used), before it fails for an operator",
        kind: Kind::Count,
        apply: |d, v| {
            table(d).max_conflicts = count(v)?;
            Ok(())
        },
        show: |c| {
            let w = c.core.workspace.as_ref()?;
            Some(Value::Integer(i64::from(w.max_conflicts)))
        },
    },
];

/// `[workspace]` without a repository is an error; a relative path is
/// taken from the workdir (agents clone from the same address).
pub(super) fn check(c: &mut Config) -> Result<(), String> {
    let Some(w) = c.core.workspace.as_mut() else {
        return Ok(());
    };
    if w.repo.is_empty() {
        return Err(
            "[workspace] is set but workspace.repo is not: name the repository (repo = \"PATH or URL\", SWARM_REPO or --repo)"
                .into(),
        );
    }
    if !swarm_core::config::is_url(&w.repo) && std::path::Path::new(&w.repo).is_relative() {
        let abs = c.core.workdir.join(&w.repo);
        let abs = std::path::absolute(&abs).unwrap_or(abs);
        w.repo = abs.display().to_string();
    }
    Ok(())
}

#[cfg(test)]
mod tests;
