//! One `[[notify]]` entry: where to post (a URL that may hold secrets —
//! a webhook's path is its key — so it is never shown whole), which
//! events (kinds or families, as `swarmctl events --kind` takes them) and
//! in which format.

use std::fmt;

use axum::http::Uri;
use swarm_core::event::KindFilter;

/// How an event is posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The event as `swarmctl events --json` prints it.
    Json,
    /// A Slack incoming-webhook message: `{"text": "..."}`.
    Slack,
}

impl Format {
    /// The name the config file uses.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Slack => "slack",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        match s.trim() {
            "json" => Ok(Format::Json),
            "slack" => Ok(Format::Slack),
            other => Err(format!("format '{other}' is not one; use json or slack")),
        }
    }
}

/// A webhook URL: `http://` or `https://` with a host. Shown (Display,
/// Debug) only as `scheme://host:port/…`: the path, the query and any
/// user or token before the host are elided.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(Uri);

impl SecretUrl {
    /// Parses `text`; the error never repeats it.
    ///
    /// # Errors
    /// Not an http(s) URL with a host.
    pub fn parse(text: &str) -> Result<SecretUrl, String> {
        let uri: Uri = text
            .trim()
            .parse()
            .map_err(|_| "url is not a URL (expected http://HOST/... or https://HOST/...)")?;
        let scheme = uri.scheme_str().map(str::to_ascii_lowercase);
        if !matches!(scheme.as_deref(), Some("http" | "https")) {
            return Err("url must start with http:// or https://".into());
        }
        if uri.host().is_none_or(str::is_empty) {
            return Err("url names no host".into());
        }
        Ok(SecretUrl(uri))
    }

    /// The whole URL, secrets and all: only for the request itself.
    pub fn uri(&self) -> &Uri {
        &self.0
    }

    /// Whether it goes over TLS.
    pub fn is_https(&self) -> bool {
        self.0
            .scheme_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("https"))
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let u = &self.0;
        let scheme = u.scheme_str().unwrap_or("http").to_ascii_lowercase();
        let user = match u.authority() {
            Some(a) if a.as_str().contains('@') => "…@",
            _ => "",
        };
        let host = u.host().unwrap_or("");
        let port = u.port_u16().map(|p| format!(":{p}")).unwrap_or_default();
        write!(f, "{scheme}://{user}{host}{port}/…")
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretUrl({self})")
    }
}

/// One `[[notify]]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// How its deliveries are recorded: its `name`, else its place among
    /// the entries (1, 2, …).
    pub name: String,
    /// Where to post.
    pub url: SecretUrl,
    /// The events it wants, as given.
    pub events: Vec<String>,
    /// The same, parsed.
    pub filters: Vec<KindFilter>,
    /// How to post them.
    pub format: Format,
}

impl Entry {
    /// Whether an event of kind `kind` goes to this entry.
    pub fn wants(&self, kind: &str) -> bool {
        self.filters.iter().any(|f| f.passes(kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(url: &str) -> String {
        SecretUrl::parse(url)
            .map(|u| u.to_string())
            .unwrap_or_else(|e| e)
    }

    #[test]
    fn a_url_is_shown_without_its_path_query_or_credentials() {
        assert_eq!(
            shown("https://hooks.slack.com/services/T000/B000/XXXXSECRET"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            shown("http://127.0.0.1:9000/hook?token=SECRET"),
            "http://127.0.0.1:9000/…"
        );
        assert_eq!(
            shown("https://bot:SECRET@example.com:8443/x"),
            "https://…@example.com:8443/…"
        );
        let debug = format!("{:?}", SecretUrl::parse("https://a.b/SECRET").expect("url"));
        assert!(!debug.contains("SECRET"), "{debug}");
    }

    #[test]
    fn only_http_and_https_urls_with_a_host_are_taken() {
        assert!(SecretUrl::parse("ftp://x/SECRET")
            .err()
            .is_some_and(|e| e.contains("http://") && !e.contains("SECRET")));
        assert!(SecretUrl::parse("/just/a/path").is_err());
        assert!(SecretUrl::parse("not a url SECRET")
            .err()
            .is_some_and(|e| !e.contains("SECRET")));
        assert!(SecretUrl::parse("HTTPS://Example.com/x").is_ok_and(|u| u.is_https()));
    }
}
