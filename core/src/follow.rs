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

/// Most stored events one [`Query::Events`] answers: a longer history
/// is read in pages of this size, each one short turn of the loop, so a
/// follower of a million-event log never holds up scheduling.
pub const EVENT_PAGE: usize = 2_000;

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

/// Where a relay is: the last sequence number sent (or passed over by
/// the filter), and where events go.
struct Sink<'a, T, E, M> {
    last: Option<u64>,
    tx: &'a mpsc::Sender<Result<T, E>>,
    /// What the follower gets for an event; `None`: not for it (a filter).
    map: M,
}

impl<T, E, M: Fn(&EventRow) -> Option<T>> Sink<'_, T, E, M> {
    /// Sends `e` if the filter keeps it; false when the follower is gone.
    async fn send(&mut self, e: &EventRow) -> bool {
        self.last = Some(e.seq);
        match (self.map)(e) {
            Some(item) => self.tx.send(Ok(item)).await.is_ok(),
            None => true,
        }
    }

    /// Sends stored events from `rows` on, page after page, until a page
    /// is not full (the store is caught up). Returns the feed subscribed
    /// with the last page, or why the relay ends.
    async fn history(
        &mut self,
        core: &CoreHandle,
        (mut rows, mut feed): (Vec<EventRow>, broadcast::Receiver<EventRow>),
    ) -> Result<broadcast::Receiver<EventRow>, Relayed> {
        loop {
            for e in &rows {
                if !self.send(e).await {
                    return Err(Relayed::FollowerGone);
                }
            }
            let (true, Some(since)) = (rows.len() >= EVENT_PAGE, self.last) else {
                return Ok(feed);
            };
            (rows, feed) = core
                .ask(|reply| Query::Events { since, reply }.into())
                .await
                .map_err(|_| Relayed::Stopped)?;
        }
    }
}

/// Sends `history` (and the rest of the stored log after it, read in
/// pages), then (with `follow`) what `feed` brings, each event through
/// `map` (`None` drops it), until the follower or the scheduler goes.
/// `since` is the last sequence number the follower has; `None` when it
/// asked for live events only, so the first one it gets sets it.
pub async fn relay<T, E>(
    core: &CoreHandle,
    start: (Vec<EventRow>, broadcast::Receiver<EventRow>),
    since: Option<u64>,
    follow: bool,
    tx: &mpsc::Sender<Result<T, E>>,
    map: impl Fn(&EventRow) -> Option<T>,
) -> Relayed {
    let mut sink = Sink {
        last: since,
        tx,
        map,
    };
    let mut feed = match sink.history(core, start).await {
        Ok(feed) => feed,
        Err(end) => return end,
    };
    if !follow {
        return Relayed::Done;
    }
    loop {
        let missed = match (feed.recv().await, sink.last) {
            // The turn had more events than the feed holds: the older
            // ones are in the store.
            (Ok(e), Some(l)) if e.seq > l + 1 => true,
            (Ok(e), l) if l.is_none_or(|l| e.seq > l) => {
                if !sink.send(&e).await {
                    return Relayed::FollowerGone;
                }
                false
            }
            (Ok(_), _) => false,
            (Err(RecvError::Lagged(_)), _) => true,
            (Err(RecvError::Closed), _) => return Relayed::Stopped,
        };
        if let (true, Some(since)) = (missed, sink.last) {
            // Fell behind the live feed: catch up from the store.
            let Ok(rows) = core
                .ask(|reply| Query::Events { since, reply }.into())
                .await
            else {
                return Relayed::Stopped;
            };
            feed = match sink.history(core, rows).await {
                Ok(feed) => feed,
                Err(end) => return end,
            };
        }
    }
}
