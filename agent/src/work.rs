//! The attempts this agent holds: executor tasks for the ones it leads,
//! held slots for the ones it joins as a gang member, and results kept
//! until the coordinator acknowledges them.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::exec::{self, ExecSpec, Host, Outcome, Stream};

/// One attempt of one task; `attempt` is the coordinator's fencing number,
/// unique across the whole coordinator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRef {
    /// The task's id, e.g. `d1.build`.
    pub task_id: String,
    /// The attempt's fencing number.
    pub attempt: u64,
}

/// An attempt the coordinator assigns to this agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// Which attempt of which task.
    pub attempt: AttemptRef,
    /// 1 for the task's first attempt, 2 for its first retry, ...
    pub attempt_no: u32,
    /// The role this agent plays in it.
    pub role: String,
    /// Whether this agent runs the executor; gang members only hold a slot.
    pub lead: bool,
    /// The task's title.
    pub title: String,
    /// Shell command to run, if any.
    pub run: Option<String>,
    /// Shell commands run after the main command succeeds.
    pub checks: Vec<String>,
    /// Container image to run the task in, if any.
    pub image: Option<String>,
    /// Limit on the whole attempt.
    pub timeout: Option<Duration>,
    /// The rendered task brief.
    pub brief: String,
    /// The task's own environment, sorted by name.
    pub env: Vec<(String, String)>,
    /// The profile of the role this agent plays, from the coordinator.
    pub profile: swarm_roles::Profile,
}

/// How an attempt this agent led ended; kept until the coordinator
/// acknowledges it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptResult {
    /// Which attempt of which task.
    pub attempt: AttemptRef,
    /// What the executor reported.
    pub outcome: Outcome,
    /// Output bytes shed on the way to the coordinator.
    pub output_dropped: u64,
    /// On success, what the task wrote to `$SWARM_RESULT`, if anything.
    pub result: Option<String>,
}

/// What an executor task reports.
#[derive(Debug)]
pub enum ExecEvent {
    /// The executor started.
    Started(AttemptRef),
    /// A chunk of the attempt's output.
    Log(AttemptRef, Stream, Vec<u8>),
    /// The executor finished with this outcome and, on success, what the
    /// task wrote to `$SWARM_RESULT`.
    Done(AttemptRef, Outcome, Option<String>),
}

struct Held {
    task_id: String,
    cancel: CancellationToken,
    /// The executor task, for a lead.
    executor: Option<JoinHandle<()>>,
}

/// A result waiting for its acknowledgement.
struct Unacked {
    result: AttemptResult,
    /// When it was last sent; `None` if never.
    sent: Option<Instant>,
}

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

/// The agent's attempts.
pub struct Work {
    ctx: Context,
    held: HashMap<u64, Held>,
    /// Attempts being handed back (drain timeout): no result, a Release.
    releasing: HashSet<u64>,
    /// Results not yet acknowledged, by attempt.
    unacked: HashMap<u64, Unacked>,
    /// Executors stopping attempts handed back or abandoned.
    stopping: Vec<JoinHandle<()>>,
    events: mpsc::UnboundedSender<ExecEvent>,
}

impl Work {
    /// No attempts yet.
    pub fn new(ctx: Context, events: mpsc::UnboundedSender<ExecEvent>) -> Self {
        Work {
            ctx,
            held: HashMap::new(),
            releasing: HashSet::new(),
            unacked: HashMap::new(),
            stopping: Vec::new(),
            events,
        }
    }

    /// Attempts to list in a Hello: held, and finished but unacknowledged.
    pub fn listed(&self) -> Vec<AttemptRef> {
        let mut v: Vec<AttemptRef> = self
            .held
            .iter()
            .map(|(&attempt, h)| AttemptRef {
                task_id: h.task_id.clone(),
                attempt,
            })
            .chain(self.unacked.values().map(|u| u.result.attempt.clone()))
            .collect();
        v.sort_by_key(|r| r.attempt);
        v.dedup_by_key(|r| r.attempt);
        v
    }

    /// Nothing held and nothing waiting for an acknowledgement.
    pub fn is_idle(&self) -> bool {
        self.held.is_empty() && self.unacked.is_empty()
    }

