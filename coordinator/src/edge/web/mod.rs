//! The web view at `/`, for an admin or viewer token (in
//! `Authorization: Bearer`, or a login form that sets a session cookie):
//! everything to see, and for admins the operator's actions
//! ([`actions`]). The page and its script and styles are embedded in the
//! binary; the server renders every panel (HTML fragments and SVG) from
//! the core's views, and the page fetches them again whenever
//! `/api/events` (SSE) says something happened.
//!
//! Paths: `/` (the page, or the login form), `POST /login`,
//! `POST /logout`, `/assets/app.js`, `/assets/style.css`,
//! `/view/{summary,tasks,agents,reports}`, `/view/dag.svg`,
//! `/view/gantt.svg`, `/view/task/{id}`, `/api/events`, and the posts
//! `/act/task/{id}`, `/act/gate`, `/act/pause`, `/act/resume`,
//! `/act/standup`, `/act/plan/apply` ([`revise`]).

mod actions;
mod dag;
mod forms;
mod gantt;
mod html;
mod panels;
mod revise;
mod session;
mod sse;
mod usage;
mod work;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use swarm_memory::state::AttemptPick;

use crate::edge::auth::{Scope, Tokens};
use session::{Sessions, Visitor};
use swarm_core::command::{CheckpointCmd, Query, TaskLogs};
use swarm_core::{CoreError, CoreHandle};

const PAGE: &str = include_str!("assets/index.html");
const LOGIN: &str = include_str!("assets/login.html");
const SCRIPT: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/style.css");
/// Bytes of a task's log the detail panel shows, from the end.
const LOG_TAIL: usize = 16 * 1024;
/// The page loads nothing from elsewhere and runs no inline script.
const CSP: &str = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'";

struct Web {
    core: CoreHandle,
    tokens: Tokens,
    sessions: Sessions,
    /// Served over TLS: cookies are `Secure`.
    secure: bool,
    /// Where the event streams' relays are registered.
    registry: crate::daemon::tasks::Tasks,
    /// Where the roles of a revised plan come from.
    roles: swarm_core::roles::RolesSource,
    /// The largest revised plan applied, in bytes.
    max_plan_bytes: u64,
}

/// The web view's routes.
pub fn routes(
    core: CoreHandle,
    tokens: Tokens,
    secure: bool,
    registry: crate::daemon::tasks::Tasks,
    revisions: (swarm_core::roles::RolesSource, u64),
) -> Router {
    let web = Arc::new(Web {
        core,
        tokens,
        sessions: Sessions::default(),
        secure,
        registry,
        roles: revisions.0,
        max_plan_bytes: revisions.1,
    });
    // Everything but the page, the login and the assets needs a session
    // or an admin or viewer token; the actions check more themselves.
    let guarded = Router::new()
        .route("/view/summary", get(summary))
        .route("/view/tasks", get(tasks))
        .route("/view/agents", get(agents))
        .route("/view/reports", get(reports))
        .route("/view/dag.svg", get(dag_svg))
        .route("/view/gantt.svg", get(gantt_svg))
        .route("/view/task/{id}", get(task))
        .route("/api/events", get(events))
        .route_layer(axum::middleware::from_fn_with_state(web.clone(), guard));
    Router::new()
        .route("/", get(page))
        .route("/login", post(login).get(page))
        .route("/logout", post(logout))
        .route(
            "/assets/app.js",
            get(|| async { asset(SCRIPT, "text/javascript") }),
        )
        .route(
            "/assets/style.css",
            get(|| async { asset(STYLE, "text/css") }),
        )
        .merge(guarded)
        .merge(actions::routes())
        .route(
            "/act/plan/apply",
            post(revise::plan_apply).layer(axum::extract::DefaultBodyLimit::max(upload_limit(
                web.max_plan_bytes,
            ))),
        )
        .with_state(web)
}

/// Lets a request with a session or the admin token through; refuses the
/// rest (the page then shows the login form again).
async fn guard(
    State(web): State<Arc<Web>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if !allowed(&web, req.headers()) {
        return (
            StatusCode::UNAUTHORIZED,
            "log in with an admin or viewer token at /\n",
        )
            .into_response();
    }
    next.run(req).await
}

/// The largest form a plan of `max_plan_bytes` comes in: URL-encoded,
/// a byte takes up to three, and the other fields a little more.
fn upload_limit(max_plan_bytes: u64) -> usize {
    usize::try_from(max_plan_bytes.saturating_mul(3))
        .unwrap_or(usize::MAX)
        .saturating_add(64 * 1024)
}

