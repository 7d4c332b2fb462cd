//! What a task says of the plan's repository: whether it works in it at
//! all (`**Workspace**: none` for operations tasks that touch no code), and
//! the paths it claims (`**Touches**: scripts/backup/**, docs/backup.md`).
//!
//! A claim is a gitignore-style glob relative to the repository's root.
//! Two claims overlap when some path could match both; comparing the
//! literal parts before the first wildcard is enough, and errs on the side
//! of overlap.

/// Whether a task works in the plan's repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Workspace {
    /// It works in a worktree of the plan's repository (the default; with
    /// no repository configured, in its agent's working directory).
    #[default]
    Repo,
    /// It touches no code: it runs in its agent's working directory.
    None,
}

impl Workspace {
    /// `repo` or `none`.
    pub fn name(self) -> &'static str {
        match self {
            Workspace::Repo => "repo",
            Workspace::None => "none",
        }
    }

    /// Parses `none` or `repo` (any case).
    ///
    /// # Errors
    /// A message naming what was expected.
    pub fn parse(text: &str) -> Result<Workspace, String> {
        match text.trim().trim_matches('`').to_ascii_lowercase().as_str() {
            "none" => Ok(Workspace::None),
            "repo" => Ok(Workspace::Repo),
            other => Err(format!(
                "unknown workspace '{}': expected 'none' (the task touches no code) or 'repo'",
                crate::markdown::phrases::clip(other)
            )),
        }
    }
}

/// The longest claim accepted, in bytes.
const MAX_CLAIM: usize = 1024;

/// Checks one claim: relative to the repository's root, inside it, and
/// non-empty; returned without a leading `./` or trailing spaces.
///
/// # Errors
/// A message saying what is wrong with it.
pub fn check_claim(text: &str) -> Result<String, String> {
    let claim = text.trim().trim_matches('`').trim();
    let claim = claim.strip_prefix("./").unwrap_or(claim);
    if claim.is_empty() {
        return Err("an empty path in Touches".to_string());
    }
    if claim.len() > MAX_CLAIM {
        return Err(format!("a path in Touches longer than {MAX_CLAIM} bytes"));
    }
    if claim.starts_with('/') {
        return Err(format!(
            "'{}' in Touches is absolute: paths are relative to the repository's root",
            crate::markdown::phrases::clip(claim)
        ));
    }
    if claim.split('/').any(|part| part == "..") {
        return Err(format!(
            "'{}' in Touches leaves the repository ('..')",
            crate::markdown::phrases::clip(claim)
        ));
    }
    if claim.chars().any(char::is_control) {
        return Err("a path in Touches holds a control character".to_string());
    }
    Ok(claim.to_string())
}

/// Parses a comma-separated list of claims.
///
/// # Errors
/// The first bad claim's message.
pub fn parse_claims(text: &str) -> Result<Vec<String>, String> {
    text.split(',')
        .filter(|c| !c.trim().is_empty())
        .map(check_claim)
        .collect()
}

/// Whether some path could match both claims.
pub fn overlap(a: &str, b: &str) -> bool {
    let (la, wild_a) = literal(a);
    let (lb, wild_b) = literal(b);
    match (wild_a, wild_b) {
        // Two plain paths: the same path, or one a directory holding the
        // other (a plain path claims everything under it).
        (false, false) => within(la, lb) || within(lb, la),
        // A glob may go on past its literal part with any characters.
        (true, false) => lb.starts_with(la) || within(la, lb),
        (false, true) => la.starts_with(lb) || within(lb, la),
        (true, true) => la.starts_with(lb) || lb.starts_with(la),
    }
}

/// Whether any two claims of `a` and `b` overlap.
pub fn any_overlap(a: &[String], b: &[String]) -> bool {
    a.iter().any(|x| b.iter().any(|y| overlap(x, y)))
}

/// The part of a claim before its first wildcard (without a trailing
/// `/`), and whether it has one.
fn literal(claim: &str) -> (&str, bool) {
    match claim.find(['*', '?', '[']) {
        Some(i) => (&claim[..i], true),
        None => (claim.trim_end_matches('/'), false),
    }
}

/// Whether `path` is `dir` or lies under it.
fn within(path: &str, dir: &str) -> bool {
    path == dir || (path.starts_with(dir) && path[dir.len()..].starts_with('/')) || dir.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_overlap_when_some_path_could_match_both() {
        let yes = [
            ("scripts/backup/**", "scripts/backup/run.sh"),
            ("scripts/backup/**", "scripts/**"),
            ("docs/backup.md", "docs/backup.md"),
            ("docs", "docs/backup.md"),
            ("docs/", "docs/a/b.md"),
            ("scripts/back*", "scripts/backup.sh"),
            ("*.md", "docs/x.md"),
            ("**", "anything"),
        ];
        for (a, b) in yes {
            assert!(overlap(a, b), "{a} / {b}");
            assert!(overlap(b, a), "{b} / {a}");
        }
        let no = [
            ("scripts/backup/**", "docs/backup.md"),
            ("docs/backup.md", "docs/backup.md.bak"),
            ("scripts/backup", "scripts/backup.sh"),
            ("config/**", "configs/x"),
            ("src/a/*.rs", "src/b/*.rs"),
        ];
        for (a, b) in no {
            assert!(!overlap(a, b), "{a} / {b}");
            assert!(!overlap(b, a), "{b} / {a}");
        }
    }

    #[test]
    fn bad_claims_say_what_is_wrong() {
        assert_eq!(
            parse_claims("`scripts/backup/**`, ./docs/backup.md"),
            Ok(vec![
                "scripts/backup/**".to_string(),
                "docs/backup.md".to_string()
            ])
        );
        assert!(check_claim("/etc/passwd")
            .expect_err("absolute")
            .contains("absolute"));
        assert!(check_claim("a/../../b").expect_err("dots").contains(".."));
        assert!(check_claim("  ").is_err());
        assert!(check_claim("a\u{1b}[2J").is_err());
        assert_eq!(Workspace::parse("None"), Ok(Workspace::None));
        assert!(Workspace::parse("maybe")
            .expect_err("bad")
            .contains("'none'"));
    }
}
