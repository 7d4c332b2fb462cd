//! A role's profile: what makes an SRE agent different from a DevOps one
//! beyond the label — its system prompt, the command template that runs
//! its tasks without a Run command, the model, the tools and extra
//! environment. Profiles come from the roles file (`prompt`, `exec`,
//! `model`, `tools`, `env` on a `[[role]]`) and from Claude Code agent
//! definitions (`.claude/agents/*.md`, see [`crate::agents`]).

use std::collections::BTreeMap;

/// A role's profile; every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// The role's system prompt.
    pub prompt: Option<String>,
    /// Command template for the role's tasks without a Run command.
    pub exec: Option<String>,
    /// The model an AI CLI should use.
    pub model: Option<String>,
    /// Tools the role may use (as the CLI names them).
    pub tools: Vec<String>,
    /// Extra environment for the role's tasks.
    pub env: BTreeMap<String, String>,
    /// The pool of a rate-limited API the role's tasks draw on when the
    /// plan names none.
    pub pool: Option<String>,
    /// Where the profile came from (files, in the order applied).
    pub sources: Vec<String>,
}

impl Profile {
    /// Nothing set.
    pub fn is_empty(&self) -> bool {
        self.prompt.is_none()
            && self.exec.is_none()
            && self.model.is_none()
            && self.tools.is_empty()
            && self.env.is_empty()
            && self.pool.is_none()
    }

    /// Lays `other` over this profile: what it sets wins, field by field;
    /// its source is recorded when it sets anything.
    pub fn overlay(&mut self, other: Profile) {
        if other.is_empty() {
            return;
        }
        self.prompt = other.prompt.or(self.prompt.take());
        self.exec = other.exec.or(self.exec.take());
        self.model = other.model.or(self.model.take());
        self.pool = other.pool.or(self.pool.take());
        if !other.tools.is_empty() {
            self.tools = other.tools;
        }
        self.env.extend(other.env);
        for s in other.sources {
            if !self.sources.contains(&s) {
                self.sources.push(s);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_wins_field_by_field_and_keeps_sources() {
        let mut base = Profile {
            prompt: Some("be an SRE".into()),
            model: Some("sonnet".into()),
            tools: vec!["Bash".into()],
            sources: vec![".claude/agents/sre.md".into()],
            ..Profile::default()
        };
        base.overlay(Profile {
            model: Some("opus".into()),
            env: BTreeMap::from([("PAGER".into(), "cat".into())]),
            sources: vec!["roles.toml".into()],
            ..Profile::default()
        });
        assert_eq!(base.prompt.as_deref(), Some("be an SRE"));
        assert_eq!(base.model.as_deref(), Some("opus"));
        assert_eq!(base.tools, vec!["Bash".to_string()]);
        assert_eq!(base.sources, vec![".claude/agents/sre.md", "roles.toml"]);
        base.overlay(Profile {
            sources: vec!["ignored".into()],
            ..Profile::default()
        });
        assert_eq!(base.sources.len(), 2, "an empty profile changes nothing");
    }
}
