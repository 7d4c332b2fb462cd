//! The provisioning part of the loop's state: agents asked of the
//! provisioner and not registered yet, the agents this coordinator started,
//! the numbering of their ids, and the roles short of agents at the last
//! checkpoint.
//!
//! Invariants: a provisioned id is never reused (the numbering continues
//! after a restart from the largest number stored); an agent asked for
//! counts as present for its role until it registers or the patience runs
//! out.

use std::collections::{BTreeMap, HashSet};

use crate::config::ProvisionerKind;

/// A provisioned agent that has not registered within this long is
/// forgotten (and may be started again).
const PATIENCE_MS: i64 = 60_000;

/// An agent asked of the provisioner.
struct Asked {
    role: String,
    at: i64,
}

/// Agents asked for, started, and missing.
#[derive(Default)]
pub struct Provisioning {
    asked: BTreeMap<String, Asked>,
    ours: HashSet<String>,
    seq: u64,
    shortfall: Vec<String>,
}

impl Provisioning {
    /// Forgets agents asked for that registered, or that did not within
    /// the patience.
    pub fn settle(&mut self, now: i64, registered: impl Fn(&str) -> bool) {
        self.asked
            .retain(|id, a| now - a.at < PATIENCE_MS && !registered(id));
    }

    /// Roles of the agents asked for and not registered yet.
    pub fn pending_roles(&self) -> impl Iterator<Item = &str> {
        self.asked.values().map(|a| a.role.as_str())
    }

    /// Asks for one more agent of `role`: returns its new id.
    pub fn ask(&mut self, kind: ProvisionerKind, role: &str, now: i64) -> String {
        self.seq += 1;
        let prefix = match kind {
            ProvisionerKind::Docker => "docker",
            ProvisionerKind::Process | ProvisionerKind::None => "proc",
        };
        let id = format!("{prefix}-{role}-{}", self.seq);
        self.asked.insert(
            id.clone(),
            Asked {
                role: role.to_string(),
                at: now,
            },
        );
        self.ours.insert(id.clone());
        id
    }

    /// Whether this coordinator started the agent (drained first when
    /// surplus).
    pub fn is_ours(&self, id: &str) -> bool {
        self.ours.contains(id)
    }

    /// Roles short of agents, as of the last checkpoint.
    pub fn shortfall(&self) -> &[String] {
        &self.shortfall
    }

    /// Replaces the shortfall (a new checkpoint, or a new plan).
    pub fn set_shortfall(&mut self, shortfall: Vec<String>) {
        self.shortfall = shortfall;
    }

    /// An agent id seen in the store: provisioned numbers continue after
    /// it (a container of that name may still exist).
    pub fn saw_id(&mut self, id: &str) {
        if id.starts_with("proc-") || id.starts_with("docker-") {
            if let Some(n) = id.rsplit('-').next().and_then(|n| n.parse::<u64>().ok()) {
                self.seq = self.seq.max(n);
            }
        }
    }
}
