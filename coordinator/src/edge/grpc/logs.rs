//! `swarmctl task logs [--follow]` over gRPC: an attempt's output so far,
//! then (when following) what follows, until an event ends the attempt.

use swarm_core::command::LogEvent;
use swarm_core::event::KindFilter;
use swarm_memory::state::{EventRow, LogRow};
use swarm_proto::v1 as pb;
use tokio::sync::broadcast::{error::RecvError, Receiver};
use tokio::sync::mpsc::Sender;
use tonic::Status;

use super::streams::shutting_down;

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
