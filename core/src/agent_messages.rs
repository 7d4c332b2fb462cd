//! What an agent's session and the scheduler loop say to each other, in
//! domain types: the agent's registration and messages, how an attempt
//! ended, the assignments and the rest the loop sends back. The gRPC edge
//! converts them from and to the wire.

use std::collections::BTreeMap;

use tokio::sync::mpsc;

/// Identifies one attempt of one task.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttemptRef {
    /// Task id.
    pub task_id: String,
    /// Fencing number of the attempt (monotonic per task).
    pub attempt: u64,
}

/// An agent's registration.
#[derive(Debug, Clone)]
pub struct Hello {
    /// Agent id, stable across reconnects of one process.
    pub agent_id: String,
    /// Roles it can play, the first active.
    pub roles: Vec<String>,
    /// How many attempts it runs at once.
    pub slots: u32,
    /// Host name it runs on.
    pub host: String,
    /// Free-form labels it registered with.
    pub labels: BTreeMap<String, String>,
    /// Attempts it still runs (or finished without an acknowledged result).
    pub running: Vec<AttemptRef>,
    /// Random per agent process (empty from agents that predate it): tells
    /// a reconnect of the same process from a second agent with the id.
    pub instance: String,
    /// Whether it has a command template for tasks without a run command
    /// or image (None: it did not say).
    pub exec_template: Option<bool>,
    /// The sandbox its task processes run in ("bwrap", "none"; empty: it
    /// did not say).
    pub sandbox: String,
    /// Where the session counts the agent's heartbeats (see [`Liveness`]).
    pub alive: Liveness,
}

/// A session's count of heartbeats. The session's reader counts them here
/// instead of sending each to the loop, so ten thousand idle agents do not
/// wake the loop two thousand times a second; the loop reads the count
/// when it checks leases, and a count that moved since is a sign of life
/// at that check (never earlier than the heartbeat: a lease never ends
/// early, and at most one lease check late). The reader is its only
/// writer.
#[derive(Debug, Clone, Default)]
pub struct Liveness(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl Liveness {
    /// A heartbeat arrived.
    pub fn beat(&self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Heartbeats so far.
    pub fn count(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// How an attempt ended, as the agent saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The run and every check passed.
    Succeeded,
    /// Something failed.
    Failed,
    /// The attempt ran past its timeout.
    TimedOut,
    /// The attempt was cancelled.
    Cancelled,
}

impl Outcome {
    /// The attempt state it stands for.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::TimedOut => "timed_out",
            Outcome::Cancelled => "cancelled",
        }
    }
}

/// How an attempt ended, as its lead reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptReport {
    /// Succeeded, failed, timed out or cancelled.
    pub outcome: Outcome,
    /// Exit code, if a process ran.
    pub exit_code: Option<i32>,
    /// What happened, for people (the output's tail, the reason).
    pub message: String,
    /// Output bytes the agent shed under pressure.
    pub output_dropped: u64,
    /// The executor could not start: a failed attempt, never a loss.
    pub not_started: bool,
    /// On success, what the task wrote to `$SWARM_RESULT`, if anything.
    pub result: Option<String>,
    /// On success in a workspace, the commit pushed to the attempt's
    /// branch; `None` when the task changed nothing.
    pub commit: Option<String>,
    /// What the attempt spent on this agent, when the task said.
    pub usage: Option<swarm_memory::state::Usage>,
    /// A rate-limited API turned the attempt away (the outcome is then
    /// `Failed`): re-queued without using a retry.
    pub rate_limit: Option<RateLimit>,
}

/// A rate- or usage-limited API turned an attempt away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// When it may be tried again, wall ms; `None` when not said.
    pub reset_at: Option<i64>,
}

impl AttemptReport {
    /// A report of `outcome` with nothing else to say.
    pub fn of(outcome: Outcome) -> AttemptReport {
        AttemptReport {
            outcome,
            exit_code: None,
            message: String::new(),
            output_dropped: 0,
            not_started: false,
            result: None,
            commit: None,
            usage: None,
            rate_limit: None,
        }
    }
}

