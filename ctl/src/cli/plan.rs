//! `swarmctl plan ...`: the offline plan commands and what every plan
//! command takes.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};

/// Options every plan command shares.
#[derive(Debug, clap::Args)]
pub struct PlanInput {
    /// The plan: markdown in the shape of the example plan, or TOML
    /// (`.toml`) with one `[[task]]` table per task.
    pub file: PathBuf,
    /// Extra roles and aliases, from a TOML file of `[[role]]` tables
    /// (name, description, aliases).
    #[arg(long, value_name = "FILE", env = "SWARM_ROLES")]
    pub roles: Option<PathBuf>,
    /// Claude Code agent definitions that add roles (markdown with front
    /// matter; default: ./.claude/agents when it exists, as swarmd reads
    /// WORKDIR/.claude/agents).
    #[arg(long, value_name = "DIR", env = "SWARM_AGENTS_DIR")]
    pub agents_dir: Option<PathBuf>,
}

/// The most a roles file may hold: far more than any catalogue needs,
/// and a bound on what `--roles /dev/zero` makes swarmctl read.
pub const MAX_ROLES_BYTES: u64 = 16 * 1024 * 1024;

/// Why the roles given with a plan cannot be used.
#[derive(Debug)]
pub enum RolesError {
    /// A role file or an agent definition is invalid.
    Catalogue(swarm_roles::CatalogueError),
    /// The roles file cannot be read, or is over [`MAX_ROLES_BYTES`].
    Read(swarm_client::read::ReadError),
}

impl std::fmt::Display for RolesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RolesError::Catalogue(e) => e.fmt(f),
            RolesError::Read(e) => e.fmt(f),
        }
    }
}

/// Why a plan file cannot be read whole.
#[derive(Debug)]
pub enum PlanReadError {
    /// The file cannot be opened or read.
    Unreadable(swarm_plan::LoadError),
    /// The file is over [`swarm_plan::MAX_PLAN_BYTES`]: reading stopped.
    TooLarge(swarm_client::read::ReadError),
}

impl std::fmt::Display for PlanReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanReadError::Unreadable(e) => e.fmt(f),
            PlanReadError::TooLarge(e) => e.fmt(f),
        }
    }
}

impl PlanInput {
    /// The catalogue the plan is checked against: built-in roles, the
    /// agent definitions, then the roles file (read up to
    /// [`MAX_ROLES_BYTES`]).
    pub fn catalogue(&self) -> Result<swarm_roles::Catalogue, RolesError> {
        let mut catalogue = swarm_roles::Catalogue::builtin();
        let dir = self
            .agents_dir
            .clone()
            .or_else(|| Some(PathBuf::from(".claude/agents")).filter(|d| d.is_dir()));
        if let Some(dir) = dir {
            catalogue
                .extend_from_agents_dir(&dir)
                .map_err(RolesError::Catalogue)?;
        }
        if let (Some(path), Some(text)) = (&self.roles, self.roles_text()?) {
            catalogue
                .extend_from_toml(&text, &path.display().to_string())
                .map_err(RolesError::Catalogue)?;
        }
        Ok(catalogue)
    }

