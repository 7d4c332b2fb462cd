//! Exit codes of `swarmctl`, the same for every command:
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success |
//! | 1 | the command was valid but failed (a check failed, the daemon refused) |
//! | 2 | invalid input: a malformed plan, an unreadable file, a bad argument |

/// Success.
pub const OK: u8 = 0;
/// The command was valid but did not succeed.
pub const FAILED: u8 = 1;
/// Invalid input: a malformed plan, an unreadable file, bad arguments.
pub const USAGE: u8 = 2;

/// The table above, for `--help`.
pub const HELP: &str = "Exit codes:\n  0  success\n  1  the command was valid but failed\n  2  invalid input: a malformed plan (each error is printed as FILE:LINE: error: ...), an unreadable file, a bad argument";
