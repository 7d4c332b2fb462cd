//! swarm-core: the scheduler loop of swarmd, the one writer of all state.
//!
//! This crate has no network and no container engine in it (no tonic,
//! hyper, axum or bollard): the compiler keeps the boundary. The daemon's
//! edges (gRPC, HTTP) and its workers (reports, gates, guide search,
//! result copying, shared memory, provisioners) live in `swarmd` and
//! import this crate; the messages the loop sends them are defined here
//! ([`jobs`]).
//!
//! The edges send [`Command`]s over a channel. The loop runs on its own
//! thread; each *turn* takes every command waiting (up to a batch limit),
//! applies them, expires leases and backoffs, places ready tasks on free
//! agents, and commits everything in ONE transaction (group commit). Only
//! after the commit does anything leave the loop: replies, assignments,
//! acknowledgements, events for followers. A transition is therefore never
//! revealed before it is durable. If the store fails, the loop stops the
//! process rather than run ahead of its database.
//!
//! The state is made of parts that own their invariants behind private
//! fields ([`active`], [`roster`], [`attempts`], [`provisioning`],
//! [`projection`]); the transitions that span parts (`tasks.rs`,
//! `agents.rs`, `dispatch.rs`, `control.rs`, `checkpoint.rs`,
//! `realloc.rs`, `recover.rs`) compose them through their methods. Time is
//! an input: a turn runs at the instant it is given.

mod active;
pub mod actor;
mod agent_messages;
mod agents;
mod attempts;
pub mod board;
mod brief;
pub mod budget;
mod checkpoint;
pub mod clock;
pub mod command;
pub mod config;
mod control;
mod dependents;
mod dispatch;
mod effects;
pub mod error;
pub mod event;
mod fatal;
pub mod follow;
mod gates;
pub mod grants;
mod guides;
pub mod jobs;
pub mod listing;
mod memory_notes;
pub mod metrics;
pub mod model;
pub mod notify;
mod plan_cmds;
mod pools;
mod projection;
mod provisioning;
mod queries;
mod realloc;
mod recover;
mod rejected;
mod remaining;
mod results;
pub mod revise;
pub mod roles;
mod roster;
mod scheduler;
mod settle;
mod setup;
mod spend;
mod status;
mod tasks;
pub mod trace;
pub mod verdict;
pub mod views;
mod workspace;

#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

use std::sync::mpsc;

use swarm_memory::Store;
use tokio::sync::broadcast;

use crate::config::CoreConfig;
pub use command::Command;
use command::{AgentCmd, CheckpointCmd, Query, ToAgent};
pub use effects::Receivers;
use effects::{Effects, Outlets, Turn};
pub use error::CoreError;
use event::Event;
pub use event::{AttemptEnd, EventKind};
pub use fatal::Fatal;
pub use scheduler::{start, LoopEnd, SchedulerLoop};

/// Most commands applied in one turn (one transaction).
const MAX_BATCH: usize = 8192;

/// The longest the loop sleeps when nothing is due, ms.
const MAX_SLEEP_MS: i64 = 500;

/// Everything the loop owns besides the store: the configuration, the
/// parts, and where effects go.
pub(crate) struct State {
    cfg: CoreConfig,
    /// The plan being executed (or the last one, finished).
    plan: Option<active::ActivePlan>,
    roster: roster::Roster,
    attempts: attempts::LiveAttempts,
    provisioning: provisioning::Provisioning,
    projection: projection::Projection,
    /// Where guide searches go.
    guides: guides::Guides,
    /// What the shared-memory worker last said, for status.
    memory_note: String,
    /// Its writes still pending for memory.db and its last merge.
    memory_backlog: String,
    out: Outlets,
    /// Where a failure of the store is recorded for the callers.
    fatal: Fatal,
    /// The live attempts' tokens (the loop is their one writer).
    grants: crate::grants::Grants,
    /// Mints them.
    tokens: crate::grants::TokenMint,
    /// The roles' profiles, from the plan's compilation.
    profiles: setup::Profiles,
    /// The plan's trace id (its attempts' `TRACEPARENT`).
    trace: Option<trace::TraceId>,
    /// The plan's repository and merge queue, when tasks work in one.
    ws: Option<workspace::PlanWorkspace>,
    /// What the plan spent; paused pools; budgets set while it runs.
    spend: spend::Spend,
    pools: pools::Pools,
    budget: budget::BudgetState,
}

