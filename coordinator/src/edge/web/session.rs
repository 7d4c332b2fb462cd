//! Who may see the web view: an admin or viewer token (built-in or named)
//! in `Authorization: Bearer`, or a session cookie the login form sets
//! after it was given one (HttpOnly, SameSite=Strict, Secure under TLS).
//! Each session has a CSRF token made at login, which every
//! cookie-authenticated post must carry, a short id that is no secret
//! (its actor is `web:<id>`), and whether its token may change anything.
//! Sessions live in memory for [`SESSION_MS`]; a restarted swarmd asks
//! again.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::{header, HeaderMap};

use crate::edge::auth::{Holder, Scope, Tokens};

/// The cookie's name.
pub const COOKIE: &str = "swarmd_session";
/// How long a login lasts.
pub const SESSION_MS: i64 = 12 * 3_600_000;
/// Sessions held at most; the oldest go first.
const MAX_SESSIONS: usize = 1024;

/// One logged-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Expiry (wall ms).
    until: i64,
    /// What every post of this session must carry.
    pub csrf: String,
    /// A short id, no secret: the session's actor is `web:<short>`.
    pub short: String,
    /// Whether the token it logged in with may change anything (an
    /// admin token), or only read (a viewer token).
    pub can_change: bool,
}

/// Live sessions by cookie value. Only the HTTP handlers touch it.
#[derive(Default)]
pub struct Sessions {
    live: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Opens a session; its cookie value and the session, or `None` when
    /// no random id could be made.
    pub fn open(&self, now: i64, can_change: bool) -> Option<(String, Session)> {
        let id = crate::edge::auth::random_token().ok()?;
        let csrf = crate::edge::auth::random_token().ok()?;
        let short = crate::edge::auth::random_token().ok()?[..8].to_string();
        let session = Session {
            until: now + SESSION_MS,
            csrf,
            short,
            can_change,
        };
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|_, s| s.until > now);
        if live.len() >= MAX_SESSIONS {
            if let Some(oldest) = live
                .iter()
                .min_by_key(|(_, s)| s.until)
                .map(|(k, _)| k.clone())
            {
                live.remove(&oldest);
            }
        }
        live.insert(id.clone(), session.clone());
        Some((id, session))
    }

    /// The live session `id`, if it is one.
    pub fn get(&self, id: &str, now: i64) -> Option<Session> {
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.get(id).filter(|s| s.until > now).cloned()
    }

    /// Ends a session.
    pub fn close(&self, id: &str) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.remove(id);
    }
}

/// The session id in the request's cookies, if any.
pub fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_string())
}

/// Who is asking: a token in `Authorization: Bearer`, or a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visitor {
    /// An admin or viewer token as a bearer (no CSRF token needed).
    Bearer(Holder),
    /// A logged-in browser.
    Session(Session),
}

/// Who the request comes from, if it may see the web view: an admin or
/// viewer token as a bearer, else a live session.
pub fn visitor(
    tokens: &Tokens,
    sessions: &Sessions,
    headers: &HeaderMap,
    now: i64,
) -> Option<Visitor> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if let Some(holder) = bearer.and_then(|t| tokens.holder_of(t)) {
        if holder.may(Scope::Read).is_ok() {
            return Some(Visitor::Bearer(holder));
        }
    }
    let id = cookie(headers)?;
    sessions.get(&id, now).map(Visitor::Session)
}

/// The `Set-Cookie` value for a new session (`secure` under TLS).
pub fn set_cookie(id: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        SESSION_MS / 1000,
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that ends a session in the browser.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The `token` field of an `application/x-www-form-urlencoded` body.
pub fn form_token(body: &[u8]) -> Option<String> {
    form_field(body, "token").map(|v| v.trim().to_string())
}

/// Field `name` of an `application/x-www-form-urlencoded` body.
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .and_then(|(_, v)| percent_decode(v))
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn a_session_lets_in_until_it_expires_or_closes() {
        let s = Sessions::default();
        let (id, session) = s.open(1_000, true).expect("id");
        assert_eq!(s.get(&id, 2_000), Some(session.clone()));
        assert_eq!(session.short.len(), 8);
        assert!(!id.contains(&session.short) && session.csrf != id);
        assert_eq!(s.get(&id, 1_000 + SESSION_MS), None);
        assert_eq!(s.get("forged", 2_000), None);
        s.close(&id);
        assert_eq!(s.get(&id, 2_000), None);
    }

    #[test]
    fn the_cookie_and_the_form_field_are_found() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; swarmd_session=abc ; b=2"),
        );
        assert_eq!(cookie(&h).as_deref(), Some("abc"));
        assert_eq!(form_token(b"x=1&token=ab%2Bc+d").as_deref(), Some("ab+c d"));
        assert_eq!(form_token(b"token=%zz"), None);
        assert_eq!(form_token(b"other=1"), None);
        let c = set_cookie("abc", true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"));
    }

    #[test]
    fn only_an_operator_token_or_a_live_session_is_let_in() {
        let tokens = Tokens::new("admin-token".into(), "agent-token".into());
        let sessions = Sessions::default();
        let mut h = HeaderMap::new();
        assert_eq!(visitor(&tokens, &sessions, &h, 0), None);
        let bearer = |t: &str| HeaderValue::from_str(&format!("Bearer {t}")).expect("header");
        h.insert(header::AUTHORIZATION, bearer("agent-token"));
        assert_eq!(visitor(&tokens, &sessions, &h, 0), None);
        h.insert(header::AUTHORIZATION, bearer("admin-token"));
        assert_eq!(
            visitor(&tokens, &sessions, &h, 0),
            Some(Visitor::Bearer(Holder::Admin))
        );
        h.insert(header::AUTHORIZATION, bearer("viewer-admin-token"));
        assert_eq!(
            visitor(&tokens, &sessions, &h, 0),
            Some(Visitor::Bearer(Holder::Viewer))
        );
        let (id, session) = sessions.open(0, false).expect("id");
        let mut c = HeaderMap::new();
        c.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("{COOKIE}={id}")).expect("header"),
        );
        assert_eq!(
            visitor(&tokens, &sessions, &c, 1),
            Some(Visitor::Session(session))
        );
    }
}
