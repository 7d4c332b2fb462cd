//! Who did an operator's action: the name its credentials give (the
//! built-in `admin` or `viewer` token, a named token, a client
//! certificate's subject, `web:<session>` for the web view) and, beside
//! it, a human name the client added (`swarmctl --as Ann`). Events and
//! reports name it; it is never a secret.

/// The longest a name is kept, in characters (longer ones are cut).
const MAX_NAME: usize = 120;

/// Who did an operator's action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    name: String,
    human: Option<String>,
}

impl Actor {
    /// The holder of these credentials.
    pub fn new(name: impl Into<String>) -> Actor {
        Actor {
            name: clean(&name.into()),
            human: None,
        }
    }

    /// swarmd itself (a standup it runs on time, a plan `swarmd run`
    /// loads for its own agents).
    pub fn system() -> Actor {
        Actor::new("swarmd")
    }

    /// With a human name beside the credentials' (empty: none).
    pub fn with_as(mut self, human: Option<&str>) -> Actor {
        self.human = human.map(clean).filter(|h| !h.is_empty());
        self
    }

    /// The credentials' name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The human name the client added, if any.
    pub fn human(&self) -> Option<&str> {
        self.human.as_deref()
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.human {
            Some(h) => write!(f, "{} (as {h})", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// One line of at most [`MAX_NAME`] printable characters.
fn clean(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_NAME)
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::Actor;

    #[test]
    fn names_and_human_names() {
        assert_eq!(Actor::new("admin").to_string(), "admin");
        let a = Actor::new("admin").with_as(Some(" Ann\nLee "));
        assert_eq!(a.to_string(), "admin (as Ann Lee)");
        assert_eq!(Actor::new("x").with_as(Some("  ")).to_string(), "x");
        assert_eq!(Actor::new("a".repeat(500)).name().len(), 120);
    }
}
