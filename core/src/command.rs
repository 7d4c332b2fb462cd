//! What the gRPC handlers ask of the scheduler loop, and what it answers.
//! Domain types only: the handlers convert from and to the wire.

use swarm_memory::state::{AttemptPick, EventRow, LogRow};
use tokio::sync::{broadcast, oneshot};

pub use super::actor::Actor;
pub use super::agent_messages::{
    AgentTx, AssignedWorkspace, Assignment, AttemptRef, AttemptReport, FromAgent, Hello, Liveness,
    Outcome, RateLimit, ToAgent, Welcome,
};
use super::error::CoreError;
pub use super::setup::{LoadPlan, PlanText};

/// A reply channel.
pub type Reply<T> = oneshot::Sender<Result<T, CoreError>>;

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
    /// Budgets: what each has spent, or an operator sets one.
    Budget(BudgetCmd),
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
    /// What the merge queue did.
    Merge(crate::jobs::MergeNotice),
    /// Checkpoints and their reports.
    Checkpoint(CheckpointCmd),
    /// The trace exporter's questions and progress.
    Trace(super::trace::TraceCmd),
    /// The notifier's questions and delivery records.
    Notify(super::notify::NotifyCmd),
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

/// Operator actions that change what runs. Each names its actor, whom
/// the events it causes name.
pub enum PlanCmd {
    /// Persist and activate a plan compiled off the loop.
    Load {
        /// The compiled plan.
        plan: Box<LoadPlan>,
        /// Who loads it.
        actor: Actor,
        /// What was loaded.
        reply: Reply<super::views::Loaded>,
    },
    /// Pause (true) or resume (false) dispatch; answers the plan state.
    SetPaused {
        /// Pause or resume.
        paused: bool,
        /// Who.
        actor: Actor,
        /// The plan's state afterwards.
        reply: Reply<super::model::PlanState>,
    },
    /// Cancel the plan: every unfinished task, running attempts stopped.
    Cancel {
        /// Why, for the event log (may be empty).
        reason: String,
        /// Who.
        actor: Actor,
        /// The plan and how many tasks were cancelled.
        reply: Reply<super::views::PlanCancelled>,
    },
    /// An action on one task; answers its new state.
    TaskAction {
        /// Task id.
        task: String,
        /// What to do.
        action: TaskAction,
        /// Why, for the event log (may be empty).
        reason: String,
        /// Who.
        actor: Actor,
        /// The task's state afterwards.
        reply: Reply<super::model::TaskState>,
    },
    /// Drain one agent by id; answers its state afterwards.
    DrainAgent {
        /// Agent id.
        agent: String,
        /// Who.
        actor: Actor,
        /// The agent's state afterwards.
        reply: Reply<super::model::AgentState>,
    },
    /// Open every closed gate of a day; answers the gates opened.
    ApproveGate {
        /// Plan day.
        day: u32,
        /// Who.
        actor: Actor,
        /// The gates opened.
        reply: Reply<Vec<String>>,
    },
    /// Apply a revised plan, compiled off the loop, as the plan's next
    /// version (or, dry, only say what would change).
    Apply(
        Box<super::revise::ApplyPlan>,
        Reply<super::revise::Revision>,
    ),
}

impl PlanCmd {
    /// Who asked for it.
    pub fn actor(&self) -> &Actor {
        match self {
            PlanCmd::Load { actor, .. }
            | PlanCmd::SetPaused { actor, .. }
            | PlanCmd::Cancel { actor, .. }
            | PlanCmd::TaskAction { actor, .. }
            | PlanCmd::DrainAgent { actor, .. }
            | PlanCmd::ApproveGate { actor, .. } => actor,
            PlanCmd::Apply(req, _) => &req.actor,
        }
    }

    /// The task it acts on, if one.
    pub fn task(&self) -> Option<&str> {
        match self {
            PlanCmd::TaskAction { task, .. } => Some(task),
            _ => None,
        }
    }
}

/// Read-only questions.
pub enum Query {
    /// Overall status.
    Status(Reply<super::views::Status>),
    /// One page of the plan's tasks ([`crate::listing`]).
    ListTasks(crate::listing::PageQuery, Reply<crate::listing::TaskPage>),
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
        /// The stored events after it (at most
        /// [`crate::follow::EVENT_PAGE`]: a full page means more follow),
        /// and the feed.
        reply: Reply<(Vec<EventRow>, broadcast::Receiver<EventRow>)>,
    },
    /// The web view's picture of the plan.
    Board(Reply<super::board::Board>),
    /// Every version of the running plan, oldest first.
    PlanHistory(Reply<Vec<super::revise::VersionView>>),
    /// The text of one version of the running plan (0: the one running),
    /// to compile and compare off the loop.
    PlanText(u32, Reply<PlanText>),
}

/// Checkpoints.
pub enum CheckpointCmd {
    /// Run one now: a named kind, or the next due.
    Run {
        /// The kind (`Daily Standup`, …), or the next due.
        kind: Option<String>,
        /// Who asked.
        actor: Actor,
        /// The checkpoint.
        reply: Reply<super::views::StandupView>,
    },
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

use crate::budget::BudgetCmd;
into_command!(AgentCmd => Agent, PlanCmd => Plan, Query => Query, CheckpointCmd => Checkpoint, BudgetCmd => Budget);
