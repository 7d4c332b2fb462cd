//! The shared memory's own thread: every `swarmctl memory` call and every
//! sync of `.swarm/memory.db` runs here, outside the scheduler loop, so a
//! locked, rewritten or broken file never holds up scheduling.
//!
//! The worker owns a [`SharedMemory`]: swarmd's copy of the memory in
//! `swarmd.db` (`swarm_memory_rows`, of which this thread is the one
//! writer, on its own connection) and the file it keeps in step. It
//! answers calls from the copy (a write is acknowledged once the copy
//! holds it: no call fails because the file is busy, torn or locked), then
//! syncs the file: at once when it is as swarmd left it, else once it
//! holds still. It prunes the copy now and then, and tells the scheduler
//! what it merged or rebuilt, the writes pending for the file, and a file
//! that stays out of step.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use swarm_core::jobs::Notice;
use tokio_util::sync::CancellationToken;

use swarm_memory::kv::{Entry, Expect, KvError, Put};
use swarm_memory::now_ms;
use swarm_memory::shared::journal::Retention;
use swarm_memory::shared::{Backlog, FileState, MemoryError, SharedMemory};

use swarm_core::command::Reply;
use swarm_core::{CoreError, CoreHandle};

/// How often the file is looked at when it is quiet.
const SYNC_EVERY: Duration = Duration::from_millis(250);

/// How often the copy is pruned to its retention.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// How long a call waits for `memory.db`'s lock held by another process.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a call waits for `swarmd.db`'s lock held by another process:
/// memory calls are answered from swarmd's copy there, so a foreign lock
/// on it is waited out, as the scheduler waits it out, rather than failing
/// the task that called.
const COPY_BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// How long the file may stay out of step before the scheduler is told.
const OUT_OF_STEP_MS: i64 = 2_000;

/// How often, at most, the backlog is told to the scheduler.
const BACKLOG_EVERY: Duration = Duration::from_secs(1);

/// A shared-memory write.
#[derive(Debug, Clone)]
pub struct MemPut {
    /// Namespace (`default` when blank).
    pub namespace: String,
    /// Key within the namespace.
    pub key: String,
    /// The value.
    pub value: String,
    /// Time to live in seconds (0: none).
    pub ttl_seconds: u64,
    /// Write only if there is no live entry.
    pub expect_absent: bool,
    /// Write only if the live entry holds this value.
    pub expect_value: Option<String>,
    /// Tags stored with it.
    pub tags: Vec<String>,
    /// Who writes (agent id or `admin`).
    pub owner: String,
}

/// Shared-memory calls.
pub enum MemoryCmd {
    /// Write; answers whether the entry was created (not replaced).
    Put(MemPut, Reply<bool>),
    /// Read one live entry.
    Get {
        /// Namespace.
        namespace: String,
        /// Key within it.
        key: String,
        /// The entry.
        reply: Reply<Entry>,
    },
    /// List live entries.
    List {
        /// Only this namespace, if given.
        namespace: Option<String>,
        /// Only keys with this prefix, if given.
        prefix: Option<String>,
        /// At most this many.
        limit: usize,
        /// The entries.
        reply: Reply<Vec<Entry>>,
    },
    /// Delete one live entry; answers whether it existed.
    Delete {
        /// Namespace.
        namespace: String,
        /// Key within it.
        key: String,
        /// Whether it existed.
        reply: Reply<bool>,
    },
}

/// Sends calls to the worker.
#[derive(Clone)]
pub struct MemoryHandle {
    tx: mpsc::Sender<MemoryCmd>,
}

impl MemoryHandle {
    /// Sends a call and waits for its answer.
    pub async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> MemoryCmd) -> Result<T, CoreError> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.tx.send(make(reply)).map_err(|_| CoreError::Stopped)?;
        rx.await.map_err(|_| CoreError::Stopped)?
    }
}

/// What the worker needs to start.
pub struct Settings {
    /// `.swarm/memory.db`.
    pub memory_db: std::path::PathBuf,
    /// `.swarm/swarmd.db`, where swarmd's copy of the memory lives.
    pub state_db: std::path::PathBuf,
    /// Largest value accepted.
    pub max_value_bytes: usize,
    /// How long tombstones and swarmd's claims on its writes are kept.
    pub retention: Retention,
}

