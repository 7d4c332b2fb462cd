//! One POST of a body to a webhook, over HTTP/1.1, plain or TLS (rustls,
//! the system's CA bundle or `SSL_CERT_FILE`); a user and token before
//! the host go as Basic authorization. A try is bounded by [`TIMEOUT`];
//! any status but 2xx is a failure. Errors never hold the URL.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::TlsConnector;

use super::entry::SecretUrl;
use super::message::Body;

/// The longest one try takes, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How much of a refusal's body is kept for its record.
const ERROR_BODY: usize = 300;

/// Posts bodies; holds the TLS settings when an entry needs them.
#[derive(Clone)]
pub struct Poster {
    tls: Option<TlsConnector>,
}

impl Poster {
    /// A poster; `tls` for `https://` URLs.
    pub fn new(tls: Option<Arc<ClientConfig>>) -> Poster {
        Poster {
            tls: tls.map(TlsConnector::from),
        }
    }

    /// Posts `body` to `url`; `Err` says why it was not delivered.
    pub async fn post(&self, url: &SecretUrl, body: &Body) -> Result<(), String> {
        match tokio::time::timeout(TIMEOUT, self.exchange(url, body)).await {
            Ok(r) => r,
            Err(_) => Err(format!("no answer within {} s", TIMEOUT.as_secs())),
        }
    }

    async fn exchange(&self, url: &SecretUrl, body: &Body) -> Result<(), String> {
        let uri = url.uri();
        let host = uri.host().unwrap_or_default();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = uri
            .port_u16()
            .unwrap_or(if url.is_https() { 443 } else { 80 });
        let tcp = TcpStream::connect((host, port))
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        let req = request(url, body)?;
        if !url.is_https() {
            return send(TokioIo::new(tcp), req).await;
        }
        let tls = self
            .tls
            .as_ref()
            .ok_or("no TLS settings for an https:// URL")?;
        let name = ServerName::try_from(host.to_string()).map_err(|e| format!("host: {e}"))?;
        let stream = tls
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS: {e}"))?;
        send(TokioIo::new(stream), req).await
    }
}

/// The request: the path and query only, the host without credentials.
fn request(url: &SecretUrl, body: &Body) -> Result<Request<Full<Bytes>>, String> {
    let uri = url.uri();
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let authority = uri.authority().map_or("", |a| a.as_str());
    let (user, host) = match authority.rsplit_once('@') {
        Some((user, host)) => (Some(user), host),
        None => (None, authority),
    };
    let mut req = Request::post(path)
        .header(header::HOST, host)
        .header(header::CONTENT_TYPE, body.content_type)
        .header(
            header::USER_AGENT,
            concat!("swarmd/", env!("CARGO_PKG_VERSION")),
        )
        .header(header::CONNECTION, "close");
    if let Some(user) = user {
        req = req.header(
            header::AUTHORIZATION,
            format!("Basic {}", base64(user.as_bytes())),
        );
    }
    req.body(Full::new(Bytes::from(body.bytes.clone())))
        .map_err(|_| "the URL cannot be made into a request".to_string())
}

/// Sends `req` on a fresh connection and reads the answer.
async fn send<T>(io: T, req: Request<Full<Bytes>>) -> Result<(), String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    let driver = tokio::spawn(conn);
    let answer = async {
        let res = sender
            .send_request(req)
            .await
            .map_err(|e| format!("HTTP: {e}"))?;
        let status = res.status();
        if status.is_success() {
            return Ok(());
        }
        Err(refused(status, res.into_body()).await)
    }
    .await;
    driver.abort();
    answer
}

/// A status other than 2xx, with the start of what the receiver said.
async fn refused(status: StatusCode, body: hyper::body::Incoming) -> String {
    let said = match Limited::new(body, 64 * 1024).collect().await {
        Ok(b) => String::from_utf8_lossy(&b.to_bytes()).trim().to_string(),
        Err(_) => String::new(),
    };
    let said: String = said.chars().take(ERROR_BODY).collect();
    if said.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {said}")
    }
}

/// Standard base64 with padding (for Basic authorization).
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (k, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if k <= chunk.len() {
                out.push(char::from(ABC[(n >> shift) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_the_standard_one() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"bot:s3cret"), "Ym90OnMzY3JldA==");
    }

    #[test]
    fn the_request_carries_the_path_and_no_credentials_in_the_host() {
        let url = SecretUrl::parse("http://bot:tok@127.0.0.1:9/hook/KEY?x=1").expect("url");
        let body = Body {
            content_type: "application/json",
            bytes: b"{}".to_vec(),
        };
        let req = request(&url, &body).expect("request");
        assert_eq!(req.uri().to_string(), "/hook/KEY?x=1");
        assert_eq!(req.headers()[header::HOST], "127.0.0.1:9");
        assert_eq!(req.headers()[header::AUTHORIZATION], "Basic Ym90OnRvaw==");
    }
}
