//! Notifications: each `[[notify]]` entry follows the event log on its
//! own (the stored history from where it stopped, then the live feed) and
//! posts each event it wants ([`entry`]) in its format ([`message`]) to
//! its URL ([`post`]). One entry delivers in order: an event is tried
//! with backoff (1 s, doubling, at most 5 min) until it goes, and the
//! next waits for it — but only that entry waits: the scheduler never
//! does, and neither do the other entries. Nothing here writes state:
//! each try's record goes to the loop ([`NotifyCmd::Record`]), which
//! keeps it in `swarmd.db`, so a restart resumes after the last event
//! delivered and sends none twice (one whose delivery was not yet
//! recorded when swarmd died is sent again). URLs are shown only as
//! `scheme://host/…`.

pub mod entry;
pub mod message;
pub mod post;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use swarm_core::command::{Command, Query};
use swarm_core::notify::{DeliveryRow, NotifyCmd};
use swarm_core::CoreHandle;
use swarm_memory::state::{EventRow, DELIVERED, PENDING};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use entry::{Entry, Format, SecretUrl};
use post::Poster;

/// The first wait after a failed try.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait between two tries.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Events buffered between an entry's follower and its poster (the
/// follower waits when it is full; the log keeps the rest).
const BUFFER: usize = 64;

/// Why notifications cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// An `https://` entry, and no CA certificates to check it with.
    #[error(
        "[[notify]] entry {entry} posts to {url}, and no CA certificates can check it \
         (set SSL_CERT_FILE to a CA bundle): {detail}"
    )]
    Tls {
        /// The entry's name.
        entry: String,
        /// Its URL, as shown.
        url: String,
        /// What was wrong.
        detail: String,
    },
}

/// The poster the entries need: with TLS (the system's CA bundle, or
/// `SSL_CERT_FILE`) when one of them is `https://`.
///
/// # Errors
/// An `https://` entry and no usable CA bundle.
pub fn poster(entries: &[Entry]) -> Result<Poster, SetupError> {
    let Some(https) = entries.iter().find(|e| e.url.is_https()) else {
        return Ok(Poster::new(None));
    };
    let system = swarm_otlp::tls::Files {
        ca: None,
        client_cert: None,
        client_key: None,
    };
    let tls = system.rustls().map_err(|e| SetupError::Tls {
        entry: https.name.clone(),
        url: https.url.to_string(),
        detail: e.to_string(),
    })?;
    Ok(Poster::new(Some(tls)))
}

/// The web view's address for messages, if swarmd serves one: `http`,
/// the HTTP listener, over TLS or not.
pub fn web_view(http: Option<&tokio::net::TcpListener>, tls: bool) -> Option<String> {
    let addr = http?.local_addr().ok()?;
    Some(web_url(addr, tls))
}

/// The web view's address for messages: the HTTP listener's (loopback
/// when it listens on every address).
pub fn web_url(addr: std::net::SocketAddr, tls: bool) -> String {
    let scheme = if tls { "https" } else { "http" };
    let ip = match addr.ip() {
        ip if ip.is_unspecified() => std::net::IpAddr::from([127, 0, 0, 1]),
        ip => ip,
    };
    format!("{scheme}://{}/", std::net::SocketAddr::new(ip, addr.port()))
}

/// The wait after the `tries`-th failed try: 1 s, doubling, at most 5 min.
pub fn backoff(tries: u32) -> Duration {
    let doublings = tries.saturating_sub(1).min(16);
    (FIRST_BACKOFF * 2u32.pow(doublings)).min(MAX_BACKOFF)
}

/// Posts every entry's events until `cancel` fires or the scheduler
/// stops; `web` is the web view's address for the messages that link it.
pub async fn run(
    core: CoreHandle,
    entries: Vec<Entry>,
    poster: Poster,
    web: Option<String>,
    cancel: CancellationToken,
) {
    let web: Option<Arc<str>> = web.map(Arc::from);
    let mut all = tokio::task::JoinSet::new();
    for entry in entries {
        let n = Notifier {
            core: core.clone(),
            entry,
            poster: poster.clone(),
            web: web.clone(),
            plans: HashMap::new(),
        };
        all.spawn(n.run(cancel.clone()));
    }
    while all.join_next().await.is_some() {}
}

/// One entry's follower and poster.
struct Notifier {
    core: CoreHandle,
    entry: Entry,
    poster: Poster,
    web: Option<Arc<str>>,
    /// Plan names by id, as the loop said.
    plans: HashMap<i64, Option<String>>,
}