/// What an agent says during its session.
#[derive(Debug, Clone)]
pub enum FromAgent {
    /// Still alive.
    Heartbeat,
    /// The executor started.
    Started(AttemptRef),
    /// Output.
    Log {
        /// Which attempt.
        attempt: AttemptRef,
        /// 0 stdout, 1 stderr.
        stream: u8,
        /// The bytes, as the executor wrote them.
        data: Vec<u8>,
    },
    /// The attempt ended.
    Result {
        /// Which attempt.
        attempt: AttemptRef,
        /// How it ended.
        report: AttemptReport,
    },
    /// The agent takes no new work.
    Draining,
    /// The agent hands an attempt back unfinished.
    Release {
        /// Which attempt.
        attempt: AttemptRef,
        /// Why, for the event log.
        reason: String,
    },
}

/// One assignment as sent to an agent.
#[derive(Debug, Clone)]
pub struct Assignment {
    /// Which attempt (task id and fencing number).
    pub attempt: AttemptRef,
    /// 1-based attempt number of the task.
    pub attempt_no: u32,
    /// Role the agent plays in it.
    pub role: String,
    /// Whether this agent runs the executor.
    pub lead: bool,
    /// Its place among the attempt's members, from 1 (1: the lead).
    pub member: u32,
    /// How many agents the attempt spans (1: not a gang).
    pub members: u32,
    /// Task title.
    pub title: String,
    /// The task's Run command; `None`: template or manual.
    pub run: Option<String>,
    /// Check commands, run after Run in order.
    pub checks: Vec<String>,
    /// Container image: the docker executor runs it.
    pub image: Option<String>,
    /// Timeout in ms (0: none).
    pub timeout_ms: u64,
    /// The task brief.
    pub brief: String,
    /// Environment the executor adds (token, ids, coordinator URL).
    pub env: BTreeMap<String, String>,
    /// The plan's name.
    pub plan: String,
    /// The profile of the role this agent plays.
    pub profile: swarm_roles::Profile,
    /// The branch and worktree it works in; `None`: the agent's working
    /// directory.
    pub workspace: Option<AssignedWorkspace>,
}

/// Where an attempt works in the plan's repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignedWorkspace {
    /// The repository's address.
    pub repo: String,
    /// The integration commit it starts from.
    pub base_commit: String,
    /// Its branch.
    pub branch: String,
    /// `<plan-slug>-<plan-id>`, for the `Swarm-Plan` trailer.
    pub plan: String,
    /// Run only the Checks on `base_commit` (a candidate merge): commit
    /// and push nothing.
    pub checks_only: bool,
}

/// What a [`ToAgent::Welcome`] tells an agent whose registration was
/// accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Welcome {
    /// The agent's id.
    pub agent_id: String,
    /// Heartbeat interval.
    pub heartbeat_ms: u32,
    /// Lease: an agent silent this long is lost.
    pub lease_ttl_ms: u32,
    /// Attempts the agent still runs that stay its own.
    pub resume: Vec<AttemptRef>,
    /// Attempts the agent still runs that it must stop (handed on).
    pub abandon: Vec<AttemptRef>,
    /// The role it plays from now on.
    pub active_role: String,
    /// The coordinator's state directory, absolute: the agent's
    /// sandbox hides it from tasks.
    pub state_dir: String,
}

/// What the coordinator tells an agent.
#[derive(Debug, Clone)]
pub enum ToAgent {
    /// Registration accepted (boxed: the largest message by far, it
    /// would make every queued one as large).
    Welcome(Box<Welcome>),
    /// Run an attempt.
    Assign(Box<Assignment>),
    /// Stop this attempt; report nothing.
    Cancel(AttemptRef, String),
    /// A result was committed (or rejected).
    Ack {
        /// Which attempt's result.
        attempt: AttemptRef,
        /// Committed (true) or rejected as stale (false).
        accepted: bool,
        /// Why it was rejected; empty when accepted.
        reason: String,
    },
    /// Play this role from now on.
    SetRole(String),
    /// Finish current work, take no more, exit.
    Drain(String),
    /// The coordinator is going away: keep running, reconnect later.
    Goodbye {
        /// Why, for the agent's log.
        reason: String,
        /// How long after this the agent may keep its attempts without an
        /// acknowledgement (the reconnect grace): the restarted
        /// coordinator hands none of them on before this grace and a
        /// lease have passed.
        grace_ms: u32,
    },
}

/// The outbound half of an agent's session.
pub type AgentTx = mpsc::UnboundedSender<ToAgent>;
