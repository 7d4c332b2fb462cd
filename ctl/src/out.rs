//! Standard output, the one way every swarmctl command prints: a closed
//! pipe (`swarmctl events --follow | head -1`) ends the command quietly
//! with exit code 0, as it does for `cat`, never with a panic.
//!
//! Commands print with [`out!`](crate::out) and [`outln!`](crate::outln)
//! (the `print!`/`println!` of swarmctl, which escape control
//! characters) or [`bytes`] for output that must pass through exact.

use std::io::Write as _;

use swarm_client::printable::printable_text;

use crate::exit;

/// Writes `text` to standard output and flushes it. When the reader has
/// gone (`EPIPE`), nothing more can be shown: the process ends at once
/// with [`exit::OK`] and nothing on standard error. Any other write error
/// is reported and ends it with [`exit::FAILED`].
pub(crate) fn bytes(text: &[u8]) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text).and_then(|()| out.flush()) {
        drop(out);
        std::process::exit(i32::from(code_for(&e)));
    }
}

/// Resolves once standard output is a pipe whose reader has gone, for a
/// stream that follows (`events --follow`) and may have nothing to print
/// for a long time; pends for ever when that cannot be watched (a file,
/// `/dev/null`). The kernel reports the closed pipe as an error on the
/// writing end, without a write.
pub(crate) async fn closed() {
    use std::os::fd::AsFd as _;
    use tokio::io::{unix::AsyncFd, Interest};
    // A duplicate of the descriptor, owned by the AsyncFd: it stays open
    // and the same for the AsyncFd's whole life, which is what the
    // replacement of this constructor asks its (unsafe) callers to
    // promise, and this crate forbids unsafe code.
    let Ok(dup) = std::io::stdout().as_fd().try_clone_to_owned() else {
        return std::future::pending().await;
    };
    #[allow(deprecated)]
    let watched = AsyncFd::with_interest(dup, Interest::ERROR);
    match watched {
        Ok(fd) => {
            let _ = fd.ready(Interest::ERROR).await;
        }
        Err(_) => std::future::pending().await,
    }
}

/// The exit code for a failed write: a closed pipe is the reader's
/// choice, not a failure (anything else is said on standard error).
fn code_for(e: &std::io::Error) -> u8 {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        exit::OK
    } else {
        eprintln!("swarmctl: cannot write to standard output: {e}");
        exit::FAILED
    }
}

/// Formats and writes human output (see [`bytes`]): control characters
/// other than newlines and tabs are escaped, so nothing a plan, a task or
/// an event holds reaches the terminal raw. JSON is unchanged by this (it
/// escapes control characters itself); data meant to pass through exact
/// (task logs, a memory value, `plan convert`) goes through [`bytes`].
pub(crate) fn args(a: std::fmt::Arguments<'_>) {
    match a.as_str() {
        Some(s) => bytes(printable_text(s).as_bytes()),
        None => bytes(printable_text(&a.to_string()).as_bytes()),
    }
}

/// `print!` through [`out::args`](crate::out::args).
#[macro_export]
#[doc(hidden)]
macro_rules! out {
    ($($arg:tt)*) => { $crate::out::args(format_args!($($arg)*)) };
}

/// `println!` through [`out::args`](crate::out::args).
#[macro_export]
#[doc(hidden)]
macro_rules! outln {
    () => { $crate::out::bytes(b"\n") };
    ($($arg:tt)*) => { $crate::out::args(format_args!("{}\n", format_args!($($arg)*))) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_is_success_and_other_errors_are_failures() {
        let closed = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert_eq!(code_for(&closed), exit::OK);
        let full = std::io::Error::other("no space left on device");
        assert_eq!(code_for(&full), exit::FAILED);
    }
}
