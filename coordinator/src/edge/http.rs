//! The HTTP listener beside gRPC (`--http 127.0.0.1:7421`, config
//! `http_listen`, `off` to disable): `/metrics` (Prometheus/OpenMetrics
//! text), `/healthz` (the process answers), `/readyz` (the store is
//! open and the scheduler turning), and the web view at `/`
//! ([`crate::edge::web`], which always asks for the admin token).
//!
//! With TLS configured it serves HTTPS with gRPC's certificate, key and
//! client CA. On loopback nothing asks for a token for the three probes;
//! on any other address each of them needs the admin token
//! (`Authorization: Bearer …`), and the address needs TLS or `--insecure`
//! like gRPC's.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::edge::auth::Tokens;
use swarm_core::command::Query;
use swarm_core::metrics::{label, Metrics};
use swarm_core::CoreHandle;

/// How long the scheduler may go without a turn before `/readyz` fails
/// (it turns at least every half second when idle).
const READY_WITHIN_MS: i64 = 5_000;

/// Where the HTTP listener is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpListen {
    /// `127.0.0.1:7421`; if that is taken, HTTP is off with a warning.
    Default,
    /// Off (`--http off`).
    Off,
    /// Here; failing to listen is an error.
    At(SocketAddr),
}

impl HttpListen {
    /// The default address.
    pub const DEFAULT: SocketAddr =
        SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 7421);

    /// The address to listen on, if any.
    pub fn addr(self) -> Option<SocketAddr> {
        match self {
            HttpListen::Default => Some(Self::DEFAULT),
            HttpListen::Off => None,
            HttpListen::At(a) => Some(a),
        }
    }
}

impl std::str::FromStr for HttpListen {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "off" | "none" => Ok(HttpListen::Off),
            other => other.parse().map(HttpListen::At).map_err(|_| {
                format!("http address '{other}' must be HOST:PORT like 127.0.0.1:7421, or off")
            }),
        }
    }
}

/// What the handlers need.
struct Ctx {
    core: CoreHandle,
    tokens: Tokens,
    /// Bound to loopback: no token asked.
    open: bool,
    memory_db: std::path::PathBuf,
    state_dir: std::path::PathBuf,
}

/// Binds the listener; `Ok(None)` when HTTP is off or the default address
/// is taken (said in the log).
///
/// # Errors
/// When an address given explicitly cannot be bound.
pub async fn bind(listen: HttpListen) -> std::io::Result<Option<tokio::net::TcpListener>> {
    let Some(addr) = listen.addr() else {
        return Ok(None);
    };
    match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => Ok(Some(l)),
        Err(e) if listen == HttpListen::Default => {
            tracing::warn!(
                "HTTP (/metrics, /healthz, /readyz) is off: cannot listen on {addr}: {e} \
                 (give --http HOST:PORT, or --http off)"
            );
            Ok(None)
        }
        Err(e) => Err(std::io::Error::new(
            e.kind(),
            format!("cannot listen for HTTP on {addr}: {e}"),
        )),
    }
}

/// What the HTTP listener serves with besides the core and the tokens.
#[derive(Clone)]
pub struct HttpSettings {
    /// HTTPS with gRPC's certificate, key and client CA.
    pub tls: Option<crate::edge::tls::ServerTls>,
    /// Where the roles of a plan the web view applies come from.
    pub roles: swarm_core::roles::RolesSource,
    /// The largest plan the web view applies, in bytes (`max_plan_bytes`).
    pub max_plan_bytes: u64,
}

/// Serves until `shutdown` resolves.
/// `paths` are `.swarm/memory.db` and `.swarm/`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    core: CoreHandle,
    tokens: Tokens,
    paths: (std::path::PathBuf, std::path::PathBuf),
    settings: HttpSettings,
    tasks: crate::daemon::tasks::Tasks,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let open = listener
        .local_addr()
        .map(|a| a.ip().is_loopback())
        .unwrap_or(false);
    let acceptor = match settings
        .tls
        .as_ref()
        .map(crate::edge::http_tls::acceptor)
        .transpose()
    {
        Ok(a) => a,
        Err(e) => {
            tracing::error!("HTTP is off: {e}");
            return;
        }
    };
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(
            "{} on {addr}: the web view at /, /metrics /healthz /readyz{}",
            if acceptor.is_some() { "HTTPS" } else { "HTTP" },
            if open {
                ""
            } else {
                " (an admin or viewer token required)"
            }
        );
    }
    let web = crate::edge::web::routes(
        core.clone(),
        tokens.clone(),
        acceptor.is_some(),
        tasks.clone(),
        (settings.roles, settings.max_plan_bytes),
    );
    let ctx = Arc::new(Ctx {
        core,
        tokens,
        open,
        memory_db: paths.0,
        state_dir: paths.1,
    });
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(ctx)
        .merge(web);
    if let Some(acceptor) = acceptor {
        return crate::edge::http_tls::serve(listener, acceptor, app, &tasks).await;
    }
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!("the HTTP listener failed: {e}");
    }
}

