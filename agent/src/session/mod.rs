//! The agent's session with the coordinator.
//!
//! A [`Session`](machine::Session) owns the agent's [`Work`](crate::work::Work),
//! its [`Outbox`](outbox) and the executor events; an explicit state
//! machine ([`machine`]) moves it through four phases, one function each:
//!
//! | state | what holds | leaves for |
//! |---|---|---|
//! | connecting | no session: connect, Hello (listing the attempts still held), Welcome; capped exponential backoff with jitter between tries; the lease clock keeps running (see [`lease`]): past the lease minus a margin without an acknowledgement, the attempts are stopped | connected on a Welcome; draining on a signal; orphaned after `--orphan-timeout`; an [`Exit`] on a refusal |
//! | connected | the session: assignments start executors, heartbeats keep the lease, executor events go out as Started/Log/Result through the outbox; a quiet session with attempts running is probed | connecting when the session ends, at once when a probe goes unanswered (a dead connection), or when nothing was acknowledged for the lease minus a margin (the attempts are stopped first); draining on a signal or a Drain |
//! | draining | no new work (assignments are released); running attempts finish, or are handed back at the drain timeout; reconnects as connecting does | an [`Exit`] once idle or at the drain timeout; orphaned; exit at once on a second signal |
//! | orphaned | no coordinator for `--orphan-timeout`: the attempts are stopped and nothing is reported | [`Exit::Orphaned`] |
//!
//! Before the first Hello it kills the process groups a previous process of
//! this id left running (see [`crate::home`]). Executors keep running while
//! the connection is down; the outbox never drops control messages and
//! sheds output only under pressure, visibly; results are kept until
//! acknowledged and sent again every [`RESEND_AFTER`] and after each
//! Welcome, so neither a lost message nor a coordinator restart loses one.
//!
//! Nothing here exits the process: how a run ended is an [`Exit`], which
//! `main` turns into the documented exit code ([`crate::exit::Code`]).

mod connect;
mod lease;
mod machine;
mod outbox;
mod phases;
mod serve;
mod settings;
mod start;

use std::time::Duration;

use crate::exec::KILL_GRACE;
use crate::exit::Code;
use crate::home::GroupRecords;

pub use settings::Settings;

/// How a run of the agent ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// It drained and stopped.
    Drained,
    /// The coordinator refused it for good (token, id, roles, version):
    /// the coordinator's reason.
    Refused(String),
    /// A live agent already uses its id: the reason.
    IdInUse(String),
    /// The coordinator was unreachable for the orphan timeout; the
    /// attempts were stopped.
    Orphaned(Duration),
    /// A second signal came while it drained: it stops at once.
    Interrupted,
    /// It could not run at all: why.
    Broken(String),
}

impl Exit {
    /// The process exit code `swarm-agent --help` documents.
    pub fn code(&self) -> Code {
        match self {
            Exit::Drained => Code::Done,
            Exit::Broken(_) => Code::Failed,
            Exit::Refused(_) => Code::Refused,
            Exit::IdInUse(_) => Code::IdInUse,
            Exit::Orphaned(_) => Code::Orphaned,
            Exit::Interrupted => Code::Interrupted,
        }
    }
}

/// How often unacknowledged results are sent again.
pub const RESEND_AFTER: Duration = Duration::from_secs(3);

/// How long stopped attempts' processes get to end (SIGTERM, then SIGKILL
/// after [`KILL_GRACE`]) before the agent exits anyway.
const STOP_LIMIT: Duration = KILL_GRACE.saturating_add(Duration::from_secs(3));

/// Runs the agent until it drains, is refused, is orphaned or is
/// interrupted. `groups` is where its process groups are recorded; the
/// caller holds the agent's lock on them.
pub async fn run(settings: Settings, groups: GroupRecords) -> Exit {
    match start::start(settings, groups) {
        Ok(session) => session.drive().await,
        Err(exit) => exit,
    }
}
