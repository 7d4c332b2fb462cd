//! Reads and writes of a claude-flow v3 `memory_entries` table: TEXT ids,
//! `content`, millisecond times, `status` soft deletes.
//!
//! New rows look like claude-flow's own: id `entry_<ms>_<hex>`, `type` and
//! `provenance_type` from the request, `tags` a JSON array or NULL when
//! there are none, `metadata` `'{}'`, `embedding` NULL with the column
//! defaults for `embedding_model` and `access_count`, `status` `'active'`.

use rusqlite::{named_params, Connection, OptionalExtension, Row};

use super::error::KvError;
use super::ids::new_entry_id;
use super::types::{Entry, Kind, Provenance, Put, PutOutcome, DEFAULT_NAMESPACE};
use super::{check_expect, metadata_text, owner_of, parse_metadata, parse_tags};

/// The condition for a row to be visible; binds `:now`.
const LIVE: &str = "status = 'active' AND (expires_at IS NULL OR expires_at > :now)";

/// The columns [`Raw::from_row`] reads, in order.
const COLUMNS: &str = "id, namespace, key, content, type, tags, metadata, owner_id, \
     provenance_type, created_at, updated_at, expires_at, access_count, last_accessed_at";

/// One row as stored, before its text columns are interpreted.
struct Raw {
    id: Option<String>,
    namespace: Option<String>,
    key: String,
    content: String,
    kind: Option<String>,
    tags: Option<String>,
    metadata: Option<String>,
    owner_id: Option<String>,
    provenance: Option<String>,
    created_at: i64,
    updated_at: i64,
    expires_at: Option<i64>,
    access_count: Option<i64>,
    last_accessed_at: Option<i64>,
}

impl Raw {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Raw> {
        Ok(Raw {
            id: row.get(0)?,
            namespace: row.get(1)?,
            key: row.get(2)?,
            content: row.get(3)?,
            kind: row.get(4)?,
            tags: row.get(5)?,
            metadata: row.get(6)?,
            owner_id: row.get(7)?,
            provenance: row.get(8)?,
            created_at: row.get(9)?,
            updated_at: row.get(10)?,
            expires_at: row.get(11)?,
            access_count: row.get(12)?,
            last_accessed_at: row.get(13)?,
        })
    }

    fn into_entry(self) -> Result<Entry, KvError> {
        let namespace = self
            .namespace
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
        let corrupt = |reason: String| KvError::Corrupt {
            namespace: namespace.clone(),
            key: self.key.clone(),
            reason,
        };
        let kind = match self.kind.as_deref() {
            None => Kind::default(),
            Some(text) => text.parse().map_err(|e: KvError| corrupt(e.to_string()))?,
        };
        let provenance = match self.provenance.as_deref() {
            None => Provenance::Unknown,
            Some(text) => text.parse().map_err(|e: KvError| corrupt(e.to_string()))?,
        };
        Ok(Entry {
            id: self.id.unwrap_or_default(),
            tags: parse_tags(self.tags.as_deref()),
            metadata: parse_metadata(self.metadata),
            namespace,
            key: self.key,
            value: self.content,
            kind,
            owner_id: self.owner_id,
            provenance,
            created_at_ms: self.created_at,
            updated_at_ms: self.updated_at,
            expires_at_ms: self.expires_at,
            access_count: self.access_count.unwrap_or(0),
            last_accessed_at_ms: self.last_accessed_at,
        })
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
         SET access_count = COALESCE(access_count, 0) + 1, last_accessed_at = :now
         WHERE namespace = :ns AND key = :key AND {LIVE}
         RETURNING {COLUMNS}"
    );
    let raw = conn
        .prepare_cached(&sql)?
        .query_row(
            named_params! { ":now": now_ms, ":ns": namespace, ":key": key },
            Raw::from_row,
        )
        .optional()?;
    raw.map(Raw::into_entry).transpose()
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
        named_params! { ":now": now_ms, ":ns": namespace, ":prefix": prefix, ":limit": limit },
        Raw::from_row,
    )?;
    rows.map(|raw| raw.map_err(KvError::from).and_then(Raw::into_entry))
        .collect()
}

pub(crate) fn delete(
    conn: &Connection,
    namespace: &str,
    key: &str,
    now_ms: i64,
) -> Result<bool, KvError> {
    let sql = format!(
        "UPDATE memory_entries
         SET status = 'deleted', embedding = NULL, updated_at = :now
         WHERE namespace = :ns AND key = :key AND {LIVE}"
    );
    let changed = conn
        .prepare_cached(&sql)?
        .execute(named_params! { ":now": now_ms, ":ns": namespace, ":key": key })?;
    Ok(changed > 0)
}

