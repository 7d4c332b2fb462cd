//! Task executors: what actually runs an attempt on this agent.
//!
//! The session code hands [`execute`] an [`ExecSpec`], a channel for the
//! attempt's output and a cancellation token, and gets back one [`Outcome`].
//! Which executor runs is decided by [`kind_of`]:
//!
//! | spec has            | executor                                          |
//! |---------------------|---------------------------------------------------|
//! | `image`             | [`Kind::Docker`]: the task in a container         |
//! | `run`               | [`Kind::Shell`]: `sh -c RUN` on this host         |
//! | `template` (no run) | [`Kind::Template`]: the agent's `--exec` command  |
//! | nothing             | [`Kind::Manual`]: wait for an operator            |
//!
//! After the main command succeeds, each check runs with `sh -c` on this host,
//! in order (for docker tasks too: after the container has exited). The
//! timeout covers the whole attempt, checks included. On timeout or
//! cancellation the whole process group gets SIGTERM, then SIGKILL after
//! [`KILL_GRACE`]; a container is stopped and force-removed.
//!
//! Host commands (shell, template, checks) run in the agent's
//! [sandbox](sandbox) where one can be made, and their whole process tree
//! ends with them: a PID namespace under bubblewrap, else the resident
//! [guard](reaper) as the tree's subreaper.

mod bwrap;
mod docker;
mod group;
pub mod guard;
mod host;
mod policy;
mod process;
mod reaper;
pub mod sandbox;
mod shell;
mod template;

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc::Sender;
use tokio_util::sync::CancellationToken;

pub use host::Host;
pub use sandbox::{Policy, RoleSandbox, Sandbox};
pub use template::{render_template, template_env};

/// How long a process group (or container) gets between SIGTERM and SIGKILL.
pub const KILL_GRACE: Duration = Duration::from_secs(2);

/// The largest [`LogChunk::data`] an executor sends.
pub const MAX_CHUNK: usize = 64 * 1024;

/// Everything an executor needs to run one attempt of a task.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecSpec {
    /// The task's id, e.g. `d1.build`.
    pub task_id: String,
    /// The attempt's fencing number (monotonic across the whole coordinator).
    pub attempt: u64,
    /// 1 for the task's first attempt, 2 for its first retry, ...
    pub attempt_no: u32,
    /// The role this agent plays in the attempt.
    pub role: String,
    /// The task's title.
    pub title: String,
    /// Shell command to run with `sh -c`.
    pub run: Option<String>,
    /// Shell commands run after the main command succeeds, in order; any
    /// non-zero exit fails the attempt.
    pub checks: Vec<String>,
    /// Run the task in a container from this (locally present) image.
    pub image: Option<String>,
    /// Limit on the whole attempt, checks included.
    pub timeout: Option<Duration>,
    /// The rendered task brief, written to a template command's stdin.
    pub brief: String,
    /// Extra environment (`SWARM_TASK_ID`, `SWARM_TOKEN`, ...) added to every
    /// process and container of the attempt.
    pub env: Vec<(String, String)>,
    /// Working directory of host processes (must exist); empty means the
    /// agent's own working directory.
    pub workdir: PathBuf,
    /// The agent's command template, e.g. `my-agent-cli --role {role}`; see
    /// [`render_template`] for its placeholders.
    pub template: Option<String>,
    /// The sandbox overrides of the role this agent plays in the attempt.
    pub sandbox: RoleSandbox,
    /// Directories the attempt must be able to write besides `workdir`,
    /// wherever they are (its worktree's git directory): granted in the
    /// sandbox, mounted into a container.
    pub grants: Vec<PathBuf>,
}

/// Variables of the agent's own environment that no task inherits: its
/// TLS material (a task under mTLS uses the agent's socket, not its key)
/// and its token (each attempt gets a token of its own).
pub(crate) const AGENT_ONLY_ENV: [&str; 4] = ["SWARM_CA", "SWARM_CERT", "SWARM_KEY", "SWARM_TOKEN"];

/// Which output stream a [`LogChunk`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// A piece of an attempt's output, in arrival order per stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogChunk {
    /// Where it was written.
    pub stream: Stream,
    /// The bytes, at most [`MAX_CHUNK`] of them; not split on line boundaries.
    pub data: Vec<u8>,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The main command and every check exited with status 0.
    Succeeded,
    /// A command failed.
    Failed {
        /// The failing command's exit code; `None` if it was killed by a
        /// signal or a check could not start.
        exit_code: Option<i32>,
        /// What failed, naming the command (`run`, `check 2: <cmd>`, ...).
        message: String,
    },
    /// The attempt could not start at all (a command too long for the OS,
    /// a missing image or working directory, an invalid environment): a
    /// failed attempt, not a lost agent.
    NotStarted {
        /// What could not start, and why.
        message: String,
    },
    /// The attempt's timeout expired; everything it started was stopped.
    TimedOut {
        /// Which command was running when the time ran out.
        message: String,
    },
    /// The cancellation token fired; everything it started was stopped.
    Cancelled,
    /// A rate- or usage-limited API turned the attempt away (see
    /// `crate::ratelimit`): to be tried again, not a failure.
    RateLimited {
        /// When it may be tried again, wall ms; `None` when not said.
        reset_at_ms: Option<i64>,
        /// What said so.
        message: String,
    },
}

impl Outcome {
    /// Builds an [`Outcome::NotStarted`].
    pub(crate) fn not_started(message: String) -> Outcome {
        Outcome::NotStarted { message }
    }
}

