//! Reads and writes of a claude-flow v2 `memory_entries` table, in its own
//! terms: INTEGER ids, a `value` column, times in whole seconds, a `ttl`
//! column in seconds with `expires_at = now + ttl`, and hard deletes.
//!
//! The layout has no tags, type, owner or provenance; writes leave those
//! out and reads report no tags, `Semantic`, no owner and `Unknown`.
//! Seconds are converted to and from the milliseconds of the public API:
//! stored times are multiplied by 1000, `now_ms` is floored to a second
//! and a TTL is rounded up to whole seconds.

use rusqlite::{named_params, Connection, OptionalExtension, Row};

use super::error::KvError;
use super::types::{Entry, Kind, Provenance, Put, PutOutcome};
use super::{check_expect, metadata_text, parse_metadata};

/// The condition for a row to be visible; binds `:now` (seconds).
const LIVE: &str = "(expires_at IS NULL OR expires_at > :now)";

/// The columns [`Raw::from_row`] reads, in order.
const COLUMNS: &str =
    "id, namespace, key, value, metadata, created_at, updated_at, expires_at, access_count, accessed_at";

/// Seconds since the epoch for a millisecond time, floored.
fn secs(ms: i64) -> i64 {
    ms.div_euclid(1000)
}

/// Milliseconds for a stored seconds value.
fn millis(s: i64) -> i64 {
    s.saturating_mul(1000)
}

/// One row as stored.
struct Raw {
    id: i64,
    namespace: String,
    key: String,
    value: String,
    metadata: Option<String>,
    created_at: Option<i64>,
    updated_at: Option<i64>,
    expires_at: Option<i64>,
    access_count: Option<i64>,
    accessed_at: Option<i64>,
}

impl Raw {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Raw> {
        Ok(Raw {
            id: row.get(0)?,
            namespace: row.get(1)?,
            key: row.get(2)?,
            value: row.get(3)?,
            metadata: row.get(4)?,
            created_at: row.get(5)?,
            updated_at: row.get(6)?,
            expires_at: row.get(7)?,
            access_count: row.get(8)?,
            accessed_at: row.get(9)?,
        })
    }

    fn into_entry(self) -> Entry {
        let created_at_ms = self.created_at.map_or(0, millis);
        Entry {
            id: self.id.to_string(),
            namespace: self.namespace,
            key: self.key,
            value: self.value,
            kind: Kind::default(),
            tags: Vec::new(),
            metadata: parse_metadata(self.metadata),
            owner_id: None,
            provenance: Provenance::Unknown,
            created_at_ms,
            updated_at_ms: self.updated_at.map_or(created_at_ms, millis),
            expires_at_ms: self.expires_at.map(millis),
            access_count: self.access_count.unwrap_or(0),
            last_accessed_at_ms: self.accessed_at.map(millis),
        }
    }
}

pub(crate) fn get(
    conn: &Connection,
    namespace: &str,
    key: &str,
    now_ms: i64,
) -> Result<Option<Entry>, KvError> {
    let sql = format!(
        "UPDATE memory_entries
         SET access_count = COALESCE(access_count, 0) + 1, accessed_at = :now
         WHERE namespace = :ns AND key = :key AND {LIVE}
         RETURNING {COLUMNS}"
    );
    let raw = conn
        .prepare_cached(&sql)?
        .query_row(
            named_params! { ":now": secs(now_ms), ":ns": namespace, ":key": key },
            Raw::from_row,
        )
        .optional()?;
    Ok(raw.map(Raw::into_entry))
}

pub(crate) fn list(
    conn: &Connection,
    namespace: Option<&str>,
    prefix: Option<&str>,
    now_ms: i64,
    limit: i64,
) -> Result<Vec<Entry>, KvError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM memory_entries
         WHERE {LIVE}
           AND (:ns IS NULL OR namespace = :ns)
           AND (:prefix IS NULL OR substr(key, 1, length(:prefix)) = :prefix)
         ORDER BY namespace, key
         LIMIT :limit"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        named_params! {
            ":now": secs(now_ms), ":ns": namespace, ":prefix": prefix, ":limit": limit
        },
        Raw::from_row,
    )?;
    rows.map(|raw| raw.map(Raw::into_entry).map_err(KvError::from))
        .collect()
}

