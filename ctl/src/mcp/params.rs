//! The input of each MCP tool, with the JSON schema an assistant sees.
//! Arguments are named as the command line names them (`id`, `key`,
//! `namespace`, ...), and an unknown one is refused rather than ignored.

use std::path::PathBuf;

use rmcp::schemars::{self, JsonSchema};
use serde::Deserialize;

use crate::cli::PlanInput;

/// A plan file (`plan_check`, `plan_load`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlanFile {
    /// The plan: markdown in the shape of the example plan, or TOML
    /// (`.toml`); relative to the directory `swarmctl mcp` runs in.
    pub path: PathBuf,
    /// Extra roles and aliases, from a TOML file of `[[role]]` tables.
    pub roles: Option<PathBuf>,
    /// Claude Code agent definitions that add roles (default:
    /// ./.claude/agents when it exists).
    pub agents_dir: Option<PathBuf>,
}

impl PlanFile {
    /// What the `plan` commands take.
    pub(crate) fn input(self) -> PlanInput {
        PlanInput {
            file: self.path,
            roles: self.roles,
            agents_dir: self.agents_dir,
        }
    }
}

/// A revised plan to apply (`plan_apply`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlanApply {
    /// The revised plan: markdown or TOML (`.toml`), relative to the
    /// directory `swarmctl mcp` runs in.
    pub path: PathBuf,
    /// Extra roles and aliases, from a TOML file of `[[role]]` tables.
    pub roles: Option<PathBuf>,
    /// Claude Code agent definitions that add roles.
    pub agents_dir: Option<PathBuf>,
    /// Only say what would change (default: apply it).
    #[serde(default)]
    pub dry_run: bool,
    /// Why, kept with the version and named in the next report.
    #[serde(default)]
    pub reason: String,
    /// Finished tasks to run again.
    #[serde(default)]
    pub rerun: Vec<String>,
    /// Running tasks to stop and start again under the new version.
    #[serde(default)]
    pub restart: Vec<String>,
}

/// One task (`task_show`, `task_result`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskId {
    /// Task id, as the plan writes it (`1.1`, `2.3`, ...).
    pub id: String,
}

/// `task_logs`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskLogs {
    /// Task id.
    pub id: String,
    /// Attempt number within the task: 1 for the first, 2 for the first
    /// retry, ... (default: the latest).
    #[schemars(range(min = 1))]
    pub attempt: Option<u32>,
    /// Read the store in DIR/.swarm/swarmd.db directly, without the daemon
    /// (which may be stopped).
    pub workdir: Option<PathBuf>,
}

/// An operator's action on a task (`task_done`, `task_fail`, `task_retry`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskAction {
    /// Task id.
    pub id: String,
    /// Why (recorded in the event log).
    #[serde(default)]
    pub reason: String,
}

/// `plan_cancel`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlanCancel {
    /// Why (recorded in the event log).
    #[serde(default)]
    pub reason: String,
}

fn default_namespace() -> String {
    "default".into()
}

/// `memory_get`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemoryKey {
    /// Key.
    pub key: String,
    /// Namespace.
    #[serde(default = "default_namespace")]
    pub namespace: String,
}

/// `memory_put`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemoryPut {
    /// Key.
    pub key: String,
    /// Value (text; JSON is stored as written).
    pub value: String,
    /// Namespace.
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// Expire after this many seconds.
    pub ttl: Option<u64>,
    /// Only if the key holds no value (compare-and-swap).
    #[serde(default)]
    pub if_absent: bool,
    /// Only if the key holds exactly this value (compare-and-swap).
    pub expect: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// `memory_list`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemoryList {
    /// Only this namespace (default: every namespace).
    pub namespace: Option<String>,
    /// Only keys starting with this.
    pub prefix: Option<String>,
}

/// `tasks`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskFilter {
    /// Only tasks in this state (pending, ready, running, succeeded,
    /// failed, blocked, skipped, cancelled).
    pub state: Option<String>,
    /// Only tasks that need this role (a role name, or a phrase as plans
    /// write it: `QA Engineer`).
    pub role: Option<String>,
    /// At most this many tasks (default 500, at most 5000).
    #[schemars(range(min = 1, max = 5000))]
    pub limit: Option<u64>,
    /// Start after the task with this id: the next page, as the note of a
    /// listing that was cut short names it.
    pub after: Option<String>,
}

/// Tasks the `tasks` tool answers with when no `limit` is given.
pub(crate) const TASKS_DEFAULT: u64 = 500;
/// Most tasks the `tasks` tool answers with.
pub(crate) const TASKS_MAX: u64 = 5000;

impl TaskFilter {
    /// The listing the tool asks swarmd for.
    pub(crate) fn listing(self) -> crate::remote::tasks::Listing {
        crate::remote::tasks::Listing {
            state: self.state,
            role: self.role,
            limit: Some(self.limit.unwrap_or(TASKS_DEFAULT).clamp(1, TASKS_MAX)),
            after: self.after,
        }
    }
}

/// `standup_run`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StandupRun {
    /// Which checkpoint (a name from the plan's Coordination Protocol, e.g.
    /// "Daily Standup"; default: the next one due).
    pub kind: Option<String>,
}

/// `standup_show`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StandupShow {
    /// Checkpoint number (default: the latest).
    pub n: Option<u64>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_namespace_defaults_and_an_unknown_argument_is_refused() {
        let key: MemoryKey = serde_json::from_value(json!({"key": "k"})).expect("parses");
        assert_eq!((key.key.as_str(), key.namespace.as_str()), ("k", "default"));
        let wrong = serde_json::from_value::<MemoryKey>(json!({"key": "k", "ns": "docs"}));
        let message = wrong.expect_err("ns is not an argument").to_string();
        assert!(message.contains("unknown field `ns`"), "{message}");
    }
}
