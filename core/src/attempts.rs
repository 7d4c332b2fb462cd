//! The attempts part of the loop's state: live attempts by fencing number,
//! and the counter that hands out those numbers.
//!
//! Invariants: fencing numbers only grow, across restarts too (the counter
//! starts above the largest stored one); an attempt is here from the turn
//! it is offered until the turn it ends, and never again after.

use std::collections::HashMap;

use swarm_memory::state::AttemptRow;

use super::model::AttemptState;

/// One agent of an attempt and the role it plays in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub agent: String,
    /// Role played (empty when recovered from a store written before
    /// roles were kept).
    pub role: String,
}

/// A live attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// Fencing number, unique across the store's life.
    pub id: u64,
    /// Task index in the plan.
    pub task: usize,
    /// Per-task number, 1 for the first attempt.
    pub number: u32,
    /// Its agents, lead first. With `**Gang**: all` (the default) every
    /// member runs the task and reports; with `lead` only the lead does.
    pub members: Vec<Member>,
    /// Who of the gang runs the task.
    pub gang: swarm_plan::Gang,
    /// Members that reported success while others still run, with what
    /// they wrote to `$SWARM_RESULT`. Not stored: after a restart the
    /// agents send their unacknowledged results again.
    pub succeeded: Vec<(String, Option<String>)>,
    /// The commits members in a workspace pushed, by agent (not stored,
    /// as `succeeded`).
    pub commits: Vec<(String, String)>,
    /// It runs a task's Checks on a candidate merge (`verify = "merged"`)
    /// rather than the task.
    pub verifies: bool,
    /// Offered, or running once the lead said it started.
    pub state: AttemptState,
    /// Offered at, wall ms.
    pub created_at: i64,
    /// The lead's executor started at, wall ms.
    pub started_at: Option<i64>,
    /// Number of the next log chunk.
    pub log_seq: u64,
    /// The token minted for it: its task's `SWARM_TOKEN`, dead when it
    /// ends.
    pub token: String,
    /// It waits for an operator (`swarmctl task done`): the task has no
    /// run command or image and the lead has no command template. Known
    /// from the lead's Hello: set when offered, and again when the lead
    /// resumes it in a new session (after a coordinator restart).
    pub waits_for_operator: bool,
}

impl Attempt {
    /// The result of a gang's attempt: a lone member's own, or each member's
    /// under its name.
    pub(crate) fn gang_result(&self) -> Option<String> {
        // In the gang's order (lead first), whoever reported first.
        let written: Vec<(&str, &str, &str)> = self
            .members
            .iter()
            .filter_map(|m| {
                self.succeeded
                    .iter()
                    .find(|(who, _)| *who == m.agent)
                    .and_then(|(_, r)| r.as_deref())
                    .map(|r| (m.agent.as_str(), m.role.as_str(), r))
            })
            .collect();
        match written.as_slice() {
            [] => None,
            [(_, _, only)] => Some((*only).to_string()),
            many => Some(
                many.iter()
                    .map(|(who, role, r)| format!("[{who} ({role})]\n{}\n", r.trim_end()))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        }
    }

    /// The commits its members pushed, in member order.
    pub(crate) fn member_commits(&self) -> Vec<String> {
        self.members
            .iter()
            .filter_map(|m| self.commits.iter().find(|(who, _)| *who == m.agent))
            .map(|(_, c)| c.clone())
            .collect()
    }

    /// The lead's agent id.
    pub fn lead(&self) -> Option<&str> {
        self.members.first().map(|m| m.agent.as_str())
    }

    /// Whether `agent` runs the task (and so reports a result).
    pub fn runs(&self, agent: &str) -> bool {
        match self.gang {
            swarm_plan::Gang::All => self.has_member(agent),
            swarm_plan::Gang::Lead => self.lead() == Some(agent),
        }
    }

    /// How many members run the task.
    pub fn runners(&self) -> usize {
        match self.gang {
            swarm_plan::Gang::All => self.members.len(),
            swarm_plan::Gang::Lead => self.members.len().min(1),
        }
    }

    /// Whether `agent` is one of its members.
    pub fn has_member(&self, agent: &str) -> bool {
        self.members.iter().any(|m| m.agent == agent)
    }

    /// When its work began: started, else offered.
    pub fn began_at(&self) -> i64 {
        self.started_at.unwrap_or(self.created_at)
    }

    /// The store row of this attempt in `state`.
    pub fn row(&self, plan_id: i64, state: &str) -> AttemptRow {
        AttemptRow {
            id: self.id,
            plan_id,
            task_idx: self.task as u32,
            number: self.number,
            agents: self.members.iter().map(|m| m.agent.clone()).collect(),
            roles: self.members.iter().map(|m| m.role.clone()).collect(),
            state: state.to_string(),
            created_at: self.created_at,
            started_at: self.started_at,
            ended_at: None,
            exit_code: None,
            message: String::new(),
            output_dropped: 0,
            token: self.token.clone(),
        }
    }
}

/// Live attempts by fencing number.
pub struct LiveAttempts {
    live: HashMap<u64, Attempt>,
    next: u64,
}

impl LiveAttempts {
    /// No live attempt; the first fencing number is `first`.
    pub fn starting_at(first: u64) -> LiveAttempts {
        LiveAttempts {
            live: HashMap::new(),
            next: first.max(1),
        }
    }

