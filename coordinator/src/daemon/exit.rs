//! Exit codes of `swarmd`, named once and documented in `swarmd --help`
//! and the README:
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success (`swarmd run`: every task succeeded) |
//! | 1 | failed: `swarmd run`'s plan did not succeed, or the server failed |
//! | 2 | invalid input: flags, config, plan, TLS files, an unusable workdir |
//! | 3 | another swarmd already runs in this workdir |
//! | 70 | the state store failed; the reason is logged and told to callers |
//! | 130 | a second SIGTERM or SIGINT: stopped at once |

use std::process::ExitCode;

/// Why `swarmd` exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success.
    Ok,
    /// `swarmd run`'s plan did not succeed, or the server failed.
    Failed,
    /// Invalid input: flags, config, plan, TLS files, an unusable workdir.
    Usage,
    /// Another swarmd holds the workdir (its PID is in
    /// WORKDIR/.swarm/swarmd.lock).
    Locked,
    /// The state store failed (EX_SOFTWARE).
    StoreFailed,
    /// A second signal: stopped at once (128 + SIGINT).
    Interrupted,
}

impl Exit {
    /// The number the process exits with.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::Locked => 3,
            Exit::StoreFailed => 70,
            Exit::Interrupted => 130,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}

/// The table above, for `swarmd --help`.
pub const HELP: &str = "Exit codes:
  0    success (swarmd run: every task succeeded)
  1    failed: swarmd run's plan did not succeed, or the server failed
  2    invalid input: flags, config, plan, TLS files, an unusable workdir
  3    another swarmd already runs in this workdir (its PID is in WORKDIR/.swarm/swarmd.lock)
  70   the state store failed (the reason is logged; callers were told)
  130  a second SIGTERM or SIGINT: stopped at once";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_in_the_help_once() {
        for e in [
            Exit::Ok,
            Exit::Failed,
            Exit::Usage,
            Exit::Locked,
            Exit::StoreFailed,
            Exit::Interrupted,
        ] {
            let line = format!("\n  {:<5}", e.code());
            assert_eq!(HELP.matches(&line).count(), 1, "{e:?}");
            let row = format!("\n| {} | ", e.code());
            assert!(README.contains(&row), "README lacks exit code {}", e.code());
        }
    }

    const README: &str = include_str!("../../../README.md");
}
