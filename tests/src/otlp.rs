//! An OTLP trace receiver inside the test: the trace service of the
//! OpenTelemetry protocol, served with tonic on a free port (or, for
//! OTLP over HTTP, `POST /v1/traces` with a protobuf body), in plaintext
//! or over TLS with a certificate set from `swarmd certs init`, keeping
//! every span it is sent (a span sent twice is kept twice).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;

/// One span as received, with its resource's and scope's names.
#[derive(Debug, Clone)]
pub struct Received {
    /// The resource's attributes.
    pub resource: Vec<KeyValue>,
    /// The instrumentation scope's name.
    pub scope: String,
    /// The span.
    pub span: Span,
}

impl Received {
    /// The span's attribute `key` as text (numbers written out).
    pub fn attr(&self, key: &str) -> Option<String> {
        attr(&self.span.attributes, key)
    }

    /// The resource's attribute `key` as text.
    pub fn resource_attr(&self, key: &str) -> Option<String> {
        attr(&self.resource, key)
    }
}

/// Attribute `key` of `attrs` as text (numbers written out).
pub fn attr(attrs: &[KeyValue], key: &str) -> Option<String> {
    let v = attrs
        .iter()
        .find(|kv| kv.key == key)?
        .value
        .as_ref()?
        .value
        .as_ref()?;
    Some(match v {
        any_value::Value::StringValue(s) => s.clone(),
        any_value::Value::IntValue(i) => i.to_string(),
        any_value::Value::BoolValue(b) => b.to_string(),
        any_value::Value::DoubleValue(d) => d.to_string(),
        other => format!("{other:?}"),
    })
}

/// What the receiver got: spans, and how many requests.
#[derive(Default)]
struct Got {
    spans: Vec<Received>,
    requests: usize,
}

#[derive(Clone, Default)]
struct Collector {
    got: Arc<Mutex<Got>>,
}

impl Collector {
    /// Keeps the spans of one export request.
    fn take(&self, request: ExportTraceServiceRequest) -> Result<(), String> {
        let mut got = self.got.lock().map_err(|_| "poisoned".to_string())?;
        got.requests += 1;
        for rs in request.resource_spans {
            let resource = rs.resource.map(|r| r.attributes).unwrap_or_default();
            for ss in rs.scope_spans {
                let scope = ss.scope.map(|s| s.name).unwrap_or_default();
                for span in ss.spans {
                    got.spans.push(Received {
                        resource: resource.clone(),
                        scope: scope.clone(),
                        span,
                    });
                }
            }
        }
        Ok(())
    }
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.take(request.into_inner())
            .map_err(tonic::Status::internal)?;
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

/// A running receiver; it stops with the test process.
pub struct Receiver {
    /// Its endpoint, `http://127.0.0.1:PORT` (`https://` over TLS).
    pub endpoint: String,
    collector: Collector,
}

impl Receiver {
    /// Serves the trace service on a free port, on a thread of its own.
    pub fn start() -> Receiver {
        Receiver::start_on(crate::free_port())
    }

    /// Serves the trace service on `port` (one a daemon was already told).
    pub fn start_on(port: u16) -> Receiver {
        Receiver::serve_grpc(port, None)
    }

    /// Serves the trace service over TLS on a free port, with the
    /// server certificate and key of the `swarmd certs init` set in
    /// `certs`; its endpoint is `https://127.0.0.1:PORT`.
    pub fn start_tls(certs: &Path) -> Receiver {
        Receiver::grpc_tls(certs, false)
    }

    /// The same, asking every client for a certificate of the set's CA
    /// (mutual TLS).
    pub fn start_mtls(certs: &Path) -> Receiver {
        Receiver::grpc_tls(certs, true)
    }

    fn grpc_tls(certs: &Path, clients: bool) -> Receiver {
        use tonic::transport::{Certificate, Identity, ServerTlsConfig};
        let read = |f: &str| std::fs::read(certs.join(f)).expect("the certificate set");
        let mut tls = ServerTlsConfig::new()
            .identity(Identity::from_pem(read("server.pem"), read("server.key")));
        if clients {
            tls = tls.client_ca_root(Certificate::from_pem(read("ca.pem")));
        }
        Receiver::serve_grpc(crate::free_port(), Some(tls))
    }

