//! Command-line definitions: every command, flag and help text.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// The operator's view of swarmd: load and inspect plans, watch progress,
/// steer agents, read shared memory.
#[derive(Debug, Parser)]
#[command(name = "swarmctl", version, about, after_help = crate::exit::HELP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Work with plan files offline: validate, show, graph, convert (no
    /// daemon needed).
    #[command(subcommand)]
    Plan(PlanCommand),
}

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
}

/// `swarmctl plan ...`
#[derive(Debug, Subcommand)]
pub enum PlanCommand {
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
    /// Show the plan day by day: tasks, roles, priorities, hours,
    /// dependencies and slack, with the critical path marked.
    Show {
        /// The plan to read.
        #[command(flatten)]
        input: PlanInput,
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
