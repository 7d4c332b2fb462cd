//! The connections swarmd accepts, and the socket options that find a
//! dead peer without waking the process.

use tokio::net::TcpListener;

/// The accepted connections: no Nagle delay, and TCP keepalive: a peer
/// silent for [`KEEPALIVE_EVERY`](swarm_client::connect::KEEPALIVE_EVERY)
/// (an agent's host gone without a FIN, a cut network) is probed every
/// half of that, and dropped after two unanswered probes, about as soon
/// as the HTTP/2 ping it replaces noticed. Keepalive probes wait while
/// data sent is unacknowledged, so a peer that vanished just after a
/// write is dropped by `TCP_USER_TIMEOUT` instead, after the same time,
/// not after the kernel's retransmissions give up (about 15 minutes).
pub(super) fn accepted(
    listener: TcpListener,
) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use tokio_stream::StreamExt;
    let every = swarm_client::connect::KEEPALIVE_EVERY;
    tonic::transport::server::TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .with_keepalive(Some(every))
        .with_keepalive_interval(Some(every / 2))
        .with_keepalive_retries(Some(2))
        .map(move |accepted| {
            accepted.inspect(|stream| {
                let ms = u32::try_from((every * 2).as_millis()).unwrap_or(u32::MAX);
                let set = nix::sys::socket::setsockopt(
                    stream,
                    nix::sys::socket::sockopt::TcpUserTimeout,
                    &ms,
                );
                if let Err(e) = set {
                    tracing::debug!("TCP_USER_TIMEOUT not set on an accepted connection: {e}");
                }
            })
        })
}