/// Starts the worker thread through the task registry, as "shared
/// memory"; it ends when every handle is dropped or its token is
/// cancelled (seen between two commands, within a check interval).
///
/// # Errors
/// When the connection to `swarmd.db` cannot be opened, or the thread
/// cannot start. A `memory.db` that cannot be used is not an error.
pub fn start(
    settings: Settings,
    core: CoreHandle,
    tasks: &crate::daemon::tasks::Tasks,
) -> Result<MemoryHandle, CoreError> {
    let copy = rusqlite::Connection::open(&settings.state_db)?;
    copy.busy_timeout(COPY_BUSY_TIMEOUT)?;
    copy.pragma_update(None, "synchronous", "FULL")?;
    let shared = SharedMemory::new(&settings.memory_db, copy, settings.retention, BUSY_TIMEOUT);
    let (tx, rx) = mpsc::channel();
    let max = settings.max_value_bytes;
    tasks
        .spawn_thread("shared memory", move |cancel| {
            Worker::new(shared, core, max).run(&rx, &cancel);
        })
        .map_err(CoreError::Thread)?;
    Ok(MemoryHandle { tx })
}

struct Worker {
    shared: SharedMemory,
    core: CoreHandle,
    max_value_bytes: usize,
    /// Since when (ms) the file has been out of step, if it is.
    out_of_step_since: Option<i64>,
    /// Whether the scheduler was told the file is out of step.
    told_unavailable: bool,
    /// The backlog last told, and when.
    told_backlog: (Backlog, Instant),
    last_merge_ms: Option<i64>,
    /// When the file is looked at next.
    next_sync: Instant,
}

impl Worker {
    fn new(shared: SharedMemory, core: CoreHandle, max_value_bytes: usize) -> Worker {
        let nothing = Backlog {
            pending: 0,
            last_merge_ms: None,
        };
        Worker {
            shared,
            core,
            max_value_bytes,
            out_of_step_since: None,
            told_unavailable: false,
            told_backlog: (nothing, Instant::now()),
            last_merge_ms: None,
            next_sync: Instant::now(),
        }
    }

