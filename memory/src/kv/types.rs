//! The domain types of the key/value memory: an [`Entry`] as read back, a
//! [`Put`] request with its defaults, and the closed vocabularies claude-flow
//! enforces with CHECK constraints ([`Kind`], [`Provenance`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::KvError;

/// The namespace used when none is given, as in claude-flow.
pub const DEFAULT_NAMESPACE: &str = "default";

/// What sort of memory an entry is: the `type` column of claude-flow v3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Facts and knowledge (claude-flow's default).
    #[default]
    Semantic,
    /// Things that happened.
    Episodic,
    /// How to do something.
    Procedural,
    /// Short-lived scratch state.
    Working,
    /// A learned pattern.
    Pattern,
}

impl Kind {
    /// Every kind, in claude-flow's CHECK order.
    pub const ALL: [Kind; 5] = [
        Kind::Semantic,
        Kind::Episodic,
        Kind::Procedural,
        Kind::Working,
        Kind::Pattern,
    ];

    /// The text stored in the `type` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Semantic => "semantic",
            Kind::Episodic => "episodic",
            Kind::Procedural => "procedural",
            Kind::Working => "working",
            Kind::Pattern => "pattern",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = KvError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                KvError::invalid(
                    "type",
                    format!("'{s}' is not one of semantic, episodic, procedural, working, pattern"),
                )
            })
    }
}

/// Who or what produced an entry: the `provenance_type` column of
/// claude-flow v3 (its ADR-323), so readers can weigh a user's claim
/// differently from an agent's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// Something a user stated.
    UserClaim,
    /// Something an agent produced (the default for writes from agents and tasks).
    #[default]
    AgentOutput,
    /// Something the system observed.
    SystemObservation,
    /// The result of a tool call.
    ToolResult,
    /// Not recorded (claude-flow's column default and what v2 rows read as).
    Unknown,
}

impl Provenance {
    /// Every provenance, in claude-flow's CHECK order.
    pub const ALL: [Provenance; 5] = [
        Provenance::UserClaim,
        Provenance::AgentOutput,
        Provenance::SystemObservation,
        Provenance::ToolResult,
        Provenance::Unknown,
    ];

    /// The text stored in the `provenance_type` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Provenance::UserClaim => "user_claim",
            Provenance::AgentOutput => "agent_output",
            Provenance::SystemObservation => "system_observation",
            Provenance::ToolResult => "tool_result",
            Provenance::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Provenance {
    type Err = KvError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provenance::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                KvError::invalid(
                    "provenance_type",
                    format!(
                        "'{s}' is not one of user_claim, agent_output, \
                         system_observation, tool_result, unknown"
                    ),
                )
            })
    }
}

/// One live entry as read back. Times are milliseconds since the Unix epoch
/// whatever the layout (v2 seconds are multiplied by 1000).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Row id: `entry_<ms>_<hex>` in v3, the integer id as text in v2.
    pub id: String,
    /// Namespace (a NULL namespace reads as `default`).
    pub namespace: String,
    /// Key, unique within the namespace.
    pub key: String,
    /// The stored value (`content` in v3, `value` in v2).
    pub value: String,
    /// The `type` column (always `Semantic` for v2, which has none).
    pub kind: Kind,
    /// Tags (v3 `tags` JSON array; empty when NULL, and always empty in v2).
    pub tags: Vec<String>,
    /// The `metadata` JSON (an empty object when NULL; a JSON string holding
    /// the raw text if the column is not valid JSON).
    pub metadata: serde_json::Value,
    /// The `owner_id` column (always `None` in v2).
    pub owner_id: Option<String>,
    /// The `provenance_type` column (always `Unknown` in v2).
    pub provenance: Provenance,
    /// When the entry was created.
    pub created_at_ms: i64,
    /// When the entry was last written.
    pub updated_at_ms: i64,
    /// When it stops being visible, if it has a TTL.
    pub expires_at_ms: Option<i64>,
    /// How many reads have returned it (including the one that returned this).
    pub access_count: i64,
    /// When it was last read.
    pub last_accessed_at_ms: Option<i64>,
}

/// A compare-and-swap condition on the live entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expect {
    /// Write only if there is no live entry (absent, deleted or expired).
    Absent,
    /// Write only if the live entry holds exactly this value.
    Value(String),
}

/// What a successful [`put`](super::put) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PutOutcome {
    /// A new entry (possibly replacing a deleted or expired row).
    Created,
    /// The live entry was overwritten; it kept its id and creation time.
    Updated,
}

