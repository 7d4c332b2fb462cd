//! The allocation matrix table of a markdown plan
//! (`| Day | Phase | Agents Required | Specializations |`): its first row
//! says which column holds what, in any order; each later row becomes a
//! [`MatrixRow`].

use super::phrases::clip;
use crate::fields::parse_role_counts;
use crate::model::MatrixRow;

/// Column positions of the allocation matrix table.
#[derive(Clone, Copy, Default)]
pub(super) struct MatrixColumns {
    day: Option<usize>,
    phase: Option<usize>,
    agents: Option<usize>,
    roles: Option<usize>,
}

impl MatrixColumns {
    /// The columns named by a header row, by the words in their titles.
    pub(super) fn find(cells: &[&str]) -> Self {
        let find = |words: &[&str]| {
            cells.iter().position(|c| {
                let c = c.to_ascii_lowercase();
                words.iter().any(|w| c.contains(w))
            })
        };
        MatrixColumns {
            day: find(&["day"]),
            phase: find(&["phase"]),
            agents: find(&["agents", "count"]),
            roles: find(&["special", "role"]),
        }
    }

    /// A body row, or why it is ignored (its Day cell holds no number).
    /// Specializations that are not role counts are kept as a swarm phrase.
    pub(super) fn row(&self, cells: &[&str]) -> Result<MatrixRow, String> {
        let cell = |i: Option<usize>| i.and_then(|i| cells.get(i)).copied().unwrap_or("");
        let day_text = cell(self.day);
        let digits = day_text.trim_start_matches(|c: char| !c.is_ascii_digit());
        let Ok(day) = digits.trim().parse::<u32>() else {
            return Err(format!("allocation matrix row with day '{}' is ignored: the Day column must hold a day number", clip(day_text)));
        };
        let spec = cell(self.roles);
        let (roles, swarm) = match parse_role_counts(spec) {
            Some(roles) => (roles, None),
            None => (Vec::new(), Some(spec.to_string())),
        };
        Ok(MatrixRow {
            day,
            phase: cell(self.phase).to_string(),
            agents_required: cell(self.agents).to_string(),
            roles,
            swarm,
        })
    }
}
