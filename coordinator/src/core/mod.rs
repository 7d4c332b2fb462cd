//! The scheduler loop: the one writer of all state.
//!
//! gRPC handlers send [`Command`]s over a channel. The loop runs on its own
//! thread; each *turn* takes every command waiting (up to a batch limit),
//! applies them, expires leases and backoffs, places ready tasks on free
//! agents, and commits everything in ONE transaction (group commit). Only
//! after the commit does anything leave the loop: replies, assignments,
//! acknowledgements, events for followers. A transition is therefore never
//! revealed before it is durable. If the store fails, the loop stops the
//! process rather than run ahead of its database.

mod agents;
mod checkpoint;
pub mod command;
mod control;
mod dispatch;
pub mod error;
mod memory;
pub mod model;
mod projection;
mod queries;
mod realloc;
mod recover;
mod setup;
mod tasks;
pub mod views;

use std::sync::mpsc;
use std::time::Duration;

use rusqlite::Connection;
use swarm_memory::state::{append_event, EventRow};
use swarm_memory::{now_ms, Store};
use tokio::sync::broadcast;

pub use command::Command;
use command::{AgentTx, LogEvent, ToAgent};
pub use error::CoreError;
use model::{ActivePlan, Agent};

use crate::config::Config;

/// Most commands applied in one turn (one transaction).
const MAX_BATCH: usize = 8192;

/// What a turn reveals after its commit.
#[derive(Default)]
pub(crate) struct Effects {
    replies: Vec<Box<dyn FnOnce() + Send>>,
    to_agents: Vec<(AgentTx, ToAgent)>,
    events: Vec<EventRow>,
    logs: Vec<LogEvent>,
    pub(crate) jobs: Vec<crate::report::ReportJob>,
    pub(crate) provision: Vec<crate::provision::ProvisionCmd>,
    stop: bool,
}

impl Effects {
    /// Sends `value` on `reply` after the commit.
    pub(crate) fn reply<T: Send + 'static>(
        &mut self,
        reply: command::Reply<T>,
        value: Result<T, CoreError>,
    ) {
        self.replies.push(Box::new(move || {
            let _ = reply.send(value);
        }));
    }

    /// Sends `msg` to an agent after the commit.
    pub(crate) fn send(&mut self, tx: &Option<AgentTx>, msg: ToAgent) {
        if let Some(tx) = tx {
            self.to_agents.push((tx.clone(), msg));
        }
    }

    fn flush(self, out: &Outlets) {
        let (events, logs) = (&out.events, &out.logs);
        for (tx, msg) in self.to_agents {
            let _ = tx.send(msg);
        }
        for job in self.jobs {
            let _ = out.jobs.send(job);
        }
        for cmd in self.provision {
            let _ = out.provision.send(cmd);
        }
        for e in self.events {
            let _ = events.send(e);
        }
        for l in self.logs {
            let _ = logs.send(l);
        }
        for r in self.replies {
            r();
        }
    }
}

/// Where a turn's effects go after its commit.
pub(crate) struct Outlets {
    pub(crate) events: broadcast::Sender<EventRow>,
    pub(crate) logs: broadcast::Sender<LogEvent>,
    pub(crate) jobs: tokio::sync::mpsc::UnboundedSender<crate::report::ReportJob>,
    pub(crate) provision: tokio::sync::mpsc::UnboundedSender<crate::provision::ProvisionCmd>,
}

/// The receiving ends the server hands to the reporter and the
/// provisioner.
pub struct Receivers {
    /// Report jobs.
    pub jobs: tokio::sync::mpsc::UnboundedReceiver<crate::report::ReportJob>,
    /// Provisioning commands.
    pub provision: tokio::sync::mpsc::UnboundedReceiver<crate::provision::ProvisionCmd>,
}

