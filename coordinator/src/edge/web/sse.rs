//! `/api/events`: the event log as Server-Sent Events, from the same
//! stored history and live feed as `swarmctl events --follow`. Each event
//! carries its sequence number as the SSE id, so a browser that reconnects
//! (sending `Last-Event-ID`) gets what it missed from the store; the
//! relay is the one `swarmctl events --follow` gets ([`relay`]).

use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio_stream::wrappers::ReceiverStream;

use swarm_core::command::Query;
use swarm_core::follow::relay;
use swarm_core::CoreHandle;
use swarm_memory::state::EventRow;

/// Events held for a slow browser before it is caught up from the store.
const BUFFER: usize = 256;

/// The stream of events after `since` (`None`: only what happens next).
pub async fn stream(
    core: CoreHandle,
    since: Option<u64>,
    tasks: &crate::daemon::tasks::Tasks,
) -> Result<Response, swarm_core::CoreError> {
    let from = since.unwrap_or(i64::MAX as u64);
    let (history, feed) = core
        .ask(|reply| Query::Events { since: from, reply }.into())
        .await?;
    let (tx, rx) = tokio::sync::mpsc::channel(BUFFER);
    let on_cancel = crate::daemon::tasks::OnCancel::Abort;
    tasks.spawn("web event stream", on_cancel, |_| async move {
        relay(&core, (history, feed), since, true, &tx, |e| Some(event(e))).await;
    });
    let stream: ReceiverStream<Result<Event, Infallible>> = ReceiverStream::new(rx);
    Ok(Sse::new(stream)
        .keep_alive(
            KeepAlive::new()
                .interval(Duration::from_secs(15))
                .text("keepalive"),
        )
        .into_response())
}

/// One event as SSE: id = sequence number, type `swarm`, JSON data.
fn event(e: &EventRow) -> Event {
    let data = serde_json::json!({
        "seq": e.seq,
        "at": e.at,
        "kind": e.kind,
        "task": e.task_id,
        "attempt": e.attempt,
        "agent": e.agent_id,
        "message": e.message,
        "actor": e.actor,
    });
    Event::default()
        .id(e.seq.to_string())
        .event("swarm")
        .data(data.to_string())
}
