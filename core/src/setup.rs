//! Compiling a plan sent over the wire (or stored), with the configured
//! roles and the plan's own.

use swarm_plan::{Catalogue, Format};

use super::command::LoadPlan;
use super::CoreError;

/// Compiles a plan sent over the wire, with the roles of the agent
/// definitions (`agents_dir`), the roles file and the plan's own; returns
/// the roles' profiles too.
pub(crate) fn compile(
    req: &LoadPlan,
    cfg: &crate::config::CoreConfig,
) -> Result<(swarm_plan::CompiledPlan, Profiles), CoreError> {
    let source = crate::roles::RolesSource::of(cfg);
    let mut catalogue = source
        .catalogue()
        .map_err(|e| CoreError::Invalid(e.to_string()))?;
    if !req.roles_toml.is_empty() {
        catalogue
            .extend_from_toml(&req.roles_toml, "roles")
            .map_err(|e| CoreError::Invalid(e.to_string()))?;
    }
    let format = if req.toml {
        Format::Toml
    } else {
        Format::Markdown
    };
    let name = if req.file_name.is_empty() {
        "plan"
    } else {
        &req.file_name
    };
    let compiled = swarm_plan::load_text(&req.text, name, format, &catalogue)
        .map_err(|e| CoreError::Invalid(e.to_string()))?;
    Ok((compiled, Profiles::new(&catalogue, source)))
}

/// Each role's profile, with the config's `[exec]` filling in a missing
/// command template.
#[derive(Debug, Clone, Default)]
pub(crate) struct Profiles {
    by_role: std::collections::BTreeMap<String, swarm_roles::Profile>,
    source: crate::roles::RolesSource,
}

impl Profiles {
    fn new(catalogue: &Catalogue, source: crate::roles::RolesSource) -> Profiles {
        Profiles {
            by_role: catalogue
                .roles()
                .iter()
                .filter(|r| !r.profile.is_empty())
                .map(|r| (r.name.clone(), r.profile.clone()))
                .collect(),
            source,
        }
    }

    /// The profile of `role`: its own, then `[exec].ROLE`, then
    /// `[exec].default` for the command template.
    pub(crate) fn of(&self, role: &str) -> swarm_roles::Profile {
        let mut p = self.by_role.get(role).cloned().unwrap_or_default();
        if p.exec.is_none() {
            p.exec = self.source.exec_for(role).map(|(t, _)| t.to_string());
        }
        p
    }
}
