//! TLS to the collector, as the OTLP exporter specification's variables
//! say: `OTEL_EXPORTER_OTLP_CERTIFICATE` is the CA file the collector's
//! certificate is checked against (without it, the system's CA bundle:
//! `SSL_CERT_FILE`, else the usual bundle paths);
//! `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` and `_CLIENT_KEY` are the
//! client's certificate chain and key for mutual TLS. Each has a
//! `OTEL_EXPORTER_OTLP_TRACES_*` variant, which wins.

use std::path::PathBuf;
use std::sync::Arc;

use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Where distributions keep the system's CA bundle.
const SYSTEM_BUNDLES: [&str; 4] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// TLS settings that cannot be used, naming the variable and file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file the variables name cannot be read.
    #[error("cannot read {what} {path} ({var}): {detail}")]
    Read {
        /// What the file is.
        what: &'static str,
        /// The variable that named it.
        var: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// A file holds no usable PEM of its kind.
    #[error("{path} ({var}) holds no {what} in PEM form: {detail}")]
    Pem {
        /// What was looked for.
        what: &'static str,
        /// The variable that named it.
        var: &'static str,
        /// The file.
        path: PathBuf,
        /// What the parser said.
        detail: String,
    },
    /// No CA file was named and none of the system's was found.
    #[error(
        "no CA certificates for the https:// OTLP endpoint: set OTEL_EXPORTER_OTLP_CERTIFICATE \
         to the collector's CA file (no system bundle at SSL_CERT_FILE or {})",
        SYSTEM_BUNDLES.join(", ")
    )]
    NoRoots,
    /// Only one of the client certificate and key is set.
    #[error(
        "mutual TLS needs both OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and \
         OTEL_EXPORTER_OTLP_CLIENT_KEY; only {0} is set"
    )]
    HalfIdentity(&'static str),
    /// rustls refused the settings.
    #[error("TLS settings for the OTLP endpoint refused: {0}")]
    Config(String),
}

/// A file and the variable that named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// The variable.
    pub var: &'static str,
    /// The file.
    pub path: PathBuf,
}

/// The TLS files the variables name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Files {
    /// The CA the collector's certificate must chain to.
    pub ca: Option<Named>,
    /// The client certificate chain (mutual TLS).
    pub client_cert: Option<Named>,
    /// The client key (mutual TLS).
    pub client_key: Option<Named>,
}

impl Files {
    /// The files the variables name (`get` reads a variable; an empty
    /// value is unset), the `_TRACES_` variant first.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Files {
        let pick = |traces: &'static str, generic: &'static str| {
            [traces, generic].into_iter().find_map(|var| {
                get(var).filter(|v| !v.trim().is_empty()).map(|v| Named {
                    var,
                    path: PathBuf::from(v.trim()),
                })
            })
        };
        Files {
            ca: pick(
                "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
                "OTEL_EXPORTER_OTLP_CERTIFICATE",
            ),
            client_cert: pick(
                "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
                "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            ),
            client_key: pick(
                "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
                "OTEL_EXPORTER_OTLP_CLIENT_KEY",
            ),
        }
    }

    /// The CA file: the named one, else the system's bundle.
    fn ca_file(&self) -> Result<Named, TlsError> {
        if let Some(ca) = &self.ca {
            return Ok(ca.clone());
        }
        let from_env = std::env::var("SSL_CERT_FILE")
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| Named {
                var: "SSL_CERT_FILE",
                path: PathBuf::from(v),
            });
        from_env
            .into_iter()
            .chain(SYSTEM_BUNDLES.iter().map(|p| Named {
                var: "the system's CA bundle",
                path: PathBuf::from(p),
            }))
            .find(|n| n.path.is_file())
            .ok_or(TlsError::NoRoots)
    }

    /// The client certificate and key, when both are named.
    fn identity(&self) -> Result<Option<(&Named, &Named)>, TlsError> {
        match (&self.client_cert, &self.client_key) {
            (Some(c), Some(k)) => Ok(Some((c, k))),
            (None, None) => Ok(None),
            (Some(c), None) => Err(TlsError::HalfIdentity(c.var)),
            (None, Some(k)) => Err(TlsError::HalfIdentity(k.var)),
        }
    }

    /// The settings for tonic (gRPC).
    ///
    /// # Errors
    /// A file that cannot be read or holds no PEM.
    pub fn tonic(&self) -> Result<tonic::transport::ClientTlsConfig, TlsError> {
        use tonic::transport::{Certificate, ClientTlsConfig, Identity};
        let ca = self.ca_file()?;
        // Parsed here first so that a bad file is named now, not at the
        // first export.
        certificates(&ca, "CA certificates")?;
        let mut config = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(read(&ca, "CA certificates")?));
        if let Some((cert, key)) = self.identity()? {
            certificates(cert, "client certificate")?;
            private_key(key)?;
            config = config.identity(Identity::from_pem(
                read(cert, "client certificate")?,
                read(key, "client key")?,
            ));
        }
        Ok(config)
    }

    /// The settings for rustls (HTTP).
    ///
    /// # Errors
    /// A file that cannot be read or holds no PEM, or settings rustls
    /// refuses.
    pub fn rustls(&self) -> Result<Arc<rustls::ClientConfig>, TlsError> {
        let ca = self.ca_file()?;
        let mut roots = rustls::RootCertStore::empty();
        let (_added, _ignored) =
            roots.add_parsable_certificates(certificates(&ca, "CA certificates")?);
        if roots.is_empty() {
            return Err(pem_error(&ca, "CA certificates", "none is usable".into()));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_root_certificates(roots);
        let config = match self.identity()? {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => builder
                .with_client_auth_cert(certificates(cert, "client certificate")?, private_key(key)?)
                .map_err(|e| TlsError::Config(e.to_string()))?,
        };
        Ok(Arc::new(config))
    }
}

fn read(n: &Named, what: &'static str) -> Result<Vec<u8>, TlsError> {
    std::fs::read(&n.path).map_err(|e| TlsError::Read {
        what,
        var: n.var,
        path: n.path.clone(),
        detail: e.to_string(),
    })
}

fn pem_error(n: &Named, what: &'static str, detail: String) -> TlsError {
    TlsError::Pem {
        what,
        var: n.var,
        path: n.path.clone(),
        detail,
    }
}

/// Every certificate in the PEM file `n` (at least one).
fn certificates(n: &Named, what: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read(n, what)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(n, what, e.to_string()))?;
    if certs.is_empty() {
        return Err(pem_error(n, what, "no CERTIFICATE block".into()));
    }
    Ok(certs)
}

/// The private key in the PEM file `n`.
fn private_key(n: &Named) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read(n, "client key")?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| pem_error(n, "client key", e.to_string()))
}

#[cfg(test)]
mod tests;
