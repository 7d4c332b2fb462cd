//! Launching an attempt: the facts every attempt's environment is built
//! from ([`Context`]), the executor spec an assignment becomes (its
//! environment, profile and template), the prompt and brief files a
//! template reads, and the executor task that runs it and reports back.

use std::path::PathBuf;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{Assignment, ExecEvent};
use crate::exec::{self, ExecSpec, Host};

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
        let spec = self.spec(a);
        let result_file = self.result_file(r.attempt);
        let briefing = self.write_briefing(a);
        let host = self.host.clone();
        tokio::spawn(async move {
            let _ = events.send(ExecEvent::Started(r.clone()));
            let (log_tx, mut log_rx) = mpsc::channel::<exec::LogChunk>(64);
            let fwd_events = events.clone();
            let fwd_ref = r.clone();
            let forward = tokio::spawn(async move {
                while let Some(chunk) = log_rx.recv().await {
                    let _ =
                        fwd_events.send(ExecEvent::Log(fwd_ref.clone(), chunk.stream, chunk.data));
                }
            });
            let outcome = exec::execute_with(&host, spec, log_tx, cancel).await;
            let _ = forward.await;
            let result = crate::runtime::take_result(&result_file)
                .filter(|_| matches!(outcome, exec::Outcome::Succeeded));
            for file in briefing {
                let _ = std::fs::remove_file(file);
            }
            let _ = events.send(ExecEvent::Done(r, outcome, result));
        })
    }

    /// Where attempt `attempt` may write its result (`$SWARM_RESULT`).
    fn result_file(&self, attempt: u64) -> PathBuf {
        self.runtime.join(format!("result-{attempt}"))
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
        }
    }
}