    /// The roles file's text, when one was given.
    pub fn roles_text(&self) -> Result<Option<String>, RolesError> {
        let Some(path) = &self.roles else {
            return Ok(None);
        };
        let bytes = swarm_client::read::read_capped(path, MAX_ROLES_BYTES, "a roles file")
            .map_err(RolesError::Read)?;
        Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// The plan file's text, read up to [`swarm_plan::MAX_PLAN_BYTES`];
    /// bytes that are not UTF-8 become replacement characters, as
    /// [`swarm_plan::load`] reads them.
    pub fn plan_text(&self) -> Result<String, PlanReadError> {
        use swarm_client::read::ReadError;
        let bytes = swarm_client::read::read_capped(
            &self.file,
            swarm_plan::MAX_PLAN_BYTES,
            "a plan file, swarm_plan::MAX_PLAN_BYTES",
        )
        .map_err(|e| match e {
            // Worded as swarm_plan::load words it: "PATH: cannot read the plan".
            ReadError::Io { name, source } => {
                PlanReadError::Unreadable(swarm_plan::LoadError::Io { path: name, source })
            }
            e @ ReadError::TooLarge { .. } => PlanReadError::TooLarge(e),
        })?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// `09:00` is 540 minutes after midnight.
fn parse_day_start(text: &str) -> Result<u16, String> {
    let bad = || format!("'{text}' is not a time of day like 09:00");
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h < 24 && m < 60 {
        Ok(h * 60 + m)
    } else {
        Err(bad())
    }
}

/// `swarmctl plan ...`
#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Load a plan into the daemon and start it.
    Load {
        /// The plan to read.
        #[command(flatten)]
        input: PlanInput,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Abandon the running (or paused) plan: cancel every task it has not
    /// finished, stopping the attempts that run; the plan ends `cancelled`
    /// and another can be loaded. Exit 3 when no plan runs.
    Cancel {
        /// Why, recorded in the event log (`swarmctl events`).
        #[arg(
            long,
            value_name = "TEXT",
            default_value = "",
            hide_default_value = true
        )]
        reason: String,
        /// JSON output: the plan's name, how many tasks were cancelled,
        /// its state.
        #[arg(long)]
        json: bool,
    },
    /// Apply a revised plan to the running one as its next version: print
    /// what changes (tasks added, removed, and changed field by field;
    /// windows, the allocation matrix), then apply it. Succeeded tasks keep
    /// their results; running ones finish under the version they started
    /// with (their next attempt uses the new one); removed ones are stopped
    /// and leave the plan (state `removed`). A revision that is not valid
    /// changes nothing: exit 2 with FILE:LINE errors.
    Apply {
        /// The revised plan to read.
        #[command(flatten)]
        input: PlanInput,
        /// Only print what would change.
        #[arg(long)]
        dry_run: bool,
        /// Why, kept with the version and named in the next report.
        #[arg(
            long,
            value_name = "TEXT",
            default_value = "",
            hide_default_value = true
        )]
        reason: String,
        /// Run these finished tasks again (succeeded, skipped, failed,
        /// blocked or cancelled).
        #[arg(long, value_name = "ID", num_args = 1..)]
        rerun: Vec<String>,
        /// Stop these running tasks and start them again now under the new
        /// version (no retry is used).
        #[arg(long, value_name = "ID", num_args = 1..)]
        restart: Vec<String>,
        /// JSON output: the version, whether it was applied, the summary,
        /// each change, the tasks stopped, restarted and run again.
        #[arg(long)]
        json: bool,
    },
    /// The running plan's versions: when each was applied, by whom, why,
    /// and what changed.
    History {
        /// A JSON array of {version, at, actor, reason, summary, changes}.
        #[arg(long)]
        json: bool,
    },
    /// What changed between two versions of the running plan: V1 and V2,
    /// V1 and the running version, or (without either) the version before
    /// the running one and the running one.
    Diff {
        /// The older version.
        v1: Option<u32>,
        /// The newer version (default: the running one).
        v2: Option<u32>,
        /// JSON output: from, to, summary, changes.
        #[arg(long)]
        json: bool,
    },
    /// Validate a plan and summarise it; exit 2 with FILE:LINE errors if it
    /// is not valid.
    Check {
        /// The plan to read.
        #[command(flatten)]
        input: PlanInput,
        /// Print one JSON object (name, tasks, critical_path, ...) instead
        /// of text; errors are printed as JSON too.
        #[arg(long)]
        json: bool,
    },
    /// Show the plan day by day: its windows with their times, tasks,
    /// roles, priorities, hours, dependencies and slack, with the critical
    /// path marked.
    Show {
        /// The plan to read.
        #[command(flatten)]
        input: PlanInput,
        /// When the working day starts (HH:MM), for the windows' times;
        /// swarmd's day_start.
        #[arg(long, value_name = "HH:MM", default_value = "09:00", value_parser = parse_day_start)]
        day_start: u16,
        /// Print the same JSON object as `plan check --json` instead.
        #[arg(long)]
        json: bool,
    },
    /// Print the task graph for Graphviz or Mermaid, critical path
    /// highlighted.
    Graph {
        /// The plan to read.
        #[command(flatten)]
        input: PlanInput,
        /// Output language.
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
    /// What-if: simulate the plan under the real scheduling policy with
    /// planned durations; print the makespan, per-role utilisation and the
    /// bottleneck roles. Exits 5 when the plan cannot finish with the
    /// agents given (some task can never be staffed).
    Simulate {
        /// The plan to read.
        #[command(flatten)]
        input: PlanInput,
        /// Agents per role, like devops=2,security=2 (default: unlimited).
        #[arg(long, value_name = "ROLE=N,...", conflicts_with = "matrix")]
        agents: Option<String>,
        /// Staff each day as the plan's allocation matrix says.
        #[arg(long)]
        matrix: bool,
        /// How priority and the critical path order ready tasks: slack
        /// (tasks with no slack first, then priority) or strict (priority
        /// first), as swarmd's `priority` setting.
        #[arg(long, value_name = "slack|strict", default_value = "slack", value_parser = parse_priority)]
        priority: swarm_plan::policy::PriorityOrder,
        /// A pool of a rate-limited API, as swarmd's `[pool.NAME]
        /// concurrency, per_minute`: NAME=CONCURRENCY, NAME=CONCURRENCY/PER_MINUTE
        /// or NAME=/PER_MINUTE; repeat for more pools (or separate them with
        /// commas). Its tasks never run more members at once, nor start more
        /// in a minute, as swarmd's dispatch holds them. A task's pool is its
        /// `**Pool**`, else its first role's profile `pool` (from --roles),
        /// else --default-pool. Not read from swarmd's config file: give the
        /// same numbers here.
        #[arg(long = "pool", value_name = "NAME=CONCURRENCY[/PER_MINUTE]")]
        pools: Vec<String>,
        /// The pool of the tasks that name none, as swarmd's `default_pool`.
        #[arg(long, value_name = "NAME", default_value = "default")]
        default_pool: String,
        /// Replay with the hours tasks really took: a JSON object of task
        /// id → hours (tasks left out take their planned time). Each task
        /// runs its actual time while placement knows only the planned one
        /// until it ends, as swarmd does; with the planned hours it gives
        /// exactly the plain simulation.
        #[arg(long, value_name = "FILE")]
        actual: Option<std::path::PathBuf>,
        /// One JSON object (makespan_hours, business_days, roles, pools, ...).
        #[arg(long)]
        json: bool,
    },
    /// Convert a plan between markdown and TOML.
    Convert {
        /// The plan to read.
        #[command(flatten)]
        input: PlanInput,
        /// Output syntax.
        #[arg(long, value_enum)]
        to: ConvertTarget,
        /// Write here instead of standard output.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// Graph output languages.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz (`dot -Tsvg`).
    Dot,
    /// Mermaid flowchart (renders in GitHub markdown).
    Mermaid,
}

/// Plan syntaxes to convert to.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ConvertTarget {
    /// `[[task]]` tables.
    Toml,
    /// The example plan's markdown shape.
    Markdown,
}

/// `--priority`: the message names the orders.
fn parse_priority(s: &str) -> Result<swarm_plan::policy::PriorityOrder, String> {
    s.parse()
        .map_err(|e: swarm_plan::policy::UnknownOrder| e.to_string())
}
