//! Reaching `swarmd`: the coordinator URL and the TLS material a client
//! presents, turned into a gRPC channel.
//!
//! Three kinds of URL:
//! - `http://HOST:PORT`: plaintext, for loopback;
//! - `https://HOST:PORT`: TLS, verified against the CA given with `--ca`
//!   (`SWARM_CA`); with `--cert` and `--key` (`SWARM_CERT`, `SWARM_KEY`)
//!   the client also proves who it is (mTLS);
//! - `unix:///PATH`: a Unix socket, the one an agent serves to its own
//!   tasks and forwards over its TLS connection.
//!
//! Every mistake is caught before a connection is tried and named with the
//! flag or file at fault.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

/// The environment variable holding the CA certificate file.
pub const CA_ENV: &str = "SWARM_CA";
/// The environment variable holding the client certificate file.
pub const CERT_ENV: &str = "SWARM_CERT";
/// The environment variable holding the client key file.
pub const KEY_ENV: &str = "SWARM_KEY";

/// How often an idle connection is pinged (HTTP/2 and TCP keepalive).
pub const KEEPALIVE_EVERY: Duration = Duration::from_secs(10);

/// How long a ping may go unanswered before the connection is dropped.
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// The TLS files a client was given (each from a flag or its variable).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM file of the CA that signed the coordinator's certificate.
    pub ca: Option<PathBuf>,
    /// PEM file of this client's certificate (mTLS).
    pub cert: Option<PathBuf>,
    /// PEM file of this client's private key (mTLS).
    pub key: Option<PathBuf>,
}

impl TlsFiles {
    /// Nothing given.
    pub fn is_empty(&self) -> bool {
        self.ca.is_none() && self.cert.is_none() && self.key.is_none()
    }

    /// A client certificate is given (and so is its key, once checked).
    pub fn has_identity(&self) -> bool {
        self.cert.is_some()
    }
}

/// Why a coordinator URL and its TLS files cannot make a channel.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL is not one of the three kinds.
    #[error(
        "'{0}' is not a coordinator URL: use http://HOST:PORT, https://HOST:PORT or unix:///PATH"
    )]
    BadUrl(String),
    /// TLS files were given for a URL that does not use TLS.
    #[error("--ca, --cert and --key ({CA_ENV}, {CERT_ENV}, {KEY_ENV}) need an https:// coordinator URL, not '{0}'")]
    TlsWithoutHttps(String),
    /// An https URL without a CA to verify the server with.
    #[error("'{0}' uses TLS: give --ca FILE ({CA_ENV}), the CA certificate that signed swarmd's")]
    NoCa(String),
    /// A certificate without its key, or a key without its certificate.
    #[error("--cert and --key ({CERT_ENV}, {KEY_ENV}) go together: give both or neither")]
    HalfIdentity,
    /// A TLS file cannot be read.
    #[error("cannot read {what} {}: {source}", path.display())]
    Read {
        /// Which file it is ("the CA certificate", ...).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// A TLS file holds no PEM block.
    #[error("{what} {} holds no PEM block (expected '-----BEGIN ...')", path.display())]
    NotPem {
        /// Which file it is.
        what: &'static str,
        /// The file.
        path: PathBuf,
    },
    /// The TLS settings were refused by the TLS library.
    #[error("cannot use the TLS settings for '{url}': {source}")]
    Tls {
        /// The coordinator URL.
        url: String,
        /// What tonic said.
        source: tonic::transport::Error,
    },
    /// Connecting failed.
    #[error("cannot reach swarmd at {url}: {}", describe(source))]
    Unreachable {
        /// The coordinator URL.
        url: String,
        /// What the transport said.
        source: tonic::transport::Error,
    },
    /// Connecting took too long.
    #[error("cannot reach swarmd at {url}: no connection within {after:?}")]
    Timeout {
        /// The coordinator URL.
        url: String,
        /// How long it waited.
        after: Duration,
    },
}

