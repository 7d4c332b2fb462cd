//! What ready and soon-ready work needs, per role: the weight an agent's
//! role carries when a placement can choose between agents (a swarm, a
//! monitoring task) — the agents least needed go.

use std::collections::HashMap;

use crate::compile::Need;
use crate::ANY_ROLE;

/// Rank-weighted demand per role of the ready tasks and of those about to
/// become ready (every dependency but running ones done). A task adds its
/// weight — its upward rank, so work heading long chains counts most —
/// once per agent of each role it names; swarm and monitoring tasks name
/// no role and add nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleDemand {
    weight: HashMap<String, u64>,
}

impl RoleDemand {
    /// No demand.
    pub fn new() -> Self {
        RoleDemand::default()
    }

    /// Counts a ready or soon-ready task of this need and weight (its
    /// upward rank in seconds; at least 1 is counted).
    pub fn add(&mut self, need: &Need, weight: u64) {
        if let Need::Roles(roles) = need {
            for r in roles.iter().filter(|r| *r != ANY_ROLE) {
                let w = self.weight.entry(r.clone()).or_insert(0);
                *w = w.saturating_add(weight.max(1));
            }
        }
    }

    /// Takes back what [`RoleDemand::add`] counted for a task that is no
    /// longer ready.
    pub fn remove(&mut self, need: &Need, weight: u64) {
        if let Need::Roles(roles) = need {
            for r in roles.iter().filter(|r| *r != ANY_ROLE) {
                if let Some(w) = self.weight.get_mut(r) {
                    *w = w.saturating_sub(weight.max(1));
                }
            }
        }
    }

    /// The demand on a role: 0 when no counted task needs it.
    pub fn of(&self, role: &str) -> u64 {
        self.weight.get(role).copied().unwrap_or(0)
    }
}
