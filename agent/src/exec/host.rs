//! How executors start host processes: [`Host`].
//!
//! The agent's host ([`Host::guarded`]) makes sure a task's processes do not
//! outlive it:
//!
//! - every command runs through the [guard](super::guard), which gives it
//!   SIGKILL as its parent-death signal, and then either in the
//!   [sandbox](super::sandbox) (bubblewrap: its own PID namespace) or below
//!   the resident guard, so its whole process tree ends with it;
//! - commands are spawned from one dedicated thread that lives as long as
//!   the host, because the parent-death signal fires when the *thread* that
//!   forked the process exits, and a runtime may retire its threads;
//! - each command's process group is recorded in the agent's directory
//!   ([`GroupRecords`]) while it runs, so a restart after `kill -9` can
//!   kill what the previous process left.
//!
//! [`Host::plain`] spawns in place with none of that (library use, tests).

use std::path::{Path, PathBuf};

use tokio::process::{Child, Command};
use tokio::sync::oneshot;

use super::guard::GUARD_ARG;
use super::sandbox::{Plan, RoleSandbox, Sandbox};
use crate::home::{GroupRecord, GroupRecords};

/// A spawn request for the spawner thread, and where its answer goes.
type Job = (Command, oneshot::Sender<std::io::Result<Child>>);

/// See the module doc.
#[derive(Debug, Clone, Default)]
pub struct Host {
    /// The guard binary (this agent's own executable), if commands go
    /// through it.
    guard: Option<PathBuf>,
    /// The spawner thread's queue; `None` spawns on the calling thread.
    spawner: Option<std::sync::mpsc::Sender<Job>>,
    /// Where process groups are recorded.
    groups: Option<GroupRecords>,
    /// The (uid, gid) commands run as (`--run-as`), through the guard.
    run_as: Option<(u32, u32)>,
    /// The sandbox guarded commands run in.
    sandbox: Sandbox,
    /// Where the executors' spans go (off unless given an endpoint).
    spans: crate::spans::Spans,
}

/// Where and with what one command runs.
pub(crate) struct Launch<'a> {
    /// Its working directory; empty means the agent's own.
    pub workdir: &'a Path,
    /// Added to the agent's environment (minus the agent's own secrets).
    pub env: &'a [(String, String)],
    /// Its role's sandbox overrides.
    pub role: &'a RoleSandbox,
    /// Writable in the sandbox besides `workdir` (an attempt's git
    /// directory).
    pub grants: &'a [PathBuf],
}

impl Host {
    /// Spawns in place: no guard, no records.
    pub fn plain() -> Host {
        Host::default()
    }

    /// The agent's host: commands go through `guard` (normally
    /// `/proc/self/exe`) into `sandbox`, are spawned from a dedicated
    /// thread, and their groups are recorded in `groups`. Must be called inside a tokio
    /// runtime, which the spawned children are registered with. The thread
    /// ends when the last clone of the host is dropped.
    ///
    /// # Errors
    /// When there is no runtime or the thread cannot be started.
    pub fn guarded(
        guard: PathBuf,
        groups: GroupRecords,
        run_as: Option<(u32, u32)>,
        sandbox: Sandbox,
    ) -> std::io::Result<Host> {
        let runtime = tokio::runtime::Handle::try_current().map_err(std::io::Error::other)?;
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("swarm-spawner".into())
            .spawn(move || {
                let _entered = runtime.enter();
                while let Ok((mut command, reply)) = rx.recv() {
                    let _ = reply.send(command.spawn());
                }
            })?;
        Ok(Host {
            guard: Some(guard),
            spawner: Some(tx),
            groups: Some(groups),
            run_as,
            sandbox,
            spans: crate::spans::Spans::off(),
        })
    }

    /// This host, its executors recording spans to `spans`.
    pub fn with_spans(mut self, spans: crate::spans::Spans) -> Host {
        self.spans = spans;
        self
    }

    /// Where the executors' spans go.
    pub fn spans(&self) -> &crate::spans::Spans {
        &self.spans
    }

    /// The sandbox guarded commands run in.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// A command running `program args...` as `launch` says: through the
    /// guard and into the sandbox if there is a guard.
    ///
    /// # Errors
    /// The sandbox the role asks for cannot be made (see
    /// [`Sandbox::plan`]).
    pub(crate) fn command(
        &self,
        program: &str,
        args: &[&str],
        launch: &Launch<'_>,
    ) -> Result<Command, String> {
        let mut command = match &self.guard {
            Some(guard) => {
                let plan =
                    self.sandbox
                        .plan(launch.role, launch.workdir, launch.grants, self.run_as)?;
                let mut command = Command::new(guard);
                command.arg(GUARD_ARG).arg(std::process::id().to_string());
                if let Some((uid, gid)) = self.run_as {
                    command.arg("--run-as").arg(format!("{uid}:{gid}"));
                }
                let extra = match plan {
                    Plan::Bwrap {
                        resident,
                        argv,
                        env,
                    } => {
                        if resident {
                            command.arg("--resident");
                        }
                        command.arg("--").args(argv);
                        env
                    }
                    Plan::Unsandboxed => {
                        command.arg("--resident").arg("--");
                        Vec::new()
                    }
                };
                command.arg(program).args(args);
                Self::environment(&mut command, launch.env);
                command.envs(extra);
                command
            }
            None => {
                let mut command = Command::new(program);
                command.args(args);
                Self::environment(&mut command, launch.env);
                command
            }
        };
        if !launch.workdir.as_os_str().is_empty() {
            command.current_dir(launch.workdir);
        }
        Ok(command)
    }

    /// The agent's environment without its own secrets, plus `env`.
    fn environment(command: &mut Command, env: &[(String, String)]) {
        for name in super::AGENT_ONLY_ENV {
            command.env_remove(name);
        }
        command.envs(env.iter().map(|(k, v)| (k, v)));
    }

    /// Spawns `command`, on the spawner thread if there is one.
    pub(crate) async fn spawn(&self, mut command: Command) -> std::io::Result<Child> {
        let Some(spawner) = &self.spawner else {
            return command.spawn();
        };
        let gone = || std::io::Error::other("the agent's spawner thread is gone");
        let (tx, rx) = oneshot::channel();
        spawner.send((command, tx)).map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// Records that `attempt` runs the group led by `pgid`; the record is
    /// removed when the returned value is dropped. A record that cannot be
    /// written is logged: the command runs anyway.
    pub(crate) fn record(&self, attempt: u64, pgid: u32) -> Option<GroupRecord> {
        let groups = self.groups.as_ref()?;
        let pgid = i32::try_from(pgid).ok()?;
        match groups.record(attempt, pgid) {
            Ok(record) => Some(record),
            Err(err) => {
                tracing::warn!(
                    "cannot record process group {pgid} of attempt {attempt}: {err}; \
                     a restart after kill -9 will not find it"
                );
                None
            }
        }
    }
}