/// The executor a spec selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `sh -c RUN` on this host.
    Shell,
    /// The agent's command template, fed the brief on stdin.
    Template,
    /// A container from the spec's image.
    Docker,
    /// Nothing to run: an operator resolves the task.
    Manual,
}

impl Kind {
    /// Its name on spans (`swarm.executor`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Shell => "shell",
            Kind::Template => "template",
            Kind::Docker => "docker",
            Kind::Manual => "manual",
        }
    }
}

/// Picks the executor: image → docker; run → shell; template → template;
/// otherwise manual. Empty or blank strings count as unset.
pub fn kind_of(spec: &ExecSpec) -> Kind {
    if is_set(&spec.image) {
        Kind::Docker
    } else if is_set(&spec.run) {
        Kind::Shell
    } else if is_set(&spec.template) {
        Kind::Template
    } else {
        Kind::Manual
    }
}

fn is_set(value: &Option<String>) -> bool {
    value.as_deref().is_some_and(|v| !v.trim().is_empty())
}

/// Runs one attempt to its end and reports how it went.
///
/// Output goes to `logs` as it arrives; if the receiver is gone, output is
/// discarded and the attempt keeps running. Firing `cancel` stops the
/// attempt (and everything it started) and yields [`Outcome::Cancelled`].
/// Never panics; problems starting the attempt come back as
/// [`Outcome::NotStarted`]. Host processes are spawned in place
/// ([`Host::plain`]); the agent uses [`execute_with`].
pub async fn execute(spec: ExecSpec, logs: Sender<LogChunk>, cancel: CancellationToken) -> Outcome {
    execute_with(&Host::plain(), spec, logs, cancel).await
}

/// [`execute`], starting host processes through `host`.
pub async fn execute_with(
    host: &Host,
    spec: ExecSpec,
    logs: Sender<LogChunk>,
    cancel: CancellationToken,
) -> Outcome {
    let mut spec = spec;
    if kind_of(&spec) == Kind::Template {
        // The rendered template refers to its values through these.
        spec.env.extend(template_env(&spec));
    }
    let deadline = spec
        .timeout
        .and_then(|t| tokio::time::Instant::now().checked_add(t));
    if let Err(message) = validate_env(&spec.env) {
        return Outcome::not_started(format!("task {}: {message}", spec.task_id));
    }
    let started = std::time::SystemTime::now();
    let kind = kind_of(&spec);
    let outcome = run_kind(host, &spec, &logs, deadline, &cancel).await;
    let executor = opentelemetry::KeyValue::new("swarm.executor", kind.name());
    host.spans()
        .attempt_span(&spec, "executor", started, &outcome, vec![executor]);
    outcome
}

/// Runs the executor `spec` selects.
async fn run_kind(
    host: &Host,
    spec: &ExecSpec,
    logs: &Sender<LogChunk>,
    deadline: Option<tokio::time::Instant>,
    cancel: &CancellationToken,
) -> Outcome {
    let run = shell::Run {
        spec,
        logs,
        deadline,
        timeout: spec.timeout,
        cancel,
        host,
    };
    match kind_of(spec) {
        Kind::Docker => docker::execute(&run).await,
        Kind::Shell => {
            let script = spec.run.as_deref().unwrap_or_default();
            run.main_then_checks("run", script, None).await
        }
        Kind::Template => {
            let template = spec.template.as_deref().unwrap_or_default();
            let command = render_template(template, spec);
            let brief = Some(spec.brief.clone().into_bytes());
            run.main_then_checks("template command", &command, brief)
                .await
        }
        Kind::Manual => {
            cancel.cancelled().await;
            Outcome::Cancelled
        }
    }
}

/// Rejects environment entries the OS (or Docker) cannot carry.
fn validate_env(env: &[(String, String)]) -> Result<(), String> {
    for (key, value) in env {
        if key.is_empty() || key.contains('=') || key.contains('\0') {
            return Err(format!(
                "environment variable name {key:?} is invalid; a name must be \
                 non-empty and contain neither '=' nor NUL"
            ));
        }
        if value.contains('\0') {
            return Err(format!(
                "environment variable {key} contains a NUL byte; values must not"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ExecSpec {
        ExecSpec::default()
    }

    #[test]
    fn kind_prefers_image_then_run_then_template() {
        let mut s = spec();
        assert_eq!(kind_of(&s), Kind::Manual);
        s.template = Some("cli {role}".into());
        assert_eq!(kind_of(&s), Kind::Template);
        s.run = Some("true".into());
        assert_eq!(kind_of(&s), Kind::Shell);
        s.image = Some("alpine".into());
        assert_eq!(kind_of(&s), Kind::Docker);
    }

    #[test]
    fn blank_fields_count_as_unset() {
        let mut s = spec();
        s.image = Some(String::new());
        s.run = Some("  ".into());
        s.template = Some(String::new());
        assert_eq!(kind_of(&s), Kind::Manual);
    }

    #[test]
    fn env_validation_names_the_problem() {
        let ok = vec![("SWARM_TASK_ID".to_string(), "a=b".to_string())];
        assert!(validate_env(&ok).is_ok());
        let bad = vec![("A=B".to_string(), "x".to_string())];
        assert!(validate_env(&bad).unwrap_err().contains("'='"));
        let nul = vec![("A".to_string(), "x\0".to_string())];
        assert!(validate_env(&nul).unwrap_err().contains("NUL"));
    }
}
