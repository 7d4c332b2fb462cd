//! Extending the catalogue from a user's TOML file.
//!
//! ```toml
//! [[role]]
//! name = "frontend"
//! description = "builds the web UI"
//! aliases = ["Frontend Developer", "UI Engineer"]
//!
//! [[role]]
//! name = "sre"                 # an existing role: the aliases are added
//! aliases = ["On-call Engineer"]
//! sandbox = "off"              # its tasks: no bubblewrap (sudo works)
//! ```
//!
//! A role's profile: `prompt`, `exec`, `model`, `tools`, `env`, and its
//! tasks' sandbox — `sandbox` (auto, required, off), `sandbox_filesystem`
//! (host, workdir), `sandbox_network` (host, none) — which override the
//! agent's own settings for that role (see [`crate::sandbox`]).

use serde::Deserialize;
use thiserror::Error;

use crate::catalogue::Catalogue;

/// Why a role file could not be applied. Nothing is changed when it fails.
#[derive(Debug, Error)]
pub enum CatalogueError {
    /// The file is not valid TOML or has fields of the wrong shape.
    #[error("{origin}: {message}")]
    Syntax {
        /// File the roles came from.
        origin: String,
        /// What the TOML parser said, with the line.
        message: String,
    },
    /// A role name that is not lower-case letters, digits and dashes.
    #[error("{origin}: role name '{name}' must be lower-case letters, digits and '-' (like 'data-engineer')")]
    BadName {
        /// File the roles came from.
        origin: String,
        /// The offending name.
        name: String,
    },
    /// A Claude Code agent definition that cannot be used.
    #[error("{path}:{line}: {message}")]
    AgentFile {
        /// The file.
        path: String,
        /// The line (1-based; 0 when the whole file is at fault).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A role's setting that is not one of its choices.
    #[error("{origin}: role '{role}': {message}")]
    BadSetting {
        /// File the roles came from.
        origin: String,
        /// The role.
        role: String,
        /// The key, its value and the choices.
        message: String,
    },
    /// An alias that already names a different role.
    #[error("{origin}: alias '{alias}' of role '{role}' already names role '{owner}'")]
    AliasTaken {
        /// File the roles came from.
        origin: String,
        /// The alias.
        alias: String,
        /// The role the file gives it to.
        role: String,
        /// The role that already has it.
        owner: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleFile {
    #[serde(default)]
    role: Vec<RoleEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleEntry {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    aliases: Vec<String>,
    prompt: Option<String>,
    exec: Option<String>,
    model: Option<String>,
    pool: Option<String>,
    #[serde(default)]
    tools: Vec<String>,
    #[serde(default)]
    env: std::collections::BTreeMap<String, String>,
    sandbox: Option<String>,
    sandbox_filesystem: Option<String>,
    sandbox_network: Option<String>,
}

impl RoleEntry {
    /// `env`, with the sandbox keys added as the variables that carry
    /// them to the agent (they win over the same variables in `env`).
    fn environment(
        &mut self,
        origin: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, CatalogueError> {
        let settings = crate::sandbox::RoleSettings::parse(
            self.sandbox.as_deref(),
            self.sandbox_filesystem.as_deref(),
            self.sandbox_network.as_deref(),
        )
        .map_err(|message| CatalogueError::BadSetting {
            origin: origin.to_string(),
            role: self.name.clone(),
            message,
        })?;
        let mut env = std::mem::take(&mut self.env);
        env.extend(settings.env());
        Ok(env)
    }
}

impl Catalogue {
    /// Applies a role file: new roles are added, and aliases given to an
    /// existing role are added to it. `origin` names the file in errors.
    /// On error the catalogue is unchanged.
    pub fn extend_from_toml(&mut self, text: &str, origin: &str) -> Result<(), CatalogueError> {
        let file: RoleFile = toml::from_str(text).map_err(|e| CatalogueError::Syntax {
            origin: origin.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let mut next = self.clone();
        for mut entry in file.role {
            let env = entry.environment(origin)?;
            if let Some(pool) = &entry.pool {
                let ok = !pool.is_empty()
                    && (pool.chars()).all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if !ok {
                    return Err(CatalogueError::Syntax {
                        origin: origin.to_string(),
                        message: format!(
                            "role {}: malformed pool '{pool}': expected a name of letters, digits, '-' and '_'",
                            entry.name
                        ),
                    });
                }
            }
            let valid = !entry.name.is_empty()
                && entry
                    .name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !valid {
                return Err(CatalogueError::BadName {
                    origin: origin.to_string(),
                    name: entry.name,
                });
            }
            if let Some(owner) = next.phrase_owner(&entry.name) {
                if owner != entry.name {
                    return Err(CatalogueError::AliasTaken {
                        origin: origin.to_string(),
                        alias: entry.name.clone(),
                        role: entry.name,
                        owner: owner.to_string(),
                    });
                }
            }
            let index = next.insert_role(&entry.name, &entry.description);
            if !entry.description.is_empty() {
                next.role_mut(index).description = entry.description.clone();
            }
            next.role_mut(index).profile.overlay(crate::Profile {
                prompt: entry.prompt,
                exec: entry.exec,
                model: entry.model,
                tools: entry.tools,
                env,
                pool: entry.pool,
                sources: vec![origin.to_string()],
            });
            for alias in entry.aliases {
                match next.phrase_owner(&alias) {
                    Some(owner) if owner != entry.name => {
                        return Err(CatalogueError::AliasTaken {
                            origin: origin.to_string(),
                            alias,
                            role: entry.name,
                            owner: owner.to_string(),
                        });
                    }
                    Some(_) => {}
                    None => {
                        next.index_phrase(&alias, index);
                        next.role_mut(index).aliases.push(alias);
                    }
                }
            }
        }
        *self = next;
        Ok(())
    }

    /// Reads and applies a role file (see [`Catalogue::extend_from_toml`]).
    pub fn extend_from_file(&mut self, path: &std::path::Path) -> Result<(), CatalogueError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| CatalogueError::Syntax {
            origin: origin.clone(),
            message: format!("cannot read the role file: {e}"),
        })?;
        self.extend_from_toml(&text, &origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_roles_and_aliases() {
        let mut c = Catalogue::builtin();
        c.extend_from_toml(
            "[[role]]\nname = \"frontend\"\naliases = [\"UI Engineer\"]\n\n[[role]]\nname = \"sre\"\naliases = [\"On-call Engineer\"]\n",
            "roles.toml",
        )
        .unwrap();
        assert_eq!(c.resolve("UI Engineer"), Ok("frontend"));
        assert_eq!(c.resolve("frontend"), Ok("frontend"));
        assert_eq!(c.resolve("on call engineer"), Ok("sre"));
    }

    #[test]
    fn a_role_s_pool_is_read_and_a_malformed_one_named() {
        let mut c = Catalogue::builtin();
        c.extend_from_toml(
            "[[role]]\nname = \"sre\"\npool = \"anthropic\"\n",
            "roles.toml",
        )
        .expect("valid");
        let sre = c.get("sre").expect("sre");
        assert_eq!(sre.profile.pool.as_deref(), Some("anthropic"));
        let err = c
            .extend_from_toml(
                "[[role]]\nname = \"qa\"\npool = \"big one\"\n",
                "roles.toml",
            )
            .expect_err("malformed");
        assert!(
            err.to_string()
                .contains("role qa: malformed pool 'big one'"),
            "{err}"
        );
    }

    #[test]
    fn conflicting_alias_is_refused_and_changes_nothing() {
        let mut c = Catalogue::builtin();
        let err = c
            .extend_from_toml(
                "[[role]]\nname = \"frontend\"\naliases = [\"UI\", \"DBA\"]\n",
                "roles.toml",
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "roles.toml: alias 'DBA' of role 'frontend' already names role 'database'"
        );
        assert!(c.resolve("frontend").is_err());
    }

    #[test]
    fn a_role_s_sandbox_travels_in_its_environment_and_bad_values_are_named() {
        let mut c = Catalogue::builtin();
        c.extend_from_toml(
            "[[role]]\nname = \"sre\"\nsandbox = \"off\"\nsandbox_network = \"none\"\nenv = { SWARM_SANDBOX = \"auto\", PAGER = \"cat\" }\n",
            "roles.toml",
        )
        .expect("valid");
        let env = &c.get("sre").expect("sre").profile.env;
        assert_eq!(env.get("SWARM_SANDBOX").map(String::as_str), Some("off"));
        assert_eq!(
            env.get("SWARM_SANDBOX_NETWORK").map(String::as_str),
            Some("none")
        );
        assert_eq!(env.get("PAGER").map(String::as_str), Some("cat"));
        let err = c
            .extend_from_toml(
                "[[role]]\nname = \"sre\"\nsandbox_filesystem = \"all\"\n",
                "roles.toml",
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "roles.toml: role 'sre': sandbox_filesystem = \"all\" is not a choice; valid: host, workdir"
        );
    }

    #[test]
    fn bad_name_and_bad_toml_are_errors() {
        let mut c = Catalogue::builtin();
        let err = c
            .extend_from_toml("[[role]]\nname = \"Front End\"\n", "r.toml")
            .unwrap_err();
        assert!(matches!(err, CatalogueError::BadName { .. }));
        let err = c.extend_from_toml("[[role]\n", "r.toml").unwrap_err();
        assert!(err.to_string().starts_with("r.toml: "), "{err}");
    }
}
