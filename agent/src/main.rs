//! `swarm-agent`: a worker for swarmd. See `swarm-agent --help`.

fn main() -> std::process::ExitCode {
    swarm_agent::cli::main()
}
