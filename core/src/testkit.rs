//! A harness that drives the scheduler core turn by turn: a fake clock, a
//! store in memory (or in a temporary directory, to reopen it), agents
//! that are plain channels. No network, no threads, no sleeps: a test says
//! what happens and at which instant, then asserts on the transitions the
//! core committed (the event log, the replies, the messages agents got).

use std::collections::BTreeMap;

use swarm_memory::state::EventRow;
use swarm_memory::Store;
use tokio::sync::{broadcast, mpsc, oneshot};

use super::command::{
    AgentCmd, AttemptRef, AttemptReport, Command, FromAgent, Hello, LoadPlan, Outcome, PlanCmd,
    PlanText, Query, Reply, TaskAction, ToAgent,
};
use super::views::{Loaded, Status, TaskDetail};
use super::{CoreError, Receivers, State};
use crate::config::CoreConfig;

/// The instant every harness starts at: Monday 2026-11-23 09:00 UTC, so
/// the plan clock starts at the beginning of a working day.
pub(crate) const T0: i64 = 1_795_424_400_000;

/// The core, its store and a clock the test moves.
pub(crate) struct Harness {
    store: Store,
    state: State,
    /// The fake clock, wall ms.
    pub(crate) now: i64,
    feed: broadcast::Receiver<EventRow>,
    /// Every event committed so far, in order.
    pub(crate) events: Vec<EventRow>,
    /// Report jobs and provisioning commands the core handed out.
    pub(crate) receivers: Receivers,
    sessions: u64,
    dir: Option<tempfile::TempDir>,
}

/// An agent as the core sees it: the session number and the channel its
/// messages arrive on.
pub(crate) struct TestAgent {
    pub(crate) id: String,
    /// Current session number.
    pub(crate) session: u64,
    rx: mpsc::UnboundedReceiver<ToAgent>,
    /// Where its session's reader counts heartbeats.
    pub(crate) alive: crate::command::Liveness,
}

impl TestAgent {
    /// Every message the core sent it since the last call.
    pub(crate) fn inbox(&mut self) -> Vec<ToAgent> {
        let mut out = Vec::new();
        while let Ok(m) = self.rx.try_recv() {
            out.push(m);
        }
        out
    }

    /// The assignments among the messages since the last call, as
    /// (task id, fencing number).
    pub(crate) fn assignments(&mut self) -> Vec<(String, u64)> {
        self.inbox()
            .into_iter()
            .filter_map(|m| match m {
                ToAgent::Assign(a) => Some((a.attempt.task_id.clone(), a.attempt.attempt)),
                _ => None,
            })
            .collect()
    }
}

/// A configuration for tests: the defaults, with short timings.
pub(crate) fn config() -> CoreConfig {
    CoreConfig {
        heartbeat: std::time::Duration::from_millis(1000),
        lease_ttl: std::time::Duration::from_millis(3000),
        reconnect_grace: std::time::Duration::from_millis(2000),
        retry_backoff: std::time::Duration::from_millis(100),
        retry_backoff_max: std::time::Duration::from_millis(1000),
        ..CoreConfig::default()
    }
}

impl Harness {
    /// A core over a store in memory, with the test configuration.
    pub(crate) fn new() -> Harness {
        Harness::with(config())
    }

    /// A core over a store in memory, with `cfg`.
    pub(crate) fn with(cfg: CoreConfig) -> Harness {
        let store = Store::open_in_memory().expect("in-memory store");
        Harness::over(store, cfg, T0, None)
    }

