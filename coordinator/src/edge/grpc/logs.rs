//! `swarmctl task logs [--follow]` over gRPC: an attempt's output so far,
//! then (when following) what follows, until an event ends the attempt.

use swarm_core::command::LogEvent;
use swarm_core::event::KindFilter;
use swarm_memory::state::{EventRow, LogRow};
use swarm_proto::v1 as pb;
use tokio::sync::broadcast::{error::RecvError, Receiver};
use tokio::sync::mpsc::Sender;
use tonic::Status;

use super::streams::{async_stream, shutting_down};
use super::{status, BoxStream};
use crate::daemon::tasks::Tasks;
use swarm_core::command::{Query, TaskLogs};
use swarm_core::CoreHandle;
use swarm_memory::state::AttemptPick;

/// A task's logs as `TaskLogs` streams them: the picked attempt's output
/// so far, then (when following) what follows until the attempt ends.
pub(super) async fn open(
    core: &CoreHandle,
    tasks: &Tasks,
    r: pb::TaskLogsRequest,
) -> Result<BoxStream<pb::LogLine>, Status> {
    // The event feed first, so no end of the attempt is missed.
    let (_, events) = core
        .ask(|reply| {
            Query::Events {
                since: i64::MAX as u64,
                reply,
            }
            .into()
        })
        .await
        .map_err(status)?;
    let (task, pick) = (r.id, AttemptPick::from_wire(r.number, r.attempt));
    let TaskLogs {
        fence: attempt,
        number,
        chunks: history,
        feed,
    } = core
        .ask(|reply| Query::Logs { task, pick, reply }.into())
        .await
        .map_err(status)?;
    Ok(async_stream(
        tasks,
        "task logs stream",
        move |tx| async move {
            let follow = Follow {
                attempt,
                number,
                follow: r.follow,
            };
            follow.send(history, feed, events, &tx).await;
        },
    ))
}

/// Which attempt's output is sent, and whether to follow it.
pub(super) struct Follow {
    /// The attempt's fencing number.
    pub attempt: u64,
    /// Its number within the task, on every line.
    pub number: u32,
    /// Whether to go on after the output so far.
    pub follow: bool,
}

impl Follow {
    /// Sends `history`, then (when following) the attempt's chunks from
    /// `feed` until `events` says the attempt ended or the follower goes.
    pub(super) async fn send(
        self,
        history: Vec<LogRow>,
        mut feed: Receiver<LogEvent>,
        mut events: Receiver<EventRow>,
        tx: &Sender<Result<pb::LogLine, Status>>,
    ) {
        let mut last_seq = None;
        for row in history {
            last_seq = Some(row.seq);
            if tx.send(Ok(self.line(&row))).await.is_err() {
                return;
            }
        }
        if !self.follow {
            return;
        }
        let fresh = |row: &LogRow, last: Option<u64>| last.is_none_or(|s| row.seq > s);
        loop {
            tokio::select! {
                got = feed.recv() => match got {
                    Ok(ev) if ev.row.attempt == self.attempt && fresh(&ev.row, last_seq) => {
                        last_seq = Some(ev.row.seq);
                        if tx.send(Ok(self.line(&ev.row))).await.is_err() { return; }
                    }
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return shutting_down(tx).await,
                },
                got = events.recv() => match got {
                    Ok(e) if e.attempt == Some(self.attempt) && KindFilter::EndsAttempt.passes(&e.kind) => {
                        // Drain what is already queued, then stop.
                        while let Ok(ev) = feed.try_recv() {
                            if ev.row.attempt == self.attempt && fresh(&ev.row, last_seq) {
                                last_seq = Some(ev.row.seq);
                                let _ = tx.send(Ok(self.line(&ev.row))).await;
                            }
                        }
                        return;
                    }
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return shutting_down(tx).await,
                },
            }
        }
    }

    /// One chunk as a line of the stream.
    fn line(&self, row: &LogRow) -> pb::LogLine {
        pb::LogLine {
            attempt: row.attempt,
            number: self.number,
            stream: i32::from(row.stream),
            data: row.data.clone(),
        }
    }
}
