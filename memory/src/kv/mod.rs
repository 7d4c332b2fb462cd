//! Shared key/value memory in claude-flow's `memory_entries` table, so
//! claude-flow's own `memory` commands and swarmd read each other's entries.
//!
//! Two layouts are supported, each read and written in its own terms and
//! never converted into the other (see [`Layout`]):
//!
//! - **v3** (claude-flow 3.x, and what [`ensure_schema`] creates): TEXT ids
//!   `entry_<created ms>_<16 hex>`, `content`, millisecond times, soft
//!   deletes through `status`, tags, type and provenance.
//! - **v2** (claude-flow 2.0's `.swarm/memory.db`): INTEGER ids, `value`,
//!   second times, a `ttl` column in seconds, hard deletes.
//!
//! An entry is *live* when (v3) its `status` is `active` and (both) its
//! `expires_at` is NULL or later than now. Only live entries are visible:
//! [`get`], [`list`], compare-and-swap and [`delete`] treat every other row
//! as absent, and a [`put`] over such a row replaces it with a new entry.
//!
//! Every function takes a `&Connection`; the caller owns the connection and
//! any transaction (a `rusqlite::Transaction` derefs to one). Writes that
//! take more than one statement run inside a SAVEPOINT, so they are atomic
//! with or without an enclosing transaction. Time is always passed in as
//! `now_ms`, milliseconds since the Unix epoch.

mod error;
mod ids;
mod schema;
mod types;
mod v2;
mod v3;

use rusqlite::Connection;

pub use error::KvError;
pub(crate) use ids::new_entry_id;
pub use schema::{ensure_schema, Layout, V2_TABLE_DDL};
pub use types::{Entry, Expect, Kind, Provenance, Put, PutOutcome, DEFAULT_NAMESPACE};

/// A row as it stands, live or not, without counting an access: what
/// reconciliation compares the journal with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peek {
    /// The stored value.
    pub value: String,
    /// When the row was last written, ms (v2 seconds times 1000).
    pub updated_at_ms: i64,
    /// Whether reads see it (active and not expired).
    pub live: bool,
}

/// The row of `namespace`/`key` whatever its state, without recording an
/// access; `None` when there is no row.
///
/// # Errors
///
/// [`KvError::Sqlite`] if SQLite fails.
pub fn peek(
    conn: &Connection,
    layout: Layout,
    namespace: &str,
    key: &str,
    now_ms: i64,
) -> Result<Option<Peek>, KvError> {
    match layout {
        Layout::V3 => v3::peek(conn, namespace, key, now_ms),
        Layout::V2 => v2::peek(conn, namespace, key, now_ms),
    }
}

/// Longest namespace, key, owner id or tag accepted, in bytes.
pub const MAX_NAME_BYTES: usize = 1024;

/// Most tags one entry may carry.
pub const MAX_TAGS: usize = 64;

/// Writes one entry, honouring `put.expect` as a compare-and-swap on the
/// live entry.
///
/// # Errors
///
/// [`KvError::Invalid`] for an empty or over-long namespace, key, owner or
/// tag, a non-positive or overflowing TTL, or metadata that is not a JSON
/// object; [`KvError::TooLarge`] if the value exceeds `max_value_bytes`;
/// [`KvError::CasMismatch`] if `put.expect` does not hold;
/// [`KvError::Sqlite`] if SQLite fails.
pub fn put(
    conn: &Connection,
    layout: Layout,
    put: &Put<'_>,
    now_ms: i64,
    max_value_bytes: usize,
) -> Result<PutOutcome, KvError> {
    validate_put(put, now_ms, max_value_bytes)?;
    savepoint(conn, || match layout {
        Layout::V3 => v3::put(conn, put, now_ms),
        Layout::V2 => v2::put(conn, put, now_ms),
    })
}

/// Reads one live entry and records the access (bumps `access_count`, sets
/// the last-access time). Returns `None` if there is no live entry.
///
/// # Errors
///
/// [`KvError::Invalid`] for a bad namespace or key; [`KvError::Corrupt`]
/// if the row cannot be represented; [`KvError::Sqlite`] if SQLite fails.
pub fn get(
    conn: &Connection,
    layout: Layout,
    namespace: &str,
    key: &str,
    now_ms: i64,
) -> Result<Option<Entry>, KvError> {
    validate_name("namespace", namespace)?;
    validate_name("key", key)?;
    match layout {
        Layout::V3 => v3::get(conn, namespace, key, now_ms),
        Layout::V2 => v2::get(conn, namespace, key, now_ms),
    }
}

