//! Reading files and streams a client was pointed at, with a cap: a plan,
//! a roles file or a memory value named on the command line may be
//! `/dev/zero` or a runaway pipe, and is never read past its limit.
//!
//! [`read_capped`] reads a file, [`read_stream_capped`] any reader (standard
//! input); both stop at the first byte past the limit and say so in a
//! [`ReadError::TooLarge`] that names the input, the limit and what set it.

use std::io::Read;
use std::path::Path;

/// Why an input could not be read whole.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file or stream could not be read.
    #[error("cannot read {name}: {source}")]
    Io {
        /// The file's path, or "standard input".
        name: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// More than `limit` bytes: reading stopped at the first byte past it.
    #[error("{name} is larger than {limit} bytes (the limit of {what})")]
    TooLarge {
        /// The file's path, or "standard input".
        name: String,
        /// The most that is read.
        limit: u64,
        /// What sets the limit ("a plan file", ...).
        what: &'static str,
    },
}

/// All of `path`, at most `limit` bytes; `what` names the limit in the
/// error ("a plan file (swarm_plan::MAX_PLAN_BYTES)").
///
/// # Errors
/// [`ReadError::Io`] when the file cannot be opened or read,
/// [`ReadError::TooLarge`] as soon as more than `limit` bytes were seen.
pub fn read_capped(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>, ReadError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| ReadError::Io {
        name: name.clone(),
        source,
    })?;
    read_stream_capped(file, &name, limit, what)
}

/// All of `reader`, at most `limit` bytes; `name` names it in errors.
///
/// # Errors
/// As [`read_capped`].
pub fn read_stream_capped(
    reader: impl Read,
    name: &str,
    limit: u64,
    what: &'static str,
) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    // One byte past the limit tells "exactly the limit" from "more".
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| ReadError::Io {
            name: name.to_string(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            name: name.to_string(),
            limit,
            what,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_itself_is_read_and_one_byte_more_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("plan.md");
        std::fs::write(&file, b"12345").expect("write");
        assert_eq!(read_capped(&file, 5, "a test").expect("fits"), b"12345");
        let err = read_capped(&file, 4, "a test").expect_err("too large");
        assert_eq!(
            err.to_string(),
            format!(
                "{} is larger than 4 bytes (the limit of a test)",
                file.display()
            )
        );
    }

    #[test]
    fn an_endless_stream_stops_at_the_limit() {
        let endless = std::io::repeat(0);
        let err =
            read_stream_capped(endless, "standard input", 1024, "a value").expect_err("endless");
        assert!(
            matches!(err, ReadError::TooLarge { limit: 1024, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_missing_file_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("missing.md");
        let err = read_capped(&missing, 10, "a test").expect_err("missing");
        assert!(
            err.to_string()
                .starts_with(&format!("cannot read {}: ", missing.display())),
            "{err}"
        );
    }
}