    /// How many attempts it holds, led or joined.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Takes on an assignment: the lead starts the executor, a gang member
    /// holds a slot until the coordinator says the attempt is over.
    pub fn assign(&mut self, a: Assignment) {
        let r = a.attempt.clone();
        let cancel = CancellationToken::new();
        self.held.insert(
            r.attempt,
            Held {
                task_id: r.task_id.clone(),
                cancel: cancel.clone(),
                executor: None,
            },
        );
        if !a.lead {
            return;
        }
        let spec = self.spec(&a);
        let result_file = self.result_file(r.attempt);
        let briefing = self.write_briefing(&a);
        let events = self.events.clone();
        let host = self.ctx.host.clone();
        let attempt = r.attempt;
        let executor = tokio::spawn(async move {
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
        });
        if let Some(h) = self.held.get_mut(&attempt) {
            h.executor = Some(executor);
        }
    }

    /// Where attempt `attempt` may write its result (`$SWARM_RESULT`).
    fn result_file(&self, attempt: u64) -> PathBuf {
        self.ctx.runtime.join(format!("result-{attempt}"))
    }

    /// The role's profile for this assignment: the coordinator's, with
    /// this host's definitions laid over it.
    fn profile(&self, a: &Assignment) -> swarm_roles::Profile {
        let mut p = a.profile.clone();
        if let Some(local) = self.ctx.local_profiles.get(&a.role) {
            p.overlay(local.profile.clone());
        }
        p
    }

