//! Unit tests of the scheduler core, driven turn by turn through
//! [`super::testkit::Harness`]: a fake clock, a store in memory, agents as
//! channels. Each test asserts on a transition the core committed.

mod actions;
mod actors;
mod budgets;
mod cancel;
mod checkpoints;
mod completion;
mod fencing;
mod gangs;
mod gates;
mod guides;
mod identity;
mod late_usage;
mod leases;
mod listing;
mod loading;
mod names;
mod numbers;
mod operator;
mod pause;
mod placement;
mod pools;
mod provisioning;
mod rate_limits;
mod recovery;
mod regressions;
mod reports;
mod retries;
mod revisions;
mod sessions;
mod traces;
mod verdicts;
mod windows;
mod workspace;

use super::command::{Assignment, AttemptRef, ToAgent};
use super::testkit::Harness;

/// `markdown` (a plan from [`super::testkit::plan`]) with `line` added as
/// a bullet of task `id`, e.g. `**Retries**: 2`.
fn with_bullet(markdown: &str, id: &str, line: &str) -> String {
    let header = format!("**Task {id}**:");
    let mut out = String::new();
    for l in markdown.lines() {
        out.push_str(l);
        out.push('\n');
        if l.starts_with(&header) {
            out.push_str(&format!("- {line}\n"));
        }
    }
    out
}

/// The full assignments among `inbox`.
fn assigned(inbox: &[ToAgent]) -> Vec<Assignment> {
    inbox
        .iter()
        .filter_map(|m| match m {
            ToAgent::Assign(a) => Some((**a).clone()),
            _ => None,
        })
        .collect()
}

/// The acknowledgements among `inbox`, as (attempt, accepted).
fn acks(inbox: &[ToAgent]) -> Vec<(AttemptRef, bool)> {
    inbox
        .iter()
        .filter_map(|m| match m {
            ToAgent::Ack {
                attempt, accepted, ..
            } => Some((attempt.clone(), *accepted)),
            _ => None,
        })
        .collect()
}

/// The cancellations among `inbox`.
fn cancels(inbox: &[ToAgent]) -> Vec<AttemptRef> {
    inbox
        .iter()
        .filter_map(|m| match m {
            ToAgent::Cancel(r, _) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

/// The Welcome's (resume, abandon) lists, if `inbox` holds one.
fn welcome(inbox: &[ToAgent]) -> Option<(Vec<AttemptRef>, Vec<AttemptRef>)> {
    inbox.iter().find_map(|m| match m {
        ToAgent::Welcome(w) => Some((w.resume.clone(), w.abandon.clone())),
        _ => None,
    })
}

/// The sequence number of the first event of `kind` (about `task`, when
/// given), or a panic naming what was missing.
fn seq_of(h: &Harness, kind: &str, task: Option<&str>) -> u64 {
    h.events
        .iter()
        .find(|e| e.kind == kind && (task.is_none() || e.task_id.as_deref() == task))
        .map(|e| e.seq)
        .unwrap_or_else(|| panic!("no {kind} event about {task:?}"))
}

/// A reference to attempt `attempt` of task `task`.
fn attempt_ref(task: &str, attempt: u64) -> AttemptRef {
    AttemptRef {
        task_id: task.into(),
        attempt,
    }
}
