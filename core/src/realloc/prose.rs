//! The sentences reallocation records, made from its typed decisions here
//! and nowhere else: the reports, the events and `swarmctl status` quote
//! them word for word.

use super::planner::{Starved, Unstarted};
use crate::config::ProvisionerKind;
use swarm_text::count;

/// The provisioner's name in a sentence.
fn through(kind: ProvisionerKind) -> &'static str {
    match kind {
        ProvisionerKind::Docker => "docker",
        ProvisionerKind::Swarm => "swarm",
        ProvisionerKind::Process | ProvisionerKind::None => "process",
    }
}

/// An agent switched from `from` to `to`.
pub(crate) fn switched(agent: &str, from: &str, to: &str, why: Starved) -> String {
    format!(
        "switched agent {agent} from {from} to {to}: {to} has {} of the {} its ready work needs ({:.1} rank-weighted hours), {from} had more than it needs",
        why.have,
        count(why.want, "agent"),
        why.weight_h
    )
}

/// The provisioner was asked for agent `id` of `role`; `plan` names the
/// swarm service.
pub(crate) fn started(
    kind: ProvisionerKind,
    role: &str,
    id: &str,
    why: Starved,
    plan: &str,
) -> String {
    let (have, want) = (why.have, count(why.want, "agent"));
    if kind == ProvisionerKind::Swarm {
        format!(
            "asked the swarm provisioner for one more {role} agent (request {id}) in service {}: {role} had {have} of {want} its ready work needs; it counts as started once an agent of that service registers",
            crate::jobs::provision::service_name(plan, role)
        )
    } else {
        format!(
            "asked the {} provisioner for agent {id} ({role}): {role} had {have} of {want} its ready work needs; it counts as started once it registers",
            through(kind)
        )
    }
}

/// The provisioner was asked for agent `id` of `role` because a Full
/// Swarm needs `want` agents of any role and `have` are present or coming.
pub(crate) fn started_for_swarm(
    kind: ProvisionerKind,
    role: &str,
    id: &str,
    have: u32,
    want: u32,
) -> String {
    format!(
        "asked the {} provisioner for agent {id} ({role}): a Full Swarm task needs {} of any role and {have} are present or coming; it counts as started once it registers",
        through(kind),
        count(want, "agent")
    )
}

/// A drained agent.
pub(crate) fn drained(agent: &str, role: &str) -> String {
    format!(
        "drained agent {agent} ({role}): no {role} work is ready or coming, and the pool is above its minimum"
    )
}

/// A shortfall: the decision's sentence, and the line `swarmctl status`
/// shows for it.
pub(crate) fn shortfall(
    role: &str,
    missing: u32,
    weight_h: f64,
    why: &Unstarted,
    kind: ProvisionerKind,
) -> (String, String) {
    let more = count(missing, "more agent");
    match why {
        Unstarted::NoProvisioner => (
            format!(
                "shortfall: {role} needs {more} for its ready work ({weight_h:.1} rank-weighted hours); the provisioner is 'none', so none was started"
            ),
            format!("{role}: {more}"),
        ),
        Unstarted::BackingOff(b) => (
            format!(
                "shortfall: {role} needs {more}, but starting one failed {} in a row (last: {}); not trying again before {}",
                count(b.count, "time"),
                b.last,
                b.retry
            ),
            format!(
                "{role}: {more}; the {} provisioner failed {} in a row (last: {}); next try after {}",
                through(kind),
                count(b.count, "time"),
                b.last,
                b.retry
            ),
        ),
    }
}