/// Everything the loop owns besides the store.
pub(crate) struct State {
    pub(crate) cfg: Config,
    pub(crate) plan: Option<ActivePlan>,
    pub(crate) agents: std::collections::BTreeMap<String, Agent>,
    pub(crate) attempts: std::collections::HashMap<u64, model::Attempt>,
    pub(crate) next_attempt: u64,
    pub(crate) events_tx: broadcast::Sender<EventRow>,
    pub(crate) logs_tx: broadcast::Sender<LogEvent>,
    /// Roles ready tasks need that no connected agent plays.
    pub(crate) unstaffed: Vec<String>,
    /// Layout of `memory_entries` in this database.
    pub(crate) kv_layout: swarm_memory::kv::Layout,
    /// When leases are checked next, ms.
    pub(crate) next_lease_scan: i64,
    /// Agents asked of the provisioner and not registered yet: id → (role, when).
    pub(crate) provisioned: std::collections::BTreeMap<String, (String, i64)>,
    /// Agents this coordinator provisioned (drained first when surplus).
    pub(crate) ours: std::collections::HashSet<String>,
    /// Numbers provisioned agent ids.
    pub(crate) provision_seq: u64,
    /// Agents missing per role at the last checkpoint.
    pub(crate) shortfall: Vec<String>,
    /// The last checkpoint's projected completion.
    pub(crate) projection_text: Option<String>,
    /// The critical-path projection and when it was computed.
    pub(crate) projection_cache: std::cell::RefCell<Option<(i64, String)>>,
    pub(crate) out: Outlets,
}

impl State {
    /// Appends an event in the turn's transaction; it is broadcast after
    /// the commit. (The arguments are the event's columns.)
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn event(
        &self,
        db: &Connection,
        fx: &mut Effects,
        kind: &str,
        task: Option<&str>,
        attempt: Option<u64>,
        agent: Option<&str>,
        message: String,
    ) -> Result<(), CoreError> {
        let mut row = EventRow {
            seq: 0,
            at: now_ms(),
            kind: kind.to_string(),
            plan_id: self.plan.as_ref().map(|p| p.id),
            task_id: task.map(str::to_string),
            attempt,
            agent_id: agent.map(str::to_string),
            message,
        };
        row.seq = append_event(db, &row)?;
        fx.events.push(row);
        Ok(())
    }
}

/// A handle to send commands to the loop.
#[derive(Clone)]
pub struct CoreHandle {
    tx: mpsc::Sender<Command>,
}

impl CoreHandle {
    /// Sends a command and waits for its reply.
    pub async fn ask<T>(
        &self,
        make: impl FnOnce(command::Reply<T>) -> Command,
    ) -> Result<T, CoreError> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.tx
            .send(make(reply))
            .map_err(|_| CoreError::Internal("the scheduler has stopped".into()))?;
        rx.await
            .map_err(|_| CoreError::Internal("the scheduler stopped before answering".into()))?
    }

    /// Sends a command that has no reply.
    pub fn tell(&self, cmd: Command) {
        let _ = self.tx.send(cmd);
    }
}

/// Opens the store, recovers state, and starts the loop thread.
pub fn start(
    cfg: Config,
) -> Result<(CoreHandle, std::thread::JoinHandle<()>, Receivers), CoreError> {
    let store = Store::open(&cfg.db_path())?;
    let (events_tx, _) = broadcast::channel(65536);
    let (logs_tx, _) = broadcast::channel(4096);
    let (jobs_tx, jobs) = tokio::sync::mpsc::unbounded_channel();
    let (provision_tx, provision) = tokio::sync::mpsc::unbounded_channel();
    let mut state = State {
        cfg,
        plan: None,
        agents: Default::default(),
        attempts: Default::default(),
        next_attempt: 1,
        out: Outlets {
            events: events_tx.clone(),
            logs: logs_tx.clone(),
            jobs: jobs_tx,
            provision: provision_tx,
        },
        events_tx,
        logs_tx,
        unstaffed: Vec::new(),
        kv_layout: store.kv_layout(),
        next_lease_scan: 0,
        provisioned: Default::default(),
        ours: Default::default(),
        provision_seq: 0,
        shortfall: Vec::new(),
        projection_text: None,
        projection_cache: Default::default(),
    };
    let mut store = store;
    {
        let tx = store.transaction()?;
        let mut fx = Effects::default();
        state.recover(&tx, &mut fx)?;
        tx.commit()
            .map_err(|e| CoreError::Internal(e.to_string()))?;
    }
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("scheduler".into())
        .spawn(move || run(store, state, rx))
        .map_err(|e| CoreError::Internal(format!("cannot start the scheduler thread: {e}")))?;
    Ok((CoreHandle { tx }, thread, Receivers { jobs, provision }))
}

