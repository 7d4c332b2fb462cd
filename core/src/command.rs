//! What the gRPC handlers ask of the scheduler loop, and what it answers.
//! Domain types only: the handlers convert from and to the wire.

use std::collections::BTreeMap;

use swarm_memory::state::{AttemptPick, EventRow, LogRow};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::error::CoreError;
pub use super::setup::{LoadPlan, PlanText};

/// A reply channel.
pub type Reply<T> = oneshot::Sender<Result<T, CoreError>>;

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
#[derive(Debug, Clone, PartialEq, Eq)]
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
        /// Lease: an agent silent this long is lost.
        lease_ttl_ms: u32,
        /// Attempts the agent still runs that stay its own.
        resume: Vec<AttemptRef>,
        /// Attempts the agent still runs that it must stop (handed on).
        abandon: Vec<AttemptRef>,
        /// The role it plays from now on.
        active_role: String,
        /// The coordinator's state directory, absolute: the agent's
        /// sandbox hides it from tasks.
        state_dir: String,
    },
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

/// A log chunk as followers see it.
#[derive(Debug, Clone)]
pub struct LogEvent {
    /// The chunk as stored.
    pub row: LogRow,
}

/// The output of the attempt a `Query::Logs` picked.
pub struct TaskLogs {
    /// Its fencing number.
    pub fence: u64,
    /// Its number within the task.
    pub number: u32,
    /// Its chunks so far.
    pub chunks: Vec<LogRow>,
    /// Chunks of every attempt that follow (filter by `fence`).
    pub feed: broadcast::Receiver<LogEvent>,
}

/// A command for the scheduler loop, by the part of the loop that answers
/// it. Every match over commands is exhaustive: a new command that nobody
/// handles does not compile.
pub enum Command {
    /// An agent's session.
    Agent(AgentCmd),
    /// An operator changes the plan's course.
    Plan(PlanCmd),
    /// A read-only question.
    Query(Query),
    /// The checks of gate number `gate` ran (sent by the gate checker).
    GateChecked {
        /// Index of the gate in the plan.
        gate: usize,
        /// Whether every check passed.
        passed: bool,
        /// What the checks said.
        detail: String,
    },
    /// The provisioner could not start an agent it was asked for.
    ProvisionFailed {
        /// The agent id it was to register with.
        agent_id: String,
        /// What the provisioner (or the engine) said.
        reason: String,
    },
    /// The guide searcher's guide for plan `plan`.
    Guide {
        /// The plan it was searched for.
        plan: i64,
        /// Places for every task of the whole plan (or none).
        guide: swarm_plan::policy::Guide,
    },
    /// What the shared-memory worker found (a reconciliation, a rebuild).
    MemoryNotice(crate::jobs::Notice),
    /// Checkpoints and their reports.
    Checkpoint(CheckpointCmd),
    /// Stop the loop after this turn.
    Shutdown,
}

/// What happens in an agent's session.
pub enum AgentCmd {
    /// An agent opens a session.
    Hello {
        /// What it registers with.
        hello: Hello,
        /// Session number (a reconnect gets a new one).
        session: u64,
        /// Where to send it messages.
        tx: AgentTx,
        /// Accepted or refused.
        reply: Reply<()>,
    },
    /// A message within a session.
    Message {
        /// Agent id.
        agent: String,
        /// Session number: messages of an older session are ignored.
        session: u64,
        /// What it said.
        msg: FromAgent,
    },
    /// A session ended.
    Gone {
        /// Agent id.
        agent: String,
        /// Session number: the end of an older session changes nothing.
        session: u64,
    },
}

/// Operator actions that change what runs.
pub enum PlanCmd {
    /// Persist and activate a plan compiled off the loop.
    Load(Box<LoadPlan>, Reply<super::views::Loaded>),
    /// Pause (true) or resume (false) dispatch; answers the plan state.
    SetPaused(bool, Reply<super::model::PlanState>),
    /// An action on one task; answers its new state.
    TaskAction {
        /// Task id.
        task: String,
        /// What to do.
        action: TaskAction,
        /// Why, for the event log (may be empty).
        reason: String,
        /// The task's state afterwards.
        reply: Reply<super::model::TaskState>,
    },
    /// Drain one agent by id; answers its state afterwards.
    DrainAgent(String, Reply<super::model::AgentState>),
    /// Open every closed gate of a day; answers the gates opened.
    ApproveGate(u32, Reply<Vec<String>>),
}

/// Read-only questions.
pub enum Query {
    /// Overall status.
    Status(Reply<super::views::Status>),
    /// Every task.
    ListTasks(Reply<Vec<super::views::TaskView>>),
    /// One task, by id, with its attempts.
    GetTask(String, Reply<super::views::TaskDetail>),
    /// A task's logs so far, and a feed of what follows.
    Logs {
        /// Task id.
        task: String,
        /// Which attempt.
        pick: AttemptPick,
        /// The stored output and the live feed.
        reply: Reply<TaskLogs>,
    },
    /// Every agent.
    ListAgents(Reply<Vec<super::views::AgentView>>),
    /// Events after a sequence number, and a live feed.
    Events {
        /// Last sequence number already seen.
        since: u64,
        /// The stored events after it, and the feed.
        reply: Reply<(Vec<EventRow>, broadcast::Receiver<EventRow>)>,
    },
    /// The web view's picture of the plan.
    Board(Reply<super::board::Board>),
}

/// Checkpoints.
pub enum CheckpointCmd {
    /// Run one now: a named kind, or the next due.
    Run(Option<String>, Reply<super::views::StandupView>),
    /// Every checkpoint of the plan.
    List(Reply<Vec<super::views::StandupView>>),
    /// One checkpoint by number (0: the latest).
    Get(i64, Reply<super::views::StandupView>),
    /// A report was written: record it (sent by the reporter).
    Store(
        Box<swarm_memory::state::CheckpointRow>,
        Option<Reply<super::views::StandupView>>,
    ),
}

macro_rules! into_command {
    ($($part:ident => $variant:ident),*) => {
        $(impl From<$part> for Command {
            fn from(cmd: $part) -> Command {
                Command::$variant(cmd)
            }
        })*
    };
}

into_command!(AgentCmd => Agent, PlanCmd => Plan, Query => Query, CheckpointCmd => Checkpoint);
