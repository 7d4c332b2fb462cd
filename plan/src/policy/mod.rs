//! The placement policy: which ready tasks start now, on which agents.
//!
//! This is the one implementation of the scheduling rules in
//! ARCHITECTURE.md, used by the coordinator's scheduler loop and by the
//! plan simulator alike:
//!
//! - candidates arrive already ordered (priority, then upward rank, then
//!   day, then id: see [`ReadyKey`]);
//! - a task needing several agents (a gang) starts only when a distinct free
//!   agent is there for every role it needs, all at once;
//! - when the first task in order that needs a role cannot start, it
//!   reserves the free agents of that role it would use, so tasks behind it
//!   cannot take them and starve it — unless the connected agents could
//!   never staff it, in which case it reserves nothing;
//! - a monitoring task (`Full Swarm (monitoring mode)`) takes one agent, and
//!   at the end of the round every agent the other placements left free.

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};

use crate::compile::Need;
use crate::ANY_ROLE;

/// Orders ready tasks: P0 first, then the longest remaining chain (upward
/// rank) first, then the earlier day, then the plan's own order. The
/// derived order compares the fields in the order they are declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReadyKey {
    /// 0 for P0: lower goes first.
    pub priority: u8,
    /// Upward rank in seconds, reversed so the longer chain goes first.
    pub rank: Reverse<u64>,
    /// Planned day (0 when the plan has no days).
    pub day: u32,
    /// The task's index in the plan.
    pub task: usize,
}

/// The ordering key of a ready task.
pub fn ready_key(priority_level: u8, rank_secs: u64, day: Option<u32>, index: usize) -> ReadyKey {
    ReadyKey {
        priority: priority_level,
        rank: Reverse(rank_secs),
        day: day.unwrap_or(0),
        task: index,
    }
}

/// An agent as the policy sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSlots {
    /// The caller's handle for the agent.
    pub id: usize,
    /// The role it plays now.
    pub role: String,
    /// Slots not running anything.
    pub free: u32,
}

/// A decision: start `task` on these agents, lead first, with the role
/// each plays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// Its index in [`CompiledPlan::tasks`](crate::CompiledPlan::tasks).
    pub task: usize,
    /// (agent id, role) per agent of the attempt; the first is the lead.
    pub agents: Vec<(usize, String)>,
}

/// What one round of placement decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    /// Tasks to start now.
    pub placements: Vec<Placement>,
    /// Tasks that need a role no connected agent plays (enough of).
    pub unstaffed: Vec<usize>,
}

/// Places as many candidates as the free agents allow. `agents` is updated
/// (slots taken). Stops early once no free slot is left.
pub fn place<'a>(
    candidates: impl IntoIterator<Item = (usize, &'a Need)>,
    agents: &mut [AgentSlots],
) -> Round {
    let mut population: HashMap<&str, u32> = HashMap::new();
    for a in agents.iter() {
        *population.entry(a.role.as_str()).or_insert(0) += 1;
    }
    let connected = agents.len() as u32;
    let population: HashMap<String, u32> = population
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let mut reserved: Vec<bool> = vec![false; agents.len()];
    let mut claimed: HashSet<String> = HashSet::new();
    let mut round = Round::default();
    let mut monitoring: Vec<usize> = Vec::new();
    for (task, need) in candidates {
        if agents.iter().zip(&reserved).all(|(a, &r)| r || a.free == 0) {
            break;
        }
        let wanted = wanted_roles(need);
        if !staffable(&wanted, &population, connected) {
            round.unstaffed.push(task);
            continue;
        }
        match pick(&wanted, agents, &reserved) {
            Some(chosen) => {
                if matches!(need, Need::Monitoring) {
                    monitoring.push(round.placements.len());
                }
                for &(i, _) in &chosen {
                    agents[i].free -= 1;
                }
                round.placements.push(Placement {
                    task,
                    agents: chosen
                        .into_iter()
                        .map(|(i, role)| (agents[i].id, role))
                        .collect(),
                });
            }
            None => reserve(&wanted, agents, &mut reserved, &mut claimed),
        }
    }
    // A monitoring task watches with every agent the round left free, so it
    // never takes agents other work could start with.
    for &k in &monitoring {
        for (i, a) in agents.iter_mut().enumerate() {
            if a.free > 0
                && !reserved[i]
                && !round.placements[k].agents.iter().any(|(id, _)| *id == a.id)
            {
                a.free -= 1;
                round.placements[k].agents.push((a.id, a.role.clone()));
            }
        }
    }
    round
}

/// The roles a need asks for, one entry per agent; `any` matches every
/// agent. A monitoring task starts with one agent and, at the end of the
/// round, takes every agent still free (see [`place`]): it never waits for
/// busy agents and never takes agents other work could start with.
fn wanted_roles(need: &Need) -> Vec<String> {
    match need {
        Need::Roles(roles) => roles.clone(),
        Need::Swarm { min, .. } => vec![ANY_ROLE.to_string(); *min as usize],
        Need::Monitoring => vec![ANY_ROLE.to_string()],
    }
}

/// Whether the connected agents could ever run this, all being free.
fn staffable(wanted: &[String], population: &HashMap<String, u32>, connected: u32) -> bool {
    let mut per_role: HashMap<&str, u32> = HashMap::new();
    for r in wanted {
        *per_role.entry(r.as_str()).or_insert(0) += 1;
    }
    let any = per_role.remove(ANY_ROLE).unwrap_or(0);
    let specific: u32 = per_role.values().sum();
    per_role
        .iter()
        .all(|(r, n)| population.get(*r).copied().unwrap_or(0) >= *n)
        && specific + any <= connected
}

/// Distinct free, unreserved agents for every wanted role, or None.
fn pick(
    wanted: &[String],
    agents: &[AgentSlots],
    reserved: &[bool],
) -> Option<Vec<(usize, String)>> {
    let mut used = vec![false; agents.len()];
    let mut chosen = Vec::with_capacity(wanted.len());
    // Specific roles first, so `any` does not take an agent a role needs.
    let mut order: Vec<&String> = wanted.iter().filter(|r| *r != ANY_ROLE).collect();
    order.extend(wanted.iter().filter(|r| *r == ANY_ROLE));
    for role in order {
        let found = agents.iter().enumerate().position(|(i, a)| {
            a.free > 0 && !reserved[i] && !used[i] && (role == ANY_ROLE || a.role == *role)
        })?;
        used[found] = true;
        chosen.push((
            found,
            if role == ANY_ROLE {
                agents[found].role.clone()
            } else {
                role.clone()
            },
        ));
    }
    // Keep the lead first as the plan wrote it.
    let lead_role = wanted.first()?;
    if let Some(pos) = chosen
        .iter()
        .position(|(_, r)| lead_role == ANY_ROLE || r == lead_role)
    {
        chosen.swap(0, pos);
    }
    Some(chosen)
}

/// The blocked task claims, for each role it needs that no earlier blocked
/// task claimed, the free agents of that role it would use.
fn reserve(
    wanted: &[String],
    agents: &[AgentSlots],
    reserved: &mut [bool],
    claimed: &mut HashSet<String>,
) {
    let mut per_role: HashMap<&str, usize> = HashMap::new();
    for r in wanted {
        *per_role.entry(r.as_str()).or_insert(0) += 1;
    }
    for (role, count) in per_role {
        if !claimed.insert(role.to_string()) {
            continue;
        }
        let mut left = count;
        for (i, a) in agents.iter().enumerate() {
            if left == 0 {
                break;
            }
            if a.free > 0 && !reserved[i] && (role == ANY_ROLE || a.role == role) {
                reserved[i] = true;
                left -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests;