    fn serve_grpc(port: u16, tls: Option<tonic::transport::ServerTlsConfig>) -> Receiver {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let collector = Collector::default();
        let served = collector.clone();
        let scheme = if tls.is_some() { "https" } else { "http" };
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("receiver runtime");
            rt.block_on(async move {
                let mut server = tonic::transport::Server::builder();
                if let Some(tls) = tls {
                    server = server.tls_config(tls).expect("the receiver's TLS settings");
                }
                server
                    .add_service(TraceServiceServer::new(served))
                    .serve(addr)
                    .await
                    .expect("OTLP receiver serves");
            });
        });
        let endpoint = format!("{scheme}://127.0.0.1:{port}");
        crate::wait_for("the OTLP receiver to listen", 10, || {
            std::net::TcpStream::connect(addr).is_ok()
        });
        Receiver {
            endpoint,
            collector,
        }
    }

    /// Serves OTLP over HTTP (`POST /v1/traces`, protobuf bodies) on a
    /// free port, a thread per connection.
    pub fn start_http() -> Receiver {
        Receiver::serve_http(None)
    }

    /// The same over TLS, with the server certificate and key of the
    /// `swarmd certs init` set in `certs`; its endpoint is
    /// `https://127.0.0.1:PORT`.
    pub fn start_https(certs: &Path) -> Receiver {
        Receiver::http_tls(certs, false)
    }

    /// The same, asking every client for a certificate of the set's CA
    /// (mutual TLS).
    pub fn start_https_mtls(certs: &Path) -> Receiver {
        Receiver::http_tls(certs, true)
    }

    fn http_tls(certs: &Path, clients: bool) -> Receiver {
        use tokio_rustls::rustls;
        use tokio_rustls::rustls::pki_types::pem::PemObject as _;
        use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let chain = CertificateDer::pem_file_iter(certs.join("server.pem"))
            .expect("server.pem")
            .collect::<Result<Vec<_>, _>>()
            .expect("server.pem certificates");
        let key = PrivateKeyDer::from_pem_file(certs.join("server.key")).expect("server.key");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("TLS versions");
        let builder = if clients {
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_file_iter(certs.join("ca.pem")).expect("ca.pem") {
                roots.add(c.expect("a CA certificate")).expect("the CA");
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .expect("a client verifier");
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let config = builder
            .with_single_cert(chain, key)
            .expect("the receiver's TLS settings");
        Receiver::serve_http(Some(Arc::new(config)))
    }

    fn serve_http(tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>) -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let collector = Collector::default();
        let served = collector.clone();
        let endpoint = match tls {
            Some(_) => format!("https://127.0.0.1:{port}"),
            None => format!("http://127.0.0.1:{port}"),
        };
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let c = served.clone();
                let tls = tls.clone();
                std::thread::spawn(move || match tls {
                    None => http::serve(stream, &c),
                    Some(config) => {
                        let Ok(conn) = tokio_rustls::rustls::ServerConnection::new(config) else {
                            return;
                        };
                        http::serve(tokio_rustls::rustls::StreamOwned::new(conn, stream), &c)
                    }
                });
            }
        });
        Receiver {
            endpoint,
            collector,
        }
    }

    /// Every span received so far, in the order received.
    pub fn spans(&self) -> Vec<Received> {
        self.collector
            .got
            .lock()
            .map(|g| g.spans.clone())
            .unwrap_or_default()
    }

    /// How many export requests came.
    pub fn requests(&self) -> usize {
        self.collector.got.lock().map(|g| g.requests).unwrap_or(0)
    }
}

/// Just enough HTTP/1.1 for an OTLP exporter: requests with a
/// `Content-Length` body on a kept-alive connection.
mod http {
    use std::io::{BufRead, BufReader, Read, Write};

    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use prost::Message;

    use super::Collector;

    pub(super) fn serve(stream: impl Read + Write, c: &Collector) {
        let mut reader = BufReader::new(stream);
        while let Some((path, body)) = request(&mut reader) {
            let status = match ExportTraceServiceRequest::decode(body.as_slice()) {
                Ok(_) if path != "/v1/traces" => "404 Not Found",
                Ok(req) => match c.take(req) {
                    Ok(()) => "200 OK",
                    Err(_) => "500 Internal Server Error",
                },
                Err(_) => "400 Bad Request",
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n"
            );
            let out = reader.get_mut();
            if out
                .write_all(head.as_bytes())
                .and_then(|()| out.flush())
                .is_err()
            {
                return;
            }
        }
    }

    /// The next request's path and body; `None` at the connection's end.
    fn request(reader: &mut BufReader<impl Read>) -> Option<(String, Vec<u8>)> {
        let mut line = String::new();
        reader.read_line(&mut line).ok().filter(|n| *n > 0)?;
        let path = line.split_whitespace().nth(1)?.to_string();
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).ok().filter(|n| *n > 0)?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().ok()?;
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        Some((path, body))
    }
}
