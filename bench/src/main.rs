//! `swarm-bench`: see `swarm-bench --help`.

fn main() -> std::process::ExitCode {
    swarm_bench::main()
}
