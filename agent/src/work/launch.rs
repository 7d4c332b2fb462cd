//! Launching an attempt: the facts every attempt's environment is built
//! from ([`Context`]), the executor spec an assignment becomes (its
//! environment, profile and template), the prompt and brief files a
//! template reads, and the executor task that runs it — in the attempt's
//! [workspace](super::workspace) when it has one — and reports back.

use std::path::PathBuf;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::workspace::{Prepared, Workspaces};
use super::{Assignment, AttemptRef, ExecEvent};
use crate::exec::{self, ExecSpec, Host, Outcome, Stream};
use crate::usage::{LeftBehind, ResultObject, ResultScanner};

/// Fixed facts an attempt's environment is built from.
pub struct Context {
    /// How tasks reach the coordinator: `SWARM_COORDINATOR` (the URL, or
    /// the agent's private socket under mTLS) and, over TLS, `SWARM_CA`.
    pub reach: Vec<(String, String)>,
    /// The agent's private runtime directory: `$SWARM_RESULT` files.
    pub runtime: PathBuf,
    /// Agent token (SWARM_TOKEN).
    pub token: String,
    /// Agent id (SWARM_AGENT_ID).
    pub agent_id: String,
    /// Working directory of task processes.
    pub workdir: PathBuf,
    /// The `--exec` command template for tasks without a run command.
    pub template: Option<String>,
    /// Profiles from this host's agent definitions (`--agents-dir`); they
    /// win over the coordinator's, field by field.
    pub local_profiles: swarm_roles::Catalogue,
    /// How host processes are started.
    pub host: Host,
    /// The agent's clones and the worktrees of its attempts.
    pub workspaces: Workspaces,
}

impl Context {
    /// Starts the executor of an assignment this agent leads: it reports
    /// Started, its output and, once it ends, Done on `events`.
    pub(super) fn launch(
        &self,
        a: &Assignment,
        cancel: CancellationToken,
        events: mpsc::UnboundedSender<ExecEvent>,
    ) -> JoinHandle<()> {
        let r = a.attempt.clone();
        let mut spec = self.spec(a);
        let result_file = self.result_file(r.attempt);
        let usage_file = self.usage_file(r.attempt);
        let retry_file = self.retry_file(r.attempt);
        let briefing = self.write_briefing(a);
        let host = self.host.clone();
        let workspace = a.workspace.clone().map(|ws| {
            let (workspaces, r, role, title) = (
                self.workspaces.clone(),
                r.clone(),
                a.role.clone(),
                a.title.clone(),
            );
            move || workspaces.prepare(&r, &role, &title, &ws)
        });
        tokio::spawn(async move {
            let _ = events.send(ExecEvent::Started(r.clone()));
            let prepared = match workspace {
                None => None,
                Some(prepare) => match blocking(prepare).await {
                    Ok(p) => Some(p),
                    Err(message) => {
                        remove_all(briefing);
                        let outcome = Outcome::not_started(message);
                        let _ = events.send(ExecEvent::Done(r, outcome, None, None, None));
                        return;
                    }
                },
            };
            if let Some(p) = &prepared {
                spec.workdir = p.dir().to_path_buf();
                spec.grants = vec![p.git_dir()];
            }
            let (outcome, found) = execute(&host, spec, &r, &events, cancel).await;
            let now_ms = now_ms();
            let left = LeftBehind {
                written: crate::runtime::take_result(&result_file),
                usage_file: crate::usage::take_usage_file(&usage_file),
                retry_after: crate::ratelimit::take_retry_after(&retry_file, now_ms),
                now_ms,
            };
            let bad = [
                &left.usage_file.as_ref().and_then(|u| u.as_ref().err()),
                &left.retry_after.as_ref().and_then(|u| u.as_ref().err()),
            ];
            for why in bad.into_iter().flatten() {
                let line = format!("swarm-agent: ignored: {why}\n");
                let _ = events.send(ExecEvent::Log(r.clone(), Stream::Stderr, line.into_bytes()));
            }
            let settled = crate::usage::settle(outcome, found, left);
            let (outcome, result, usage) = (settled.outcome, settled.result, settled.usage);
            remove_all(briefing);
            let (outcome, commit) = match prepared {
                Some(p) => hand_back(p, outcome).await,
                None => (outcome, None),
            };
            let result = result.filter(|_| matches!(outcome, Outcome::Succeeded));
            let _ = events.send(ExecEvent::Done(r, outcome, result, commit, usage));
        })
    }

    /// Where attempt `attempt` may write its result (`$SWARM_RESULT`).
    fn result_file(&self, attempt: u64) -> PathBuf {
        self.runtime.join(format!("result-{attempt}"))
    }

    /// Where attempt `attempt` may write what it spent (`$SWARM_USAGE`).
    fn usage_file(&self, attempt: u64) -> PathBuf {
        self.runtime.join(format!("usage-{attempt}"))
    }

    /// Where attempt `attempt` may say when to retry
    /// (`$SWARM_RETRY_AFTER`).
    fn retry_file(&self, attempt: u64) -> PathBuf {
        self.runtime.join(format!("retry-after-{attempt}"))
    }

    /// The role's profile for this assignment: the coordinator's, with
    /// this host's definitions laid over it.
    fn profile(&self, a: &Assignment) -> swarm_roles::Profile {
        let mut p = a.profile.clone();
        if let Some(local) = self.local_profiles.get(&a.role) {
            p.overlay(local.profile.clone());
        }
        p
    }

    /// Where the role's prompt and the brief go for a template's
    /// `{prompt_file}` and `{brief_file}`.
    fn briefing_files(&self, attempt: u64) -> [PathBuf; 2] {
        [
            self.runtime.join(format!("prompt-{attempt}.md")),
            self.runtime.join(format!("brief-{attempt}.md")),
        ]
    }

