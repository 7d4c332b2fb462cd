//! Compiling a plan sent over the wire (or stored), with the configured
//! roles and the plan's own. The gRPC edge compiles on a blocking thread
//! and hands the core a [`LoadPlan`] that is already compiled; the core
//! only persists and activates it. Recovery compiles the stored text at
//! start-up, before agents connect.

use swarm_plan::{Catalogue, CompiledPlan, Format};

use super::roles::RolesSource;
use super::CoreError;

/// A plan's text as it was sent: stored with the plan, so that a restart
/// can compile it again.
#[derive(Debug, Clone, Default)]
pub struct PlanText {
    /// Name for messages (`file:line`).
    pub file_name: String,
    /// The plan's text.
    pub text: String,
    /// TOML rather than markdown.
    pub toml: bool,
    /// Extra roles sent with the plan, as a roles TOML file (may be empty).
    pub roles_toml: String,
}

/// A plan to load, compiled: what the core persists and activates. Made
/// only by [`LoadPlan::compile`], so the core never parses a plan for a
/// `Load` command.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    pub(crate) source: PlanText,
    pub(crate) compiled: CompiledPlan,
    pub(crate) profiles: Profiles,
}

impl LoadPlan {
    /// Compiles `source` with the roles of `roles` (the built-in
    /// catalogue, the agent definitions, the roles file) and the plan's
    /// own. Reads the agent definitions and the roles file from disk, and
    /// a big plan takes a while: call it off the scheduler's thread.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] with the compiler's `file:line` message, or
    /// the roles' when a definition or the roles file is malformed.
    pub fn compile(source: PlanText, roles: &RolesSource) -> Result<LoadPlan, CoreError> {
        let (compiled, profiles) = compile(&source, roles)?;
        Ok(LoadPlan {
            source,
            compiled,
            profiles,
        })
    }

    /// The compiled plan.
    pub fn compiled(&self) -> &CompiledPlan {
        &self.compiled
    }

    /// The text it was compiled from.
    pub fn source(&self) -> &PlanText {
        &self.source
    }
}

/// Compiles `req` with the roles of `source` and the plan's own; returns
/// the roles' profiles too.
pub(crate) fn compile(
    req: &PlanText,
    source: &RolesSource,
) -> Result<(CompiledPlan, Profiles), CoreError> {
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
    Ok((compiled, Profiles::new(&catalogue, source.clone())))
}

/// Each role's profile, with the config's `[exec]` filling in a missing
/// command template.
#[derive(Debug, Clone, Default)]
pub struct Profiles {
    by_role: std::collections::BTreeMap<String, swarm_roles::Profile>,
    source: RolesSource,
}

impl Profiles {
    fn new(catalogue: &Catalogue, source: RolesSource) -> Profiles {
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

    /// The pool `role`'s profile names, if any.
    pub(crate) fn pool_of(&self, role: &str) -> Option<&str> {
        self.by_role.get(role)?.pool.as_deref()
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
