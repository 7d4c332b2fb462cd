//! Where the daemon's roles come from, in order: the built-in catalogue,
//! Claude Code agent definitions (`agents_dir`), the roles file; and the
//! config's `[exec]` templates that fill in a role's missing one. Plans
//! compile against this, dispatch takes profiles from it, and
//! `swarmctl roles` lists it.

use std::path::PathBuf;

use swarm_roles::{Catalogue, CatalogueError};

use crate::config::{CoreConfig, ExecTemplates};

/// The settings roles are built from.
#[derive(Debug, Clone, Default)]
pub struct RolesSource {
    /// Agent definitions, if any.
    pub agents_dir: Option<PathBuf>,
    /// The roles file, if any.
    pub roles_file: Option<PathBuf>,
    /// `[exec]`.
    pub exec: ExecTemplates,
}

impl RolesSource {
    /// From the configuration.
    pub fn of(cfg: &CoreConfig) -> RolesSource {
        RolesSource {
            agents_dir: cfg.agents_dir(),
            roles_file: cfg.roles_file.clone(),
            exec: cfg.exec.clone(),
        }
    }

    /// The catalogue: built-in, agent definitions, roles file.
    ///
    /// # Errors
    /// A malformed definition (file:line) or roles file.
    pub fn catalogue(&self) -> Result<Catalogue, CatalogueError> {
        let mut catalogue = Catalogue::builtin();
        if let Some(dir) = &self.agents_dir {
            catalogue.extend_from_agents_dir(dir)?;
        }
        if let Some(path) = &self.roles_file {
            catalogue.extend_from_file(path)?;
        }
        Ok(catalogue)
    }

    /// The canonical name `phrase` stands for (`QA Engineer` → `qa`);
    /// a phrase no catalogue knows (or a catalogue that cannot be read)
    /// is taken as a name itself, lower-case with hyphens.
    pub fn role_name(&self, phrase: &str) -> String {
        self.catalogue()
            .ok()
            .and_then(|c| c.resolve(phrase).ok().map(str::to_string))
            .unwrap_or_else(|| swarm_roles::normalise(phrase).replace(' ', "-"))
    }

    /// Where `role`'s command template comes from when its profile has
    /// none: `[exec].ROLE`, else `[exec].default`.
    pub fn exec_for(&self, role: &str) -> Option<(&str, String)> {
        match self.exec.roles.get(role) {
            Some(t) => Some((t.as_str(), format!("config [exec].{role}"))),
            None => self
                .exec
                .default
                .as_deref()
                .map(|t| (t, "config [exec].default".to_string())),
        }
    }
}