fn asset(body: &'static str, kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

fn html(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn svg(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

fn login_page(status: StatusCode, message: &str) -> Response {
    html(status, LOGIN.replace("{{message}}", &html::esc(message)))
}

fn visitor(web: &Web, headers: &HeaderMap) -> Option<Visitor> {
    session::visitor(&web.tokens, &web.sessions, headers, swarm_memory::now_ms())
}

fn allowed(web: &Web, headers: &HeaderMap) -> bool {
    visitor(web, headers).is_some()
}

fn failed(e: &CoreError) -> Response {
    let status = match e {
        CoreError::Invalid(_) => StatusCode::BAD_REQUEST,
        CoreError::NotFound(_) => StatusCode::NOT_FOUND,
        CoreError::Conflict(_) | CoreError::Duplicate(_) | CoreError::CasMismatch(_) => {
            StatusCode::CONFLICT
        }
        CoreError::Store(_)
        | CoreError::Recovery(_)
        | CoreError::Fatal(_)
        | CoreError::MemoryUnavailable(_)
        | CoreError::Stopped
        | CoreError::Thread(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, format!("{e}\n")).into_response()
}

/// The page for a visitor: the session's CSRF token in it, and whether
/// the action forms are shown (viewers see everything else).
async fn page(State(web): State<Arc<Web>>, headers: HeaderMap) -> Response {
    let (csrf, can_change, who) = match visitor(&web, &headers) {
        None => return login_page(StatusCode::OK, ""),
        Some(Visitor::Session(s)) => (s.csrf, s.can_change, format!("web:{}", s.short)),
        Some(Visitor::Bearer(h)) => (
            String::new(),
            h.may(Scope::Admin).is_ok(),
            h.operator_name().unwrap_or("admin").to_string(),
        ),
    };
    let page = PAGE
        .replace("{{csrf}}", &html::esc(&csrf))
        .replace("{{can_change}}", if can_change { "true" } else { "false" })
        .replace("{{who}}", &html::esc(&who));
    html(StatusCode::OK, page)
}

async fn login(State(web): State<Arc<Web>>, body: Bytes) -> Response {
    let token = session::form_token(&body).unwrap_or_default();
    let holder = web.tokens.holder_of(&token);
    let Some(holder) = holder.filter(|h| h.may(Scope::Read).is_ok()) else {
        tracing::warn!("web view: a login with a wrong token was refused");
        return login_page(
            StatusCode::UNAUTHORIZED,
            "That is neither an admin token nor a viewer token (.swarm/admin.token or .swarm/viewer.token on the coordinator's host, or one made with swarmd token add).",
        );
    };
    let can_change = holder.may(Scope::Admin).is_ok();
    let Some((id, opened)) = web.sessions.open(swarm_memory::now_ms(), can_change) else {
        return login_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "No session could be made: the system's random source failed.",
        );
    };
    tracing::info!(
        "web view: session web:{} opened with the {} token",
        opened.short,
        holder.operator_name().unwrap_or("admin")
    );
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
    if let Ok(v) = HeaderValue::from_str(&session::set_cookie(&id, web.secure)) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

async fn logout(State(web): State<Arc<Web>>, headers: HeaderMap) -> Response {
    if let Some(id) = session::cookie(&headers) {
        web.sessions.close(&id);
    }
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
    if let Ok(v) = HeaderValue::from_str(&session::clear_cookie(web.secure)) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

async fn summary(State(web): State<Arc<Web>>) -> Response {
    match web.core.ask(|reply| Query::Status(reply).into()).await {
        Ok(s) => html(StatusCode::OK, panels::summary(&s)),
        Err(e) => failed(&e),
    }
}

async fn tasks(State(web): State<Arc<Web>>) -> Response {
    match swarm_core::listing::all_tasks(&web.core, Default::default()).await {
        Ok(t) => html(StatusCode::OK, panels::tasks(&t)),
        Err(e) => failed(&e),
    }
}

async fn agents(State(web): State<Arc<Web>>) -> Response {
    let list = match web.core.ask(|reply| Query::ListAgents(reply).into()).await {
        Ok(a) => a,
        Err(e) => return failed(&e),
    };
    let decisions = web
        .core
        .ask(|reply| CheckpointCmd::List(reply).into())
        .await
        .ok()
        .and_then(|all| all.last().map(|s| s.decisions.clone()))
        .unwrap_or_default();
    html(StatusCode::OK, panels::agents(&list, &decisions))
}

async fn reports(State(web): State<Arc<Web>>) -> Response {
    match web
        .core
        .ask(|reply| CheckpointCmd::List(reply).into())
        .await
    {
        Ok(list) => html(StatusCode::OK, panels::reports(&list)),
        Err(e) => failed(&e),
    }
}

async fn dag_svg(State(web): State<Arc<Web>>) -> Response {
    match web.core.ask(|reply| Query::Board(reply).into()).await {
        Ok(b) => svg(dag::render(&b)),
        Err(e) => failed(&e),
    }
}

async fn gantt_svg(State(web): State<Arc<Web>>) -> Response {
    match web.core.ask(|reply| Query::Board(reply).into()).await {
        Ok(b) => svg(gantt::render(&b)),
        Err(e) => failed(&e),
    }
}

async fn task(State(web): State<Arc<Web>>, Path(id): Path<String>) -> Response {
    let wanted = id.clone();
    let detail = match web
        .core
        .ask(|reply| Query::GetTask(wanted, reply).into())
        .await
    {
        Ok(d) => d,
        Err(e) => return failed(&e),
    };
    let tail = if detail.attempts.is_empty() {
        String::new()
    } else {
        let pick = AttemptPick::Latest;
        match web
            .core
            .ask(|reply| {
                Query::Logs {
                    task: id,
                    pick,
                    reply,
                }
                .into()
            })
            .await
        {
            Ok(TaskLogs { chunks, .. }) => log_tail(chunks.iter().map(|c| c.data.as_slice())),
            Err(_) => String::new(),
        }
    };
    html(StatusCode::OK, panels::task(&detail, &tail))
}

/// The last [`LOG_TAIL`] bytes of the chunks, as text.
fn log_tail<'a>(chunks: impl DoubleEndedIterator<Item = &'a [u8]>) -> String {
    let mut parts: Vec<&[u8]> = Vec::new();
    let mut size = 0;
    for c in chunks.rev() {
        parts.push(c);
        size += c.len();
        if size >= LOG_TAIL {
            break;
        }
    }
    let bytes: Vec<u8> = parts.into_iter().rev().flatten().copied().collect();
    let start = bytes.len().saturating_sub(LOG_TAIL);
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

async fn events(State(web): State<Arc<Web>>, headers: HeaderMap) -> Response {
    let since = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match sse::stream(web.core.clone(), since, &web.registry).await {
        Ok(s) => s,
        Err(e) => failed(&e),
    }
}
