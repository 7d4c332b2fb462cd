//! Why the daemon could not serve.

/// Why the daemon could not serve.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The listener has no local address.
    #[error("cannot read the listener's address: {0}")]
    Address(#[source] std::io::Error),
    /// The scheduler could not start (store, recovery, thread).
    #[error(transparent)]
    Core(#[from] swarm_core::CoreError),
    /// The reflection service could not be built.
    #[error("cannot build the gRPC reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The TLS files cannot be used.
    #[error(transparent)]
    Tls(#[from] crate::edge::tls::TlsError),
    /// The HTTP listener could not be bound.
    #[error("{0}")]
    Http(std::io::Error),
    /// The gRPC server failed.
    #[error("the gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// A thread could not start.
    #[error("cannot start the {0} thread: {1}")]
    Thread(&'static str, std::io::Error),
    /// The trace exporter cannot be set up as asked.
    #[error(transparent)]
    Traces(#[from] crate::workers::traces::export::ExportSetupError),
    /// Notifications cannot be set up as configured.
    #[error(transparent)]
    Notify(#[from] crate::workers::notify::SetupError),
    /// The state store failed and the scheduler stopped; the reason.
    #[error("the scheduler stopped: {0}")]
    Store(String),
}
