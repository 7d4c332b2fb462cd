//! What the scheduler core is told: the settings that shape scheduling,
//! leases, retries, the plan clock and reallocation. The daemon's own
//! configuration (listeners, TLS, backups, provisioner engines) holds one
//! of these and is loaded, merged and validated by `swarmd`.

use std::path::PathBuf;
use std::time::Duration;

/// Largest plan accepted by default, in bytes of text: 256 MiB, room for
/// a plan of a few million tasks.
pub const DEFAULT_MAX_PLAN_BYTES: u64 = swarm_plan::MAX_PLAN_BYTES;

/// The core's settings.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// Working directory; state lives in `WORKDIR/.swarm/`.
    pub workdir: PathBuf,
    /// How often agents send a heartbeat.
    pub heartbeat: Duration,
    /// An agent silent for this long is lost and its attempts re-queued.
    pub lease_ttl: Duration,
    /// After a restart, how long agents have to reconnect and resume.
    pub reconnect_grace: Duration,
    /// Retries of a failed task when its plan gives none.
    pub default_retries: u32,
    /// First retry delay; doubles with each failure.
    pub retry_backoff: Duration,
    /// Longest retry delay.
    pub retry_backoff_max: Duration,
    /// A task that loses its agent this many times fails.
    pub max_losses: u32,
    /// A task rate limited this many times in a row waits for an
    /// operator.
    pub max_rate_limited: u32,
    /// The pool of tasks that name none (`default_pool`).
    pub default_pool: String,
    /// `[pool.NAME]`: the limits of each pool of a rate-limited API.
    pub pools: std::collections::BTreeMap<String, PoolLimits>,
    /// `[budget]`: what the plan may spend, in US dollars.
    pub budget: Budgets,
    /// Output kept per attempt (the tail).
    pub log_cap_bytes: u64,
    /// Largest plan `swarmctl plan load` (and `swarmd run`) may send, in
    /// bytes of text (default [`DEFAULT_MAX_PLAN_BYTES`]).
    pub max_plan_bytes: u64,
    /// Extra roles for plans, as a roles TOML file.
    pub roles_file: Option<PathBuf>,
    /// The plan clock runs this many times faster than wall time.
    pub time_scale: f64,
    /// When tasks may start.
    pub pace: Pace,
    /// How priority and the critical path order ready tasks (`priority`
    /// in the config file): `slack` (default) or `strict`.
    pub priority: swarm_plan::policy::PriorityOrder,
    /// Plan start (plan time of loading), ms since the epoch UTC; None:
    /// when the plan is loaded.
    pub start: Option<i64>,
    /// Working day start, minutes after midnight.
    pub day_start: u16,
    /// Working day end, minutes after midnight.
    pub day_end: u16,
    /// Where checkpoint reports are appended, relative to the workdir.
    pub report_path: PathBuf,
    /// How agent pools grow and shrink.
    pub provisioner: ProvisionerKind,
    /// Per-role pool bounds: (min, max).
    pub scale: std::collections::BTreeMap<String, (u32, u32)>,
    /// Pool bound for roles not in `scale`.
    pub default_max_agents: u32,
    /// Day gates: a day's checklist and exit criteria hold back the tasks
    /// after them until their checks pass or an operator approves.
    pub gates: bool,
    /// Claude Code agent definitions (`--agents-dir`, `agents_dir`);
    /// `None`: `WORKDIR/.claude/agents` when it exists.
    pub agents_dir: Option<PathBuf>,
    /// `[exec]`: command templates for tasks without a Run command, by
    /// role and by default; they reach every agent with its assignment.
    pub exec: ExecTemplates,
    /// `[workspace]`: the repository tasks work in, a branch per attempt
    /// merged by the coordinator; `None`: tasks work in their agent's
    /// working directory.
    pub workspace: Option<WorkspaceConfig>,
}

/// The config's `[workspace]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceConfig {
    /// The repository: a path on the coordinator's host or a URL its git
    /// credentials reach (agents reach it by the same address).
    pub repo: String,
    /// The branch each plan's integration branch starts from.
    pub base: String,
    /// Where a task's Checks must pass before its merge.
    pub verify: Verify,
    /// Re-runs a task gets for merge conflicts before it fails.
    pub max_conflicts: u32,
}

impl WorkspaceConfig {
    /// `repo` with the defaults: base `main`, Checks on the merged tree,
    /// three re-runs for conflicts.
    pub fn new(repo: impl Into<String>) -> WorkspaceConfig {
        WorkspaceConfig {
            repo: repo.into(),
            base: "main".to_string(),
            verify: Verify::Merged,
            max_conflicts: 3,
        }
    }
}

/// Whether a repository's address is a URL git understands
/// (`scheme://…` or scp-like `host:path`) rather than a path.
pub fn is_url(repo: &str) -> bool {
    repo.contains("://")
        || repo
            .split_once(':')
            .is_some_and(|(host, _)| !host.contains('/') && host.len() > 1)
}

