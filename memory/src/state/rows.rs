//! Row types of the `swarm_*` tables.

/// A loaded plan (`swarm_plans`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRow {
    /// Plan id.
    pub id: i64,
    /// Plan name.
    pub name: String,
    /// File name it was loaded from (for messages).
    pub file: String,
    /// `markdown` or `toml`.
    pub format: String,
    /// The plan's text, recompiled after a restart.
    pub source: String,
    /// Extra roles it was compiled with.
    pub roles_toml: String,
    /// `running`, `paused`, `succeeded`, `failed`.
    pub state: String,
    /// When it was loaded, ms.
    pub loaded_at: i64,
    /// When it finished, ms.
    pub finished_at: Option<i64>,
    /// The plan clock, as JSON (empty: none).
    pub clock: String,
}

/// One checkpoint and its report (`swarm_checkpoints`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckpointRow {
    /// Checkpoint number.
    pub id: i64,
    /// Plan.
    pub plan_id: i64,
    /// Its name (`Daily Standup`).
    pub kind: String,
    /// Wall time, ms.
    pub at: i64,
    /// Plan time, ms.
    pub plan_time: i64,
    /// Plan day.
    pub plan_day: u32,
    /// The report, markdown.
    pub report: String,
    /// Reallocation decisions, a JSON list of strings.
    pub decisions: String,
}

/// A task's durable state (`swarm_tasks`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRow {
    /// Index in the plan's task list.
    pub idx: u32,
    /// Task id.
    pub id: String,
    /// Task state name.
    pub state: String,
    /// Attempts made.
    pub attempts: u32,
    /// Attempts that failed (count against the retry budget).
    pub failures: u32,
    /// Attempts lost with their agent (do not).
    pub losses: u32,
    /// Not to be dispatched before this time, ms (retry backoff).
    pub not_before: Option<i64>,
    /// Why it is failed, blocked, skipped or cancelled.
    pub reason: Option<String>,
    /// Last change, ms.
    pub updated_at: i64,
}

/// One attempt (`swarm_attempts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRow {
    /// Fencing number.
    pub id: u64,
    /// Plan.
    pub plan_id: i64,
    /// Task index.
    pub task_idx: u32,
    /// 1-based attempt number of the task.
    pub number: u32,
    /// Agent ids, lead first.
    pub agents: Vec<String>,
    /// The role each agent played, in the same order (empty when stored
    /// by a build that did not keep them).
    pub roles: Vec<String>,
    /// Attempt state name.
    pub state: String,
    /// Created (offered), ms.
    pub created_at: i64,
    /// Executor started, ms.
    pub started_at: Option<i64>,
    /// Ended, ms.
    pub ended_at: Option<i64>,
    /// Exit code of the executor.
    pub exit_code: Option<i32>,
    /// Outcome message.
    pub message: String,
    /// Output bytes the agent shed under pressure.
    pub output_dropped: u64,
    /// The token minted for the attempt (its task's `SWARM_TOKEN`).
    pub token: String,
}

/// An agent the coordinator has seen (`swarm_agents`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRow {
    /// Agent id.
    pub id: String,
    /// Roles it can play.
    pub roles: Vec<String>,
    /// Role it plays now.
    pub active_role: String,
    /// Capacity slots.
    pub slots: u32,
    /// Host name.
    pub host: String,
    /// Labels, as a JSON object.
    pub labels: String,
    /// Agent state name.
    pub state: String,
    /// First registration, ms.
    pub registered_at: i64,
    /// Last sign of life, ms.
    pub last_seen: i64,
}

/// One event of the log (`swarm_events`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventRow {
    /// Sequence number, gap-free and increasing.
    pub seq: u64,
    /// When, ms.
    pub at: i64,
    /// What kind (`task.ready`, `attempt.started`, `agent.lost`, ...).
    pub kind: String,
    /// Plan, if any.
    pub plan_id: Option<i64>,
    /// Task, if any.
    pub task_id: Option<String>,
    /// Attempt (fencing number), if any.
    pub attempt: Option<u64>,
    /// The attempt's number within its task (1 for the first), if the
    /// attempt was recorded. Not a column: read from `swarm_attempts`.
    pub number: Option<u32>,
    /// Agent, if any.
    pub agent_id: Option<String>,
    /// Human-readable detail.
    pub message: String,
    /// Who did it, for an operator's action (`admin`, `admin (as Ann)`,
    /// `web:3f2a9c1e`, a named token, a certificate's subject).
    pub actor: Option<String>,
}

/// One chunk of an attempt's output (`swarm_logs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRow {
    /// Attempt.
    pub attempt: u64,
    /// Order within the attempt.
    pub seq: u64,
    /// 0 stdout, 1 stderr.
    pub stream: u8,
    /// The bytes.
    pub data: Vec<u8>,
}