/// A handle to send commands to the loop.
#[derive(Clone)]
pub struct CoreHandle {
    tx: mpsc::Sender<Command>,
    fatal: Fatal,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
}

impl CoreHandle {
    /// The loop's metrics (`/metrics`, `/readyz`).
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.metrics
    }

    /// Sends a command and waits for its reply.
    pub async fn ask<T>(
        &self,
        make: impl FnOnce(command::Reply<T>) -> Command,
    ) -> Result<T, CoreError> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.tx.send(make(reply)).map_err(|_| self.fatal.error())?;
        rx.await.map_err(|_| self.fatal.error())?
    }

    /// Sends a command that has no reply.
    pub fn tell(&self, cmd: impl Into<Command>) {
        let _ = self.tx.send(cmd.into());
    }
}

impl State {
    /// A fresh state, before recovery.
    fn new(cfg: CoreConfig, fatal: Fatal, grants: crate::grants::Grants) -> (State, Receivers) {
        let (events, _) = broadcast::channel(effects::EVENT_FEED);
        let (logs, _) = broadcast::channel(4096);
        let (jobs_tx, jobs) = tokio::sync::mpsc::unbounded_channel();
        let (provision_tx, provision) = tokio::sync::mpsc::unbounded_channel();
        let (gates_tx, gates) = tokio::sync::mpsc::unbounded_channel();
        let (results_tx, results) = tokio::sync::mpsc::unbounded_channel();
        let (merges_tx, merges) = tokio::sync::mpsc::unbounded_channel();
        let (guides, guide_jobs) = guides::Guides::new();
        let state = State {
            cfg,
            plan: None,
            roster: Default::default(),
            attempts: attempts::LiveAttempts::starting_at(1),
            provisioning: Default::default(),
            projection: Default::default(),
            guides,
            memory_note: String::new(),
            memory_backlog: String::new(),
            trace: None,
            out: Outlets {
                events,
                logs,
                jobs: jobs_tx,
                provision: provision_tx,
                gates: gates_tx,
                results: results_tx,
                merges: merges_tx,
                metrics: Default::default(),
            },
            fatal,
            grants,
            tokens: Default::default(),
            profiles: Default::default(),
            ws: None,
            spend: Default::default(),
            pools: Default::default(),
            budget: Default::default(),
        };
        (
            state,
            Receivers {
                jobs,
                provision,
                gates,
                results,
                guides: guide_jobs,
                merges,
            },
        )
    }

    /// Opens `store`'s state: recovers what it holds, in one turn at `now`.
    fn open(
        cfg: CoreConfig,
        store: &mut Store,
        now: i64,
        fatal: Fatal,
        grants: crate::grants::Grants,
    ) -> Result<(State, Receivers), CoreError> {
        let (mut state, receivers) = State::new(cfg, fatal, grants);
        let mut fx = Effects::default();
        let tx = store.transaction()?;
        state.recover(&mut Turn::new(&tx, now, None, &mut fx))?;
        tx.commit()?;
        fx.flush(&state.out);
        Ok((state, receivers))
    }

