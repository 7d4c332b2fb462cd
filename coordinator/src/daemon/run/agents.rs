//! The local agents `swarmd run` starts: how many of each role the plan
//! needs, which roles they may also be lent, and starting them.

use std::collections::BTreeMap;
use std::path::Path;

use swarm_plan::{CompiledPlan, Need};

use crate::provision::launch::{AgentLaunch, Launcher};

/// One agent per role per agent the widest task needs; more when a full
/// swarm needs more agents than that.
pub(crate) fn agents_needed(compiled: &CompiledPlan) -> Vec<String> {
    let mut per_role: BTreeMap<String, usize> = BTreeMap::new();
    let mut swarm = 0usize;
    for t in &compiled.tasks {
        match &t.need {
            Need::Roles(roles) => {
                let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
                for r in roles.iter() {
                    *counts.entry(r).or_insert(0) += 1;
                }
                for (r, n) in counts {
                    let e = per_role.entry(r.to_string()).or_insert(0);
                    *e = (*e).max(n);
                }
            }
            Need::Swarm { min, .. } => swarm = swarm.max(*min as usize),
            Need::Monitoring => swarm = swarm.max(1),
        }
    }
    let mut out: Vec<String> = per_role
        .iter()
        .flat_map(|(r, n)| std::iter::repeat_n(r.clone(), *n))
        .collect();
    let roles: Vec<String> = per_role.keys().cloned().collect();
    let mut k = 0;
    while out.len() < swarm {
        out.push(
            roles
                .get(k % roles.len().max(1))
                .cloned()
                .unwrap_or_else(|| "coder".to_string()),
        );
        k += 1;
    }
    out
}

/// Roles the allocation matrix staffs, on some day, with more agents than
/// [`agents_needed`] starts: every other local agent can also play them,
/// so a standup can switch an idle one over when that day's work needs it.
pub(crate) fn roles_to_lend(compiled: &CompiledPlan, local: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for row in &compiled.matrix {
        for (role, &planned) in &row.roles {
            let have = local.iter().filter(|r| *r == role).count();
            if have > 0 && planned as usize > have && !out.contains(role) {
                out.push(role.clone());
            }
        }
    }
    out.sort();
    out
}

/// Where and how the local agents run.
pub(crate) struct LocalAgents<'a> {
    /// The daemon's URL.
    pub url: &'a str,
    /// Where tasks run.
    pub workdir: &'a Path,
    /// `WORKDIR/.swarm`: the agents' logs.
    pub state_dir: &'a Path,
    /// The agent token, handed over in each agent's environment (never a
    /// file in the workdir, where tasks run).
    pub agent_token: &'a str,
    /// The agents' command template, if any.
    pub exec: Option<&'a str>,
    /// The agents' `--orphan-timeout`, so they do not outlive swarmd.
    pub orphan_timeout: std::time::Duration,
    /// `[sandbox]`: how the agents sandbox their tasks.
    pub sandbox: &'a crate::daemon::config::AgentSandbox,
    /// Where they export their own spans: swarmd's endpoint.
    pub otlp_endpoint: Option<&'a str>,
}

/// Starts the agents `compiled` needs, saying which.
pub(crate) fn spawn_agents(
    compiled: &CompiledPlan,
    at: &LocalAgents<'_>,
) -> anyhow::Result<Vec<tokio::process::Child>> {
    let launcher = Launcher::next_to_swarmd()?;
    let logs = at.state_dir.join("agents");
    std::fs::create_dir_all(&logs)?;
    let roles = agents_needed(compiled);
    let extra = roles_to_lend(compiled, &roles);
    println!(
        "swarmd: starting {}: {}",
        swarm_text::count(roles.len() as u64, "local agent"),
        roles.join(", ")
    );
    if !extra.is_empty() {
        println!(
            "swarmd: the allocation matrix asks for more {} than that; the other agents can also play {}, and a standup switches idle ones over",
            extra.join(", "),
            if extra.len() == 1 { "it" } else { "them" }
        );
    }
    let mut children = Vec::new();
    for (i, role) in roles.iter().enumerate() {
        let also: Vec<String> = extra.iter().filter(|r| *r != role).cloned().collect();
        children.push(launcher.spawn(&AgentLaunch {
            url: at.url,
            role,
            also: &also,
            id: &format!("local-{role}-{i}"),
            workdir: at.workdir,
            token: at.agent_token,
            exec: at.exec,
            log: &logs.join(format!("{role}-{i}.log")),
            orphan_timeout: Some(at.orphan_timeout),
            tls: &swarm_client::TlsFiles::default(),
            sandbox: at.sandbox,
            otlp_endpoint: at.otlp_endpoint,
        })?);
    }
    Ok(children)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_starts_one_agent_per_role_and_lends_sre_for_day_2() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/release-rehearsal.md"
        );
        let plan =
            swarm_plan::load(Path::new(path), &swarm_plan::Catalogue::builtin()).expect("example");
        let local = agents_needed(&plan);
        assert_eq!(
            local,
            [
                "backend",
                "devops",
                "performance",
                "security",
                "sre",
                "tester"
            ]
        );
        // Day 2's row wants two SRE agents; one is started.
        assert_eq!(roles_to_lend(&plan, &local), ["sre"]);
    }
}
