//! `swarmd`: the coordinator daemon. See `swarmd --help`.

use swarm_coordinator::daemon::exit::Exit;

fn main() -> std::process::ExitCode {
    swarm_coordinator::daemon::cli::main(exit_now)
}

/// The one place swarmd ends the process at once (a second SIGTERM or
/// SIGINT), without waiting for anything to unwind.
fn exit_now(exit: Exit) -> ! {
    std::process::exit(exit.code().into())
}
