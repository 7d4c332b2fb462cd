//! `swarm-agent`: a worker for swarmd. See `swarm-agent --help`.

fn main() -> std::process::ExitCode {
    if let Some(code) = swarm_agent::exec::guard::main_if_guard() {
        return code;
    }
    swarm_agent::cli::main()
}
