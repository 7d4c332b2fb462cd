//! The server's TLS: its certificate and key, and the CA whose client
//! certificates it requires (mTLS), read once at start-up.

use std::path::PathBuf;
use std::time::Duration;

use swarm_client::connect::{describe, read_pem};
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

/// How long a client has to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The TLS files from the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerTls {
    /// The server's certificate chain (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM).
    pub key: PathBuf,
    /// CA of the client certificates required from every client (mTLS).
    pub client_ca: Option<PathBuf>,
}

/// Why the TLS files cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file is unreadable or not PEM.
    #[error(transparent)]
    File(#[from] swarm_client::ConnectError),
    /// The certificate and key do not make an identity.
    #[error("cannot serve TLS with {} and {}: {}", cert.display(), key.display(), describe(source))]
    Rejected {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// What the TLS library said.
        source: tonic::transport::Error,
    },
}

impl ServerTls {
    /// The tonic configuration; the files are read now.
    ///
    /// # Errors
    /// [`TlsError::File`] for a missing, unreadable or non-PEM file.
    pub fn config(&self) -> Result<ServerTlsConfig, TlsError> {
        let cert = read_pem("the TLS certificate (tls_cert)", &self.cert)?;
        let key = read_pem("the TLS key (tls_key)", &self.key)?;
        let mut config = ServerTlsConfig::new()
            .identity(Identity::from_pem(cert, key))
            .timeout(HANDSHAKE_TIMEOUT);
        if let Some(ca) = &self.client_ca {
            let ca = read_pem("the client CA (tls_client_ca)", ca)?;
            // Required, not optional: a client without a certificate signed
            // by this CA does not get past the handshake.
            config = config
                .client_ca_root(Certificate::from_pem(ca))
                .client_auth_optional(false);
        }
        Ok(config)
    }

    /// A server builder with this TLS, or the reason it cannot be made
    /// (checked at start-up, before anything listens).
    ///
    /// # Errors
    /// As [`ServerTls::config`], and [`TlsError::Rejected`] when the key
    /// does not fit the certificate or either cannot be parsed.
    pub fn builder(&self) -> Result<tonic::transport::Server, TlsError> {
        let config = self.config()?;
        tonic::transport::Server::builder()
            .tls_config(config)
            .map_err(|source| TlsError::Rejected {
                cert: self.cert.clone(),
                key: self.key.clone(),
                source,
            })
    }
}
