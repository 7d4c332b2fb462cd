//! Command-line definitions: every command, flag and help text.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

mod memory;
mod plan;

pub use memory::MemoryCommand;
pub use plan::{ConvertTarget, GraphFormat, PlanCommand, PlanInput, PlanReadError, RolesError};

/// The operator's view of swarmd: load and inspect plans, watch progress,
/// steer agents, read shared memory.
#[derive(Debug, Parser)]
#[command(name = "swarmctl", version, about, after_help = crate::exit::HELP)]
pub struct Cli {
    /// The coordinator's URL.
    #[arg(
        long,
        global = true,
        env = "SWARM_COORDINATOR",
        default_value = "http://127.0.0.1:7420"
    )]
    pub coordinator: String,
    /// File holding the token (default: SWARM_TOKEN, else
    /// ./.swarm/admin.token).
    #[arg(long, global = true, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// CA certificate (PEM) that signed swarmd's, for an https://
    /// coordinator.
    #[arg(
        long = "ca",
        id = "tls_ca",
        global = true,
        env = "SWARM_CA",
        value_name = "FILE"
    )]
    pub ca: Option<PathBuf>,
    /// Client certificate (PEM) for a swarmd that requires them (mTLS);
    /// with --key.
    #[arg(
        long = "cert",
        id = "tls_cert",
        global = true,
        env = "SWARM_CERT",
        value_name = "FILE"
    )]
    pub cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(
        long = "key",
        id = "tls_key",
        global = true,
        env = "SWARM_KEY",
        value_name = "FILE"
    )]
    pub key: Option<PathBuf>,
    /// Your name, recorded beside the token's in the events of what you
    /// change (load, pause, task done, …) and in reports.
    #[arg(long = "as", global = true, env = "SWARM_AS", value_name = "NAME")]
    pub as_name: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Plan files: validate, show, graph and convert offline; load into the
    /// daemon.
    #[command(subcommand)]
    Plan(PlanCommand),
    /// The run at a glance: plan, state, task counts, agents.
    Status {
        /// One JSON object.
        #[arg(long)]
        json: bool,
        /// Refresh every second until interrupted.
        #[arg(long)]
        watch: bool,
    },
    /// Every task with its state, attempts and agents.
    Tasks {
        /// A JSON list.
        #[arg(long)]
        json: bool,
        /// Only tasks in this state (pending, ready, running, succeeded,
        /// failed, blocked, skipped, cancelled).
        #[arg(long, value_name = "STATE")]
        state: Option<String>,
        /// Only tasks that need this role.
        #[arg(long, value_name = "ROLE")]
        role: Option<String>,
        /// At most N tasks (standard error says where more start).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        limit: Option<u64>,
        /// Start after the task with this id (the next page).
        #[arg(long, value_name = "ID")]
        after: Option<String>,
    },
    /// One task: show it, read its logs, or act on it.
    #[command(subcommand)]
    Task(TaskCommand),
    /// Every agent with its roles, state and work.
    Agents {
        /// A JSON list.
        #[arg(long)]
        json: bool,
    },
    /// Act on one agent.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Shared key/value memory (the claude-flow memory_entries table).
    #[command(subcommand)]
    Memory(MemoryCommand),
    /// The event log.
    Events {
        /// Keep printing new events.
        #[arg(long)]
        follow: bool,
        /// Only events after this sequence number.
        #[arg(long, default_value_t = 0)]
        since: u64,
        /// Only events of this task.
        #[arg(long, value_name = "ID")]
        task: Option<String>,
        /// Only events of this kind (`attempt.failed`), or of this family
        /// (`attempt`).
        #[arg(long, value_name = "KIND", value_parser = kind_filter)]
        kind: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script: `swarmctl completions bash >
    /// /etc/bash_completion.d/swarmctl` (zsh and fish too).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Checkpoints (standups): run one now, list them, read a report.
    #[command(subcommand)]
    Standup(StandupCommand),
    /// Stop dispatching new tasks (running ones finish).
    Pause {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Dispatch again after a pause.
    Resume {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Day gates (swarmd --gates): a day's checklist and exit criteria
    /// hold back the tasks after them until their checks pass.
    #[command(subcommand)]
    Gate(GateCommand),
    /// Budgets ([budget] plan_usd, day_usd, [budget.role]): what each has
    /// spent, or set one while the plan runs.
    #[command(subcommand)]
    Budget(BudgetCommand),
    /// Every role the daemon knows: its phrases, and its profile (prompt,
    /// exec, model, tools) with where it came from (agent definitions,
    /// roles file, config [exec]).
    Roles {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Take an online, consistent copy of the daemon's state and shared
    /// memory into DIR on the coordinator's host (restore it with
    /// `swarmd restore DIR --workdir NEW`).
    Backup {
        /// Directory on the coordinator's host (created 0700).
        dir: PathBuf,
        /// Print the manifest as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Serve these commands as Model Context Protocol tools on standard
    /// input and output, for an AI assistant.
    ///
    /// For Claude Code: `claude mcp add swarmd -- swarmctl mcp`. The plan,
    /// status, task, memory and standup tools each answer what the command
    /// of the same name prints with --json, with the same coordinator,
    /// token and TLS flags; a call that fails is a tool error carrying the
    /// message swarmctl would print.
    Mcp,
}

/// `swarmctl budget ...`
#[derive(Debug, Subcommand)]
pub enum BudgetCommand {
    /// Every budget with what it has spent.
    Show {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Set one budget of the running plan (kept across restarts); tasks it
    /// held start at once when it is raised.
    Set {
        /// plan, day or role:NAME (role:security).
        scope: String,
        /// US dollars, 0 or more.
        usd: f64,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

/// `swarmctl gate ...`
#[derive(Debug, Subcommand)]
pub enum GateCommand {
    /// Open every closed gate of DAY, whatever its checks say.
    Approve {
        /// The plan day (1, 2, ...).
        day: u32,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

/// `swarmctl task ...`
#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    /// A task with its dependencies and every attempt.
    Show {
        /// Task id.
        id: String,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// A task's output (latest attempt unless --attempt).
    Logs {
        /// Task id.
        id: String,
        /// Keep printing until the attempt ends.
        #[arg(long, conflicts_with = "workdir")]
        follow: bool,
        /// Attempt number within the task: 1 for the first, 2 for the
        /// first retry, ... (default: the latest).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        attempt: Option<u32>,
        /// Read the store in DIR/.swarm/swarmd.db directly, without the
        /// daemon (which may be stopped; a running one is not disturbed).
        #[arg(long, value_name = "DIR")]
        workdir: Option<PathBuf>,
    },
    /// What a task changed in the plan's repository: its merge into the
    /// integration branch, or its attempt's commits while not merged.
    Diff {
        /// Task id.
        id: String,
        /// Attempt number within the task (default: the last that
        /// committed a change).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        attempt: Option<u32>,
        /// JSON output (the attempt, what was compared, the diff).
        #[arg(long)]
        json: bool,
    },
    /// What a succeeded task produced: the file it wrote to $SWARM_RESULT,
    /// else the tail of its output (shared memory, namespace
    /// swarm:results; its dependents' briefs show it).
    Result {
        /// Task id.
        id: String,
        /// JSON output (the memory entry).
        #[arg(long)]
        json: bool,
    },
    /// Mark a task succeeded (a manual task waits for this).
    Done(ActionArgs),
    /// Mark a task failed; its dependents are blocked.
    Fail(ActionArgs),
    /// Run a failed, blocked or cancelled task again and unblock its
    /// dependents.
    Retry(ActionArgs),
    /// Treat a task as done without running it; its dependents go on.
    Skip(ActionArgs),
    /// Stop a task; its dependents are blocked.
    Cancel(ActionArgs),
}

/// Arguments of a task action.
#[derive(Debug, clap::Args)]
pub struct ActionArgs {
    /// Task id.
    pub id: String,
    /// Why (recorded in the event log).
    #[arg(long, default_value = "")]
    pub reason: String,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
}

/// `swarmctl standup ...`
#[derive(Debug, Subcommand)]
pub enum StandupCommand {
    /// Run a checkpoint now: write its report and reallocate agents.
    Run {
        /// Which checkpoint (a name from the plan's Coordination Protocol,
        /// e.g. "Daily Standup"; default: the next one due).
        #[arg(long)]
        kind: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Every checkpoint so far.
    List {
        /// JSON list.
        #[arg(long)]
        json: bool,
    },
    /// One checkpoint's report (default: the latest).
    Show {
        /// Checkpoint number.
        n: Option<u64>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

/// `swarmctl agent ...`
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Let an agent finish its work, take no more, and exit.
    Drain {
        /// Agent id.
        id: String,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

/// `--kind`: a kind or family of events, checked here; swarmd filters.
pub(crate) fn kind_filter(text: &str) -> Result<String, swarm_core::model::UnknownName> {
    text.parse::<swarm_core::event::KindFilter>()?;
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn tls_flags_do_not_collide_with_a_memory_key() {
        // `--key` (the client key) and `memory put KEY` once shared an id:
        // every memory command panicked.
        let cli = Cli::try_parse_from([
            "swarmctl", "--ca", "ca.pem", "--cert", "c.pem", "--key", "c.key", "memory", "put",
            "k", "v",
        ])
        .expect("parses");
        assert_eq!(cli.key, Some(PathBuf::from("c.key")));
        assert!(matches!(
            cli.command,
            Command::Memory(MemoryCommand::Put { ref key, .. }) if key == "k"
        ));
    }
}
