//! The coordinator under test: the real `serve`, in a child process so
//! that its CPU and memory are measured apart from the simulated agents.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use swarm_coordinator::daemon::config::{self, Flags};
use swarm_coordinator::edge::auth::Tokens;

/// Tokens the benchmark gives its coordinator.
pub(crate) const ADMIN: &str = "bench-admin-token";
pub(crate) const AGENT: &str = "bench-agent-token";

/// Runs in the child: the same server `swarmd` runs, default settings.
pub(crate) async fn serve_child(workdir: PathBuf, listen: SocketAddr) -> ExitCode {
    let env = |k: &str| std::env::var(k).ok();
    let cfg = match config::load(
        None,
        &env,
        &Flags::default()
            .with("listen", listen.to_string())
            .with("workdir", workdir.display().to_string()),
    ) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bench coordinator: {e}");
            return ExitCode::from(2);
        }
    };
    let Ok(listener) = tokio::net::TcpListener::bind(listen).await else {
        return ExitCode::from(1);
    };
    let tokens = Tokens::new(ADMIN.into(), AGENT.into());
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match swarm_coordinator::daemon::serve::serve(listener, cfg, tokens, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench coordinator: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// The coordinator child process; killed on drop.
pub(crate) struct Child {
    pub(crate) child: std::process::Child,
    pub(crate) url: String,
}

impl Child {
    /// Starts the coordinator on a free port in `workdir`.
    pub(crate) fn start(workdir: &Path) -> anyhow::Result<Child> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = std::process::Command::new(std::env::current_exe()?)
            .arg("--coordinator-workdir")
            .arg(workdir)
            .arg("--coordinator-listen")
            .arg(format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::null())
            .spawn()?;
        Ok(Child {
            child,
            url: format!("http://127.0.0.1:{port}"),
        })
    }

    /// The child's process id: its CPU time and peak memory are what the
    /// benchmark measures.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Child {
    /// Stops the coordinator as an operator would (SIGINT: it shuts down
    /// gracefully, so a profiler it runs under writes its data), and kills
    /// it if it is still there thirty seconds later.
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        if nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).is_ok() {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while std::time::Instant::now() < deadline {
                if matches!(self.child.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