impl Notifier {
    async fn run(mut self, cancel: CancellationToken) {
        let name = self.entry.name.clone();
        let opened = self
            .core
            .ask(|reply| Command::Notify(NotifyCmd::Open { entry: name, reply }))
            .await;
        let resume = match opened {
            Ok(r) => r,
            Err(e) => return tracing::warn!("notify {}: stopped: {e}", self.label()),
        };
        let since = resume.after;
        let start = match self
            .core
            .ask(|reply| Query::Events { since, reply }.into())
            .await
        {
            Ok(start) => start,
            Err(e) => return tracing::warn!("notify {}: stopped: {e}", self.label()),
        };
        tracing::info!(
            "notify {}: {} events after #{since}",
            self.label(),
            self.entry.events.join(", ")
        );
        let (tx, mut rx) = mpsc::channel(BUFFER);
        let (relay_core, filters) = (self.core.clone(), self.entry.clone());
        let relay = tokio::spawn(async move {
            let tx: mpsc::Sender<Result<EventRow, std::convert::Infallible>> = tx;
            swarm_core::follow::relay(&relay_core, start, Some(since), true, &tx, |e| {
                filters.wants(&e.kind).then(|| e.clone())
            })
            .await
        });
        let mut pending = resume.pending;
        loop {
            let next = tokio::select! {
                biased;
                () = cancel.cancelled() => None,
                e = rx.recv() => e,
            };
            let Some(Ok(e)) = next else {
                break;
            };
            let tries = match pending.take() {
                Some((seq, tries)) if seq == e.seq => tries,
                _ => 0,
            };
            if !self.deliver(&e, tries, &cancel).await {
                break;
            }
        }
        relay.abort();
    }

    /// `scheme://host/…` (entry name).
    fn label(&self) -> String {
        format!("{} ({})", self.entry.url, self.entry.name)
    }

    /// Tries `e` until it is delivered (true) or `cancel` fires (false);
    /// `tries` were made before a restart.
    async fn deliver(&mut self, e: &EventRow, mut tries: u32, cancel: &CancellationToken) -> bool {
        let plan = self.plan_name(e.plan_id).await;
        let body = message::body(self.entry.format, e, plan.as_deref(), self.web.as_deref());
        loop {
            tries += 1;
            // A try in flight is dropped on shutdown: unrecorded, it is
            // made again after the restart.
            let result = tokio::select! {
                () = cancel.cancelled() => return false,
                r = self.poster.post(&self.entry.url, &body) => r,
            };
            let (status, error) = match &result {
                Ok(()) => (DELIVERED, String::new()),
                Err(why) => (PENDING, why.clone()),
            };
            self.core
                .tell(Command::Notify(NotifyCmd::Record(DeliveryRow {
                    entry: self.entry.name.clone(),
                    seq: e.seq,
                    kind: e.kind.clone(),
                    status: status.to_string(),
                    attempts: tries,
                    last_error: error.clone(),
                    at: now_ms(),
                })));
            if result.is_ok() {
                return true;
            }
            let wait = backoff(tries);
            tracing::warn!(
                "notify {}: event #{} ({}) not delivered (try {tries}): {error}; trying again in {wait:?}",
                self.label(),
                e.seq,
                e.kind
            );
            tokio::select! {
                () = cancel.cancelled() => return false,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// The name of plan `id`, asked once.
    async fn plan_name(&mut self, id: Option<i64>) -> Option<String> {
        let id = id?;
        if let Some(name) = self.plans.get(&id) {
            return name.clone();
        }
        let name = self
            .core
            .ask(|reply| Command::Notify(NotifyCmd::PlanName { plan_id: id, reply }))
            .await
            .ok()
            .flatten();
        self.plans.insert(id, name.clone());
        name
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_a_second_to_five_minutes() {
        let waits: Vec<u64> = (1..=11).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }

    #[test]
    fn the_web_view_is_the_listeners_address() {
        let at = |s: &str| s.parse().expect("address");
        assert_eq!(
            web_url(at("127.0.0.1:7421"), false),
            "http://127.0.0.1:7421/"
        );
        assert_eq!(web_url(at("0.0.0.0:8080"), true), "https://127.0.0.1:8080/");
        assert_eq!(web_url(at("[::1]:7421"), false), "http://[::1]:7421/");
    }
}
