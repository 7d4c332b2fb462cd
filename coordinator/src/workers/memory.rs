//! The shared memory's own thread: every `swarmctl memory` call and every
//! check of `.swarm/memory.db` runs here, outside the scheduler loop, so a
//! locked, rewritten or broken file never holds up scheduling.
//!
//! The worker owns a [`SharedMemory`] (the file, and the journal of
//! acknowledged writes in `swarmd.db`). It answers calls in order, checks
//! the file about once a second even when nobody uses memory, prunes the
//! journal now and then, and tells the scheduler what it repaired, so that
//! it lands in the event log and in `swarmctl status`.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use swarm_core::jobs::Notice;
use tokio_util::sync::CancellationToken;

use swarm_memory::kv::{Entry, Expect, KvError, Put};
use swarm_memory::now_ms;
use swarm_memory::shared::journal::Retention;
use swarm_memory::shared::{MemoryError, SharedMemory};

use swarm_core::command::Reply;
use swarm_core::{CoreError, CoreHandle};

/// How often the file is checked when nobody calls.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// How often the journal is pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// How long a call waits for a lock held by another process.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

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
    /// `.swarm/swarmd.db`, where the journal lives.
    pub state_db: std::path::PathBuf,
    /// Largest value accepted.
    pub max_value_bytes: usize,
    /// How much of the journal is kept.
    pub retention: Retention,
}

/// Starts the worker thread through the task registry, as "shared
/// memory"; it ends when every handle is dropped or its token is
/// cancelled (seen between two commands, within a check interval).
///
/// # Errors
/// When the journal connection to `swarmd.db` cannot be opened, or the
/// thread cannot start. A `memory.db` that cannot be used is not an error.
pub fn start(
    settings: Settings,
    core: CoreHandle,
    tasks: &crate::daemon::tasks::Tasks,
) -> Result<MemoryHandle, CoreError> {
    let journal = rusqlite::Connection::open(&settings.state_db)?;
    journal.busy_timeout(BUSY_TIMEOUT)?;
    let shared = SharedMemory::new(
        &settings.memory_db,
        journal,
        settings.retention,
        BUSY_TIMEOUT,
    );
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
    /// Whether the last check failed (so a recovery is told once).
    unavailable: bool,
}

impl Worker {
    fn new(shared: SharedMemory, core: CoreHandle, max_value_bytes: usize) -> Worker {
        Worker {
            shared,
            core,
            max_value_bytes,
            unavailable: false,
        }
    }

    fn run(mut self, rx: &mpsc::Receiver<MemoryCmd>, cancel: &CancellationToken) {
        let mut next_check = Instant::now();
        let mut next_prune = Instant::now() + PRUNE_EVERY;
        while !cancel.is_cancelled() {
            let wait = next_check.saturating_duration_since(Instant::now());
            match rx.recv_timeout(wait) {
                Ok(cmd) => self.apply(cmd),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
            if Instant::now() >= next_check {
                self.check();
                next_check = Instant::now() + CHECK_EVERY;
            }
            if Instant::now() >= next_prune {
                if let Err(e) = self.shared.prune(now_ms()) {
                    tracing::warn!("cannot prune the memory journal: {e}");
                }
                next_prune = Instant::now() + PRUNE_EVERY;
            }
        }
    }

    /// Looks at the file and tells the scheduler what changed.
    fn check(&mut self) {
        match self.shared.check(now_ms()) {
            Ok(repair) => {
                if std::mem::take(&mut self.unavailable) {
                    self.core
                        .tell(swarm_core::Command::MemoryNotice(Notice::Available));
                }
                if let Some(repair) = repair {
                    self.core
                        .tell(swarm_core::Command::MemoryNotice(Notice::Repaired(repair)));
                }
            }
            Err(e) => {
                if !std::mem::replace(&mut self.unavailable, true) {
                    tracing::warn!("{e}");
                    self.core
                        .tell(swarm_core::Command::MemoryNotice(Notice::Unavailable(
                            e.to_string(),
                        )));
                }
            }
        }
    }

    fn apply(&mut self, cmd: MemoryCmd) {
        let now = now_ms();
        // Each call checks the file first; what it repaired is told too.
        self.check();
        match cmd {
            MemoryCmd::Put(req, reply) => {
                let _ = reply.send(self.put(req, now));
            }
            MemoryCmd::Get {
                namespace,
                key,
                reply,
            } => {
                let r = self
                    .shared
                    .get(&namespace, &key, now)
                    .map_err(memory_error)
                    .and_then(|e| {
                        e.ok_or_else(|| {
                            CoreError::NotFound(format!(
                                "no entry '{key}' in namespace '{namespace}'"
                            ))
                        })
                    });
                let _ = reply.send(r);
            }
            MemoryCmd::List {
                namespace,
                prefix,
                limit,
                reply,
            } => {
                let r = self
                    .shared
                    .list(namespace.as_deref(), prefix.as_deref(), now, limit)
                    .map_err(memory_error);
                let _ = reply.send(r);
            }
            MemoryCmd::Delete {
                namespace,
                key,
                reply,
            } => {
                let r = self
                    .shared
                    .delete(&namespace, &key, now)
                    .map_err(memory_error);
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
        self.shared
            .put(&put, now, self.max_value_bytes)
            .map(|o| matches!(o, swarm_memory::kv::PutOutcome::Created))
            .map_err(memory_error)
    }
}

fn memory_error(e: MemoryError) -> CoreError {
    match e {
        MemoryError::Kv(kv) => match kv {
            KvError::CasMismatch { .. } => CoreError::CasMismatch(kv.to_string()),
            KvError::TooLarge { .. } | KvError::Invalid { .. } => {
                CoreError::Invalid(kv.to_string())
            }
            other => CoreError::MemoryUnavailable(other.to_string()),
        },
        MemoryError::Locked { .. } | MemoryError::Unavailable { .. } | MemoryError::Journal(_) => {
            CoreError::MemoryUnavailable(e.to_string())
        }
    }
}