    /// Where the role's prompt and the brief go for a template's
    /// `{prompt_file}` and `{brief_file}`.
    fn briefing_files(&self, attempt: u64) -> [PathBuf; 2] {
        [
            self.ctx.runtime.join(format!("prompt-{attempt}.md")),
            self.ctx.runtime.join(format!("brief-{attempt}.md")),
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
            ("SWARM_AGENT_ID".to_string(), self.ctx.agent_id.clone()),
            (
                "SWARM_RESULT".to_string(),
                self.result_file(r.attempt).display().to_string(),
            ),
        ]);
        env.extend(self.ctx.reach.iter().cloned());
        // The coordinator mints a token for each attempt (shared memory and
        // its own task, dead when the attempt ends); only a coordinator
        // that predates that gets the agent's own token passed on.
        if !env.iter().any(|(k, _)| k == "SWARM_TOKEN") {
            env.push(("SWARM_TOKEN".to_string(), self.ctx.token.clone()));
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
            workdir: self.ctx.workdir.clone(),
            sandbox: exec::RoleSandbox::from_env(&profile.env),
            // This agent's --exec wins; else the role's template.
            template: self.ctx.template.clone().or(profile.exec),
        }
    }

    /// The coordinator ended an attempt: stop it, report nothing.
    pub fn cancel(&mut self, attempt: u64) {
        if let Some(h) = self.held.remove(&attempt) {
            h.cancel.cancel();
        }
        self.unacked.remove(&attempt);
    }

    /// Stops every held attempt to hand it back; returns them, to be
    /// released. [`Work::stopped`] waits for their processes to end.
    pub fn release_all(&mut self) -> Vec<AttemptRef> {
        let mut out = Vec::new();
        for (attempt, h) in self.held.drain() {
            h.cancel.cancel();
            self.stopping.extend(h.executor);
            self.releasing.insert(attempt);
            out.push(AttemptRef {
                task_id: h.task_id,
                attempt,
            });
        }
        out
    }

    /// An executor ended: the result to send, or None when the coordinator
    /// already ended the attempt or it is being handed back. The result is
    /// kept until [`Work::acknowledged`].
    pub fn finished(
        &mut self,
        r: AttemptRef,
        outcome: Outcome,
        result: Option<String>,
    ) -> Option<AttemptResult> {
        if self.releasing.remove(&r.attempt) || self.held.remove(&r.attempt).is_none() {
            return None;
        }
        let result = AttemptResult {
            attempt: r,
            outcome,
            output_dropped: 0,
            result,
        };
        self.unacked.insert(
            result.attempt.attempt,
            Unacked {
                result: result.clone(),
                sent: None,
            },
        );
        Some(result)
    }

    /// The coordinator acknowledged (or rejected) the result of `attempt`.
    pub fn acknowledged(&mut self, attempt: u64) {
        self.unacked.remove(&attempt);
    }

    /// After a Welcome: results of attempts the coordinator did not resume
    /// are dropped (it no longer expects them); the others are due at once.
    pub fn keep_results_of(&mut self, resumed: &[u64]) {
        self.unacked.retain(|attempt, _| resumed.contains(attempt));
        for u in self.unacked.values_mut() {
            u.sent = None;
        }
    }

    /// Results never sent, or sent `every` ago or longer without an
    /// acknowledgement; each is marked sent at `now`.
    pub fn results_due(&mut self, now: Instant, every: Duration) -> Vec<AttemptResult> {
        let mut due: Vec<AttemptResult> = Vec::new();
        for u in self.unacked.values_mut() {
            if u.sent
                .is_none_or(|at| now.saturating_duration_since(at) >= every)
            {
                u.sent = Some(now);
                due.push(u.result.clone());
            }
        }
        due.sort_by_key(|r| r.attempt.attempt);
        due
    }

    /// Stops every attempt for good, the agent having nobody to report to.
    /// Nothing is reported; [`Work::stopped`] waits for their processes.
    pub fn abandon_all(&mut self) {
        for (_, h) in self.held.drain() {
            h.cancel.cancel();
            self.stopping.extend(h.executor);
        }
        self.unacked.clear();
    }

    /// Waits up to `limit` for the executors of attempts handed back or
    /// abandoned to stop their processes (SIGTERM, then SIGKILL).
    pub async fn stopped(&mut self, limit: Duration) {
        let executors = std::mem::take(&mut self.stopping);
        let _ = tokio::time::timeout(limit, futures_util::future::join_all(executors)).await;
    }

    /// Whether an attempt is held.
    pub fn holds(&self, attempt: u64) -> bool {
        self.held.contains_key(&attempt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work() -> Work {
        let ctx = Context {
            reach: vec![("SWARM_COORDINATOR".into(), "http://127.0.0.1:1".into())],
            runtime: PathBuf::new(),
            token: "t".into(),
            agent_id: "a".into(),
            workdir: PathBuf::new(),
            template: None,
            local_profiles: swarm_roles::Catalogue::builtin(),
            host: Host::plain(),
        };
        Work::new(ctx, mpsc::unbounded_channel().0)
    }

    /// A gang member's slot: held without an executor.
    fn joined(attempt: u64) -> Assignment {
        Assignment {
            attempt: AttemptRef {
                task_id: format!("t{attempt}"),
                attempt,
            },
            attempt_no: 1,
            role: "sre".into(),
            lead: false,
            title: String::new(),
            run: None,
            checks: Vec::new(),
            image: None,
            timeout: None,
            brief: String::new(),
            env: Vec::new(),
            profile: swarm_roles::Profile::default(),
        }
    }

    #[test]
    fn results_are_sent_again_until_acknowledged() {
        let mut w = work();
        w.assign(joined(7));
        let r = w.finished(joined(7).attempt, Outcome::Succeeded, None);
        assert!(r.is_some());
        let every = Duration::from_secs(3);
        let t0 = Instant::now();
        assert_eq!(w.results_due(t0, every).len(), 1, "due at once");
        assert!(w.results_due(t0 + Duration::from_secs(1), every).is_empty());
        let again = w.results_due(t0 + every, every);
        assert_eq!(
            again.iter().map(|r| r.attempt.attempt).collect::<Vec<_>>(),
            [7]
        );
        // A Welcome makes every kept result due at once.
        w.keep_results_of(&[7]);
        assert_eq!(w.results_due(t0 + every, every).len(), 1);
        w.acknowledged(7);
        assert!(w.results_due(t0 + every * 10, every).is_empty());
        assert!(w.is_idle());
    }

    #[test]
    fn a_welcome_drops_results_the_coordinator_no_longer_expects() {
        let mut w = work();
        w.assign(joined(1));
        w.assign(joined(2));
        w.finished(joined(1).attempt, Outcome::Succeeded, None);
        w.finished(joined(2).attempt, Outcome::Succeeded, None);
        w.keep_results_of(&[2]);
        let due = w.results_due(Instant::now(), Duration::from_secs(3));
        assert_eq!(
            due.iter().map(|r| r.attempt.attempt).collect::<Vec<_>>(),
            [2]
        );
        assert_eq!(w.listed().len(), 1);
    }
}
