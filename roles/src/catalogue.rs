//! The catalogue itself: role records and the phrase index over them.

use std::collections::HashMap;
use std::fmt;

use crate::builtin::BUILTIN_ROLES;
use crate::normalise;
use crate::suggest::closest;

/// Words a phrase may end with that do not change which role it names
/// (`SRE Engineer` is `sre`, `Coder Agent` is `coder`).
const NOISE_SUFFIXES: &[&str] = &[
    "engineer",
    "developer",
    "specialist",
    "agent",
    "expert",
    "lead",
];

/// One role of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleInfo {
    /// Canonical, lower-case name (`devops`, `data-engineer`).
    pub name: String,
    /// What an agent playing this role does.
    pub description: String,
    /// Phrases that mean this role, as written in the catalogue.
    pub aliases: Vec<String>,
    /// Its profile (prompt, exec, model, tools, env), if any was given.
    pub profile: crate::Profile,
}

/// A role phrase the catalogue cannot map, with the closest known roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRole {
    /// The phrase as written in the plan.
    pub phrase: String,
    /// Canonical names of the closest known roles, best first.
    pub closest: Vec<String>,
}

impl fmt::Display for UnknownRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown role '{}'", self.phrase)?;
        if !self.closest.is_empty() {
            write!(f, "; closest known roles: {}", self.closest.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownRole {}

/// The roles swarmd knows and the phrases that name them.
#[derive(Debug, Clone)]
pub struct Catalogue {
    roles: Vec<RoleInfo>,
    /// Normalised phrase (name or alias) -> index into `roles`.
    by_phrase: HashMap<String, usize>,
}

impl Default for Catalogue {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Catalogue {
    /// The built-in catalogue (see [`BUILTIN_ROLES`]).
    pub fn builtin() -> Self {
        let mut catalogue = Catalogue {
            roles: Vec::new(),
            by_phrase: HashMap::new(),
        };
        for role in BUILTIN_ROLES {
            let index = catalogue.insert_role(role.name, role.description);
            for alias in role.aliases {
                catalogue.roles[index].aliases.push((*alias).to_string());
                catalogue.by_phrase.insert(normalise(alias), index);
            }
        }
        catalogue
    }

    /// Adds a role with no aliases yet, or returns the existing one's index.
    pub(crate) fn insert_role(&mut self, name: &str, description: &str) -> usize {
        if let Some(&index) = self.by_phrase.get(&normalise(name)) {
            if self.roles[index].name == name {
                return index;
            }
        }
        self.roles.push(RoleInfo {
            name: name.to_string(),
            description: description.to_string(),
            aliases: Vec::new(),
            profile: crate::Profile::default(),
        });
        let index = self.roles.len() - 1;
        self.by_phrase.insert(normalise(name), index);
        index
    }

    pub(crate) fn role_mut(&mut self, index: usize) -> &mut RoleInfo {
        &mut self.roles[index]
    }

    pub(crate) fn phrase_owner(&self, phrase: &str) -> Option<&str> {
        self.by_phrase
            .get(&normalise(phrase))
            .map(|&i| self.roles[i].name.as_str())
    }

    pub(crate) fn index_phrase(&mut self, phrase: &str, index: usize) {
        self.by_phrase.insert(normalise(phrase), index);
    }

    /// Every role, in catalogue order.
    pub fn roles(&self) -> &[RoleInfo] {
        &self.roles
    }

    /// The role with this canonical name.
    pub fn get(&self, name: &str) -> Option<&RoleInfo> {
        self.roles.iter().find(|r| r.name == name)
    }

    /// Maps a plan phrase (`DevOps Engineer`, `DB`, `sre`) to its canonical
    /// role name.
    pub fn resolve(&self, phrase: &str) -> Result<&str, UnknownRole> {
        let key = normalise(phrase);
        if let Some(&index) = self.by_phrase.get(&key) {
            return Ok(&self.roles[index].name);
        }
        let mut stripped = key.as_str();
        while let Some((head, last)) = stripped.rsplit_once(' ') {
            if !NOISE_SUFFIXES.contains(&last) {
                break;
            }
            stripped = head;
            if let Some(&index) = self.by_phrase.get(stripped) {
                return Ok(&self.roles[index].name);
            }
        }
        Err(UnknownRole {
            phrase: phrase.trim().to_string(),
            closest: self.closest(&key, 3),
        })
    }

    /// Canonical names of the `n` roles whose names or aliases are nearest
    /// to `phrase`.
    pub fn closest(&self, phrase: &str, n: usize) -> Vec<String> {
        let candidates = self
            .by_phrase
            .iter()
            .map(|(p, &i)| (p.as_str(), self.roles[i].name.as_str()));
        closest(&normalise(phrase), candidates, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_phrases_resolve() {
        let c = Catalogue::builtin();
        let cases = [
            ("DevOps Engineer", "devops"),
            ("CI/CD Engineer", "devops"),
            ("Security Auditor", "security"),
            ("Penetration Tester", "security"),
            ("SRE", "sre"),
            ("Performance Engineer", "performance"),
            ("Backend Developer", "backend"),
            ("Database Specialist", "database"),
            ("DB", "database"),
            ("Data Engineer", "data-engineer"),
            ("Coder", "coder"),
            ("Reviewer", "reviewer"),
            ("Tester", "tester"),
            ("QA Engineer", "qa"),
            ("QA", "qa"),
            ("Technical Writer", "writer"),
            ("Architect", "architect"),
            ("Performance", "performance"),
        ];
        for (phrase, want) in cases {
            assert_eq!(c.resolve(phrase), Ok(want), "{phrase}");
        }
    }

    #[test]
    fn noise_suffixes_are_ignored() {
        let c = Catalogue::builtin();
        assert_eq!(c.resolve("Reviewer Agent"), Ok("reviewer"));
        assert_eq!(c.resolve("architect lead"), Ok("architect"));
    }

    #[test]
    fn unknown_phrase_lists_closest_roles() {
        let c = Catalogue::builtin();
        let err = c.resolve("Secruity Auditor").unwrap_err();
        assert_eq!(err.closest.first().map(String::as_str), Some("security"));
        assert!(err
            .to_string()
            .starts_with("unknown role 'Secruity Auditor'; closest known roles: security"));
        let err = c.resolve("Chaos Monkey").unwrap_err();
        assert_eq!(err.closest.len(), 3);
    }
}