/// A transport error with its causes: "transport error" alone says nothing
/// (the cause tells a refused connection from a certificate problem).
pub fn describe(e: &tonic::transport::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A checked coordinator address, ready to connect.
#[derive(Debug, Clone)]
pub struct Coordinator {
    url: String,
    how: How,
}

#[derive(Debug, Clone)]
enum How {
    Tcp(Endpoint),
    Unix(Endpoint, PathBuf),
}

impl Coordinator {
    /// Checks `url` and the TLS files and reads the files.
    ///
    /// # Errors
    /// See [`ConnectError`]: a bad URL, TLS files for a non-TLS URL, https
    /// without a CA, half an identity, an unreadable or non-PEM file.
    pub fn new(url: &str, tls: &TlsFiles) -> Result<Self, ConnectError> {
        let url = url.trim_end_matches('/').to_string();
        if tls.cert.is_some() != tls.key.is_some() {
            return Err(ConnectError::HalfIdentity);
        }
        if let Some(path) = url.strip_prefix("unix://") {
            if !tls.is_empty() {
                return Err(ConnectError::TlsWithoutHttps(url));
            }
            if !path.starts_with('/') {
                return Err(ConnectError::BadUrl(url));
            }
            // The URI only names the authority of each request; the
            // connector dials the socket.
            let endpoint = Endpoint::from_static("http://swarmd.local");
            return Ok(Coordinator {
                how: How::Unix(endpoint, PathBuf::from(path)),
                url,
            });
        }
        let tls_url = url.starts_with("https://");
        if !tls_url && !url.starts_with("http://") {
            return Err(ConnectError::BadUrl(url));
        }
        // Keepalives: a connection that died silently (a partition, an
        // address that changed) is noticed in seconds, not when TCP gives
        // up minutes later.
        let mut endpoint = Endpoint::from_shared(url.clone())
            .map_err(|_| ConnectError::BadUrl(url.clone()))?
            .http2_keep_alive_interval(KEEPALIVE_EVERY)
            .keep_alive_timeout(KEEPALIVE_TIMEOUT)
            .keep_alive_while_idle(true)
            .tcp_keepalive(Some(KEEPALIVE_EVERY));
        if tls_url {
            let ca = tls
                .ca
                .as_ref()
                .ok_or_else(|| ConnectError::NoCa(url.clone()))?;
            let mut config = ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(read_pem("the CA certificate", ca)?));
            if let (Some(cert), Some(key)) = (&tls.cert, &tls.key) {
                config = config.identity(Identity::from_pem(
                    read_pem("the client certificate", cert)?,
                    read_pem("the client key", key)?,
                ));
            }
            endpoint = endpoint
                .tls_config(config)
                .map_err(|source| ConnectError::Tls {
                    url: url.clone(),
                    source,
                })?;
        } else if !tls.is_empty() {
            return Err(ConnectError::TlsWithoutHttps(url));
        }
        Ok(Coordinator {
            how: How::Tcp(endpoint),
            url,
        })
    }

    /// The URL, as given (without a trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Connects, waiting at most `timeout`.
    ///
    /// # Errors
    /// [`ConnectError::Unreachable`] or [`ConnectError::Timeout`].
    pub async fn connect(&self, timeout: Duration) -> Result<Channel, ConnectError> {
        let endpoint = match &self.how {
            How::Tcp(e) | How::Unix(e, _) => e.clone().connect_timeout(timeout),
        };
        let connecting = async {
            match &self.how {
                How::Tcp(_) => endpoint.connect().await,
                How::Unix(_, path) => endpoint.connect_with_connector(unix(path.clone())).await,
            }
        };
        match tokio::time::timeout(timeout, connecting).await {
            Err(_) => Err(ConnectError::Timeout {
                url: self.url.clone(),
                after: timeout,
            }),
            Ok(r) => r.map_err(|source| ConnectError::Unreachable {
                url: self.url.clone(),
                source,
            }),
        }
    }

    /// A channel that connects on first use (and reconnects after).
    pub fn connect_lazy(&self) -> Channel {
        match &self.how {
            How::Tcp(e) => e.connect_lazy(),
            How::Unix(e, path) => e.connect_with_connector_lazy(unix(path.clone())),
        }
    }
}

