//! What the loop asks the provisioner to do, and the names of Docker
//! Swarm services and their slots (the loop recognises a swarm agent by
//! its id).

/// What the loop asks the provisioner to do.
#[derive(Debug, Clone)]
pub enum ProvisionCmd {
    /// Start an agent for `role` that registers as `agent_id`.
    Start {
        /// The role the agent registers for.
        role: String,
        /// Id it registers with (for swarm, the request's id: the agent
        /// takes its id from its service's task slot).
        agent_id: String,
        /// The plan's name (swarm services are named from it).
        plan: String,
    },
}

/// A name made of lower-case letters, digits and single dashes, at most
/// `max` bytes.
fn slug(s: &str, max: usize) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if out.len() >= max {
            break;
        }
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// `swarm-PLAN-ROLE`, from the plan's name and the role, as a service
/// name Swarm accepts (at most 63 characters).
pub fn service_name(plan: &str, role: &str) -> String {
    let plan = slug(plan, 24);
    let role = slug(role, 32);
    let plan = if plan.is_empty() { "plan".into() } else { plan };
    let role = if role.is_empty() { "role".into() } else { role };
    format!("swarm-{plan}-{role}")
}

/// The slot of agent `id` when it is a task of `role`'s service for
/// `plan` (`swarm-PLAN-ROLE.N`).
pub fn slot_of(id: &str, plan: &str, role: &str) -> Option<u64> {
    let rest = id.strip_prefix(&service_name(plan, role))?;
    rest.strip_prefix('.')?.parse().ok().filter(|n| *n > 0)
}