    fn run(mut self, rx: &mpsc::Receiver<MemoryCmd>, cancel: &CancellationToken) {
        self.first_look();
        let mut next_prune = Instant::now() + PRUNE_EVERY;
        while !cancel.is_cancelled() {
            let wait = self.next_sync.saturating_duration_since(Instant::now());
            match rx.recv_timeout(wait) {
                Ok(cmd) => self.apply(cmd),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // Last chance for pending writes to reach the file.
                    self.sync();
                    return;
                }
            }
            if Instant::now() >= self.next_sync {
                self.sync();
            }
            if Instant::now() >= next_prune {
                if let Err(e) = self.shared.prune(now_ms()) {
                    tracing::warn!("cannot prune swarmd's copy of the shared memory: {e}");
                }
                next_prune = Instant::now() + PRUNE_EVERY;
            }
        }
        // Cancelled: a last chance for pending writes to reach the file.
        self.sync();
    }

    /// Reads the file in before the first call is answered, if it holds
    /// still within a second (a file being rewritten, locked or broken is
    /// left to the loop: calls never wait for it).
    fn first_look(&mut self) {
        let until = Instant::now() + Duration::from_secs(1);
        while self.sync() && Instant::now() < until {
            std::thread::sleep(self.next_sync.saturating_duration_since(Instant::now()));
        }
    }

    /// Brings the file in step as far as it allows, and tells the
    /// scheduler what is worth telling; true while the file settles.
    fn sync(&mut self) -> bool {
        let now = now_ms();
        let synced = match self.shared.sync(now) {
            Ok(synced) => synced,
            Err(e) => {
                tracing::warn!("{e}");
                self.next_sync = Instant::now() + SYNC_EVERY;
                return false;
            }
        };
        let settling = synced.state == FileState::Settling;
        let soon = match synced.look_in_ms {
            0 => SYNC_EVERY,
            ms => Duration::from_millis(ms.unsigned_abs()).min(SYNC_EVERY),
        };
        self.next_sync = Instant::now() + soon;
        if synced.merged {
            self.last_merge_ms = Some(now);
        }
        // Back in step first, so status keeps what was repaired.
        self.track_step(&synced.state, now);
        if let Some(repair) = synced.repair {
            self.tell(Notice::Repaired(repair));
        }
        self.tell_backlog();
        settling
    }

    /// Tells the scheduler once the file has been out of step for a
    /// while, and once it is back.
    fn track_step(&mut self, state: &FileState, now: i64) {
        let why = match state {
            FileState::InStep => {
                self.out_of_step_since = None;
                if std::mem::take(&mut self.told_unavailable) {
                    self.tell(Notice::Available);
                }
                return;
            }
            FileState::Settling => {
                "memory.db keeps changing (another tool is writing it)".to_string()
            }
            FileState::Busy => "memory.db is locked by another process".to_string(),
            FileState::Unreadable(why) => format!("memory.db cannot be read: {why}"),
            FileState::Unsupported(why) => why.clone(),
        };
        let since = *self.out_of_step_since.get_or_insert(now);
        if now - since >= OUT_OF_STEP_MS && !self.told_unavailable {
            self.told_unavailable = true;
            let text = format!(
                "{why}; memory calls are answered from swarmd's copy and reach the file when it allows"
            );
            tracing::warn!("{text}");
            self.tell(Notice::Unavailable(text));
        }
    }

    fn tell_backlog(&mut self) {
        let pending = match self.shared.pending() {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!("{e}");
                return;
            }
        };
        let now = Backlog {
            pending,
            last_merge_ms: self.last_merge_ms,
        };
        let (told, at) = self.told_backlog;
        let drained = told.pending > 0 && pending == 0;
        if now != told && (drained || at.elapsed() >= BACKLOG_EVERY) {
            self.told_backlog = (now, Instant::now());
            self.tell(Notice::Backlog(now));
        }
    }

    fn tell(&self, notice: Notice) {
        self.core.tell(swarm_core::Command::MemoryNotice(notice));
    }

    fn apply(&mut self, cmd: MemoryCmd) {
        let now = now_ms();
        match cmd {
            MemoryCmd::Put(req, reply) => {
                let r = self.put(req, now);
                // Into the file at once when it is quiet, before the answer.
                self.sync();
                let _ = reply.send(r);
            }
            MemoryCmd::Get {
                namespace,
                key,
                reply,
            } => {
                let r = self.shared.get(&namespace, &key, now);
                let _ = reply.send(memory_error(r).and_then(|e| {
                    e.ok_or_else(|| {
                        CoreError::NotFound(format!("no entry '{key}' in namespace '{namespace}'"))
                    })
                }));
            }
            MemoryCmd::List {
                namespace,
                prefix,
                limit,
                reply,
            } => {
                let (ns, prefix) = (namespace.as_deref(), prefix.as_deref());
                let _ = reply.send(memory_error(self.shared.list(ns, prefix, now, limit)));
            }
            MemoryCmd::Delete {
                namespace,
                key,
                reply,
            } => {
                let r = memory_error(self.shared.delete(&namespace, &key, now));
                self.sync();
                let _ = reply.send(r);
            }
        }
    }

    fn put(&mut self, req: MemPut, now: i64) -> Result<bool, CoreError> {
        let expect = match (req.expect_absent, req.expect_value) {
            (true, Some(_)) => {
                return Err(CoreError::Invalid(
                    "give either expect_absent or expect_value, not both".into(),
                ))
            }
            (true, None) => Some(Expect::Absent),
            (false, Some(v)) => Some(Expect::Value(v)),
            (false, None) => None,
        };
        let ttl_ms = (req.ttl_seconds > 0)
            .then(|| req.ttl_seconds.saturating_mul(1000).min(i64::MAX as u64) as i64);
        let put = Put {
            namespace: &req.namespace,
            key: &req.key,
            value: &req.value,
            ttl_ms,
            expect,
            tags: &req.tags,
            owner_id: Some(&req.owner),
            ..Put::default()
        };
        let out = self.shared.put(&put, now, self.max_value_bytes);
        memory_error(out).map(|o| matches!(o, swarm_memory::kv::PutOutcome::Created))
    }
}

/// A refused call keeps its kind; `swarmd.db` failing (locked past the
/// busy timeout, or broken) is memory unavailable, its message naming
/// `swarmd.db` — never `memory.db`, which no call waits for.
fn memory_error<T>(r: Result<T, MemoryError>) -> Result<T, CoreError> {
    r.map_err(|e| match e {
        MemoryError::Kv(kv) => match kv {
            KvError::CasMismatch { .. } => CoreError::CasMismatch(kv.to_string()),
            KvError::TooLarge { .. } | KvError::Invalid { .. } => {
                CoreError::Invalid(kv.to_string())
            }
            other => CoreError::MemoryUnavailable(other.to_string()),
        },
        MemoryError::Locked { .. } | MemoryError::Copy { .. } => {
            CoreError::MemoryUnavailable(e.to_string())
        }
    })
}
