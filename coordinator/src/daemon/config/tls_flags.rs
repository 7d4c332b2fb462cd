//! The server's TLS files as the layers give them, one at a time, and the
//! check, once every layer has spoken, that they go together.

use std::path::PathBuf;

use super::ConfigError;

/// The TLS files (`tls_cert`, `tls_key`, `tls_client_ca`), each on its
/// own; [`load`](super::load) checks that they go together.
#[derive(Debug, Default, Clone)]
pub struct TlsFlags {
    /// The server certificate.
    pub cert: Option<PathBuf>,
    /// Its key.
    pub key: Option<PathBuf>,
    /// The CA of required client certificates.
    pub client_ca: Option<PathBuf>,
}

impl TlsFlags {
    /// The server's TLS, if any; half a set is an error.
    pub(super) fn resolve(self) -> Result<Option<crate::edge::tls::ServerTls>, ConfigError> {
        match (self.cert, self.key, self.client_ca) {
            (None, None, None) => Ok(None),
            (Some(cert), Some(key), client_ca) => Ok(Some(crate::edge::tls::ServerTls {
                cert,
                key,
                client_ca,
            })),
            (None, None, Some(_)) => Err(ConfigError::Invalid(
                "tls_client_ca (--tls-client-ca) needs tls_cert and tls_key (--tls-cert, --tls-key): \
                 client certificates are only asked for over TLS"
                    .into(),
            )),
            _ => Err(ConfigError::Invalid(
                "tls_cert and tls_key (--tls-cert, --tls-key) go together: give both or neither"
                    .into(),
            )),
        }
    }
}