    /// Writes the prompt and brief files (in the private runtime
    /// directory); returns them, to be removed when the attempt ends.
    fn write_briefing(&self, a: &Assignment) -> Vec<PathBuf> {
        let [prompt, brief] = self.briefing_files(a.attempt.attempt);
        let text = self.profile(a).prompt.unwrap_or_default();
        let mut written = Vec::new();
        for (path, content) in [(prompt, text.as_str()), (brief, a.brief.as_str())] {
            match std::fs::write(&path, content) {
                Ok(()) => written.push(path),
                Err(e) => tracing::warn!("cannot write {}: {e}", path.display()),
            }
        }
        written
    }

    fn spec(&self, a: &Assignment) -> ExecSpec {
        let r = &a.attempt;
        let profile = self.profile(a);
        let [prompt_file, brief_file] = self.briefing_files(r.attempt);
        // The profile's environment first: the SWARM_* variables below
        // cannot be overridden by it.
        let mut env: Vec<(String, String)> = profile.env.clone().into_iter().collect();
        env.extend(a.env.iter().cloned());
        env.extend([
            (
                "SWARM_MODEL".to_string(),
                profile.model.clone().unwrap_or_default(),
            ),
            ("SWARM_TOOLS".to_string(), profile.tools.join(",")),
            (
                "SWARM_PROMPT_FILE".to_string(),
                prompt_file.display().to_string(),
            ),
            (
                "SWARM_BRIEF_FILE".to_string(),
                brief_file.display().to_string(),
            ),
        ]);
        env.extend([
            ("SWARM_TASK_ID".to_string(), r.task_id.clone()),
            ("SWARM_ROLE".to_string(), a.role.clone()),
            ("SWARM_TASK_TITLE".to_string(), a.title.clone()),
            ("SWARM_ATTEMPT".to_string(), a.attempt_no.to_string()),
            ("SWARM_ATTEMPT_ID".to_string(), r.attempt.to_string()),
            ("SWARM_AGENT_ID".to_string(), self.agent_id.clone()),
            (
                "SWARM_RESULT".to_string(),
                self.result_file(r.attempt).display().to_string(),
            ),
            (
                "SWARM_USAGE".to_string(),
                self.usage_file(r.attempt).display().to_string(),
            ),
            (
                "SWARM_RETRY_AFTER".to_string(),
                self.retry_file(r.attempt).display().to_string(),
            ),
        ]);
        env.extend(self.reach.iter().cloned());
        // The coordinator mints a token for each attempt (shared memory and
        // its own task, dead when the attempt ends); only a coordinator
        // that predates that gets the agent's own token passed on.
        if !env.iter().any(|(k, _)| k == "SWARM_TOKEN") {
            env.push(("SWARM_TOKEN".to_string(), self.token.clone()));
        }
        ExecSpec {
            task_id: r.task_id.clone(),
            attempt: r.attempt,
            attempt_no: a.attempt_no,
            role: a.role.clone(),
            title: a.title.clone(),
            run: a.run.clone(),
            checks: a.checks.clone(),
            image: a.image.clone(),
            timeout: a.timeout,
            brief: a.brief.clone(),
            env,
            workdir: self.workdir.clone(),
            sandbox: exec::RoleSandbox::from_env(&profile.env),
            // This agent's --exec wins; else the role's template.
            template: self.template.clone().or(profile.exec),
            grants: Vec::new(),
        }
    }
}

/// Runs the executor, forwarding its output as events of attempt `r`;
/// returns how it ended and the last result object on its standard
/// output, if any.
async fn execute(
    host: &Host,
    spec: ExecSpec,
    r: &AttemptRef,
    events: &mpsc::UnboundedSender<ExecEvent>,
    cancel: CancellationToken,
) -> (Outcome, Option<ResultObject>) {
    let (log_tx, mut log_rx) = mpsc::channel::<exec::LogChunk>(64);
    let (fwd_events, fwd_ref) = (events.clone(), r.clone());
    let forward = tokio::spawn(async move {
        let mut scanner = ResultScanner::default();
        while let Some(chunk) = log_rx.recv().await {
            if chunk.stream == Stream::Stdout {
                scanner.feed(&chunk.data);
            }
            let _ = fwd_events.send(ExecEvent::Log(fwd_ref.clone(), chunk.stream, chunk.data));
        }
        scanner.finish()
    });
    let outcome = exec::execute_with(host, spec, log_tx, cancel).await;
    let found = forward.await.ok().flatten();
    (outcome, found)
}

/// Ends an attempt's workspace: after a success its work is committed
/// and pushed (the commit, if anything changed), and a failed commit or
/// push fails the attempt; after anything else nothing is kept.
async fn hand_back(p: Prepared, outcome: Outcome) -> (Outcome, Option<String>) {
    let succeeded = matches!(outcome, Outcome::Succeeded);
    match blocking(move || p.finish(succeeded)).await {
        Ok(commit) => (outcome, commit),
        Err(message) => (
            Outcome::Failed {
                exit_code: None,
                message,
            },
            None,
        ),
    }
}

/// Runs a blocking workspace step off the runtime's threads; its error
/// as the message an attempt reports.
async fn blocking<T, E, F>(step: F) -> Result<T, String>
where
    F: FnOnce() -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    match tokio::task::spawn_blocking(step).await {
        Ok(done) => done.map_err(|e| e.to_string()),
        Err(e) => Err(format!("the attempt's workspace step did not finish: {e}")),
    }
}

/// Wall time, ms since the epoch.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Removes the attempt's briefing files.
fn remove_all(files: Vec<PathBuf>) {
    for file in files {
        let _ = std::fs::remove_file(file);
    }
}
