//! What the gRPC handlers ask of the scheduler loop, and what it answers.
//! Domain types only: the handlers convert from and to the wire.

use std::collections::BTreeMap;

use swarm_memory::kv::Entry;
use swarm_memory::state::{EventRow, LogRow};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::error::CoreError;

/// A reply channel.
pub type Reply<T> = oneshot::Sender<Result<T, CoreError>>;

/// Identifies one attempt of one task.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttemptRef {
    /// Task id.
    pub task_id: String,
    /// Fencing number.
    pub attempt: u64,
}

/// An agent's registration.
#[derive(Debug, Clone)]
pub struct Hello {
    /// Agent id, stable across reconnects of one process.
    pub agent_id: String,
    /// Roles it can play, the first active.
    pub roles: Vec<String>,
    /// Capacity.
    pub slots: u32,
    /// Host name.
    pub host: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Attempts it still runs (or finished without an acknowledged result).
    pub running: Vec<AttemptRef>,
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
        /// The bytes.
        data: Vec<u8>,
    },
    /// The attempt ended.
    Result {
        /// Which attempt.
        attempt: AttemptRef,
        /// How.
        outcome: Outcome,
        /// Exit code, if a process ran.
        exit_code: Option<i32>,
        /// Detail.
        message: String,
    },
    /// The agent takes no new work.
    Draining,
    /// The agent hands an attempt back unfinished.
    Release {
        /// Which attempt.
        attempt: AttemptRef,
        /// Why.
        reason: String,
    },
}

/// One assignment as sent to an agent.
#[derive(Debug, Clone)]
pub struct Assignment {
    /// The attempt.
    pub attempt: AttemptRef,
    /// 1-based attempt number of the task.
    pub attempt_no: u32,
    /// Role the agent plays in it.
    pub role: String,
    /// Whether this agent runs the executor.
    pub lead: bool,
    /// Task title.
    pub title: String,
    /// Shell command.
    pub run: Option<String>,
    /// Check commands.
    pub checks: Vec<String>,
    /// Container image.
    pub image: Option<String>,
    /// Timeout in ms (0: none).
    pub timeout_ms: u64,
    /// The task brief.
    pub brief: String,
    /// Extra environment.
    pub env: BTreeMap<String, String>,
    /// Plan name.
    pub plan: String,
}

/// What the coordinator tells an agent.
#[derive(Debug, Clone)]
pub enum ToAgent {
    /// Registration accepted.
    Welcome {
        /// The agent's id.
        agent_id: String,
        /// Heartbeat interval.
        heartbeat_ms: u32,
        /// Lease.
        lease_ttl_ms: u32,
        /// Attempts to keep.
        resume: Vec<AttemptRef>,
        /// Attempts to stop.
        abandon: Vec<AttemptRef>,
        /// Role to play.
        active_role: String,
    },
    /// Run this.
    Assign(Box<Assignment>),
    /// Stop this attempt; report nothing.
    Cancel(AttemptRef, String),
    /// A result was committed (or rejected).
    Ack {
        /// Which attempt.
        attempt: AttemptRef,
        /// Committed?
        accepted: bool,
        /// Why not.
        reason: String,
    },
    /// Play this role from now on.
    SetRole(String),
    /// Finish current work, take no more, exit.
    Drain(String),
}

/// The outbound half of an agent's session.
pub type AgentTx = mpsc::UnboundedSender<ToAgent>;

/// Operator actions on a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskAction {
    /// Mark succeeded.
    Done,
    /// Mark failed (final).
    Fail,
    /// Run again: reset its retry budget, unblock dependents.
    Retry,
    /// Treat as done without running; unblock dependents.
    Skip,
    /// Stop it; dependents are blocked.
    Cancel,
}

/// A plan to load.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// Name for messages.
    pub file_name: String,
    /// Its text.
    pub text: String,
    /// TOML rather than markdown.
    pub toml: bool,
    /// Extra roles.
    pub roles_toml: String,
}

/// A shared-memory write.
#[derive(Debug, Clone)]
pub struct MemPut {
    /// Namespace.
    pub namespace: String,
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
    /// Time to live in seconds (0: none).
    pub ttl_seconds: u64,
    /// Write only if absent.
    pub expect_absent: bool,
    /// Write only if the current value is this.
    pub expect_value: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Who writes (agent id or `admin`).
    pub owner: String,
}

/// A log chunk as followers see it.
#[derive(Debug, Clone)]
pub struct LogEvent {
    /// The chunk.
    pub row: LogRow,
}

/// A command for the scheduler loop.
pub enum Command {
    /// An agent opens a session.
    AgentHello {
        /// Its registration.
        hello: Hello,
        /// Session number (a reconnect gets a new one).
        session: u64,
        /// Where to send it messages.
        tx: AgentTx,
        /// Accepted or refused.
        reply: Reply<()>,
    },
    /// A message within a session.
    FromAgent {
        /// Agent id.
        agent: String,
        /// Session number.
        session: u64,
        /// The message.
        msg: FromAgent,
    },
    /// A session ended.
    AgentGone {
        /// Agent id.
        agent: String,
        /// Session number.
        session: u64,
    },
    /// Load a plan.
    LoadPlan(LoadPlan, Reply<super::views::Loaded>),
    /// Overall status.
    Status(Reply<super::views::Status>),
    /// Every task.
    ListTasks(Reply<Vec<super::views::TaskView>>),
    /// One task with its attempts.
    GetTask(String, Reply<super::views::TaskDetail>),
    /// A task's logs so far, and a feed of what follows.
    Logs {
        /// Task id.
        task: String,
        /// Attempt (0: latest).
        attempt: u64,
        /// The chunks so far, the attempt, and a live feed.
        reply: Reply<(u64, Vec<LogRow>, broadcast::Receiver<LogEvent>)>,
    },
    /// An operator action.
    TaskAction(String, TaskAction, String, Reply<String>),
    /// Every agent.
    ListAgents(Reply<Vec<super::views::AgentView>>),
    /// Drain one agent.
    DrainAgent(String, Reply<String>),
    /// Events after a sequence number, and a live feed.
    Events(u64, Reply<(Vec<EventRow>, broadcast::Receiver<EventRow>)>),
    /// Pause or resume dispatch.
    SetPaused(bool, Reply<String>),
    /// Shared memory: write.
    MemPut(MemPut, Reply<bool>),
    /// Shared memory: read.
    MemGet(String, String, Reply<Entry>),
    /// Shared memory: list.
    MemList(Option<String>, Option<String>, usize, Reply<Vec<Entry>>),
    /// Shared memory: delete.
    MemDelete(String, String, Reply<bool>),
    /// Run a checkpoint now (a named kind, or the next due).
    Standup(Option<String>, Reply<super::views::StandupView>),
    /// Every checkpoint of the plan.
    Standups(Reply<Vec<super::views::StandupView>>),
    /// One checkpoint (0: the latest).
    GetStandup(i64, Reply<super::views::StandupView>),
    /// A report is written: record it (sent by the reporter).
    StoreStandup(
        Box<swarm_memory::state::CheckpointRow>,
        Option<Reply<super::views::StandupView>>,
    ),
    /// Stop the loop.
    Shutdown,
}
