//! The web view's operator actions: approve a day's gate, mark a task
//! done or failed with a note, retry, skip or cancel it, pause and resume
//! the plan, run a checkpoint. Each is a form post (`POST /act/...`,
//! `application/x-www-form-urlencoded`) that becomes the same core
//! command the control service sends, under the actor `web:<session>`
//! (or the token's name for a bearer).
//!
//! Who may post: a session whose token may change things, with the
//! session's CSRF token in the `x-csrf-token` header or the `csrf` field
//! (the cookie alone is never enough); or an admin token in
//! `Authorization: Bearer`, which needs no CSRF token. A viewer's post,
//! and a session's post without the right CSRF token, is refused with
//! 403 and changes nothing.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

use super::session::{form_field, visitor, Visitor};
use super::Web;
use crate::edge::auth::{same, Scope};
use swarm_core::command::{Actor, CheckpointCmd, PlanCmd, TaskAction};

/// The header a page's script sends the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The longest note kept with an action, in characters.
const MAX_NOTE: usize = 2000;

/// The action routes.
pub(super) fn routes() -> Router<Arc<Web>> {
    Router::new()
        .route("/act/task/{id}", post(task))
        .route("/act/gate", post(gate))
        .route("/act/pause", post(pause))
        .route("/act/resume", post(resume))
        .route("/act/standup", post(standup))
}

fn refuse(status: StatusCode, why: &str) -> Response {
    (status, format!("{why}\n")).into_response()
}

/// Who posts, if they may change things: their actor; else the refusal.
pub(super) fn actor(
    web: &Web,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Actor, (StatusCode, &'static str)> {
    let now = swarm_memory::now_ms();
    match visitor(&web.tokens, &web.sessions, headers, now) {
        None => Err((
            StatusCode::UNAUTHORIZED,
            "log in at / (or give an admin token as Authorization: Bearer)",
        )),
        Some(Visitor::Bearer(holder)) => {
            holder
                .may(Scope::Admin)
                .map_err(|why| (StatusCode::FORBIDDEN, why))?;
            Ok(Actor::new(holder.operator_name().unwrap_or("admin")))
        }
        Some(Visitor::Session(s)) => {
            let given = headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
                .or_else(|| form_field(body, "csrf"))
                .unwrap_or_default();
            if !same(given.trim(), &s.csrf) {
                tracing::warn!(
                    "web view: a post of session {} without its CSRF token was refused",
                    s.short
                );
                return Err((
                    StatusCode::FORBIDDEN,
                    "refused: this post lacks the page's CSRF token (reload the page)",
                ));
            }
            if !s.can_change {
                return Err((
                    StatusCode::FORBIDDEN,
                    "permission denied: this session logged in with a viewer token, which reads everything and changes nothing",
                ));
            }
            Ok(Actor::new(format!("web:{}", s.short)))
        }
    }
}

/// The note field, one paragraph of at most [`MAX_NOTE`] characters.
fn note(body: &[u8]) -> String {
    form_field(body, "note")
        .unwrap_or_default()
        .trim()
        .chars()
        .take(MAX_NOTE)
        .collect()
}

fn done(text: String) -> Response {
    (StatusCode::OK, format!("{text}\n")).into_response()
}

async fn task(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let actor = match actor(&web, &headers, &body) {
        Ok(a) => a,
        Err((code, why)) => return refuse(code, why),
    };
    let wanted = form_field(&body, "action").unwrap_or_default();
    let action = match wanted.as_str() {
        "done" => TaskAction::Done,
        "fail" => TaskAction::Fail,
        "retry" => TaskAction::Retry,
        "skip" => TaskAction::Skip,
        "cancel" => TaskAction::Cancel,
        other => {
            return refuse(
                StatusCode::BAD_REQUEST,
                &format!(
                    "action {other:?} is not one of done, fail, retry, skip, cancel (task {id})"
                ),
            )
        }
    };
    let reason = note(&body);
    let task = id.clone();
    let r = web
        .core
        .ask(|reply| {
            PlanCmd::TaskAction {
                task,
                action,
                reason,
                actor,
                reply,
            }
            .into()
        })
        .await;
    match r {
        Ok(state) => done(format!("{id} is {}", state.name())),
        Err(e) => super::failed(&e),
    }
}

async fn gate(State(web): State<Arc<Web>>, headers: HeaderMap, body: Bytes) -> Response {
    let actor = match actor(&web, &headers, &body) {
        Ok(a) => a,
        Err((code, why)) => return refuse(code, why),
    };
    let given = form_field(&body, "day").unwrap_or_default();
    let Ok(day) = given.trim().parse::<u32>() else {
        return refuse(
            StatusCode::BAD_REQUEST,
            &format!("day {given:?} is not a plan day's number"),
        );
    };
    let r = web
        .core
        .ask(|reply| PlanCmd::ApproveGate { day, actor, reply }.into())
        .await;
    match r {
        Ok(opened) if opened.is_empty() => done(format!("day {day}'s gates were open already")),
        Ok(opened) => done(format!("opened {}", opened.join(", "))),
        Err(e) => super::failed(&e),
    }
}

async fn set_paused(web: &Web, headers: &HeaderMap, body: &[u8], paused: bool) -> Response {
    let actor = match actor(web, headers, body) {
        Ok(a) => a,
        Err((code, why)) => return refuse(code, why),
    };
    let r = web
        .core
        .ask(|reply| {
            PlanCmd::SetPaused {
                paused,
                actor,
                reply,
            }
            .into()
        })
        .await;
    match r {
        Ok(state) => done(format!("the plan is {}", state.name())),
        Err(e) => super::failed(&e),
    }
}

async fn pause(State(web): State<Arc<Web>>, headers: HeaderMap, body: Bytes) -> Response {
    set_paused(&web, &headers, &body, true).await
}

async fn resume(State(web): State<Arc<Web>>, headers: HeaderMap, body: Bytes) -> Response {
    set_paused(&web, &headers, &body, false).await
}

async fn standup(State(web): State<Arc<Web>>, headers: HeaderMap, body: Bytes) -> Response {
    let actor = match actor(&web, &headers, &body) {
        Ok(a) => a,
        Err((code, why)) => return refuse(code, why),
    };
    let kind = form_field(&body, "kind").filter(|k| !k.trim().is_empty());
    let r = web
        .core
        .ask(|reply| CheckpointCmd::Run { kind, actor, reply }.into())
        .await;
    match r {
        Ok(s) => done(format!("checkpoint #{} ({}) held", s.id, s.kind)),
        Err(e) => super::failed(&e),
    }
}