/// Lists live entries ordered by namespace then key, at most `limit` of
/// them, optionally within one namespace and/or under a key prefix.
/// Listing does not count as an access.
///
/// # Errors
///
/// [`KvError::Invalid`] for a bad namespace or an over-long prefix;
/// [`KvError::Corrupt`] if a row cannot be represented;
/// [`KvError::Sqlite`] if SQLite fails.
pub fn list(
    conn: &Connection,
    layout: Layout,
    namespace: Option<&str>,
    key_prefix: Option<&str>,
    now_ms: i64,
    limit: usize,
) -> Result<Vec<Entry>, KvError> {
    if let Some(ns) = namespace {
        validate_name("namespace", ns)?;
    }
    if let Some(prefix) = key_prefix {
        if prefix.len() > MAX_NAME_BYTES {
            return Err(KvError::invalid(
                "key_prefix",
                format!(
                    "{} bytes long; at most {MAX_NAME_BYTES} bytes",
                    prefix.len()
                ),
            ));
        }
    }
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let prefix = key_prefix.filter(|p| !p.is_empty());
    match layout {
        Layout::V3 => v3::list(conn, namespace, prefix, now_ms, limit),
        Layout::V2 => v2::list(conn, namespace, prefix, now_ms, limit),
    }
}

/// Removes the live entry under `namespace`/`key`: a soft delete
/// (`status = 'deleted'`, embedding cleared) in v3, as claude-flow 3.x does,
/// and a row delete in v2, as claude-flow 2.0 does. Returns whether a live
/// entry was removed.
///
/// # Errors
///
/// [`KvError::Invalid`] for a bad namespace or key; [`KvError::Sqlite`] if
/// SQLite fails.
pub fn delete(
    conn: &Connection,
    layout: Layout,
    namespace: &str,
    key: &str,
    now_ms: i64,
) -> Result<bool, KvError> {
    validate_name("namespace", namespace)?;
    validate_name("key", key)?;
    match layout {
        Layout::V3 => v3::delete(conn, namespace, key, now_ms),
        Layout::V2 => v2::delete(conn, namespace, key, now_ms),
    }
}

/// Checks a namespace, key, owner or tag: 1 to [`MAX_NAME_BYTES`] bytes.
pub(crate) fn validate_name(field: &'static str, name: &str) -> Result<(), KvError> {
    if name.is_empty() {
        return Err(KvError::invalid(
            field,
            format!("must not be empty; use 1 to {MAX_NAME_BYTES} bytes"),
        ));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(KvError::invalid(
            field,
            format!("{} bytes long; at most {MAX_NAME_BYTES} bytes", name.len()),
        ));
    }
    Ok(())
}

/// Checks everything about a write that does not need the database.
pub(crate) fn validate_put(
    put: &Put<'_>,
    now_ms: i64,
    max_value_bytes: usize,
) -> Result<(), KvError> {
    validate_name("namespace", put.namespace)?;
    validate_name("key", put.key)?;
    if put.value.len() > max_value_bytes {
        return Err(KvError::TooLarge {
            namespace: put.namespace.to_owned(),
            key: put.key.to_owned(),
            size: put.value.len(),
            max: max_value_bytes,
        });
    }
    if let Some(ttl) = put.ttl_ms {
        if ttl <= 0 {
            return Err(KvError::invalid(
                "ttl_ms",
                format!("{ttl} is not positive; give a TTL of at least 1 ms, or none"),
            ));
        }
        if now_ms.checked_add(ttl).is_none() {
            return Err(KvError::invalid(
                "ttl_ms",
                format!("{ttl} ms from now ({now_ms}) is past the end of time"),
            ));
        }
    }
    if let Some(owner) = owner_of(put) {
        validate_name("owner_id", owner)?;
    }
    if put.tags.len() > MAX_TAGS {
        return Err(KvError::invalid(
            "tags",
            format!("{} tags given; at most {MAX_TAGS}", put.tags.len()),
        ));
    }
    for tag in put.tags {
        validate_name("tags", tag)?;
    }
    if let Some(meta) = put.metadata {
        if !meta.is_object() {
            return Err(KvError::invalid(
                "metadata",
                "must be a JSON object such as {} or {\"source\": \"task-7\"}",
            ));
        }
    }
    Ok(())
}

/// The owner to store: an empty `owner_id` counts as none given.
pub(crate) fn owner_of<'a>(put: &Put<'a>) -> Option<&'a str> {
    put.owner_id.filter(|owner| !owner.is_empty())
}

