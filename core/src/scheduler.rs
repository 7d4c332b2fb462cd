//! The scheduler loop: [`start`] opens the store and recovers the state;
//! [`SchedulerLoop::run`], on a thread the daemon starts (and names),
//! waits for commands or the next thing due and drives one turn at a time
//! (apply, tick, dispatch, commit, reveal) until told to stop or the store
//! fails, and says which ([`LoopEnd`]).

use std::sync::mpsc;
use std::time::Duration;

use swarm_memory::{now_ms, Store};

use crate::config::CoreConfig;
use crate::effects::{Effects, Receivers, Turn};
use crate::{Command, CoreError, CoreHandle, Fatal, State, MAX_BATCH, MAX_SLEEP_MS};

/// Why the loop thread ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoopEnd {
    /// Told to stop, or every handle was dropped.
    Stopped,
    /// The store failed; the reason (also told to the callers of the
    /// failed turn). The daemon exits with its store-failure code.
    StoreFailed(String),
}

impl State {
    /// One turn at `now`: apply, tick, dispatch, commit, reveal. Returns
    /// true to stop. When the store fails, the failure is recorded (for
    /// every caller waiting on this turn) before anything is dropped, and
    /// nothing of the turn is revealed.
    pub(crate) fn turn(
        &mut self,
        store: &mut Store,
        batch: Vec<Command>,
        now: i64,
    ) -> Result<bool, CoreError> {
        let began = std::time::Instant::now();
        let mut fx = Effects::default();
        let mut batch = batch.into_iter();
        match self.turn_in(store, &mut batch, now, &mut fx) {
            Ok(commit) => {
                let stop = fx.stop;
                fx.flush(&self.out);
                self.out.metrics.turned(now, began.elapsed(), commit);
                Ok(stop)
            }
            Err(e) => {
                self.fatal.record(&e, &self.cfg.state_db_path());
                drop(batch);
                drop(fx);
                Err(e)
            }
        }
    }

    fn turn_in(
        &mut self,
        store: &mut Store,
        batch: &mut std::vec::IntoIter<Command>,
        now: i64,
        fx: &mut Effects,
    ) -> Result<Duration, CoreError> {
        let cfg = &self.cfg;
        let tx = store.transaction_waiting(|waited| {
            tracing::warn!(
                "{} is locked by another process (for {} s now); waiting, nothing is lost",
                cfg.state_db_path().display(),
                waited.as_secs()
            );
        })?;
        let mut t = Turn::new(&tx, now, self.plan_id(), fx);
        for cmd in batch {
            self.apply(&mut t, cmd)?;
        }
        self.tick(&mut t)?;
        // A stopping loop dispatches nothing more, from this very turn.
        if !t.fx.stop {
            self.dispatch(&mut t)?;
        }
        let committing = std::time::Instant::now();
        tx.commit()?;
        Ok(committing.elapsed())
    }

    /// How long the loop may sleep at `now` before something is due.
    fn next_wake(&self, now: i64) -> Duration {
        let mut due = now + MAX_SLEEP_MS;
        if let Some(plan) = &self.plan {
            if let Some(t) = plan.next_delayed() {
                due = due.min(t);
            }
            if let Some(next) = plan.next_checkpoint() {
                due = due.min(plan.clock().wall_at(next.at));
            }
        }
        Duration::from_millis((due - now).clamp(1, MAX_SLEEP_MS) as u64)
    }
}

/// The loop, ready to run on a thread of its own.
pub struct SchedulerLoop {
    store: Store,
    state: State,
    rx: mpsc::Receiver<Command>,
}

impl std::fmt::Debug for SchedulerLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SchedulerLoop")
    }
}

impl SchedulerLoop {
    /// Runs the loop on the calling thread until it is told to stop
    /// ([`Command::Shutdown`], or every handle dropped) or the store fails.
    pub fn run(self) -> LoopEnd {
        run(self.store, self.state, self.rx)
    }
}

/// Opens the store and recovers state; the loop is returned to be run on
/// a thread ([`SchedulerLoop::run`]). It keeps the live attempts' tokens
/// in `grants`, which the services read.
///
/// # Errors
/// When the store cannot be opened or the state recovered.
pub fn start(
    cfg: CoreConfig,
    grants: crate::grants::Grants,
) -> Result<(CoreHandle, SchedulerLoop, Receivers), CoreError> {
    match swarm_memory::split::split_single_file(&cfg.state_db_path(), &cfg.memory_path())? {
        swarm_memory::split::Split::Moved(tables) => {
            let rows: u64 = tables.iter().map(|(_, n)| n).sum();
            tracing::info!(
                "moved the coordinator's state ({rows} rows) from memory.db to swarmd.db; memory.db now holds the shared memory alone"
            );
        }
        swarm_memory::split::Split::Finished => {
            tracing::info!("finished moving the coordinator's state out of memory.db");
        }
        swarm_memory::split::Split::NotNeeded => {}
    }
    let mut store = Store::open(&cfg.state_db_path())?;
    let fatal = Fatal::default();
    let (state, receivers) = State::open(cfg, &mut store, now_ms(), fatal.clone(), grants)?;
    let metrics = state.out.metrics.clone();
    let (tx, rx) = mpsc::channel();
    let lp = SchedulerLoop { store, state, rx };
    Ok((CoreHandle { tx, fatal, metrics }, lp, receivers))
}

/// How long a batch of agents' news waits for more before its commit.
const GROUP_WINDOW: Duration = Duration::from_millis(2);

/// Takes every command waiting, up to [`MAX_BATCH`].
fn drain(rx: &mpsc::Receiver<Command>, batch: &mut Vec<Command>) {
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(cmd) => batch.push(cmd),
            Err(_) => break,
        }
    }
}

/// Whether `cmd` is news nobody waits on: an attempt that started, its
/// output, a heartbeat. Such a batch may wait [`GROUP_WINDOW`] for more.
fn can_wait(cmd: &Command) -> bool {
    use crate::command::{AgentCmd, FromAgent};
    matches!(
        cmd,
        Command::Agent(AgentCmd::Message {
            msg: FromAgent::Started(_) | FromAgent::Log { .. } | FromAgent::Heartbeat,
            ..
        })
    )
}

/// The loop: waits for commands or the next thing due, then turns. The
/// only place that reads the wall clock.
fn run(mut store: Store, mut state: State, rx: mpsc::Receiver<Command>) -> LoopEnd {
    loop {
        let wait = state.next_wake(now_ms());
        let first = match rx.recv_timeout(wait) {
            Ok(cmd) => Some(cmd),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => return LoopEnd::Stopped,
        };
        let mut batch: Vec<Command> = first.into_iter().collect();
        drain(&rx, &mut batch);
        // A batch of nothing but news from agents (an attempt started,
        // output) waits a moment for what usually follows at once — the
        // attempt's result, which readies and dispatches the next task —
        // so both go out in one commit instead of two.
        if !batch.is_empty() && batch.iter().all(can_wait) {
            if let Ok(cmd) = rx.recv_timeout(GROUP_WINDOW) {
                batch.push(cmd);
                drain(&rx, &mut batch);
            }
        }
        match state.turn(&mut store, batch, now_ms()) {
            Ok(true) => return LoopEnd::Stopped,
            Ok(false) => {}
            Err(_) => {
                let why = state.fatal.message().unwrap_or_default();
                tracing::error!("{why}");
                // The callers of the failed turn are answered with the
                // reason; give their replies a moment to leave.
                std::thread::sleep(Duration::from_millis(500));
                return LoopEnd::StoreFailed(why);
            }
        }
    }
}
