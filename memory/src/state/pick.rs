//! Which attempt of a task `swarmctl task logs` means, and the stored
//! output of one: the same answer, and the same words, for the daemon and
//! for `swarmctl task logs --workdir` reading a stopped daemon's store.

use rusqlite::Connection;
use thiserror::Error;

use super::read::{attempts_of_task, latest_plan, logs, tasks};
use super::rows::{AttemptRow, LogRow};
use crate::StoreError;

/// Which attempt of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptPick {
    /// The latest one.
    Latest,
    /// By its number within the task: 1 for the first.
    Number(u32),
    /// By fencing number (clients that predate attempt numbers).
    Fence(u64),
}

impl AttemptPick {
    /// From a request: `number` if not 0, else `fence` if not 0, else the
    /// latest.
    pub fn from_wire(number: u32, fence: u64) -> AttemptPick {
        match (number, fence) {
            (0, 0) => AttemptPick::Latest,
            (0, f) => AttemptPick::Fence(f),
            (n, _) => AttemptPick::Number(n),
        }
    }
}

/// Why there is no output to show.
#[derive(Debug, Error)]
pub enum PickError {
    /// The task has no attempt yet.
    #[error("task {task} has not run yet; no logs")]
    NotRun {
        /// Task id.
        task: String,
    },
    /// No attempt of the task is the one asked for.
    #[error("task {task} has no attempt {asked}; its attempts: {}", list(.numbers))]
    NoSuchAttempt {
        /// Task id.
        task: String,
        /// The attempt asked for, as the user wrote it.
        asked: String,
        /// The numbers it has.
        numbers: Vec<u32>,
    },
    /// The store holds no plan (read offline).
    #[error("no plan was ever loaded here, so no task has run")]
    NoPlan,
    /// The latest plan has no such task (read offline).
    #[error("no task '{task}' in plan '{plan}'; tasks include {}", .near.join(", "))]
    NoTask {
        /// Task id asked for.
        task: String,
        /// Plan name.
        plan: String,
        /// Ids that exist, those of the same day first.
        near: Vec<String>,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn list(numbers: &[u32]) -> String {
    let all: Vec<String> = numbers.iter().map(u32::to_string).collect();
    all.join(", ")
}

/// The attempt of `task` (id, for messages) that `pick` means, from its
/// history (oldest first).
pub fn pick_attempt<'a>(
    task: &str,
    history: &'a [AttemptRow],
    pick: AttemptPick,
) -> Result<&'a AttemptRow, PickError> {
    let found = match pick {
        AttemptPick::Latest => {
            return history.last().ok_or_else(|| PickError::NotRun {
                task: task.to_string(),
            })
        }
        AttemptPick::Number(n) => history.iter().find(|a| a.number == n),
        AttemptPick::Fence(f) => history.iter().find(|a| a.id == f),
    };
    found.ok_or_else(|| PickError::NoSuchAttempt {
        task: task.to_string(),
        asked: match pick {
            AttemptPick::Fence(f) => format!("with fencing number {f}"),
            AttemptPick::Number(n) => n.to_string(),
            AttemptPick::Latest => String::new(),
        },
        numbers: history.iter().map(|a| a.number).collect(),
    })
}

/// The attempt of task `task` of the latest plan that `pick` means, and
/// its output so far: what `swarmctl task logs` prints, read from the
/// store alone (the daemon may be stopped).
pub fn stored_logs(
    conn: &Connection,
    task: &str,
    pick: AttemptPick,
) -> Result<(AttemptRow, Vec<LogRow>), PickError> {
    let plan = latest_plan(conn)?.ok_or(PickError::NoPlan)?;
    let rows = tasks(conn, plan.id)?;
    let id = task.trim();
    let Some(row) = rows.iter().find(|t| t.id == id) else {
        let day = id.split('.').next();
        let mut near: Vec<String> = rows
            .iter()
            .filter(|t| t.id.split('.').next() == day)
            .map(|t| t.id.clone())
            .take(8)
            .collect();
        if near.is_empty() {
            near = rows.iter().map(|t| t.id.clone()).take(8).collect();
        }
        return Err(PickError::NoTask {
            task: id.to_string(),
            plan: plan.name,
            near,
        });
    };
    let history = attempts_of_task(conn, plan.id, row.idx)?;
    let chosen = pick_attempt(id, &history, pick)?.clone();
    let chunks = logs(conn, chosen.id)?;
    Ok((chosen, chunks))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(id: u64, number: u32) -> AttemptRow {
        AttemptRow {
            id,
            plan_id: 1,
            task_idx: 0,
            number,
            roles: Vec::new(),
            agents: vec!["a".into()],
            state: "failed".into(),
            created_at: 0,
            started_at: None,
            ended_at: None,
            exit_code: None,
            message: String::new(),
            output_dropped: 0,
            token: String::new(),
        }
    }

    #[test]
    fn attempts_are_picked_by_their_number_within_the_task() {
        let history = [attempt(3, 1), attempt(6, 2), attempt(7, 3)];
        let got = pick_attempt("1.3", &history, AttemptPick::Number(1)).map(|a| a.id);
        assert_eq!(got.ok(), Some(3));
        let got = pick_attempt("1.3", &history, AttemptPick::Latest).map(|a| a.id);
        assert_eq!(got.ok(), Some(7));
        let got = pick_attempt("1.3", &history, AttemptPick::Fence(6)).map(|a| a.number);
        assert_eq!(got.ok(), Some(2));
        let err = pick_attempt("1.3", &history, AttemptPick::Number(4)).map(|a| a.id);
        assert_eq!(
            err.err().map(|e| e.to_string()),
            Some("task 1.3 has no attempt 4; its attempts: 1, 2, 3".into())
        );
        let none = pick_attempt("1.3", &[], AttemptPick::Latest).map(|a| a.id);
        assert_eq!(
            none.err().map(|e| e.to_string()),
            Some("task 1.3 has not run yet; no logs".into())
        );
    }

    #[test]
    fn the_wire_number_wins_over_the_fence() {
        assert_eq!(AttemptPick::from_wire(0, 0), AttemptPick::Latest);
        assert_eq!(AttemptPick::from_wire(2, 9), AttemptPick::Number(2));
        assert_eq!(AttemptPick::from_wire(0, 9), AttemptPick::Fence(9));
    }
}
