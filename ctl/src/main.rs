//! `swarmctl`: the operator's command line for swarmd. See `swarmctl --help`.

fn main() -> std::process::ExitCode {
    swarm_ctl::run(std::env::args_os())
}
