//! Flags and the entry point.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};

/// swarm-bench: measures swarmd's dispatch throughput, latency, memory and
/// idle cost, driving the real gRPC path and the real store.
#[derive(Debug, Parser)]
#[command(name = "swarm-bench", version, about)]
pub struct Args {
    /// Plan shape.
    #[arg(long, value_enum, default_value_t = Shape::Wide)]
    pub shape: Shape,
    /// Number of tasks.
    #[arg(long, default_value_t = 10_000)]
    pub tasks: usize,
    /// Total agent slots (spread over the agents).
    #[arg(long, default_value_t = 64)]
    pub slots: u32,
    /// Number of simulated agents.
    #[arg(long)]
    pub agents: Option<u32>,
    /// Measure idle agents for this long (e.g. 30s) instead of running a plan.
    #[arg(long, value_parser = parse_duration)]
    pub idle: Option<Duration>,
    /// Internal: run the coordinator (used by the benchmark itself).
    #[arg(long, hide = true)]
    pub coordinator_workdir: Option<std::path::PathBuf>,
    /// Internal: the coordinator's listen address.
    #[arg(long, hide = true)]
    pub coordinator_listen: Option<std::net::SocketAddr>,
}

/// Plan shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shape {
    /// Independent tasks.
    Wide,
    /// Each task waits for the previous one.
    Chain,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (n, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = n
        .parse()
        .map_err(|_| format!("'{s}' is not a duration like 30s or 2m"))?;
    match unit {
        "" | "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        "ms" => Ok(Duration::from_millis(n)),
        _ => Err(format!("'{s}' is not a duration like 30s or 2m")),
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("swarm-bench: {e}");
            return ExitCode::from(1);
        }
    };
    if let (Some(workdir), Some(listen)) = (&args.coordinator_workdir, args.coordinator_listen) {
        return runtime.block_on(crate::coordinator::serve_child(workdir.clone(), listen));
    }
    match runtime.block_on(crate::shapes::run(args)) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("swarm-bench: {e:#}");
            ExitCode::from(1)
        }
    }
}
