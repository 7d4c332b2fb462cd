//! The task registry: every background task and thread of swarmd is
//! started here, with a name and what cancellation means for it, so that
//! shutdown is one call that cancels, waits up to a deadline, and names
//! whatever held it up.
//!
//! Entries leave the registry when their task or thread ends, so tasks
//! that come and go (one reader per agent session) do not make it grow.
//! Every task gets a child of the registry's [`CancellationToken`].

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// What a task does when the registry shuts down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnCancel {
    /// It watches its token and ends by itself (finishing what it must,
    /// such as stopping the agents it started); it is waited for up to the
    /// deadline, then aborted and named.
    Wait,
    /// It is aborted as soon as shutdown begins: nothing it holds needs a
    /// goodbye.
    Abort,
}

/// How a registered thing can be stopped.
#[derive(Debug)]
enum Stop {
    /// A tokio task.
    Task(tokio::task::AbortHandle),
    /// An OS thread: it can only be waited for.
    Thread,
}

#[derive(Debug)]
struct Entry {
    name: String,
    on_cancel: OnCancel,
    stop: Stop,
}

#[derive(Debug, Default)]
struct Inner {
    entries: Mutex<BTreeMap<u64, Entry>>,
    next: std::sync::atomic::AtomicU64,
    /// Signalled whenever an entry leaves.
    left: Notify,
}

/// The registry; cheap to clone (each clone is the same registry).
#[derive(Debug, Clone, Default)]
pub struct Tasks {
    inner: Arc<Inner>,
    token: CancellationToken,
}

/// Removes its entry when the task or thread ends, however it ends.
struct Leave {
    inner: Arc<Inner>,
    id: u64,
}

impl Drop for Leave {
    fn drop(&mut self) {
        lock(&self.inner.entries).remove(&self.id);
        self.inner.left.notify_waiters();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // An entry map is consistent after any single insert or remove.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Tasks {
    /// An empty registry.
    pub fn new() -> Tasks {
        Tasks::default()
    }

    /// The token every task's token is a child of; cancelled by
    /// [`Tasks::shutdown`].
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    fn enter(&self, name: &str, on_cancel: OnCancel, stop: Stop) -> Leave {
        let id = self
            .inner
            .next
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let entry = Entry {
            name: name.to_string(),
            on_cancel,
            stop,
        };
        lock(&self.inner.entries).insert(id, entry);
        Leave {
            inner: self.inner.clone(),
            id,
        }
    }

    /// Starts `task` (made from its own child token) as `name`.
    pub fn spawn<F, Fut>(&self, name: &str, on_cancel: OnCancel, task: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let fut = task(self.token.child_token());
        // The entry exists before the task can end and remove it.
        let (go, ready) = tokio::sync::oneshot::channel::<Leave>();
        let handle = tokio::spawn(async move {
            let Ok(_leave) = ready.await else { return };
            fut.await;
        });
        let leave = self.enter(name, on_cancel, Stop::Task(handle.abort_handle()));
        let _ = go.send(leave);
    }

    /// Starts `body` on an OS thread named `name`; it is told to stop by
    /// its token (or by whatever it waits on closing) and waited for.
    ///
    /// # Errors
    /// When the OS cannot start the thread.
    pub fn spawn_thread<F>(&self, name: &str, body: F) -> std::io::Result<()>
    where
        F: FnOnce(CancellationToken) + Send + 'static,
    {
        let token = self.token.child_token();
        let leave = self.enter(name, OnCancel::Wait, Stop::Thread);
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                let _leave = leave;
                body(token);
            })
            .map(|_| ())
    }

    /// The names of what is still running.
    pub fn running(&self) -> Vec<String> {
        lock(&self.inner.entries)
            .values()
            .map(|e| e.name.clone())
            .collect()
    }

    /// Waits until nothing named `name` runs, or `timeout` passes; true
    /// when it ended.
    pub async fn wait_for(&self, name: &str, timeout: Duration) -> bool {
        let gone = async {
            loop {
                let left = self.inner.left.notified();
                if !self.running().iter().any(|n| n == name) {
                    return;
                }
                left.await;
            }
        };
        tokio::time::timeout(timeout, gone).await.is_ok()
    }

    /// Cancels every token, aborts the [`OnCancel::Abort`] tasks, and
    /// waits up to `deadline` for the rest; what is still running then is
    /// logged by name (and aborted, when it is a task). Returns those
    /// names.
    pub async fn shutdown(&self, deadline: Duration) -> Vec<String> {
        self.token.cancel();
        for e in lock(&self.inner.entries).values() {
            if let (OnCancel::Abort, Stop::Task(h)) = (e.on_cancel, &e.stop) {
                h.abort();
            }
        }
        let all_gone = async {
            loop {
                let left = self.inner.left.notified();
                if lock(&self.inner.entries).is_empty() {
                    return;
                }
                left.await;
            }
        };
        if tokio::time::timeout(deadline, all_gone).await.is_ok() {
            return Vec::new();
        }
        let held: Vec<(String, bool)> = {
            let entries = lock(&self.inner.entries);
            for e in entries.values() {
                if let Stop::Task(h) = &e.stop {
                    h.abort();
                }
            }
            let is_task = |e: &Entry| matches!(e.stop, Stop::Task(_));
            entries
                .values()
                .map(|e| (e.name.clone(), is_task(e)))
                .collect()
        };
        for (name, task) in &held {
            let fate = if *task { "aborted" } else { "left running" };
            tracing::warn!(
                "shutdown held up: `{name}` did not stop within {} ms; {fate}",
                deadline.as_millis()
            );
        }
        held.into_iter().map(|(name, _)| name).collect()
    }
}

#[cfg(test)]
mod tests;
