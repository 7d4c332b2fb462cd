//! The plan model both surface syntaxes (markdown and TOML) compile to.
//!
//! This is the plan *as written*: role phrases and dependency references
//! are kept as the author put them, so a plan converts between markdown and
//! TOML without losing anything. [`crate::compile()`] resolves them against
//! the role catalogue and the plan's own tasks and days.

mod more;
mod shared;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

pub use more::{More, TaskMore};
pub(crate) use shared::RoleLists;

/// A whole execution plan.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// The plan's title (the markdown `#` heading).
    pub name: String,
    /// Header properties such as `Date Created` or `Status`.
    pub properties: BTreeMap<String, String>,
    /// Days in the order written.
    pub days: Vec<Day>,
    /// Tasks in the order written.
    pub tasks: Vec<Task>,
    /// The agent allocation matrix: planned agents per role per day.
    pub matrix: Vec<MatrixRow>,
    /// Checkpoints of the coordination protocol, in the order written.
    pub checkpoints: Vec<Checkpoint>,
}

/// One plan day.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Day {
    /// Day number as written (`Day 3` is 3).
    pub number: u32,
    /// Title after the number.
    pub title: String,
    /// Planned working time of the day, when the heading gives it.
    pub duration: Option<PlanDuration>,
    /// The day's exit criteria (its gate).
    pub exit_criteria: Vec<Criterion>,
    /// The day's windows (`**Morning Sprint (4 hours)**`), in the order
    /// written, laid end to end from the start of the working day.
    pub windows: Vec<Window>,
}

impl Day {
    /// Lays the windows end to end: each one's offset is the sum of the
    /// durations before it. Both parsers call this once the day is read.
    pub fn lay_out_windows(&mut self) {
        let mut at = PlanDuration(0);
        for window in &mut self.windows {
            window.offset = at;
            at = PlanDuration(at.0.saturating_add(window.duration.0));
        }
    }

    /// Where the windows end, from the start of the working day.
    pub fn windows_end(&self) -> PlanDuration {
        self.windows
            .last()
            .map(|w| PlanDuration(w.offset.0.saturating_add(w.duration.0)))
            .unwrap_or_default()
    }
}

/// A section of a day opened by a bold line `**Name (N hours)**`. A task
/// listed under it sits in it ([`Task::window`]); under calendar pace it
/// does not start before the window opens.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Window {
    /// Name as written (`Morning Sprint`).
    pub name: String,
    /// Length as written.
    pub duration: PlanDuration,
    /// When it opens, from the start of the working day: the durations of
    /// the day's earlier windows added up (see [`Day::lay_out_windows`]).
    /// Derived, never written out.
    pub offset: PlanDuration,
    /// The checkbox items (`- [ ]`, `- [x]`) listed under the heading
    /// before any task: a pre-flight list such as the seed's
    /// `Pre-Launch Checklist`, shown in the day's first report.
    pub checklist: Vec<Criterion>,
}

/// One exit criterion of a day.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Criterion {
    /// What must hold.
    pub text: String,
    /// Whether the plan's author ticked it (`- [x]`).
    pub done: bool,
    /// A shell command that checks it, when the author gave one.
    pub check: Option<String>,
}

/// One task of the plan.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Task {
    /// Task id as written (`1.1`, `2.10`, `3.2.1`).
    pub id: String,
    /// Title after the id.
    pub title: String,
    /// The day the task is listed under, if any.
    pub day: Option<u32>,
    /// Index into its day's [`Day::windows`] of the window it is listed
    /// under; `None` before the day's first window (or in a day without).
    pub window: Option<usize>,
    /// Who works on it.
    pub agents: Agents,
    /// Priority, P0 first.
    pub priority: Priority,
    /// Planned duration.
    pub duration: PlanDuration,
    /// What it waits for: `None` when the task has no Dependencies field
    /// (it then waits for the tasks of the nearest earlier window of its
    /// day that has tasks, or when there is none for every task of the
    /// previous day), `Some(vec![])` for an explicit `None`.
    pub depends: Option<Vec<DepRef>>,
    /// Shell command the task runs.
    pub run: Option<String>,
    /// Who of a gang (a task needing several roles) runs it.
    pub gang: Gang,
    /// Whether it works in the plan's repository (`**Workspace**: none`
    /// says it touches no code).
    pub workspace: crate::claims::Workspace,
    /// The fields most tasks leave out (deliverables, criteria, checks,
    /// image, limits, claims, pool, notes), boxed together: read and
    /// written as fields of the task itself (`task.checks`), through
    /// [`Task`]'s `Deref` to [`TaskMore`].
    pub more: More,
}

impl std::ops::Deref for Task {
    type Target = TaskMore;

    fn deref(&self) -> &TaskMore {
        &self.more
    }
}

impl std::ops::DerefMut for Task {
    fn deref_mut(&mut self) -> &mut TaskMore {
        &mut self.more
    }
}

/// A pool name as a plan or config gives it: letters, digits, `-` and
/// `_`, at most 64.
///
/// # Errors
/// What is wrong with it, naming it.
pub fn parse_pool(text: &str) -> Result<String, String> {
    let name = text.trim().trim_matches('`');
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(name.to_string())
    } else {
        Err(format!(
            "malformed pool '{name}': expected a name of letters, digits, '-' and '_' (at most 64)"
        ))
    }
}

/// Who of a gang runs its task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Gang {
    /// Every member runs it with its own role; the attempt succeeds when
    /// all do (`**Gang**: all`, the default).
    #[default]
    All,
    /// Only the first member runs it; the others are reserved
    /// (`**Gang**: lead`).
    Lead,
}

