//! Server streams of the control service: one fed by a task that writes
//! into a channel, and the reason a follow stream ends at shutdown.

use tonic::Status;

use super::BoxStream;
use crate::daemon::tasks::{OnCancel, Tasks};

/// A server stream fed by a task that writes into a channel, registered
/// as `name` (aborted at shutdown; it ends by itself when its client goes).
pub(super) fn async_stream<T, F, Fut>(tasks: &Tasks, name: &str, f: F) -> BoxStream<T>
where
    T: Send + 'static,
    F: FnOnce(tokio::sync::mpsc::Sender<Result<T, Status>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(256);
    tasks.spawn(name, OnCancel::Abort, |_| f(tx));
    Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))
}

/// Ends a follow stream with the reason: swarmd is stopping.
pub(super) async fn shutting_down<T>(tx: &tokio::sync::mpsc::Sender<Result<T, Status>>) {
    let _ = tx
        .send(Err(Status::unavailable(
            "swarmd is shutting down; follow again once it is back",
        )))
        .await;
}
