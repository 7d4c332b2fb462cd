//! `swarmctl memory`: the shared key/value memory's commands.

use clap::Subcommand;

/// Namespace option shared by memory commands.
#[derive(Debug, clap::Args)]
pub struct Namespace {
    /// Namespace.
    #[arg(long, short, default_value = "default")]
    pub namespace: String,
}

/// `swarmctl memory ...`
#[derive(Debug, Subcommand)]
pub enum MemoryCommand {
    /// Store a value.
    Put {
        /// Key.
        key: String,
        /// Value (use - to read standard input).
        value: String,
        #[command(flatten)]
        ns: Namespace,
        /// Expire after this many seconds.
        #[arg(long, value_name = "SECONDS")]
        ttl: Option<u64>,
        /// Only if the key holds no value (compare-and-swap).
        #[arg(long, conflicts_with = "expect")]
        if_absent: bool,
        /// Only if the key holds exactly this value (compare-and-swap).
        #[arg(long, value_name = "VALUE")]
        expect: Option<String>,
        /// A tag (repeatable).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Print a value (exit 4 if there is none).
    Get {
        /// Key.
        key: String,
        #[command(flatten)]
        ns: Namespace,
        /// The whole entry as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List live entries.
    List {
        /// Only this namespace (default: every namespace).
        #[arg(long, short)]
        namespace: Option<String>,
        /// Only keys starting with this.
        #[arg(long)]
        prefix: Option<String>,
        /// JSON list.
        #[arg(long)]
        json: bool,
    },
    /// Delete a value.
    Delete {
        /// Key.
        key: String,
        #[command(flatten)]
        ns: Namespace,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}
