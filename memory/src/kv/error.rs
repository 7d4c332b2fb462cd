//! The one error type of the key/value memory: what went wrong, on which
//! namespace and key, and what would have been accepted.
//!
//! Messages never contain stored values (they may be secrets that must not
//! reach a log line); a compare-and-swap failure carries the current value
//! in a field for the caller, but only describes it in the message.

use super::types::Expect;

/// Everything that can go wrong reading or writing `memory_entries`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KvError {
    /// An argument was rejected before the database was touched.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// Which argument: `namespace`, `key`, `ttl_ms`, `tags`, …
        field: &'static str,
        /// What is wrong with it and what would be valid.
        reason: String,
    },

    /// The value is bigger than the configured limit.
    #[error(
        "value for key '{key}' in namespace '{namespace}' is {size} bytes; \
         values may be at most {max} bytes"
    )]
    TooLarge {
        /// Namespace of the rejected write.
        namespace: String,
        /// Key of the rejected write.
        key: String,
        /// Size of the rejected value in bytes (UTF-8).
        size: usize,
        /// The limit it exceeded.
        max: usize,
    },

    /// A conditional write found the entry in another state than expected.
    #[error(
        "compare-and-swap on key '{key}' in namespace '{namespace}' failed: \
         expected {}, but {}",
        describe_expected(.expected),
        describe_current(.current)
    )]
    CasMismatch {
        /// Namespace of the rejected write.
        namespace: String,
        /// Key of the rejected write.
        key: String,
        /// What the write expected to find.
        expected: Expect,
        /// The live value found instead (`None`: no live entry).
        current: Option<String>,
    },

    /// `memory_entries` exists but is laid out neither as claude-flow v3
    /// nor as claude-flow v2 lays it out; it is left untouched.
    #[error(
        "table memory_entries has an unsupported layout: {reason}; expected \
         claude-flow v3 (a `content` column, millisecond timestamps, \
         `status`) or claude-flow v2 (a `value` column, second timestamps, \
         `ttl`)"
    )]
    UnsupportedLayout {
        /// What was found (e.g. which columns are missing).
        reason: String,
    },

    /// A stored row holds something this module cannot represent.
    #[error("entry '{key}' in namespace '{namespace}' is unreadable: {reason}")]
    Corrupt {
        /// Namespace of the row.
        namespace: String,
        /// Key of the row.
        key: String,
        /// What is wrong with it.
        reason: String,
    },

    /// SQLite itself failed (locked database, disk full, …).
    #[error("SQLite error on memory_entries: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

fn describe_expected(expected: &Expect) -> String {
    match expected {
        Expect::Absent => "no live entry".to_owned(),
        Expect::Value(v) => format!("a live entry holding a given value of {} bytes", v.len()),
    }
}

fn describe_current(current: &Option<String>) -> String {
    match current {
        None => "there is no live entry".to_owned(),
        Some(v) => format!(
            "the live entry holds a different value of {} bytes",
            v.len()
        ),
    }
}

impl KvError {
    /// Shorthand for [`KvError::Invalid`].
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        KvError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cas_message_does_not_leak_values() {
        let err = KvError::CasMismatch {
            namespace: "default".into(),
            key: "k".into(),
            expected: Expect::Value("secret-old".into()),
            current: Some("secret-new".into()),
        };
        let msg = err.to_string();
        assert!(!msg.contains("secret"), "{msg}");
        assert!(msg.contains("'k'") && msg.contains("'default'"), "{msg}");
    }
}