/// The write half of [`super::put`]; runs inside its savepoint.
pub(crate) fn put(conn: &Connection, put: &Put<'_>, now_ms: i64) -> Result<PutOutcome, KvError> {
    let sql = format!(
        "SELECT rowid, content, COALESCE(({LIVE}), 0) FROM memory_entries WHERE namespace = :ns AND key = :key"
    );
    let existing: Option<(i64, String, bool)> = conn
        .prepare_cached(&sql)?
        .query_row(
            named_params! { ":now": now_ms, ":ns": put.namespace, ":key": put.key },
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    let live = existing
        .as_ref()
        .filter(|(_, _, live)| *live)
        .map(|(_, content, _)| content.as_str());
    check_expect(put, live)?;

    // validate_put has ruled out an overflow.
    let expires_at = put.ttl_ms.map(|ttl| now_ms.saturating_add(ttl));
    let tags = if put.tags.is_empty() {
        None
    } else {
        Some(
            serde_json::to_string(put.tags)
                .map_err(|e| KvError::invalid("tags", format!("cannot be serialised: {e}")))?,
        )
    };
    let metadata = put.metadata.map(metadata_text).transpose()?;

    let cols = Columns {
        expires_at,
        tags: tags.as_deref(),
        metadata: metadata.as_deref(),
    };
    match existing {
        Some((rowid, _, true)) => {
            update(conn, put, rowid, &cols, now_ms)?;
            Ok(PutOutcome::Updated)
        }
        dead_or_none => {
            if let Some((rowid, _, _)) = dead_or_none {
                conn.prepare_cached("DELETE FROM memory_entries WHERE rowid = ?1")?
                    .execute([rowid])?;
            }
            insert(conn, put, &cols, now_ms)?;
            Ok(PutOutcome::Created)
        }
    }
}

/// The columns of a put that are computed before they are stored.
struct Columns<'a> {
    expires_at: Option<i64>,
    tags: Option<&'a str>,
    metadata: Option<&'a str>,
}

/// Overwrites the live row `rowid`, keeping what the put does not give.
fn update(
    conn: &Connection,
    put: &Put<'_>,
    rowid: i64,
    cols: &Columns<'_>,
    now_ms: i64,
) -> Result<(), KvError> {
    conn.prepare_cached(
        "UPDATE memory_entries SET
           embedding = CASE WHEN content = :content THEN embedding ELSE NULL END,
           embedding_dimensions =
             CASE WHEN content = :content THEN embedding_dimensions ELSE NULL END,
           content = :content,
           updated_at = :now,
           expires_at = :expires,
           tags = COALESCE(:tags, tags),
           metadata = COALESCE(:metadata, metadata),
           type = COALESCE(:kind, type),
           owner_id = COALESCE(:owner, owner_id),
           provenance_type = :provenance
         WHERE rowid = :rowid",
    )?
    .execute(named_params! {
        ":content": put.value,
        ":now": now_ms,
        ":expires": cols.expires_at,
        ":tags": cols.tags,
        ":metadata": cols.metadata,
        ":kind": put.kind.map(Kind::as_str),
        ":owner": owner_of(put),
        ":provenance": put.provenance.as_str(),
        ":rowid": rowid,
    })?;
    Ok(())
}

/// Inserts a new row shaped like claude-flow's own.
fn insert(
    conn: &Connection,
    put: &Put<'_>,
    cols: &Columns<'_>,
    now_ms: i64,
) -> Result<(), KvError> {
    conn.prepare_cached(
        "INSERT INTO memory_entries (
           id, key, namespace, content, type, tags, metadata, owner_id,
           provenance_type, created_at, updated_at, expires_at, status)
         VALUES (:id, :key, :ns, :content, :kind, :tags, :metadata, :owner,
           :provenance, :now, :now, :expires, 'active')",
    )?
    .execute(named_params! {
        ":id": new_entry_id(now_ms),
        ":key": put.key,
        ":ns": put.namespace,
        ":content": put.value,
        ":kind": put.kind.unwrap_or_default().as_str(),
        ":tags": cols.tags,
        ":metadata": cols.metadata.unwrap_or("{}"),
        ":owner": owner_of(put),
        ":provenance": put.provenance.as_str(),
        ":now": now_ms,
        ":expires": cols.expires_at,
    })?;
    Ok(())
}

/// The row for a key whatever its state: its content, last write (ms) and
/// whether it is live.
pub(crate) fn peek(
    conn: &Connection,
    namespace: &str,
    key: &str,
    now_ms: i64,
) -> Result<Option<super::Peek>, KvError> {
    let sql = format!(
        "SELECT content, updated_at, COALESCE(({LIVE}), 0) FROM memory_entries WHERE namespace = :ns AND key = :key"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(
            named_params! { ":now": now_ms, ":ns": namespace, ":key": key },
            |row| {
                Ok(super::Peek {
                    value: row.get(0)?,
                    updated_at_ms: row.get::<_, Option<i64>>(1)?.unwrap_or(0),
                    live: row.get(2)?,
                })
            },
        )
        .optional()?)
}