/// Fails with [`KvError::CasMismatch`] unless `put.expect` holds for the
/// live value `current` (`None`: no live entry).
pub(crate) fn check_expect(put: &Put<'_>, current: Option<&str>) -> Result<(), KvError> {
    let holds = match &put.expect {
        None => true,
        Some(Expect::Absent) => current.is_none(),
        Some(Expect::Value(want)) => current == Some(want.as_str()),
    };
    match (&put.expect, holds) {
        (Some(expected), false) => Err(KvError::CasMismatch {
            namespace: put.namespace.to_owned(),
            key: put.key.to_owned(),
            expected: expected.clone(),
            current: current.map(str::to_owned),
        }),
        _ => Ok(()),
    }
}

/// Runs `body` inside `SAVEPOINT swarm_kv`: released on success, rolled
/// back on error. Works inside and outside an enclosing transaction.
fn savepoint<T>(
    conn: &Connection,
    body: impl FnOnce() -> Result<T, KvError>,
) -> Result<T, KvError> {
    conn.execute_batch("SAVEPOINT swarm_kv")?;
    let result = body().and_then(|value| {
        conn.execute_batch("RELEASE swarm_kv")?;
        Ok(value)
    });
    if result.is_err() {
        // The original error is what the caller needs; if the rollback
        // itself fails the connection reports it on its next statement.
        let _ = conn.execute_batch("ROLLBACK TO swarm_kv; RELEASE swarm_kv");
    }
    result
}

/// Parses a v3 `tags` column: a JSON array of strings. NULL, non-JSON and
/// non-string items read as no tags, as claude-flow reads them.
pub(crate) fn parse_tags(raw: Option<&str>) -> Vec<String> {
    raw.and_then(|text| serde_json::from_str::<Vec<serde_json::Value>>(text).ok())
        .map(|items| {
            items
                .into_iter()
                .filter_map(|item| match item {
                    serde_json::Value::String(s) => Some(s),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Parses a `metadata` column: NULL reads as `{}`, text that is not JSON
/// as a JSON string holding the text (so nothing is lost or fails).
pub(crate) fn parse_metadata(raw: Option<String>) -> serde_json::Value {
    match raw {
        None => serde_json::Value::Object(serde_json::Map::new()),
        Some(text) => serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    }
}

/// Serialises metadata for storage.
pub(crate) fn metadata_text(meta: &serde_json::Value) -> Result<String, KvError> {
    serde_json::to_string(meta)
        .map_err(|e| KvError::invalid("metadata", format!("cannot be serialised: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_metadata_parse_leniently() {
        assert_eq!(
            parse_tags(Some(r#"["a",1,"b"]"#)),
            vec!["a".to_owned(), "b".to_owned()]
        );
        assert!(parse_tags(Some("not json")).is_empty());
        assert!(parse_tags(None).is_empty());
        assert_eq!(parse_metadata(None), serde_json::json!({}));
        assert_eq!(
            parse_metadata(Some("{oops".into())),
            serde_json::json!("{oops")
        );
    }

    #[test]
    fn validation_names_the_field_and_the_valid_range() {
        let err = validate_put(&Put::new("", "v"), 0, 10).unwrap_err();
        assert!(err.to_string().contains("invalid key"), "{err}");
        let long = "k".repeat(MAX_NAME_BYTES + 1);
        let err = validate_put(&Put::new(&long, "v"), 0, 10).unwrap_err();
        assert!(err.to_string().contains("at most 1024"), "{err}");
        let err = validate_put(&Put::new("k", "v").with_ttl_ms(0), 0, 10).unwrap_err();
        assert!(err.to_string().contains("ttl_ms"), "{err}");
        let err = validate_put(&Put::new("k", "v").with_ttl_ms(2), i64::MAX, 10).unwrap_err();
        assert!(err.to_string().contains("ttl_ms"), "{err}");
        let arr = serde_json::json!([1]);
        let err = validate_put(&Put::new("k", "v").with_metadata(&arr), 0, 10).unwrap_err();
        assert!(err.to_string().contains("JSON object"), "{err}");
        let empty = [String::new()];
        let err = validate_put(&Put::new("k", "v").with_tags(&empty), 0, 10).unwrap_err();
        assert!(err.to_string().contains("invalid tags"), "{err}");
        let ok = validate_put(&Put::new("k", "v").with_owner(""), 0, 10);
        assert!(ok.is_ok(), "an empty owner means none: {ok:?}");
    }
}
