//! The fields of a task that most tasks leave out, kept in one box that a
//! task without any of them does not allocate: a million-task plan keeps
//! every task resident, and these fields inline cost about 200 bytes a
//! task.

use std::ops::{Deref, DerefMut};

use super::{Note, PlanDuration};

/// A task's rarely given fields. Reached through [`super::Task`]'s
/// `Deref`, so `task.checks` reads (and, on a `&mut Task`, writes) them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TaskMore {
    /// Deliverables, one item each; nested items start with two spaces per
    /// level of nesting.
    pub deliverables: Vec<String>,
    /// Success criteria, nested like deliverables.
    pub success_criteria: Vec<String>,
    /// What this task blocks, as prose.
    pub blocking: Option<String>,
    /// Shell commands that check the result, in order.
    pub checks: Vec<String>,
    /// Container image to run the task in.
    pub image: Option<String>,
    /// Wall-clock limit of one attempt.
    pub timeout: Option<PlanDuration>,
    /// Extra attempts after a failure.
    pub retries: Option<u32>,
    /// The repository paths it claims (`**Touches**`), gitignore-style
    /// globs from the root: tasks whose claims overlap never run at once.
    pub touches: Vec<String>,
    /// The pool of a rate-limited API it draws on (`**Pool**: NAME`);
    /// `None`: its role's, else the config's default pool.
    pub pool: Option<String>,
    /// Any other `**Field**:` bullets, kept verbatim.
    pub notes: Vec<Note>,
}

/// What a task without any of the fields reads.
static NONE: TaskMore = TaskMore {
    deliverables: Vec::new(),
    success_criteria: Vec::new(),
    blocking: None,
    checks: Vec::new(),
    image: None,
    timeout: None,
    retries: None,
    touches: Vec::new(),
    pool: None,
    notes: Vec::new(),
};

/// [`TaskMore`], boxed only once a field is written: reads see the empty
/// fields without allocating; the first write through `DerefMut`
/// allocates. Equal when the fields are, boxed or not.
#[derive(Debug, Clone, Default)]
pub struct More(Option<Box<TaskMore>>);

impl More {
    /// Drops the box when every field in it is empty (a parser that wrote
    /// empty values), so such a task costs nothing for them.
    pub fn compact(&mut self) {
        if self.0.as_deref() == Some(&NONE) {
            self.0 = None;
        }
    }
}

impl Deref for More {
    type Target = TaskMore;

    fn deref(&self) -> &TaskMore {
        self.0.as_deref().unwrap_or(&NONE)
    }
}

impl DerefMut for More {
    fn deref_mut(&mut self) -> &mut TaskMore {
        self.0.get_or_insert_with(Box::default)
    }
}

impl PartialEq for More {
    fn eq(&self, other: &More) -> bool {
        **self == **other
    }
}

#[cfg(test)]
mod tests {
    use crate::Task;

    #[test]
    fn a_task_allocates_its_rare_fields_only_once_one_is_written() {
        let mut task = Task::default();
        assert!(task.checks.is_empty() && task.more.0.is_none());
        task.checks.push("make test".into());
        assert_eq!(task.checks, ["make test"]);
        assert!(task.more.0.is_some());
        assert_ne!(task, Task::default());
        task.checks.clear();
        assert_eq!(task, Task::default());
        task.more.compact();
        assert!(task.more.0.is_none());
    }
}
