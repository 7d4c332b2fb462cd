//! One `memory_entries` row as swarmd keeps it, whatever the file's
//! layout: every claude-flow v3 column, raw (text stays text, so a row of
//! the other tool goes back into the file exactly as it came out), times
//! in milliseconds. A v2 row reads into it with the v3 columns v2 lacks
//! left empty, and is written back in v2's own terms (see `file`).

use crate::kv::{self, Entry, Kind, Provenance, DEFAULT_NAMESPACE};

/// A `memory_entries` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// `entry_<ms>_<hex>` in v3, the integer id as text in v2; empty for a
    /// row swarmd created that no v2 file has numbered yet.
    pub id: String,
    /// Namespace (NULL reads as `default`).
    pub namespace: String,
    /// Key.
    pub key: String,
    /// `content` in v3, `value` in v2.
    pub content: String,
    /// `type` (v3).
    pub kind: Option<String>,
    /// `embedding` (v3).
    pub embedding: Option<String>,
    /// `embedding_model` (v3).
    pub embedding_model: Option<String>,
    /// `embedding_dimensions` (v3).
    pub embedding_dimensions: Option<i64>,
    /// `tags`, a JSON array (v3).
    pub tags: Option<String>,
    /// `metadata`, a JSON object.
    pub metadata: Option<String>,
    /// `owner_id` (v3).
    pub owner_id: Option<String>,
    /// `provenance_type` (v3).
    pub provenance: Option<String>,
    /// Created, ms.
    pub created_at: i64,
    /// Last written, ms: what merges compare.
    pub updated_at: i64,
    /// Expires, ms.
    pub expires_at: Option<i64>,
    /// Last read, ms.
    pub last_accessed_at: Option<i64>,
    /// Reads counted.
    pub access_count: i64,
    /// `active`, `archived` or `deleted` (v2 rows are `active`).
    pub status: String,
}

/// The status of a deleted row (a tombstone).
pub const DELETED: &str = "deleted";

impl Row {
    /// Whether reads see it: active and not expired at `now_ms`.
    pub fn live(&self, now_ms: i64) -> bool {
        self.status == "active" && self.expires_at.is_none_or(|at| at > now_ms)
    }

    /// Whether the row is a tombstone.
    pub fn deleted(&self) -> bool {
        self.status == DELETED
    }

    /// Whether both hold the same write: every column but the read
    /// statistics, times compared at `grain` ms (1000 for v2's seconds).
    pub fn same_write(&self, other: &Row, grain: i64) -> bool {
        let t = |ms: i64| ms.div_euclid(grain);
        let opt = |ms: Option<i64>| ms.map(t);
        self.id == other.id
            && self.content == other.content
            && self.status == other.status
            && t(self.updated_at) == t(other.updated_at)
            && t(self.created_at) == t(other.created_at)
            && opt(self.expires_at) == opt(other.expires_at)
            && self.kind == other.kind
            && self.tags == other.tags
            && self.metadata == other.metadata
            && self.owner_id == other.owner_id
            && self.provenance == other.provenance
            && self.embedding == other.embedding
            && self.embedding_model == other.embedding_model
            && self.embedding_dimensions == other.embedding_dimensions
    }

    /// The entry a read returns. Text the vocabularies do not know reads
    /// as their default rather than failing the read.
    pub fn to_entry(&self) -> Entry {
        let namespace = if self.namespace.is_empty() {
            DEFAULT_NAMESPACE.to_string()
        } else {
            self.namespace.clone()
        };
        Entry {
            id: self.id.clone(),
            namespace,
            key: self.key.clone(),
            value: self.content.clone(),
            kind: self
                .kind
                .as_deref()
                .and_then(|k| k.parse().ok())
                .unwrap_or(Kind::Semantic),
            tags: kv::parse_tags(self.tags.as_deref()),
            metadata: kv::parse_metadata(self.metadata.clone()),
            owner_id: self.owner_id.clone(),
            provenance: self
                .provenance
                .as_deref()
                .and_then(|p| p.parse().ok())
                .unwrap_or(Provenance::Unknown),
            created_at_ms: self.created_at,
            updated_at_ms: self.updated_at,
            expires_at_ms: self.expires_at,
            access_count: self.access_count,
            last_accessed_at_ms: self.last_accessed_at,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A live v3 row written at `at`.
    pub(crate) fn row(key: &str, content: &str, at: i64) -> Row {
        Row {
            id: format!("entry_{at}_{key}"),
            namespace: "default".into(),
            key: key.into(),
            content: content.into(),
            kind: Some("semantic".into()),
            embedding: None,
            embedding_model: Some("local".into()),
            embedding_dimensions: None,
            tags: None,
            metadata: Some("{}".into()),
            owner_id: None,
            provenance: Some("agent_output".into()),
            created_at: at,
            updated_at: at,
            expires_at: None,
            last_accessed_at: None,
            access_count: 0,
            status: "active".into(),
        }
    }

    #[test]
    fn liveness_and_sameness() {
        let a = row("k", "v", 1_500);
        assert!(a.live(2_000));
        let mut expiring = a.clone();
        expiring.expires_at = Some(2_000);
        assert!(!expiring.live(2_000), "expired at its expiry");
        let mut read = a.clone();
        read.access_count = 9;
        assert!(a.same_write(&read, 1), "reads are not writes");
        let mut later = a.clone();
        later.updated_at = 1_900;
        assert!(!a.same_write(&later, 1));
        assert!(a.same_write(&later, 1000), "the same second in v2");
        assert_eq!(a.to_entry().value, "v");
    }
}
