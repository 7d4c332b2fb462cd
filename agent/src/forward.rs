//! The private socket an agent serves to its own tasks under mTLS.
//!
//! A task must not hold the agent's client certificate and key, yet under
//! mTLS nothing reaches the coordinator without one. So the agent listens
//! on a Unix socket in a directory only the tasks' user can enter (0700,
//! owned by the `--run-as` user when there is one) and forwards every
//! HTTP/2 request it receives, untouched, over its own TLS connection.
//! Tasks get `SWARM_COORDINATOR=unix:///…/coordinator.sock`.
//!
//! The socket grants a way to the coordinator, not a right: every call
//! still carries the task's own `SWARM_TOKEN`, minted for its attempt
//! (shared memory and its own task, dead when the attempt ends).

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use tokio::net::UnixListener;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tower::ServiceExt as _;

/// A running forwarder; the socket and its directory go when it drops.
pub struct Forwarder {
    dir: PathBuf,
    socket: PathBuf,
    accept: JoinHandle<()>,
}

impl Forwarder {
    /// Listens on a fresh private socket and forwards to `channel`.
    ///
    /// `owner` is the (uid, gid) the directory is handed to (`--run-as`);
    /// `None` keeps it the agent's own.
    ///
    /// # Errors
    /// When the directory or socket cannot be made.
    pub fn start(channel: Channel, owner: Option<(u32, u32)>) -> std::io::Result<Forwarder> {
        let dir = private_dir()?;
        if let Some((uid, gid)) = owner {
            let chowned = std::os::unix::fs::chown(&dir, Some(uid), Some(gid));
            if let Err(e) = chowned {
                let _ = std::fs::remove_dir(&dir);
                return Err(std::io::Error::other(format!(
                    "cannot hand {} to uid {uid}: {e}",
                    dir.display()
                )));
            }
        }
        let socket = dir.join("coordinator.sock");
        let listener = match UnixListener::bind(&socket) {
            Ok(l) => l,
            Err(e) => {
                let _ = std::fs::remove_dir(&dir);
                return Err(e);
            }
        };
        if let Some((uid, gid)) = owner {
            let _ = std::os::unix::fs::chown(&socket, Some(uid), Some(gid));
        }
        let accept = tokio::spawn(accept_loop(listener, channel));
        tracing::info!(
            "tasks reach the coordinator through {} (forwarded over mTLS)",
            socket.display()
        );
        Ok(Forwarder {
            dir,
            socket,
            accept,
        })
    }

    /// The socket's path.
    pub fn socket(&self) -> &Path {
        &self.socket
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
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// `TMPDIR/swarm-agent-PID-N`, created 0700 (never an existing one).
fn private_dir() -> std::io::Result<PathBuf> {
    let base = std::env::temp_dir();
    let pid = std::process::id();
    for n in 0..1000u32 {
        let dir = base.join(format!("swarm-agent-{pid}-{n}"));
        match std::fs::create_dir(&dir) {
            Ok(()) => {
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
                return Ok(dir);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(format!(
        "no free directory name for the task socket under {}",
        base.display()
    )))
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
