//! Exit codes of `swarmctl`, the same for every command:
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success |
//! | 1 | the command failed: the daemon is unreachable or failed |
//! | 2 | invalid input: a malformed plan, an unreadable file, a bad argument, a refused token |
//! | 3 | refused in the current state: a plan already running, a task already done, a compare-and-swap that did not match |
//! | 4 | not found: no such task, agent or memory entry |
//! | 5 | `plan simulate` only: the answer is that the plan cannot finish with the agents given (some task can never be staffed) |

/// Success.
pub const OK: u8 = 0;
/// The command failed (daemon unreachable or failed).
pub const FAILED: u8 = 1;
/// Invalid input: a malformed plan, an unreadable file, bad arguments.
pub const USAGE: u8 = 2;
/// Refused in the current state.
pub const CONFLICT: u8 = 3;
/// No such task, agent or entry.
pub const NOT_FOUND: u8 = 4;
/// `plan simulate`: the plan cannot finish with the agents given. An
/// answer, not an error: the report says which tasks and why.
pub const CANNOT_FINISH: u8 = 5;

/// The table above, for `--help`.
pub const HELP: &str = "Environment: SWARM_COORDINATOR (http://, https:// or unix:///PATH), SWARM_TOKEN, SWARM_CA,
SWARM_CERT, SWARM_KEY (TLS: the CA that signed swarmd's certificate; a client certificate and key
when swarmd requires them).
Exit codes:
  0  success
  1  the command failed: the daemon is unreachable or failed
  2  invalid input: a malformed plan (each error printed as FILE:LINE: error: ...), an unreadable file,
     a bad argument, a missing or refused token
  3  refused in the current state: a plan already running, a task already done, a compare-and-swap mismatch
  4  not found: no such task, agent or memory entry
  5  plan simulate: the plan cannot finish with the agents given (the report says which tasks never ran and why)";
