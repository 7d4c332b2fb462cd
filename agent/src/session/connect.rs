//! Opening a session: connect, Hello, Welcome; telling a refusal that ends
//! the agent from a failure worth retrying; the retry backoff; and the
//! health probe that proves the coordinator alive on a quiet session.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use swarm_client::Bearer;
use swarm_proto::v1 as pb;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use tonic::{Code, Streaming};
use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};

use super::Settings;
use crate::convert;
use crate::work::AttemptRef;

/// Messages handed to the gRPC stream but not yet taken by it; the outbox
/// holds the rest.
const STREAM_BUFFER: usize = 16;

/// The largest message the agent accepts (an Assign carries the task's
/// commands and brief); far above what a plan may hold, so an assignment is
/// never mistaken for a broken session.
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// How long connecting, and then waiting for the Welcome, may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const WELCOME_TIMEOUT: Duration = Duration::from_secs(10);

/// An open session.
pub(super) struct Conn {
    /// The connection it runs on, for the health probe.
    pub channel: Channel,
    /// Messages to the coordinator.
    pub out: mpsc::Sender<pb::AgentMessage>,
    /// Messages from it.
    pub inbound: Streaming<pb::CoordinatorMessage>,
}

/// Why a session could not be opened.
#[derive(Debug, thiserror::Error)]
pub(super) enum OpenError {
    /// The coordinator refused this agent for good: bad token, invalid id
    /// or roles, incompatible version. Retrying cannot help.
    #[error("the coordinator refused this agent ({code:?}): {message}")]
    Refused {
        /// The gRPC status code.
        code: Code,
        /// The coordinator's reason.
        message: String,
    },
    /// A live agent already uses this id.
    #[error("the coordinator refused this agent: {0}")]
    IdInUse(String),
    /// Anything else: unreachable, unavailable, timed out. Worth retrying.
    #[error("{0}")]
    Transient(String),
}

/// Whether a failure is TLS refusing this agent (a certificate the other
/// side does not trust, a missing client certificate, TLS against
/// plaintext): configuration to fix, not an outage to wait out.
fn tls_refusal(text: &str) -> bool {
    let t = text.to_lowercase();
    t.contains("certificate") || t.contains("fatal alert") || t.contains("corrupt message")
}

/// A TLS refusal as a refusal for good, naming the flags to check.
fn refused_by_tls(detail: String) -> OpenError {
    OpenError::Refused {
        code: Code::Unauthenticated,
        message: format!(
            "the TLS handshake failed: {detail} (check --ca, --cert and --key against swarmd's \
             --tls-cert and --tls-client-ca)"
        ),
    }
}

impl OpenError {
    /// Sorts a status from the coordinator.
    fn from_status(status: &tonic::Status) -> OpenError {
        let mut message = status.message().to_string();
        let mut source = std::error::Error::source(status);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        if matches!(
            status.code(),
            Code::Unknown | Code::Unavailable | Code::Cancelled
        ) && tls_refusal(&message)
        {
            return refused_by_tls(message);
        }
        match status.code() {
            Code::Unauthenticated
            | Code::PermissionDenied
            | Code::InvalidArgument
            | Code::FailedPrecondition => OpenError::Refused {
                code: status.code(),
                message,
            },
            Code::AlreadyExists => OpenError::IdInUse(message),
            Code::Ok
            | Code::Cancelled
            | Code::Unknown
            | Code::DeadlineExceeded
            | Code::NotFound
            | Code::ResourceExhausted
            | Code::Aborted
            | Code::OutOfRange
            | Code::Unimplemented
            | Code::Internal
            | Code::Unavailable
            | Code::DataLoss => OpenError::Transient(format!("{:?}: {message}", status.code())),
        }
    }
}

