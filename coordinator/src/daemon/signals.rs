//! SIGTERM and SIGINT: the first stops swarmd gracefully, a second one
//! exits at once.

use crate::daemon::exit::Exit;

/// SIGTERM and SIGINT, caught from the moment swarmd starts: a signal
/// that arrives before the server is up still shuts down gracefully.
pub struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    /// Ends the process at once, on a second signal.
    exit_now: fn(Exit) -> !,
}

impl Signals {
    /// Installs the handlers (inside the runtime).
    ///
    /// # Errors
    /// When the OS refuses a handler.
    pub fn install(exit_now: fn(Exit) -> !) -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            exit_now,
        })
    }

    /// Resolves on the first signal; a second one exits at once
    /// ([`Exit::Interrupted`]), through `main.rs`'s `exit_now`: waiting
    /// for the runtime to unwind is what the operator refused.
    pub async fn first(mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
        tracing::info!("shutting down (a second signal exits at once)");
        tokio::spawn(async move {
            tokio::select! {
                _ = self.term.recv() => {}
                _ = self.int.recv() => {}
            }
            (self.exit_now)(Exit::Interrupted);
        });
    }
}