    /// Applies one command. The one match over every command there is.
    fn apply(&mut self, t: &mut Turn<'_>, cmd: Command) -> Result<(), CoreError> {
        match cmd {
            Command::Agent(AgentCmd::Hello {
                hello,
                session,
                tx,
                reply,
            }) => {
                let r = self.hello(t, hello, session, tx);
                t.reply(reply, r);
            }
            Command::Agent(AgentCmd::Message {
                agent,
                session,
                msg,
            }) => self.on_agent_message(t, &agent, session, msg)?,
            Command::Agent(AgentCmd::Gone { agent, session }) => {
                self.agent_gone(t, &agent, session)?
            }
            Command::Plan(cmd) => {
                t.acting(Some((cmd.actor(), cmd.task())));
                let r = self.plan_cmd(t, cmd);
                t.acting(None);
                r?
            }
            Command::GateChecked {
                gate,
                passed,
                detail,
            } => self.gate_checked(t, gate, passed, &detail)?,
            Command::Query(q) => self.query(t, q),
            Command::Budget(cmd) => {
                t.acting(cmd.actor().map(|a| (a, None)));
                self.budget_command(t, cmd);
                t.acting(None);
            }
            Command::Guide { plan, guide } => self.set_guide(plan, guide),
            Command::MemoryNotice(n) => self.memory_notice(t, n)?,
            Command::Trace(cmd) => self.trace_cmd(t, cmd)?,
            Command::Notify(cmd) => self.notify_cmd(t, cmd)?,
            Command::Merge(n) => self.merge_notice(t, n)?,
            Command::ProvisionFailed { agent_id, reason } => {
                self.provision_failed(t, &agent_id, &reason)?
            }
            Command::Checkpoint(CheckpointCmd::Run { kind, actor, reply }) => {
                t.acting(Some((&actor, None)));
                let r = self.standup_now(t, kind, reply);
                t.acting(None);
                r?
            }
            Command::Checkpoint(CheckpointCmd::List(reply)) => {
                let r = self.standups(t.db);
                t.reply(reply, r);
            }
            Command::Checkpoint(CheckpointCmd::Get(id, reply)) => {
                let r = self.standup(t.db, id);
                t.reply(reply, r);
            }
            Command::Checkpoint(CheckpointCmd::Store(row, reply)) => {
                self.store_standup(t, *row, reply)?
            }
            Command::Shutdown => self.stop(t)?,
        }
        Ok(())
    }

    /// The daemon is stopping: record it, tell every agent (they keep
    /// their attempts and reconnect to the next coordinator), stop after
    /// this turn. Sessions and follow streams end when the loop's channels
    /// close with it.
    fn stop(&mut self, t: &mut Turn<'_>) -> Result<(), CoreError> {
        if t.fx.stop {
            return Ok(());
        }
        t.fx.stop = true;
        let reason = "swarmd is shutting down; keep running and reconnect".to_string();
        let grace_ms = self.cfg.reconnect_grace.as_millis() as u32;
        let agents: Vec<String> = self.roster.iter().map(|a| a.id.clone()).collect();
        for id in agents {
            let goodbye = ToAgent::Goodbye {
                reason: reason.clone(),
                grace_ms,
            };
            t.send(self.roster.tx(&id), goodbye);
        }
        t.emit(Event::new(EventKind::CoordinatorStopping))
    }

    /// Answers a read-only question.
    fn query(&self, t: &mut Turn<'_>, q: Query) {
        match q {
            Query::Status(reply) => {
                let s = self.status(t.now);
                t.reply(reply, Ok(s));
            }
            Query::ListTasks(q, reply) => {
                let r = self.task_page(q, t.now);
                t.reply(reply, r);
            }
            Query::GetTask(id, reply) => {
                let r = self.task_detail(t.db, &id, t.now);
                t.reply(reply, r);
            }
            Query::Logs { task, pick, reply } => {
                let r = self.logs_of(t.db, &task, pick);
                t.reply(reply, r);
            }
            Query::ListAgents(reply) => t.reply(reply, Ok(self.agent_views())),
            Query::Events { since, reply } => {
                let rx = self.out.events.subscribe();
                let r = swarm_memory::state::events_after(t.db, since, follow::EVENT_PAGE)
                    .map(|rows| (rows, rx))
                    .map_err(CoreError::from);
                t.reply(reply, r);
            }
            Query::Board(reply) => {
                let r = self.board(t.db, t.now);
                t.reply(reply, r);
            }
            Query::PlanHistory(reply) => t.reply(reply, self.plan_history(t.db)),
            Query::PlanText(version, reply) => t.reply(reply, self.plan_text(t.db, version)),
        }
    }
}
