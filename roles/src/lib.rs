//! The role catalogue: which roles exist and which plan phrases mean them.
//!
//! Plans name roles the way people talk (`DevOps Engineer`, `CI/CD
//! Engineer`, `Penetration Tester`); the scheduler needs one canonical,
//! lower-case name per role (`devops`, `security`). [`Catalogue`] maps the
//! first to the second. It starts from the built-in roles in [`builtin`] and
//! can be extended from a TOML file (see [`Catalogue::extend_from_toml`]).
//! A phrase it cannot map is an [`UnknownRole`] error that lists the closest
//! known roles.

#![warn(missing_docs)]

pub mod agents;
mod builtin;
mod catalogue;
mod extend;
mod profile;
pub mod sandbox;
mod suggest;

pub use builtin::BUILTIN_ROLES;
pub use catalogue::{Catalogue, RoleInfo, UnknownRole};
pub use extend::CatalogueError;
pub use profile::Profile;

/// Folds a role phrase to the form used for look-ups: lower case, `-` and
/// `_` read as spaces, runs of white space collapsed.
pub fn normalise(phrase: &str) -> String {
    let lowered = phrase.trim().to_lowercase().replace(['-', '_'], " ");
    lowered.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn normalise_folds_case_dashes_and_spaces() {
        assert_eq!(normalise("  Data-Engineer "), "data engineer");
        assert_eq!(normalise("CI/CD   Engineer"), "ci/cd engineer");
        assert_eq!(
            normalise("site_reliability\tengineer"),
            "site reliability engineer"
        );
    }
}
