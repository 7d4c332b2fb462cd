//! `swarmd`: the coordinator daemon. See `swarmd --help`.

fn main() -> std::process::ExitCode {
    swarm_coordinator::daemon::cli::main()
}