pub(crate) fn delete(
    conn: &Connection,
    namespace: &str,
    key: &str,
    now_ms: i64,
) -> Result<bool, KvError> {
    let sql = format!("DELETE FROM memory_entries WHERE namespace = :ns AND key = :key AND {LIVE}");
    let changed = conn
        .prepare_cached(&sql)?
        .execute(named_params! { ":now": secs(now_ms), ":ns": namespace, ":key": key })?;
    Ok(changed > 0)
}

/// The write half of [`super::put`]; runs inside its savepoint.
pub(crate) fn put(conn: &Connection, put: &Put<'_>, now_ms: i64) -> Result<PutOutcome, KvError> {
    let now = secs(now_ms);
    let sql = format!(
        "SELECT id, value, COALESCE({LIVE}, 0) FROM memory_entries
         WHERE namespace = :ns AND key = :key"
    );
    let existing: Option<(i64, String, bool)> = conn
        .prepare_cached(&sql)?
        .query_row(
            named_params! { ":now": now, ":ns": put.namespace, ":key": put.key },
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    let live = existing
        .as_ref()
        .filter(|(_, _, live)| *live)
        .map(|(_, value, _)| value.as_str());
    check_expect(put, live)?;

    // Whole seconds, rounded up so an entry never expires before its TTL.
    let ttl = put.ttl_ms.map(|ms| ms.saturating_add(999).div_euclid(1000));
    let expires_at = ttl.map(|t| now.saturating_add(t));
    let metadata = put.metadata.map(metadata_text).transpose()?;

    match existing {
        Some((id, _, true)) => {
            conn.prepare_cached(
                "UPDATE memory_entries SET
                   value = :value,
                   metadata = COALESCE(:metadata, metadata),
                   ttl = :ttl,
                   expires_at = :expires,
                   updated_at = :now
                 WHERE id = :id",
            )?
            .execute(named_params! {
                ":value": put.value,
                ":metadata": metadata,
                ":ttl": ttl,
                ":expires": expires_at,
                ":now": now,
                ":id": id,
            })?;
            Ok(PutOutcome::Updated)
        }
        dead_or_none => {
            if let Some((id, _, _)) = dead_or_none {
                conn.prepare_cached("DELETE FROM memory_entries WHERE id = ?1")?
                    .execute([id])?;
            }
            conn.prepare_cached(
                "INSERT INTO memory_entries (
                   key, value, namespace, metadata, created_at, updated_at,
                   accessed_at, ttl, expires_at)
                 VALUES (:key, :value, :ns, :metadata, :now, :now, :now, :ttl, :expires)",
            )?
            .execute(named_params! {
                ":key": put.key,
                ":value": put.value,
                ":ns": put.namespace,
                ":metadata": metadata,
                ":now": now,
                ":ttl": ttl,
                ":expires": expires_at,
            })?;
            Ok(PutOutcome::Created)
        }
    }
}

/// The row for a key whatever its state (v2 rows are live unless expired:
/// deletes remove them).
pub(crate) fn peek(
    conn: &Connection,
    namespace: &str,
    key: &str,
    now_ms: i64,
) -> Result<Option<super::Peek>, KvError> {
    let sql = format!(
        "SELECT value, updated_at, COALESCE({LIVE}, 0) FROM memory_entries WHERE namespace = :ns AND key = :key"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(
            named_params! { ":now": secs(now_ms), ":ns": namespace, ":key": key },
            |row| {
                Ok(super::Peek {
                    value: row.get(0)?,
                    updated_at_ms: row
                        .get::<_, Option<i64>>(1)?
                        .unwrap_or(0)
                        .saturating_mul(1000),
                    live: row.get(2)?,
                })
            },
        )
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_conversions_floor_and_saturate() {
        assert_eq!(secs(1_999), 1);
        assert_eq!(secs(-1), -1);
        assert_eq!(millis(2), 2_000);
        assert_eq!(millis(i64::MAX), i64::MAX);
    }
}
