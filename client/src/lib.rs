//! What every client of `swarmd` shares: the token it presents and how it
//! finds it.
//!
//! - [`Bearer`]: a tonic interceptor that adds `authorization: Bearer
//!   <token>` to every call; used by `swarm-agent`, `swarmctl`, the
//!   benchmark and `swarmd run`;
//! - [`read_token`] and [`resolve_token`]: a token from `--token-file`,
//!   else `SWARM_TOKEN`, else a default file, trimmed and never empty;
//! - [`Coordinator`]: a coordinator URL (`http://`, `https://` with a CA
//!   and maybe a client certificate, `unix://`) made into a channel;
//! - [`plan_upload`]: a plan's text as the chunks `LoadPlan` streams;
//! - [`oversize`]: a message over a size limit, in words;
//! - [`event_json`]: an event as `swarmctl events --json` prints it.
//!
//! Errors are typed so each binary can add the hint that fits its flags
//! (the agent's default file is not swarmctl's).

#![warn(missing_docs)]

pub mod connect;
pub mod event_json;
pub mod logging;
pub mod oversize;
pub mod plan_upload;
pub mod printable;
pub mod progress;
pub mod read;
pub mod refusal;

pub use connect::{ConnectError, Coordinator, TlsFiles};

use std::path::{Path, PathBuf};

use tonic::metadata::{Ascii, MetadataValue};

/// The environment variable a client reads its token from when no token
/// file is given.
pub const TOKEN_ENV: &str = "SWARM_TOKEN";

/// Adds `authorization: Bearer <token>` to every call, and the human
/// name of the person acting ([`Bearer::with_as`]), if any.
///
/// The header values are built once; cloning is cheap.
#[derive(Clone)]
pub struct Bearer {
    auth: MetadataValue<Ascii>,
    human: Option<Human>,
}

/// A human name as request metadata.
#[derive(Clone)]
enum Human {
    /// Printable ASCII: `x-swarm-as`.
    Ascii(MetadataValue<Ascii>),
    /// Anything else: `x-swarm-as-bin`.
    Binary(MetadataValue<tonic::metadata::Binary>),
}

impl Bearer {
    /// The interceptor for `token`.
    ///
    /// # Errors
    /// [`InvalidToken`] when the token holds characters a header cannot
    /// carry (non-ASCII, control characters).
    pub fn new(token: &str) -> Result<Self, InvalidToken> {
        let auth = format!("Bearer {token}")
            .parse()
            .map_err(|_| InvalidToken)?;
        Ok(Bearer { auth, human: None })
    }

    /// Also names the person acting (`swarmctl --as NAME`): swarmd puts
    /// the name beside the token's in the events of what they do. An
    /// empty name adds nothing.
    pub fn with_as(mut self, name: Option<&str>) -> Self {
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        self.human = name.map(|n| {
            let ascii = n.chars().all(|c| c.is_ascii_graphic() || c == ' ');
            match n.parse::<MetadataValue<Ascii>>() {
                Ok(v) if ascii => Human::Ascii(v),
                _ => Human::Binary(MetadataValue::from_bytes(n.as_bytes())),
            }
        });
        self
    }
}

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a secret: never in a log line.
        f.write_str("Bearer(..)")
    }
}

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let md = req.metadata_mut();
        md.insert("authorization", self.auth.clone());
        match &self.human {
            Some(Human::Ascii(v)) => {
                md.insert("x-swarm-as", v.clone());
            }
            Some(Human::Binary(v)) => {
                md.insert_bin("x-swarm-as-bin", v.clone());
            }
            None => {}
        }
        Ok(req)
    }
}

/// A token that cannot travel in an `authorization` header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the token holds characters that cannot be sent")]
pub struct InvalidToken;

/// Why no token could be read from a file.
#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    /// The file is missing or unreadable.
    #[error("cannot read the token from {}: {source}", path.display())]
    Unreadable {
        /// The file that was asked for.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The file holds only whitespace.
    #[error("the token file {} is empty", path.display())]
    Empty {
        /// The file that was read.
        path: PathBuf,
    },
}

/// The token in `path`, without surrounding whitespace.
///
/// # Errors
/// [`TokenFileError::Unreadable`] when the file cannot be read,
/// [`TokenFileError::Empty`] when it holds nothing but whitespace.
pub fn read_token(path: &Path) -> Result<String, TokenFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| TokenFileError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(TokenFileError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(token.to_string())
}

/// The token a client presents: the file given with `--token-file` if any,
/// else a non-blank [`TOKEN_ENV`], else `default_file`.
///
/// # Errors
/// As [`read_token`], for whichever file is read.
pub fn resolve_token(
    token_file: Option<&Path>,
    default_file: &Path,
) -> Result<String, TokenFileError> {
    if let Some(path) = token_file {
        return read_token(path);
    }
    match std::env::var(TOKEN_ENV) {
        Ok(t) if !t.trim().is_empty() => Ok(t.trim().to_string()),
        _ => read_token(default_file),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::service::Interceptor;

    #[test]
    fn the_header_carries_the_token() {
        let mut bearer = Bearer::new("s3cret").expect("ascii token");
        let req = bearer.call(tonic::Request::new(())).expect("intercepted");
        assert_eq!(
            req.metadata().get("authorization").map(|v| v.to_str().ok()),
            Some(Some("Bearer s3cret"))
        );
        assert!(!format!("{bearer:?}").contains("s3cret"));
    }

    #[test]
    fn a_token_with_a_newline_is_refused() {
        assert_eq!(Bearer::new("a\nb").err(), Some(InvalidToken));
    }

    #[test]
    fn token_files_are_trimmed_and_must_not_be_blank() {
        let dir = tempfile::tempdir().expect("tempdir");
        let good = dir.path().join("good.token");
        std::fs::write(&good, "  abc \n").expect("write");
        assert_eq!(read_token(&good).expect("token"), "abc");

        let blank = dir.path().join("blank.token");
        std::fs::write(&blank, " \n").expect("write");
        let err = read_token(&blank).expect_err("blank");
        assert_eq!(
            err.to_string(),
            format!("the token file {} is empty", blank.display())
        );

        let missing = dir.path().join("missing.token");
        let err = read_token(&missing).expect_err("missing");
        assert!(matches!(err, TokenFileError::Unreadable { .. }));
        assert!(err.to_string().starts_with(&format!(
            "cannot read the token from {}: ",
            missing.display()
        )));
    }

    #[test]
    fn a_given_token_file_wins_over_the_default() {
        let dir = tempfile::tempdir().expect("tempdir");
        let given = dir.path().join("given.token");
        std::fs::write(&given, "given").expect("write");
        let default = dir.path().join("default.token");
        std::fs::write(&default, "default").expect("write");
        assert_eq!(
            resolve_token(Some(&given), &default).expect("token"),
            "given"
        );
    }
}