impl Gang {
    /// `all` or `lead`.
    pub fn name(self) -> &'static str {
        match self {
            Gang::All => "all",
            Gang::Lead => "lead",
        }
    }

    /// Parses `all` or `lead` (any case).
    pub fn parse(text: &str) -> Result<Gang, String> {
        match text.trim().to_lowercase().as_str() {
            "all" => Ok(Gang::All),
            "lead" => Ok(Gang::Lead),
            other => Err(format!(
                "gang '{other}' must be 'all' (every member runs the task) or 'lead' (only the first does)"
            )),
        }
    }
}

/// A task field the model does not interpret, kept for round trips.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Note {
    /// Field name as written.
    pub field: String,
    /// Text after the colon.
    pub value: String,
    /// Following lines (sub-bullets, code blocks), verbatim.
    pub body: Vec<String>,
}

/// Who a task needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Agents {
    /// One agent per phrase, all at once (a gang when more than one); the
    /// first is the lead. Phrases are as written (`DevOps Engineer`).
    Roles(Arc<[String]>),
    /// `Full Swarm (8-10 agents)`: at least `min` agents of any role.
    Swarm {
        /// Fewest agents the task starts with.
        min: u32,
        /// Most agents it can use, when given.
        max: Option<u32>,
    },
    /// `Full Swarm (monitoring mode)`: every connected agent, at least one.
    Monitoring,
}

impl Default for Agents {
    fn default() -> Self {
        Agents::Roles(Arc::from([]))
    }
}

/// Task priority; P0 is the most urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Priority {
    /// Critical.
    P0,
    /// High.
    P1,
    /// Normal (the default when a task gives none).
    #[default]
    P2,
    /// Low.
    P3,
}

impl Priority {
    /// All priorities, most urgent first.
    pub const ALL: [Priority; 4] = [Priority::P0, Priority::P1, Priority::P2, Priority::P3];

    /// 0 for P0 up to 3 for P3.
    pub fn level(self) -> u8 {
        self as u8
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P{}", self.level())
    }
}

/// A span of plan time, in whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PlanDuration(pub u64);

impl PlanDuration {
    /// One hour.
    pub const HOUR: PlanDuration = PlanDuration(3600);

    /// Whole seconds.
    pub fn secs(self) -> u64 {
        self.0
    }

    /// Hours, as a fraction.
    pub fn hours(self) -> f64 {
        self.0 as f64 / 3600.0
    }
}

impl fmt::Display for PlanDuration {
    /// Writes the shortest exact form the parsers read back:
    /// `2 hours`, `1 hour`, `1.5 hours`, `90 minutes`, `45s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        if s.is_multiple_of(3600) {
            let h = s / 3600;
            write!(f, "{h} hour{}", if h == 1 { "" } else { "s" })
        } else if s.is_multiple_of(900) && s > 3600 {
            write!(f, "{} hours", s as f64 / 3600.0)
        } else if s.is_multiple_of(60) {
            let m = s / 60;
            write!(f, "{m} minute{}", if m == 1 { "" } else { "s" })
        } else {
            write!(f, "{s}s")
        }
    }
}

/// One reference in a task's dependencies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DepRef {
    /// `Task 1.2`, or `Day 1 Task 1.4` (then `day` is `Some(1)`).
    Task {
        /// Referenced task id.
        id: String,
        /// The day the author said the task is in.
        day: Option<u32>,
    },
    /// `Day 5`: every task of that day.
    Day(u32),
    /// `Days 1-7`: every task of those days, inclusive.
    Days(u32, u32),
}

impl fmt::Display for DepRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DepRef::Task { id, day: None } => write!(f, "Task {id}"),
            DepRef::Task { id, day: Some(d) } => write!(f, "Day {d} Task {id}"),
            DepRef::Day(d) => write!(f, "Day {d}"),
            DepRef::Days(a, b) => write!(f, "Days {a}-{b}"),
        }
    }
}

/// One row of the agent allocation matrix.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MatrixRow {
    /// Plan day the row is for.
    pub day: u32,
    /// Phase name, as written.
    pub phase: String,
    /// Agents required, as written (`6`, `8-10`).
    pub agents_required: String,
    /// Planned agents per role, as written (`DevOps (2)` is ("DevOps", 2)).
    /// Empty when the row activates the full swarm.
    pub roles: Vec<(String, u32)>,
    /// The specialisations cell when it is not a role list
    /// (`Full swarm activation`).
    pub swarm: Option<String>,
}

/// One checkpoint of the coordination protocol.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Checkpoint {
    /// Name as written (`Daily Standup`).
    pub name: String,
    /// Minutes after midnight (9:00 AM is 540).
    pub minute_of_day: u16,
    /// The agenda items listed under it.
    pub agenda: Vec<String>,
}

impl Checkpoint {
    /// The time as `HH:MM`.
    pub fn time_label(&self) -> String {
        format!(
            "{:02}:{:02}",
            self.minute_of_day / 60,
            self.minute_of_day % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_display_in_their_shortest_exact_form() {
        assert_eq!(PlanDuration(7200).to_string(), "2 hours");
        assert_eq!(PlanDuration(3600).to_string(), "1 hour");
        assert_eq!(PlanDuration(5400).to_string(), "1.5 hours");
        assert_eq!(PlanDuration(2700).to_string(), "45 minutes");
        assert_eq!(PlanDuration(60).to_string(), "1 minute");
        assert_eq!(PlanDuration(45).to_string(), "45s");
    }
}
