//! What a checkpoint's reallocation decides, each decision with its typed
//! reason: the planner's output, `apply`'s input.

use super::planner::Backoff;
use crate::config::ProvisionerKind;

/// Why a role is short: it has `have` of the `want` agents its ready work
/// needs, worth `weight_h` rank-weighted hours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Starved {
    /// Agents it has (present or on their way).
    pub(crate) have: u32,
    /// Agents it should have.
    pub(crate) want: u32,
    /// Its demand, rank-weighted hours.
    pub(crate) weight_h: f64,
}

/// Why no agent is started for a short role.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Unstarted {
    /// The provisioner is `none`.
    NoProvisioner,
    /// The provisioner failed in a row and backs off.
    BackingOff(Backoff),
}

/// What a checkpoint does, each with its reason.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Decision {
    /// An idle agent switches from a role with more than it needs to a
    /// starved one.
    Switch {
        /// The agent.
        agent: String,
        /// The role it played.
        from: String,
        /// The starved role.
        to: String,
        /// How starved `to` was before the switch.
        why: Starved,
    },
    /// The provisioner is asked for `count` agents of `role`.
    Start {
        /// The role.
        role: String,
        /// How many.
        count: u32,
        /// Which provisioner (never `none`).
        kind: ProvisionerKind,
        /// How starved the role was.
        why: Starved,
    },
    /// The provisioner is asked for `count` agents of `role` because a
    /// ready or soon-ready Full Swarm needs `want` agents of any role and
    /// only `have` are present or on their way.
    StartForSwarm {
        /// The role the new agents play (the one most agents play now).
        role: String,
        /// How many.
        count: u32,
        /// Which provisioner (never `none`).
        kind: ProvisionerKind,
        /// Agents present or on their way.
        have: u32,
        /// Agents the swarm needs.
        want: u32,
    },
    /// A role lacks `missing` agents and none is started.
    Shortfall {
        /// The role.
        role: String,
        /// Agents it lacks.
        missing: u32,
        /// Its demand, rank-weighted hours.
        weight_h: f64,
        /// Why none is started.
        why: Unstarted,
    },
    /// An idle agent we provisioned is drained: its role has no work and
    /// its pool is above its minimum.
    Drain {
        /// The agent.
        agent: String,
        /// Its role.
        role: String,
    },
}