/// One write. Build it with [`Put::new`] and adjust the public fields or
/// use the `with_*` methods.
///
/// On an update, the fields that are not given (`None`, or no tags) keep
/// what the entry had (`kind`, `tags`, `owner_id`, `metadata`); `value`,
/// `ttl_ms` and `provenance` are always applied (no TTL clears an earlier
/// expiry). [`Put::default`] is [`Put::new`] with an empty key and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Put<'a> {
    /// Namespace; [`DEFAULT_NAMESPACE`] unless set.
    pub namespace: &'a str,
    /// Key: 1 to 1024 bytes.
    pub key: &'a str,
    /// The value to store.
    pub value: &'a str,
    /// Time to live in milliseconds from the write; `None` never expires.
    /// The v2 layout stores whole seconds, rounded up.
    pub ttl_ms: Option<i64>,
    /// Compare-and-swap condition; `None` writes unconditionally.
    pub expect: Option<Expect>,
    /// Tags; empty keeps the existing ones on update (and stores NULL on
    /// create, as claude-flow does). Not stored by the v2 layout, which has
    /// no column for them.
    pub tags: &'a [String],
    /// Kind; `None` keeps the existing one on update (`Semantic` on create).
    /// Not stored by the v2 layout.
    pub kind: Option<Kind>,
    /// Owner; `None` (or an empty string) keeps the existing one on update
    /// and stores NULL on create. Not stored by v2.
    pub owner_id: Option<&'a str>,
    /// Who produced the value; [`Provenance::AgentOutput`] unless set.
    /// Not stored by the v2 layout.
    pub provenance: Provenance,
    /// Metadata, which must be a JSON object; `None` keeps the existing
    /// metadata on update (`{}` on a v3 create, NULL on a v2 create).
    pub metadata: Option<&'a serde_json::Value>,
}

impl Default for Put<'_> {
    fn default() -> Self {
        Put::new("", "")
    }
}

impl<'a> Put<'a> {
    /// An unconditional, untagged, non-expiring write of `value` under `key`
    /// in the default namespace, attributed to an agent.
    pub fn new(key: &'a str, value: &'a str) -> Self {
        Put {
            namespace: DEFAULT_NAMESPACE,
            key,
            value,
            ttl_ms: None,
            expect: None,
            tags: &[],
            kind: None,
            owner_id: None,
            provenance: Provenance::default(),
            metadata: None,
        }
    }

    /// Sets the namespace.
    pub fn with_namespace(mut self, namespace: &'a str) -> Self {
        self.namespace = namespace;
        self
    }

    /// Sets a time to live in milliseconds.
    pub fn with_ttl_ms(mut self, ttl_ms: i64) -> Self {
        self.ttl_ms = Some(ttl_ms);
        self
    }

    /// Makes the write conditional.
    pub fn with_expect(mut self, expect: Expect) -> Self {
        self.expect = Some(expect);
        self
    }

    /// Sets the tags.
    pub fn with_tags(mut self, tags: &'a [String]) -> Self {
        self.tags = tags;
        self
    }

    /// Sets the kind.
    pub fn with_kind(mut self, kind: Kind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Sets the owner (an empty string counts as none).
    pub fn with_owner(mut self, owner_id: &'a str) -> Self {
        self.owner_id = Some(owner_id);
        self
    }

    /// Sets the provenance.
    pub fn with_provenance(mut self, provenance: Provenance) -> Self {
        self.provenance = provenance;
        self
    }

    /// Sets the metadata (must be a JSON object).
    pub fn with_metadata(mut self, metadata: &'a serde_json::Value) -> Self {
        self.metadata = Some(metadata);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_round_trip_and_reject_unknown_words() {
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>().unwrap(), k);
        }
        for p in Provenance::ALL {
            assert_eq!(p.as_str().parse::<Provenance>().unwrap(), p);
        }
        let err = "fact".parse::<Kind>().unwrap_err().to_string();
        assert!(err.contains("semantic, episodic"), "{err}");
        let err = "rumour".parse::<Provenance>().unwrap_err().to_string();
        assert!(err.contains("user_claim"), "{err}");
    }

    #[test]
    fn put_defaults_match_claude_flow_and_agent_writes() {
        let p = Put::new("k", "v");
        assert_eq!(p.namespace, "default");
        assert_eq!(p.provenance, Provenance::AgentOutput);
        assert_eq!(p.kind, None);
        assert_eq!(p.expect, None);
    }
}