fn run(mut store: Store, mut state: State, rx: mpsc::Receiver<Command>) {
    loop {
        let wait = state.next_wake(now_ms());
        let first = match rx.recv_timeout(wait) {
            Ok(cmd) => Some(cmd),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        let mut batch: Vec<Command> = first.into_iter().collect();
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(cmd) => batch.push(cmd),
                Err(_) => break,
            }
        }
        match turn(&mut store, &mut state, batch) {
            Ok(true) => return,
            Ok(false) => {}
            Err(e) => {
                tracing::error!("the store failed, stopping so that no transition is lost: {e}");
                std::process::exit(70);
            }
        }
    }
}

/// One turn: apply, tick, dispatch, commit, reveal. Returns true to stop.
fn turn(store: &mut Store, state: &mut State, batch: Vec<Command>) -> Result<bool, CoreError> {
    let mut fx = Effects::default();
    let tx = store.transaction()?;
    for cmd in batch {
        state.apply(&tx, cmd, &mut fx)?;
    }
    let now = now_ms();
    state.tick(&tx, now, &mut fx)?;
    state.dispatch(&tx, now, &mut fx)?;
    tx.commit()
        .map_err(|e| CoreError::Internal(e.to_string()))?;
    let stop = fx.stop;
    fx.flush(&state.out);
    Ok(stop)
}

impl State {
    fn apply(&mut self, db: &Connection, cmd: Command, fx: &mut Effects) -> Result<(), CoreError> {
        match cmd {
            Command::AgentHello {
                hello,
                session,
                tx,
                reply,
            } => {
                let r = self.hello(db, hello, session, tx, fx);
                let failed = r.is_err();
                fx.reply(reply, r.map(|_| ()));
                if failed {
                    return Ok(());
                }
            }
            Command::FromAgent {
                agent,
                session,
                msg,
            } => self.on_agent_message(db, &agent, session, msg, fx)?,
            Command::AgentGone { agent, session } => self.agent_gone(db, &agent, session, fx)?,
            Command::Shutdown => fx.stop = true,
            Command::Standup(kind, reply) => self.standup_now(db, kind, reply, fx)?,
            Command::Standups(reply) => {
                let r = self.standups(db);
                fx.reply(reply, r);
            }
            Command::GetStandup(id, reply) => {
                let r = self.standups(db).and_then(|all| {
                    let found = if id == 0 {
                        all.last().cloned()
                    } else {
                        all.iter().find(|s| s.id == id).cloned()
                    };
                    found.ok_or_else(|| {
                        CoreError::NotFound(if id == 0 {
                            "no checkpoint has run yet".into()
                        } else {
                            format!("no checkpoint #{id}; there are {}", all.len())
                        })
                    })
                });
                fx.reply(reply, r);
            }
            Command::StoreStandup(row, reply) => self.store_standup(db, *row, reply, fx)?,
            other => self.control(db, other, fx)?,
        }
        Ok(())
    }

    /// How long the loop may sleep before something is due.
    fn next_wake(&self, now: i64) -> Duration {
        let mut due = now + 500;
        if let Some(plan) = &self.plan {
            if let Some((t, _)) = plan.delayed.first() {
                due = due.min(*t);
            }
            if let Some((t, _)) = plan.next_checkpoint {
                due = due.min(plan.clock.wall_at(t));
            }
        }
        Duration::from_millis((due - now).clamp(1, 500) as u64)
    }
}
