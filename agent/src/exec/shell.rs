//! The shell and template executors: a main command, then the checks, each a
//! host `sh -c` in its own process group, all under one deadline.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::sync::mpsc::Sender;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::process::{run_step, Script, StepEnd};
use super::{ExecSpec, Host, LogChunk, Outcome};

/// One attempt in progress: its spec and the limits shared by all its steps.
pub(crate) struct Run<'a> {
    /// What to run.
    pub spec: &'a ExecSpec,
    /// Where output goes.
    pub logs: &'a Sender<LogChunk>,
    /// When the whole attempt times out.
    pub deadline: Option<Instant>,
    /// The configured timeout, for messages.
    pub timeout: Option<Duration>,
    /// Stops the attempt.
    pub cancel: &'a CancellationToken,
    /// How host commands are started.
    pub host: &'a Host,
}

impl Run<'_> {
    /// Runs `main` (named `label` in messages), then each check.
    pub(crate) async fn main_then_checks(
        &self,
        label: &str,
        main: &str,
        stdin: Option<Vec<u8>>,
    ) -> Outcome {
        match self.step(label.to_string(), main, stdin, true).await {
            Outcome::Succeeded => self.checks().await,
            other => other,
        }
    }

    /// Runs the spec's checks in order; the first failure ends the attempt.
    pub(crate) async fn checks(&self) -> Outcome {
        for (i, check) in self.spec.checks.iter().enumerate() {
            let label = format!("check {}: {}", i + 1, check);
            match self.step(label, check, None, false).await {
                Outcome::Succeeded => {}
                other => return other,
            }
        }
        Outcome::Succeeded
    }

    /// Whether the attempt must stop before starting another step.
    pub(crate) fn interrupted(&self, label: &str) -> Option<Outcome> {
        if self.cancel.is_cancelled() {
            return Some(Outcome::Cancelled);
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Some(self.timed_out(label));
        }
        None
    }

    /// The [`Outcome::TimedOut`] for a timeout that struck during `label`.
    pub(crate) fn timed_out(&self, label: &str) -> Outcome {
        let limit = match self.timeout {
            Some(t) => format!("{t:?}"),
            None => "its limit".to_string(),
        };
        Outcome::TimedOut {
            message: format!(
                "task {} timed out after {limit} during {label}",
                self.spec.task_id
            ),
        }
    }

    /// Runs one command (a span of its own when spans are on); `first`
    /// says whether it is the attempt's first process, whose failure to
    /// start means the attempt never started.
    async fn step(
        &self,
        label: String,
        script: &str,
        stdin: Option<Vec<u8>>,
        first: bool,
    ) -> Outcome {
        let started = std::time::SystemTime::now();
        let outcome = self.step_once(&label, script, stdin, first).await;
        let name = label.split(':').next().unwrap_or_default();
        let command = opentelemetry::KeyValue::new("process.command_line", script.to_string());
        self.host
            .spans()
            .attempt_span(self.spec, name, started, &outcome, vec![command]);
        outcome
    }

    async fn step_once(
        &self,
        label: &str,
        script: &str,
        stdin: Option<Vec<u8>>,
        first: bool,
    ) -> Outcome {
        if let Some(stop) = self.interrupted(label) {
            return stop;
        }
        let script_ref = Script {
            script,
            stdin,
            env: &self.spec.env,
            workdir: &self.spec.workdir,
            host: self.host,
            attempt: self.spec.attempt,
            sandbox: &self.spec.sandbox,
            grants: &self.spec.grants,
        };
        match run_step(script_ref, self.logs, self.deadline, self.cancel).await {
            StepEnd::Exited(status) if status.success() => Outcome::Succeeded,
            StepEnd::Exited(status) => Outcome::Failed {
                exit_code: status.code(),
                message: format!("{label} {}", describe_exit(status)),
            },
            StepEnd::TimedOut => self.timed_out(label),
            StepEnd::Cancelled => Outcome::Cancelled,
            StepEnd::NotStarted(err) => {
                let message = self.cannot_start(label, script, &err);
                if first {
                    Outcome::NotStarted { message }
                } else {
                    Outcome::Failed {
                        exit_code: None,
                        message,
                    }
                }
            }
            StepEnd::Refused(why) => {
                let message = format!("{label} was not started: {why}");
                if first {
                    Outcome::NotStarted { message }
                } else {
                    Outcome::Failed {
                        exit_code: None,
                        message,
                    }
                }
            }
            StepEnd::Broken(err) => Outcome::Failed {
                exit_code: None,
                message: format!("{label}: waiting for the command failed: {err}"),
            },
        }
    }

    /// Why `label` could not start, and what would fix it.
    fn cannot_start(&self, label: &str, script: &str, err: &std::io::Error) -> String {
        if err.raw_os_error() == Some(nix::errno::Errno::E2BIG as i32) {
            return format!(
                "{label} could not be started: the command ({} bytes) and its \
                 environment are too long for the OS ({err}); put a long script in \
                 a file and run that",
                script.len()
            );
        }
        format!(
            "{label} could not be started with `sh -c` in {}: {err} \
             (the working directory must exist and `sh` must be on PATH)",
            self.spec.workdir.display()
        )
    }
}

/// "exited with code 3", "was killed by signal 9 (SIGKILL)".
pub(crate) fn describe_exit(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with code {code}");
    }
    match status.signal() {
        Some(sig) => match Signal::try_from(sig) {
            Ok(name) => format!("was killed by signal {sig} ({name})"),
            Err(_) => format!("was killed by signal {sig}"),
        },
        None => format!("ended abnormally ({status})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_codes_and_signals() {
        assert_eq!(
            describe_exit(ExitStatus::from_raw(3 << 8)),
            "exited with code 3"
        );
        assert_eq!(
            describe_exit(ExitStatus::from_raw(9)),
            "was killed by signal 9 (SIGKILL)"
        );
    }
}
