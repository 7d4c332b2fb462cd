//! `ListRoles`' answer: every role the daemon knows, with its phrases and
//! where its profile (and command template) comes from.

use swarm_core::roles::RolesSource;
use swarm_proto::v1 as pb;
use tonic::Status;

/// The roles `source` gives, as `swarmctl roles` shows them.
pub(super) fn list(source: &RolesSource) -> Result<pb::ListRolesReply, Status> {
    let catalogue = source
        .catalogue()
        .map_err(|e| Status::failed_precondition(e.to_string()))?;
    let roles = catalogue
        .roles()
        .iter()
        .map(|r| {
            let p = &r.profile;
            let mut sources = p.sources.clone();
            let exec = match &p.exec {
                Some(e) => e.clone(),
                None => match source.exec_for(&r.name) {
                    Some((t, from)) => {
                        sources.push(from);
                        t.to_string()
                    }
                    None => String::new(),
                },
            };
            pb::RoleInfo {
                name: r.name.clone(),
                description: r.description.clone(),
                aliases: r.aliases.clone(),
                profile_sources: sources,
                prompt_bytes: p.prompt.as_ref().map_or(0, |x| x.len() as u64),
                exec,
                model: p.model.clone().unwrap_or_default(),
                tools: p.tools.clone(),
                env_keys: p.env.keys().cloned().collect(),
            }
        })
        .collect();
    Ok(pb::ListRolesReply { roles })
}
