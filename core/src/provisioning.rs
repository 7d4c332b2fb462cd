//! The provisioning part of the loop's state: agents asked of the
//! provisioner and not registered yet, the agents this coordinator started,
//! the numbering of their ids, and the roles short of agents at the last
//! checkpoint.
//!
//! Invariants: a provisioned id is never reused (the numbering continues
//! after a restart from the largest number stored); an agent asked for
//! counts as present for its role until it registers or the patience runs
//! out. A swarm agent registers with its service's name and task slot, not
//! with the id it was asked for: it answers the oldest request of its role.

use std::collections::{BTreeMap, HashSet};

use crate::config::ProvisionerKind;

/// A provisioned agent that has not registered within this long is
/// forgotten (and may be started again).
const PATIENCE_MS: i64 = 60_000;

/// After a failed start, a role is not provisioned again for this long,
/// doubling with each failure in a row.
const BACKOFF_MS: i64 = 30_000;

/// The longest wait between tries.
const MAX_BACKOFF_MS: i64 = 15 * 60_000;

/// An agent asked of the provisioner.
struct Asked {
    role: String,
    at: i64,
}

/// Starts of a role that failed in a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failures {
    /// How many in a row.
    pub count: u32,
    /// What the provisioner said the last time.
    pub last: String,
    /// Not tried again before this wall time, ms.
    pub retry_at: i64,
}

/// Agents asked for, started, and missing.
#[derive(Default)]
pub struct Provisioning {
    asked: BTreeMap<String, Asked>,
    ours: HashSet<String>,
    seq: u64,
    shortfall: Vec<String>,
    failures: BTreeMap<String, Failures>,
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
            ProvisionerKind::Swarm => "swarm",
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

    /// An agent asked for registered: its role's failures are over.
    /// `swarm_role` is the role when `id` is a task slot of that role's
    /// swarm service: the agent is ours, and it answers the oldest request
    /// of its role.
    pub fn joined(&mut self, id: &str, swarm_role: Option<&str>) {
        if let Some(asked) = self.asked.remove(id) {
            self.failures.remove(&asked.role);
            return;
        }
        let Some(role) = swarm_role else { return };
        self.ours.insert(id.to_string());
        self.failures.remove(role);
        let oldest = self
            .asked
            .iter()
            .filter(|(_, a)| a.role == role)
            .min_by_key(|(_, a)| a.at)
            .map(|(request, _)| request.clone());
        if let Some(request) = oldest {
            self.asked.remove(&request);
        }
    }

    /// The provisioner could not start agent `id`. Returns its role and
    /// the role's failures so far, when `id` was asked for and had not
    /// registered (an agent that registered and exited later is not a
    /// failed start).
    pub fn failed(&mut self, id: &str, reason: &str, now: i64) -> Option<(String, Failures)> {
        let asked = self.asked.remove(id)?;
        let f = self.failures.entry(asked.role.clone()).or_insert(Failures {
            count: 0,
            last: String::new(),
            retry_at: now,
        });
        f.count += 1;
        f.last = reason.to_string();
        let wait = BACKOFF_MS
            .saturating_mul(1i64 << (f.count - 1).min(20))
            .min(MAX_BACKOFF_MS);
        f.retry_at = now + wait;
        let f = f.clone();
        let short = format!("{}: agent {id} could not start: {reason}", asked.role);
        self.shortfall
            .retain(|s| !s.starts_with(&format!("{}:", asked.role)));
        self.shortfall.push(short);
        Some((asked.role, f))
    }

    /// The failures of `role` that keep it from being provisioned now.
    pub fn backing_off(&self, role: &str, now: i64) -> Option<&Failures> {
        self.failures.get(role).filter(|f| f.retry_at > now)
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
        if id.starts_with("proc-") || id.starts_with("docker-") || id.starts_with("swarm-") {
            if let Some(n) = id.rsplit('-').next().and_then(|n| n.parse::<u64>().ok()) {
                self.seq = self.seq.max(n);
            }
        }
    }
}
