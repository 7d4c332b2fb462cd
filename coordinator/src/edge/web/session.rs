//! Who may see the web view: the admin token in `Authorization: Bearer`,
//! or a session cookie the login form sets after it was given the admin
//! token (HttpOnly, SameSite=Strict, Secure under TLS). Sessions live in
//! memory for [`SESSION_MS`]; a restarted swarmd asks again.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::{header, HeaderMap};

use crate::edge::auth::{Holder, Tokens};

/// The cookie's name.
pub const COOKIE: &str = "swarmd_session";
/// How long a login lasts.
pub const SESSION_MS: i64 = 12 * 3_600_000;
/// Sessions held at most; the oldest go first.
const MAX_SESSIONS: usize = 1024;

/// Live sessions: id → expiry (wall ms). Only the HTTP handlers touch it.
#[derive(Default)]
pub struct Sessions {
    live: Mutex<HashMap<String, i64>>,
}

impl Sessions {
    /// Opens a session; its id, or `None` when no random id could be made.
    pub fn open(&self, now: i64) -> Option<String> {
        let id = crate::edge::auth::random_token().ok()?;
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|_, &mut until| until > now);
        if live.len() >= MAX_SESSIONS {
            if let Some(oldest) = live
                .iter()
                .min_by_key(|(_, &until)| until)
                .map(|(k, _)| k.clone())
            {
                live.remove(&oldest);
            }
        }
        live.insert(id.clone(), now + SESSION_MS);
        Some(id)
    }

    /// Whether `id` is a live session.
    pub fn holds(&self, id: &str, now: i64) -> bool {
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.get(id).is_some_and(|&until| until > now)
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

/// Whether the request carries the admin token or a live session.
pub fn allowed(tokens: &Tokens, sessions: &Sessions, headers: &HeaderMap, now: i64) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if bearer.and_then(|t| tokens.holder_of(t)) == Some(Holder::Admin) {
        return true;
    }
    cookie(headers).is_some_and(|id| sessions.holds(&id, now))
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
    let text = std::str::from_utf8(body).ok()?;
    text.split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "token")
        .and_then(|(_, v)| percent_decode(v))
        .map(|v| v.trim().to_string())
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
        let id = s.open(1_000).expect("id");
        assert!(s.holds(&id, 2_000));
        assert!(!s.holds(&id, 1_000 + SESSION_MS));
        assert!(!s.holds("forged", 2_000));
        s.close(&id);
        assert!(!s.holds(&id, 2_000));
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
    fn only_the_admin_token_or_a_live_session_is_allowed() {
        let tokens = Tokens::new("admin-token".into(), "agent-token".into());
        let sessions = Sessions::default();
        let mut h = HeaderMap::new();
        assert!(!allowed(&tokens, &sessions, &h, 0));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer agent-token"),
        );
        assert!(!allowed(&tokens, &sessions, &h, 0));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer admin-token"),
        );
        assert!(allowed(&tokens, &sessions, &h, 0));
        let id = sessions.open(0).expect("id");
        let mut c = HeaderMap::new();
        c.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("{COOKIE}={id}")).expect("header"),
        );
        assert!(allowed(&tokens, &sessions, &c, 1));
    }
}