    /// A core over a store in a temporary directory, which
    /// [`Harness::reopen`] can open again.
    pub(crate) fn on_disk(cfg: CoreConfig) -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = CoreConfig {
            workdir: dir.path().to_path_buf(),
            ..cfg
        };
        let store = Store::open(&cfg.state_db_path()).expect("store");
        Harness::over(store, cfg, T0, Some(dir))
    }

    fn over(
        mut store: Store,
        cfg: CoreConfig,
        now: i64,
        dir: Option<tempfile::TempDir>,
    ) -> Harness {
        let (state, receivers) = State::new(cfg, Default::default(), Default::default());
        let mut feed = state.out.events.subscribe();
        let (state, receivers) = {
            // Recovery runs in the first turn, as `start` does it.
            let mut state = state;
            let mut fx = super::effects::Effects::default();
            let tx = store.transaction().expect("transaction");
            state
                .recover(&mut super::effects::Turn::new(&tx, now, None, &mut fx))
                .expect("recover");
            tx.commit().expect("commit");
            fx.flush(&state.out);
            (state, receivers)
        };
        let mut events = Vec::new();
        while let Ok(e) = feed.try_recv() {
            events.push(e);
        }
        Harness {
            store,
            state,
            now,
            feed,
            events,
            receivers,
            sessions: 0,
            dir,
        }
    }

    /// Stops this core (as a crash would: nothing more is committed) and
    /// opens a new one on the same store at the same instant, with `cfg`.
    pub(crate) fn reopen(self, cfg: CoreConfig) -> Harness {
        let dir = self.dir.expect("reopen needs Harness::on_disk");
        let cfg = CoreConfig {
            workdir: dir.path().to_path_buf(),
            ..cfg
        };
        let now = self.now;
        drop(self.store);
        let store = Store::open(&cfg.state_db_path()).expect("store");
        Harness::over(store, cfg, now, Some(dir))
    }

    /// The core's state, to read.
    pub(crate) fn core(&self) -> &State {
        &self.state
    }

    /// Moves the clock `ms` forward (no turn runs).
    pub(crate) fn advance(&mut self, ms: i64) {
        self.now += ms;
    }

    /// Runs one turn at the current instant with `batch`.
    pub(crate) fn turn(&mut self, batch: Vec<Command>) {
        let stop = self
            .state
            .turn(&mut self.store, batch, self.now)
            .expect("the turn commits");
        assert!(!stop, "the core stopped");
        while let Ok(e) = self.feed.try_recv() {
            self.events.push(e);
        }
    }

    /// A turn with no command: leases, backoffs, checkpoints, dispatch.
    pub(crate) fn tick(&mut self) {
        self.turn(Vec::new());
    }

    /// Sends one command in a turn and returns its reply.
    pub(crate) fn ask<T>(
        &mut self,
        make: impl FnOnce(Reply<T>) -> Command,
    ) -> Result<T, CoreError> {
        let (reply, mut rx) = oneshot::channel();
        self.turn(vec![make(reply)]);
        rx.try_recv().expect("the core answered within the turn")
    }

    /// Loads a markdown plan.
    pub(crate) fn load(&mut self, markdown: &str) -> Result<Loaded, CoreError> {
        let text = PlanText {
            file_name: "plan.md".into(),
            text: markdown.into(),
            toml: false,
            roles_toml: String::new(),
        };
        // As the gRPC edge does it: compiled before the core sees it.
        let req = LoadPlan::compile(text, &crate::roles::RolesSource::of(&self.state.cfg))?;
        self.ask(|reply| {
            PlanCmd::Load {
                plan: Box::new(req),
                actor: crate::actor::Actor::new("admin"),
                reply,
            }
            .into()
        })
    }

    /// Connects a new agent with one slot.
    pub(crate) fn connect(&mut self, id: &str, roles: &[&str]) -> TestAgent {
        self.connect_with(id, roles, 1, Vec::new())
            .expect("the agent is accepted")
    }

    /// Opens a session for `id` with `slots`, saying it still runs
    /// `running`, from a process that gives no instance.
    pub(crate) fn connect_with(
        &mut self,
        id: &str,
        roles: &[&str],
        slots: u32,
        running: Vec<AttemptRef>,
    ) -> Result<TestAgent, CoreError> {
        self.connect_instance(id, roles, slots, running, "")
    }

    /// Opens a session for `id` from the agent process `instance`.
    pub(crate) fn connect_instance(
        &mut self,
        id: &str,
        roles: &[&str],
        slots: u32,
        running: Vec<AttemptRef>,
        instance: &str,
    ) -> Result<TestAgent, CoreError> {
        self.open_session(id, roles, slots, running, instance, None)
    }

    /// Opens a one-slot session for `id` that says whether the agent has
    /// a command template (`--exec`) for tasks without a run command.
    pub(crate) fn connect_exec(
        &mut self,
        id: &str,
        roles: &[&str],
        running: Vec<AttemptRef>,
        exec_template: bool,
    ) -> TestAgent {
        self.open_session(id, roles, 1, running, "", Some(exec_template))
            .expect("the agent is accepted")
    }

    fn open_session(
        &mut self,
        id: &str,
        roles: &[&str],
        slots: u32,
        running: Vec<AttemptRef>,
        instance: &str,
        exec_template: Option<bool>,
    ) -> Result<TestAgent, CoreError> {
        self.sessions += 1;
        let session = self.sessions;
        let (tx, rx) = mpsc::unbounded_channel();
        let hello = Hello {
            agent_id: id.into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            slots,
            host: "test".into(),
            labels: BTreeMap::new(),
            running,
            instance: instance.into(),
            exec_template,
            sandbox: "none".into(),
            alive: Default::default(),
        };
        let alive = hello.alive.clone();
        self.ask(|reply| {
            AgentCmd::Hello {
                hello,
                session,
                tx,
                reply,
            }
            .into()
        })?;
        Ok(TestAgent {
            id: id.into(),
            session,
            rx,
            alive,
        })
    }

    /// `agent` says `msg` in its session, in a turn of its own.
    pub(crate) fn say(&mut self, agent: &TestAgent, msg: FromAgent) {
        let cmd = AgentCmd::Message {
            agent: agent.id.clone(),
            session: agent.session,
            msg,
        };
        self.turn(vec![cmd.into()]);
    }

    /// The lead reports `outcome` for `attempt` of `task`.
    pub(crate) fn report(&mut self, agent: &TestAgent, task: &str, attempt: u64, outcome: Outcome) {
        let attempt = AttemptRef {
            task_id: task.into(),
            attempt,
        };
        self.say(
            agent,
            FromAgent::Result {
                attempt,
                report: AttemptReport {
                    exit_code: (outcome == Outcome::Failed).then_some(1),
                    ..AttemptReport::of(outcome)
                },
            },
        );
    }

    /// The session of `agent` closes.
    pub(crate) fn disconnect(&mut self, agent: &TestAgent) {
        let cmd = AgentCmd::Gone {
            agent: agent.id.clone(),
            session: agent.session,
        };
        self.turn(vec![cmd.into()]);
    }

    /// An operator's action on a task.
    pub(crate) fn action(&mut self, task: &str, action: TaskAction) -> Result<String, CoreError> {
        let task = task.to_string();
        self.ask(|reply| {
            PlanCmd::TaskAction {
                task,
                action,
                reason: String::new(),
                actor: crate::actor::Actor::new("admin"),
                reply,
            }
            .into()
        })
        .map(|state| state.name().to_string())
    }

    /// Pauses (true) or resumes (false).
    pub(crate) fn pause(&mut self, paused: bool) -> Result<String, CoreError> {
        self.ask(|reply| {
            PlanCmd::SetPaused {
                paused,
                actor: crate::actor::Actor::new("admin"),
                reply,
            }
            .into()
        })
        .map(|state| state.name().to_string())
    }

    pub(crate) fn status(&mut self) -> Status {
        self.ask(|reply| Query::Status(reply).into())
            .expect("status")
    }

    /// One task with its attempts.
    pub(crate) fn task(&mut self, id: &str) -> TaskDetail {
        let id = id.to_string();
        self.ask(|reply| Query::GetTask(id, reply).into())
            .expect("task")
    }

    /// One task's state name.
    pub(crate) fn state_of(&mut self, id: &str) -> String {
        self.task(id).task.state.name().to_string()
    }

    /// The kinds of the events about `task`, in order.
    pub(crate) fn task_events(&self, task: &str) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e.task_id.as_deref() == Some(task))
            .map(|e| e.kind.clone())
            .collect()
    }

    /// The events of `kind`, in order.
    pub(crate) fn events_of(&self, kind: &str) -> Vec<&EventRow> {
        self.events.iter().filter(|e| e.kind == kind).collect()
    }

    /// The event log as stored, read back from the database.
    pub(crate) fn stored_events(&self) -> Vec<EventRow> {
        swarm_memory::state::events_after(self.store.conn(), 0, 1_000_000).expect("events")
    }

    /// A task's state as stored in `swarm_tasks`.
    pub(crate) fn stored_task_state(&self, task: &str) -> String {
        self.store
            .conn()
            .query_row(
                "SELECT state FROM swarm_tasks WHERE id = ?1 ORDER BY plan_id DESC LIMIT 1",
                [task],
                |r| r.get(0),
            )
            .expect("task row")
    }
}

/// A one-day markdown plan from task lines `(id, role phrase, priority,
/// hours, dependencies)`; dependencies "" means none.
/// `text` with every task's gang set to `lead`: only the first member
/// runs it (the others are reserved).
pub(crate) fn lead_only(text: &str) -> String {
    text.replace(
        "- **Run**: `true`\n",
        "- **Run**: `true`\n- **Gang**: lead\n",
    )
}

pub(crate) fn plan(tasks: &[(&str, &str, &str, u32, &str)]) -> String {
    let mut out = String::from("# Test plan\n\n### Day 1: Work\n\n");
    for (id, agent, priority, hours, deps) in tasks {
        let deps = if deps.is_empty() { "None" } else { deps };
        out.push_str(&format!(
            "**Task {id}**: Task {id}\n- **Agent**: {agent}\n- **Priority**: {priority}\n- **Duration**: {hours} hours\n- **Dependencies**: {deps}\n- **Run**: `true`\n\n"
        ));
    }
    out
}
