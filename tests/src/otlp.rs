//! An OTLP trace receiver inside the test: the trace service of the
//! OpenTelemetry protocol, served with tonic on a free port (or, for
//! OTLP over HTTP, `POST /v1/traces` with a protobuf body), keeping every
//! span it is sent (a span sent twice is kept twice).

use std::net::SocketAddr;
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
    /// Its gRPC endpoint, `http://127.0.0.1:PORT`.
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
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let collector = Collector::default();
        let served = collector.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("receiver runtime");
            rt.block_on(async move {
                tonic::transport::Server::builder()
                    .add_service(TraceServiceServer::new(served))
                    .serve(addr)
                    .await
                    .expect("OTLP receiver serves");
            });
        });
        let endpoint = format!("http://127.0.0.1:{port}");
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
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let collector = Collector::default();
        let served = collector.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let c = served.clone();
                std::thread::spawn(move || http::serve(stream, &c));
            }
        });
        Receiver {
            endpoint: format!("http://127.0.0.1:{port}"),
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
    use std::net::TcpStream;

    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use prost::Message;

    use super::Collector;

    pub(super) fn serve(stream: TcpStream, c: &Collector) {
        let Ok(mut out) = stream.try_clone() else {
            return;
        };
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
            if out.write_all(head.as_bytes()).is_err() {
                return;
            }
        }
    }

    /// The next request's path and body; `None` at the connection's end.
    fn request(reader: &mut BufReader<TcpStream>) -> Option<(String, Vec<u8>)> {
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
