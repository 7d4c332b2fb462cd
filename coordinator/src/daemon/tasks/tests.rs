//! The registry: tasks leave when they end, cooperative tasks are waited
//! for, a task that ignores its token is named and aborted at the
//! deadline, abort-on-cancel tasks go at once, threads are waited for.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::*;

/// Sets its flag when dropped: evidence that a task's future was dropped
/// (it ended or was aborted).
struct Dropped(Arc<AtomicBool>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn tasks_that_end_leave_the_registry() {
    let tasks = Tasks::new();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tasks.spawn("session reader agent-1", OnCancel::Abort, |_| async move {
        let _ = rx.await;
    });
    for i in 0..50 {
        tasks.spawn(&format!("short {i}"), OnCancel::Wait, |_| async {});
    }
    assert!(tasks.wait_for("short 49", Duration::from_secs(5)).await);
    assert_eq!(tasks.running(), vec!["session reader agent-1".to_string()]);
    let _ = tx.send(());
    assert!(
        tasks
            .wait_for("session reader agent-1", Duration::from_secs(5))
            .await
    );
    assert!(tasks.running().is_empty());
}

/// Where the log lines of a test go.
#[derive(Clone, Default)]
struct Log(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn text(&self) -> String {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// The log lines of this thread, from now on. Every test that reaches the
/// held-up line captures, so that line's callsite is never registered
/// while no test listens (its interest would be cached as "never").
fn capture() -> (Log, tracing::subscriber::DefaultGuard) {
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    (log, tracing::subscriber::set_default(subscriber))
}

#[tokio::test]
async fn a_task_that_ignores_cancellation_is_named_and_aborted_at_the_deadline() {
    let (log, _logging) = capture();
    let tasks = Tasks::new();
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = Dropped(dropped.clone());
    tasks.spawn("stubborn", OnCancel::Wait, |_token| async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    });
    let saw_cancel = Arc::new(AtomicBool::new(false));
    let saw = saw_cancel.clone();
    tasks.spawn("polite", OnCancel::Wait, |token| async move {
        token.cancelled().await;
        saw.store(true, Ordering::SeqCst);
    });
    let held = tasks.shutdown(Duration::from_millis(200)).await;
    assert_eq!(held, vec!["stubborn".to_string()]);
    let said = log.text();
    assert!(
        said.contains("shutdown held up: `stubborn` did not stop within 200 ms; aborted"),
        "{said}"
    );
    assert!(!said.contains("polite"), "{said}");
    assert!(
        saw_cancel.load(Ordering::SeqCst),
        "the polite task saw its token"
    );
    assert!(tasks.wait_for("stubborn", Duration::from_secs(5)).await);
    assert!(
        dropped.load(Ordering::SeqCst),
        "the stubborn task was aborted"
    );
    assert!(tasks.running().is_empty());
}

#[tokio::test]
async fn abort_tasks_go_at_once_and_threads_are_waited_for() {
    let tasks = Tasks::new();
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = Dropped(dropped.clone());
    tasks.spawn("http", OnCancel::Abort, |_| async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    });
    let stopped = Arc::new(AtomicBool::new(false));
    let flag = stopped.clone();
    tasks
        .spawn_thread("worker thread", move |token| {
            while !token.is_cancelled() {
                std::thread::sleep(Duration::from_millis(5));
            }
            flag.store(true, Ordering::SeqCst);
        })
        .expect("thread");
    let held = tasks.shutdown(Duration::from_secs(10)).await;
    assert!(held.is_empty(), "{held:?}");
    assert!(dropped.load(Ordering::SeqCst));
    assert!(stopped.load(Ordering::SeqCst));
}

#[tokio::test]
async fn a_thread_that_does_not_stop_is_named() {
    let (log, _logging) = capture();
    let tasks = Tasks::new();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    tasks
        .spawn_thread("deaf thread", move |_| {
            let _ = rx.recv();
        })
        .expect("thread");
    let held = tasks.shutdown(Duration::from_millis(100)).await;
    assert_eq!(held, vec!["deaf thread".to_string()]);
    assert!(log
        .text()
        .contains("`deaf thread` did not stop within 100 ms; left running"));
    drop(tx);
    assert!(tasks.wait_for("deaf thread", Duration::from_secs(5)).await);
}