/// Connects, sends Hello (then Draining if `draining`), waits for the
/// Welcome.
pub(super) async fn open(
    s: &Settings,
    running: &[AttemptRef],
    draining: bool,
) -> Result<(Conn, pb::Welcome), OpenError> {
    let transient = |e: &dyn std::fmt::Display| OpenError::Transient(e.to_string());
    let channel = s.endpoint.connect(CONNECT_TIMEOUT).await.map_err(|e| {
        let text = e.to_string();
        if tls_refusal(&text) {
            refused_by_tls(text)
        } else {
            OpenError::Transient(text)
        }
    })?;
    let bearer = Bearer::new(&s.token).map_err(|e| OpenError::Refused {
        code: Code::Unauthenticated,
        message: e.to_string(),
    })?;
    let mut client =
        pb::agent_service_client::AgentServiceClient::with_interceptor(channel.clone(), bearer)
            .max_decoding_message_size(MAX_MESSAGE);
    let (out, rx) = mpsc::channel(STREAM_BUFFER);
    let hello = convert::hello(s, running, instance());
    let mut first = vec![pb::agent_message::Body::Hello(hello)];
    if draining {
        first.push(pb::agent_message::Body::Draining(pb::Draining {}));
    }
    for body in first {
        out.send(pb::AgentMessage { body: Some(body) })
            .await
            .map_err(|e| transient(&e))?;
    }
    // A coordinator that accepted the connection but does not answer
    // (frozen, or behind a proxy that lost it) must not hold the agent.
    let mut inbound =
        tokio::time::timeout(WELCOME_TIMEOUT, client.session(ReceiverStream::new(rx)))
            .await
            .map_err(|_| {
                OpenError::Transient(format!("no answer to the Hello within {WELCOME_TIMEOUT:?}"))
            })?
            .map_err(|s| OpenError::from_status(&s))?
            .into_inner();
    let first = tokio::time::timeout(WELCOME_TIMEOUT, inbound.message())
        .await
        .map_err(|_| OpenError::Transient(format!("no Welcome within {WELCOME_TIMEOUT:?}")))?
        .map_err(|s| OpenError::from_status(&s))?;
    match first.and_then(|m| m.body) {
        Some(pb::coordinator_message::Body::Welcome(w)) => Ok((
            Conn {
                channel,
                out,
                inbound,
            },
            w,
        )),
        Some(other) => Err(OpenError::Transient(format!(
            "the coordinator answered the Hello with {other:?} instead of a Welcome"
        ))),
        None => Err(OpenError::Transient(
            "the coordinator closed the session before its Welcome".into(),
        )),
    }
}

/// A health probe in flight: when it resolves, the time it was sent if
/// the coordinator answered it.
pub(super) type Probe = Pin<Box<dyn Future<Output = Option<Instant>> + Send>>;

/// Asks the coordinator's gRPC health service, on the session's own
/// connection, whether it is there, waiting at most `limit`. Any answer
/// from it counts, even a refusal: it proves the coordinator alive and
/// reading this connection, heartbeats included.
pub(super) fn probe(channel: Channel, limit: Duration) -> Probe {
    let sent = Instant::now();
    Box::pin(async move {
        let mut client = HealthClient::new(channel);
        let ask = client.check(HealthCheckRequest {
            service: String::new(),
        });
        match tokio::time::timeout(limit, ask).await {
            Ok(Ok(_)) => Some(sent),
            Ok(Err(status)) => answered(status.code()).then_some(sent),
            Err(_) => None,
        }
    })
}

/// Whether a failed call's status came from the coordinator itself rather
/// than from the transport.
fn answered(code: Code) -> bool {
    match code {
        Code::NotFound
        | Code::Unimplemented
        | Code::Unauthenticated
        | Code::PermissionDenied
        | Code::InvalidArgument
        | Code::FailedPrecondition
        | Code::ResourceExhausted => true,
        Code::Ok
        | Code::Cancelled
        | Code::Unknown
        | Code::DeadlineExceeded
        | Code::AlreadyExists
        | Code::Aborted
        | Code::OutOfRange
        | Code::Internal
        | Code::Unavailable
        | Code::DataLoss => false,
    }
}

/// This process's instance, the same in every Hello it sends: the PID and
/// the start time, so a restarted agent (same id, new process) differs.
fn instance() -> &'static str {
    static INSTANCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    INSTANCE.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!("{:x}-{nanos:x}", std::process::id())
    })
}

