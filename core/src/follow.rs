//! Following the event log, for every follower (`swarmctl events
//! --follow` over gRPC, the web view's Server-Sent Events): the stored
//! events first, then the live feed, caught up from the store whenever the
//! feed lagged or skipped (a turn may emit more events than the feed
//! holds), so a follower sees every sequence number once, in order.

use swarm_memory::state::EventRow;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::mpsc;

use super::command::Query;
use super::CoreHandle;

/// Why a relay ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relayed {
    /// The history was sent and following was not asked for.
    Done,
    /// The follower went away.
    FollowerGone,
    /// The scheduler stopped (swarmd is shutting down).
    Stopped,
}

/// Sends `history`, then (with `follow`) what `feed` brings, each event
/// through `map`, until the follower or the scheduler goes. `since` is the
/// last sequence number the follower has; `None` when it asked for live
/// events only, so the first one it gets sets it.
pub async fn relay<T, E>(
    core: &CoreHandle,
    (history, mut feed): (Vec<EventRow>, broadcast::Receiver<EventRow>),
    since: Option<u64>,
    follow: bool,
    tx: &mpsc::Sender<Result<T, E>>,
    map: impl Fn(&EventRow) -> T,
) -> Relayed {
    let mut last = since;
    for e in &history {
        last = Some(e.seq);
        if tx.send(Ok(map(e))).await.is_err() {
            return Relayed::FollowerGone;
        }
    }
    if !follow {
        return Relayed::Done;
    }
    loop {
        let missed = match (feed.recv().await, last) {
            // The turn had more events than the feed holds: the older
            // ones are in the store.
            (Ok(e), Some(l)) if e.seq > l + 1 => true,
            (Ok(e), l) if l.is_none_or(|l| e.seq > l) => {
                last = Some(e.seq);
                if tx.send(Ok(map(&e))).await.is_err() {
                    return Relayed::FollowerGone;
                }
                false
            }
            (Ok(_), _) => false,
            (Err(RecvError::Lagged(_)), _) => true,
            (Err(RecvError::Closed), _) => return Relayed::Stopped,
        };
        if let (true, Some(since)) = (missed, last) {
            // Fell behind the live feed: catch up from the store.
            let Ok((rows, fresh)) = core
                .ask(|reply| Query::Events { since, reply }.into())
                .await
            else {
                return Relayed::Stopped;
            };
            feed = fresh;
            for e in &rows {
                last = Some(e.seq);
                if tx.send(Ok(map(e))).await.is_err() {
                    return Relayed::FollowerGone;
                }
            }
        }
    }
}