/// `None` when the caller may proceed, else the refusal.
fn refuse(ctx: &Ctx, headers: &HeaderMap) -> Option<Response> {
    if ctx.open {
        return None;
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match token.and_then(|t| ctx.tokens.holder_of(t)) {
        Some(h) if h.may(crate::edge::auth::Scope::Read).is_ok() => None,
        Some(_) => Some(
            (
                StatusCode::FORBIDDEN,
                "this needs an admin or viewer token\n",
            )
                .into_response(),
        ),
        None => Some(
            (
                StatusCode::UNAUTHORIZED,
                "give the admin token: Authorization: Bearer <token>\n",
            )
                .into_response(),
        ),
    }
}

async fn healthz(State(ctx): State<Arc<Ctx>>, headers: HeaderMap) -> Response {
    if let Some(r) = refuse(&ctx, &headers) {
        return r;
    }
    (StatusCode::OK, "ok\n").into_response()
}

async fn readyz(State(ctx): State<Arc<Ctx>>, headers: HeaderMap) -> Response {
    if let Some(r) = refuse(&ctx, &headers) {
        return r;
    }
    let last = ctx.core.metrics().last_turn_ms();
    let now = swarm_memory::now_ms();
    if last == 0 || now - last > READY_WITHIN_MS {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "not ready: the scheduler has not turned for {} ms\n",
                now - last
            ),
        )
            .into_response();
    }
    if ctx
        .core
        .ask(|reply| Query::Status(reply).into())
        .await
        .is_err()
    {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the scheduler does not answer\n",
        )
            .into_response();
    }
    (StatusCode::OK, "ready\n").into_response()
}

async fn metrics(State(ctx): State<Arc<Ctx>>, headers: HeaderMap) -> Response {
    if let Some(r) = refuse(&ctx, &headers) {
        return r;
    }
    let m = ctx.core.metrics();
    if let Ok(s) = ctx.core.ask(|reply| Query::Status(reply).into()).await {
        let c = s.counts;
        let states = c.by_state();
        let values: Vec<_> = states
            .iter()
            .map(|(st, n)| (label("state", st.name()), i64::from(*n)))
            .collect();
        Metrics::set_all(&m.tasks, &values);
        m.set_spend(&s.spend.by_role);
    }
    if let Ok(agents) = ctx.core.ask(|reply| Query::ListAgents(reply).into()).await {
        let mut by: std::collections::BTreeMap<(String, String), i64> = Default::default();
        for a in agents {
            *by.entry((a.active_role, a.state.name().to_string()))
                .or_default() += 1;
        }
        let values: Vec<_> = by
            .into_iter()
            .map(|((role, state), n)| {
                (
                    vec![("role".to_string(), role), ("state".to_string(), state)],
                    n,
                )
            })
            .collect();
        Metrics::set_all(&m.agents, &values);
    }
    let memory_db = ctx.memory_db.clone();
    let state_dir = ctx.state_dir.clone();
    let (memory, files) =
        tokio::task::spawn_blocking(move || (memory_stats(&memory_db), file_sizes(&state_dir)))
            .await
            .unwrap_or_default();
    if let Some((entries, bytes)) = memory {
        m.memory_entries.set(entries);
        m.memory_bytes.set(bytes);
    }
    Metrics::set_all(&m.store_bytes, &files);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        m.encode(),
    )
        .into_response()
}

/// Live entries and their bytes in the shared memory, read-only.
fn memory_stats(path: &std::path::Path) -> Option<(i64, i64)> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .ok()?;
    conn.busy_timeout(std::time::Duration::from_millis(500))
        .ok()?;
    let now = swarm_memory::now_ms();
    // claude-flow's v3 layout (`content`, `status`, times in ms), else its
    // v2 (`value`, times in seconds).
    [
        (
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(content)), 0) FROM memory_entries
             WHERE status = 'active' AND (expires_at IS NULL OR expires_at > ?1)",
            now,
        ),
        (
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(value)), 0) FROM memory_entries
             WHERE expires_at IS NULL OR expires_at > ?1",
            now / 1000,
        ),
    ]
    .iter()
    .find_map(|(sql, at)| {
        conn.query_row(sql, [at], |r| Ok((r.get(0)?, r.get(1)?)))
            .ok()
    })
}

/// Sizes of the store files that exist.
fn file_sizes(state_dir: &std::path::Path) -> Vec<(swarm_core::metrics::Labels, i64)> {
    [
        "swarmd.db",
        "swarmd.db-wal",
        "memory.db",
        "memory.db-journal",
    ]
    .iter()
    .filter_map(|name| {
        let len = std::fs::metadata(state_dir.join(name)).ok()?.len();
        Some((label("file", name), i64::try_from(len).unwrap_or(i64::MAX)))
    })
    .collect()
}
