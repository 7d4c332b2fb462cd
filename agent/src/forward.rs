//! The private socket an agent serves to its own tasks under mTLS, and to
//! sandboxed tasks without a network (`--sandbox-network none`).
//!
//! A task must not hold the agent's client certificate and key, yet under
//! mTLS nothing reaches the coordinator without one; a task without a
//! network reaches nothing but files. So the agent listens
//! on a Unix socket in its runtime directory, which only the tasks' user
//! can enter ([`crate::runtime`]) and forwards every
//! HTTP/2 request it receives, untouched, over its own TLS connection.
//! Tasks get `SWARM_COORDINATOR=unix:///…/coordinator.sock`.
//!
//! The socket grants a way to the coordinator, not a right: every call
//! still carries the task's own `SWARM_TOKEN`, minted for its attempt
//! (shared memory and its own task, dead when the attempt ends).

use std::path::{Path, PathBuf};

use tokio::net::UnixListener;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tower::ServiceExt as _;

/// A running forwarder; the socket goes when it drops.
pub struct Forwarder {
    socket: PathBuf,
    accept: JoinHandle<()>,
}

impl Forwarder {
    /// Listens on `dir/coordinator.sock` (`dir` being the agent's private
    /// runtime directory) and forwards to `channel`. `owner` (`--run-as`)
    /// gets the socket.
    ///
    /// # Errors
    /// When the socket cannot be made.
    pub fn start(
        channel: Channel,
        dir: &Path,
        owner: Option<(u32, u32)>,
    ) -> std::io::Result<Forwarder> {
        let socket = dir.join("coordinator.sock");
        let listener = UnixListener::bind(&socket)?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&socket, Some(uid), Some(gid))?;
        }
        let accept = tokio::spawn(accept_loop(listener, channel));
        tracing::info!(
            "tasks may reach the coordinator through {} (forwarded over the agent's connection)",
            socket.display()
        );
        Ok(Forwarder { socket, accept })
    }

    /// The URL tasks are given.
    pub fn url(&self) -> String {
        format!("unix://{}", self.socket.display())
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.accept.abort();
        let _ = std::fs::remove_file(&self.socket);
    }
}

async fn accept_loop(listener: UnixListener, channel: Channel) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!("task socket: cannot accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let channel = channel.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(
                move |req: tonic::codegen::http::Request<hyper::body::Incoming>| {
                    let req = req.map(tonic::body::Body::new);
                    channel.clone().oneshot(req)
                },
            );
            let served =
                hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            if let Err(e) = served {
                tracing::debug!("task socket connection ended: {e}");
            }
        });
    }
}