/// Where a task's Checks run before its work is merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// On the attempt's own branch, by the agent that ran it.
    Branch,
    /// On the merged tree, before the integration branch moves.
    Merged,
}

impl std::str::FromStr for Verify {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "branch" => Ok(Verify::Branch),
            "merged" => Ok(Verify::Merged),
            _ => Err(format!("verify '{s}' must be branch or merged")),
        }
    }
}

/// A pool's limits (`[pool.NAME]`); `None`: no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolLimits {
    /// Executing attempts at once, each gang member that runs counted.
    pub concurrency: Option<u32>,
    /// Attempts started per minute (members that run counted).
    pub per_minute: Option<u32>,
}

/// Budgets in US dollars (`[budget] plan_usd, day_usd`, `[budget.role]`);
/// `None`: no budget.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Budgets {
    /// The whole plan.
    pub plan_usd: Option<f64>,
    /// Each plan day.
    pub day_usd: Option<f64>,
    /// Per role, by canonical name.
    pub roles: std::collections::BTreeMap<String, f64>,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            workdir: PathBuf::from("."),
            heartbeat: Duration::from_secs(5),
            lease_ttl: Duration::from_secs(15),
            reconnect_grace: Duration::from_secs(20),
            default_retries: 0,
            retry_backoff: Duration::from_secs(1),
            retry_backoff_max: Duration::from_secs(60),
            max_losses: 5,
            max_rate_limited: 20,
            default_pool: "default".to_string(),
            pools: Default::default(),
            budget: Budgets::default(),
            log_cap_bytes: 1024 * 1024,
            max_plan_bytes: DEFAULT_MAX_PLAN_BYTES,
            roles_file: None,
            time_scale: 1.0,
            pace: Pace::Asap,
            priority: Default::default(),
            start: None,
            day_start: 9 * 60,
            day_end: 17 * 60,
            report_path: PathBuf::from("docs/plans/DAILY_PROGRESS_REPORT.md"),
            provisioner: ProvisionerKind::None,
            scale: Default::default(),
            default_max_agents: 4,
            gates: false,
            agents_dir: None,
            exec: ExecTemplates::default(),
            workspace: None,
        }
    }
}

impl CoreConfig {
    /// `WORKDIR/.swarm`.
    pub fn state_dir(&self) -> PathBuf {
        self.workdir.join(".swarm")
    }

    /// Pool bounds of a role: (min, max).
    pub fn bounds(&self, role: &str) -> (u32, u32) {
        self.scale
            .get(role)
            .copied()
            .unwrap_or((0, self.default_max_agents))
    }

    /// Where agent definitions are read from: `agents_dir` (relative to
    /// the workdir), else `WORKDIR/.claude/agents` when it exists.
    pub fn agents_dir(&self) -> Option<PathBuf> {
        match &self.agents_dir {
            Some(d) => Some(self.workdir.join(d)),
            None => Some(self.workdir.join(".claude").join("agents")).filter(|d| d.is_dir()),
        }
    }

    /// `WORKDIR/.swarm/swarmd.db`: the coordinator's own state.
    pub fn state_db_path(&self) -> PathBuf {
        self.state_dir().join("swarmd.db")
    }

    /// `WORKDIR/.swarm/memory.db`: the memory shared with claude-flow.
    pub fn memory_path(&self) -> PathBuf {
        self.state_dir().join("memory.db")
    }
}

/// The config's `[exec]` table: `default = "..."` and `ROLE = "..."`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecTemplates {
    /// For every role without its own.
    pub default: Option<String>,
    /// By role.
    pub roles: std::collections::BTreeMap<String, String>,
}

/// When a task may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// As soon as its dependencies allow.
    Asap,
    /// Not before its planned day starts on the plan clock.
    Calendar,
}

/// How agent pools are scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProvisionerKind {
    /// Report shortfalls only.
    None,
    /// Spawn and stop local swarm-agent processes.
    Process,
    /// Create and remove agent containers.
    Docker,
    /// One Docker Swarm service per role, scaled by its replicas.
    Swarm,
}

impl std::str::FromStr for Pace {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "asap" => Ok(Pace::Asap),
            "calendar" => Ok(Pace::Calendar),
            _ => Err(format!("pace '{s}' must be asap or calendar")),
        }
    }
}

impl std::str::FromStr for ProvisionerKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(ProvisionerKind::None),
            "process" => Ok(ProvisionerKind::Process),
            "docker" => Ok(ProvisionerKind::Docker),
            "swarm" => Ok(ProvisionerKind::Swarm),
            _ => Err(format!(
                "provisioner '{s}' must be none, process, docker or swarm"
            )),
        }
    }
}