/// Capped exponential backoff with jitter: each failure doubles the base
/// (from [`Backoff::MIN`] to [`Backoff::MAX`]; each time no session is
/// open starts from a fresh one) and the wait is drawn
/// uniformly from the upper half of it, so agents that lost the same
/// coordinator do not all come back at the same instant.
#[derive(Debug, Clone)]
pub(super) struct Backoff {
    base: Duration,
}

impl Backoff {
    /// The first wait's base.
    pub const MIN: Duration = Duration::from_millis(100);
    /// The cap on the base.
    pub const MAX: Duration = Duration::from_secs(5);

    /// A fresh backoff.
    pub fn new() -> Backoff {
        Backoff { base: Self::MIN }
    }

    /// The wait before the next try, given a random `unit` in [0, 1).
    pub fn next(&mut self, unit: f64) -> Duration {
        let base = self.base;
        self.base = (self.base * 2).min(Self::MAX);
        base.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
    }
}

/// A random number in [0, 1), from the standard library's randomly keyed
/// hasher (jitter needs no better).
pub(super) fn unit_random() -> f64 {
    use std::hash::BuildHasher;
    let bits = std::collections::hash_map::RandomState::new().hash_one(std::time::Instant::now());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// A TLS listener closes a plaintext HTTP/2 connection without a word: an
/// `http://` URL whose connection is closed at once gets a hint.
pub(super) fn plaintext_hint(url: &str, error: &str) -> &'static str {
    let closed = ["connection closed", "frame with invalid size"];
    if url.starts_with("http://") && closed.iter().any(|c| error.contains(c)) {
        " (if swarmd serves TLS, connect with https:// and --ca)"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_told_from_transient_failures() {
        let refused = |code| {
            matches!(
                OpenError::from_status(&tonic::Status::new(code, "no")),
                OpenError::Refused { .. }
            )
        };
        assert!(refused(Code::Unauthenticated));
        assert!(refused(Code::PermissionDenied));
        assert!(refused(Code::InvalidArgument));
        assert!(refused(Code::FailedPrecondition));
        assert!(matches!(
            OpenError::from_status(&tonic::Status::already_exists("id in use")),
            OpenError::IdInUse(m) if m == "id in use"
        ));
        for code in [Code::Unavailable, Code::DeadlineExceeded, Code::Internal] {
            assert!(matches!(
                OpenError::from_status(&tonic::Status::new(code, "x")),
                OpenError::Transient(_)
            ));
        }
    }

    #[test]
    fn backoff_doubles_to_its_cap_with_jitter_in_the_upper_half() {
        let mut b = Backoff::new();
        assert_eq!(b.next(0.0), Duration::from_millis(50));
        assert_eq!(b.next(1.0), Duration::from_millis(200));
        let mut last = Duration::ZERO;
        for _ in 0..10 {
            last = b.next(0.5);
        }
        assert_eq!(last, Backoff::MAX.mul_f64(0.75));
        // A session that opened is followed by a fresh backoff.
        assert_eq!(Backoff::new().next(1.0), Backoff::MIN);
    }

    #[test]
    fn a_closed_plaintext_connection_hints_at_tls() {
        let e = "h2 protocol error: connection error detected: frame with invalid size";
        assert!(plaintext_hint("http://h:7420", e).contains("https://"));
        assert_eq!(plaintext_hint("https://h:7420", e), "");
        assert_eq!(plaintext_hint("http://h:7420", "connection refused"), "");
    }

    #[test]
    fn only_a_status_from_the_coordinator_itself_counts_as_an_answer() {
        for code in [Code::NotFound, Code::Unimplemented, Code::Unauthenticated] {
            assert!(answered(code), "{code:?}");
        }
        for code in [
            Code::Unavailable,
            Code::DeadlineExceeded,
            Code::Unknown,
            Code::Cancelled,
        ] {
            assert!(!answered(code), "{code:?}");
        }
    }

    #[test]
    fn random_units_vary_and_stay_in_range() {
        let draws: Vec<f64> = (0..100).map(|_| unit_random()).collect();
        assert!(draws.iter().all(|u| (0.0..1.0).contains(u)));
        let first = draws[0];
        assert!(draws.iter().any(|u| *u != first));
    }
}