    /// Hands out the next fencing number.
    pub fn allocate(&mut self) -> u64 {
        let id = self.next;
        self.next += 1;
        id
    }

    /// Adds a live attempt (offered now, or recovered).
    pub fn insert(&mut self, attempt: Attempt) {
        self.live.insert(attempt.id, attempt);
    }

    /// One live attempt.
    pub fn get(&self, id: u64) -> Option<&Attempt> {
        self.live.get(&id)
    }

    /// Ends a live attempt.
    pub fn remove(&mut self, id: u64) -> Option<Attempt> {
        self.live.remove(&id)
    }

    /// The tasks of the live attempts (a task once per attempt).
    pub fn tasks(&self) -> impl Iterator<Item = usize> + '_ {
        self.live.values().map(|a| a.task)
    }

    /// Every live attempt, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Attempt> {
        self.live.values()
    }

    /// How many are live.
    pub fn len(&self) -> usize {
        self.live.len()
    }

    /// A member that runs it said its executor started: offered →
    /// running (at the first). Returns the attempt when that changed it.
    pub fn start(&mut self, id: u64, agent: &str, now: i64) -> Option<&Attempt> {
        let a = self.live.get_mut(&id)?;
        if a.state != AttemptState::Offered || !a.runs(agent) {
            return None;
        }
        a.state = AttemptState::Running;
        a.started_at = Some(now);
        Some(a)
    }

    /// Records whether attempt `id` waits for an operator.
    pub fn set_waits_for_operator(&mut self, id: u64, waits: bool) {
        if let Some(a) = self.live.get_mut(&id) {
            a.waits_for_operator = waits;
        }
    }

    /// Records that `agent` succeeded in attempt `id` (once); returns how
    /// many of the runners have.
    pub fn member_succeeded(
        &mut self,
        id: u64,
        agent: &str,
        result: Option<String>,
        commit: Option<String>,
    ) -> usize {
        let Some(a) = self.live.get_mut(&id) else {
            return 0;
        };
        if !a.succeeded.iter().any(|(who, _)| who == agent) {
            a.succeeded.push((agent.to_string(), result));
            if let Some(c) = commit.filter(|c| !c.is_empty()) {
                a.commits.push((agent.to_string(), c));
            }
        }
        a.succeeded.len()
    }

    /// Numbers the next log chunk of attempt `id`.
    pub fn next_log_seq(&mut self, id: u64) -> Option<u64> {
        let a = self.live.get_mut(&id)?;
        a.log_seq += 1;
        Some(a.log_seq - 1)
    }
}
