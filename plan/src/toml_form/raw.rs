//! The serde shapes of a TOML plan, field for field: what [`super::parse`]
//! reads and [`super::write`] writes. Values are the markdown phrases,
//! parsed by the same code; spans give diagnostics their lines.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPlan {
    #[serde(default)]
    pub(super) name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(super) properties: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) day: Vec<RawDay>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) task: Vec<RawTask>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) matrix: Vec<Spanned<RawMatrixRow>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) checkpoint: Vec<Spanned<RawCheckpoint>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDay {
    pub(super) number: Spanned<u32>,
    #[serde(default)]
    pub(super) title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) duration: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) exit_criteria: Vec<RawCriterion>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) window: Vec<RawWindow>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWindow {
    pub(super) name: Spanned<String>,
    pub(super) duration: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) checklist: Vec<RawCriterion>,
}

/// A task's window: by name, or by position from 1 when names repeat.
#[derive(Serialize, Deserialize, Clone)]
#[serde(untagged)]
pub(super) enum RawWindowRef {
    Name(String),
    Number(usize),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCriterion {
    pub(super) text: String,
    #[serde(default)]
    pub(super) done: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) check: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTask {
    pub(super) id: Spanned<String>,
    #[serde(default)]
    pub(super) title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) day: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) window: Option<RawWindowRef>,
    pub(super) agent: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) priority: Option<Spanned<String>>,
    pub(super) duration: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) depends_on: Option<Spanned<Vec<String>>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) deliverables: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) success_criteria: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) blocking: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) run: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) check: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) timeout: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) retries: Option<Spanned<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) gang: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) workspace: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) touches: Option<Spanned<Vec<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) pool: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) note: Vec<RawNote>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNote {
    pub(super) field: String,
    #[serde(default)]
    pub(super) value: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) body: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMatrixRow {
    pub(super) day: u32,
    #[serde(default)]
    pub(super) phase: String,
    #[serde(default)]
    pub(super) agents_required: String,
    #[serde(default)]
    pub(super) specializations: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCheckpoint {
    pub(super) name: String,
    pub(super) time: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) agenda: Vec<String>,
}
