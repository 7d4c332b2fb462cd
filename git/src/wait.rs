//! Running one git process to its end, or stopping it at a time limit: a
//! remote that stops answering must not hold the merge queue, or an
//! attempt's workspace, for ever.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Runs `cmd` with `input` on its standard input (none: empty), collecting
/// its output; `None` when it ran past `limit` and was killed.
///
/// # Errors
/// The process could not be started, or its pipes failed.
pub(crate) fn run(
    mut cmd: Command,
    input: Option<&str>,
    limit: Duration,
) -> std::io::Result<Option<Output>> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    // Its own process group, so a stop reaches what it started too.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn()?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(text.as_bytes())?;
    }
    let group = format!("-{}", child.id());
    let (done, finished) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if finished.recv_timeout(limit) == Err(mpsc::RecvTimeoutError::Timeout) {
            // Still running: git and whatever it started (ssh, a remote
            // helper, a hook) are killed together.
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            return true;
        }
        false
    });
    let out = child.wait_with_output();
    let _ = done.send(());
    let killed = watchdog.join().unwrap_or(false);
    let out = out?;
    Ok((!killed || out.status.success()).then_some(out))
}