/// A connector that dials the Unix socket at `path` whatever the URI.
fn unix(
    path: PathBuf,
) -> impl tower::Service<
    tonic::transport::Uri,
    Response = hyper_util::rt::TokioIo<tokio::net::UnixStream>,
    Error = std::io::Error,
    Future = impl Send,
> + Clone
       + Send {
    tower::service_fn(move |_: tonic::transport::Uri| {
        let path = path.clone();
        async move {
            let stream = tokio::net::UnixStream::connect(path).await?;
            Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
        }
    })
}

/// The PEM text of `path`, checked to hold at least one PEM block.
///
/// # Errors
/// [`ConnectError::Read`] or [`ConnectError::NotPem`].
pub fn read_pem(what: &'static str, path: &Path) -> Result<String, ConnectError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConnectError::Read {
        what,
        path: path.to_path_buf(),
        source,
    })?;
    if !text.contains("-----BEGIN ") {
        return Err(ConnectError::NotPem {
            what,
            path: path.to_path_buf(),
        });
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(ca: Option<&str>, cert: Option<&str>, key: Option<&str>) -> TlsFiles {
        TlsFiles {
            ca: ca.map(PathBuf::from),
            cert: cert.map(PathBuf::from),
            key: key.map(PathBuf::from),
        }
    }

    #[test]
    fn plain_urls_take_no_tls_files() {
        let none = TlsFiles::default();
        assert!(Coordinator::new("http://127.0.0.1:7420/", &none).is_ok());
        let err = Coordinator::new("http://127.0.0.1:7420", &files(Some("ca.pem"), None, None))
            .expect_err("ca with http");
        assert!(matches!(err, ConnectError::TlsWithoutHttps(_)), "{err}");
        let err = Coordinator::new("unix:///run/s.sock", &files(Some("ca.pem"), None, None))
            .expect_err("ca with unix");
        assert!(matches!(err, ConnectError::TlsWithoutHttps(_)), "{err}");
    }

    #[test]
    fn https_needs_a_readable_pem_ca_and_a_whole_identity() {
        let none = TlsFiles::default();
        let err = Coordinator::new("https://swarmd:7420", &none).expect_err("no ca");
        assert!(
            err.to_string().contains("give --ca FILE (SWARM_CA)"),
            "{err}"
        );
        let err = Coordinator::new(
            "https://swarmd:7420",
            &files(Some("ca.pem"), Some("a.pem"), None),
        )
        .expect_err("half");
        assert!(matches!(err, ConnectError::HalfIdentity), "{err}");
        let dir = tempfile::tempdir().expect("tmp");
        let missing = dir.path().join("missing.pem");
        let err = Coordinator::new(
            "https://swarmd:7420",
            &files(Some(missing.to_str().expect("utf8")), None, None),
        )
        .expect_err("missing");
        assert!(
            err.to_string()
                .starts_with("cannot read the CA certificate "),
            "{err}"
        );
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "hello").expect("write");
        let err = Coordinator::new(
            "https://swarmd:7420",
            &files(Some(junk.to_str().expect("utf8")), None, None),
        )
        .expect_err("junk");
        assert!(matches!(err, ConnectError::NotPem { .. }), "{err}");
    }

    #[test]
    fn other_schemes_and_relative_sockets_are_refused() {
        let none = TlsFiles::default();
        for url in ["ftp://x", "127.0.0.1:7420", "unix:relative.sock", ""] {
            let err = Coordinator::new(url, &none).expect_err(url);
            assert!(matches!(err, ConnectError::BadUrl(_)), "{url}: {err}");
        }
    }
}
