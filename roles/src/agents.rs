//! Claude Code / claude-flow agent definitions as role profiles: markdown
//! files under a directory (`.claude/agents/`, searched recursively), each
//! opening with YAML front matter:
//!
//! ```text
//! ---
//! name: sre
//! description: Keeps production up
//! tools: Read, Bash, Grep
//! model: sonnet
//! ---
//! You are a site reliability engineer. ...   (the body: the prompt)
//! ```
//!
//! Only the top-level keys `name` (required), `description`, `tools` (a
//! comma-separated string, a `[a, b]` list or `- item` lines) and `model`
//! are read; other keys, and whatever is indented under them, are skipped,
//! so claude-flow's richer files load too. A file that does not open with
//! `---` is not a definition and is skipped; a definition that is
//! malformed is an error naming the file and line.

use std::path::{Path, PathBuf};

use crate::catalogue::Catalogue;
use crate::extend::CatalogueError;
use crate::profile::Profile;

/// One agent definition, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    /// The file.
    pub path: PathBuf,
    /// `name`, and the line it is on.
    pub name: (String, usize),
    /// `description`.
    pub description: String,
    /// `tools`.
    pub tools: Vec<String>,
    /// `model`.
    pub model: Option<String>,
    /// The body: the prompt.
    pub prompt: String,
}

fn error(path: &Path, line: usize, message: impl Into<String>) -> CatalogueError {
    CatalogueError::AgentFile {
        path: path.display().to_string(),
        line,
        message: message.into(),
    }
}

/// Reads a definition; `Ok(None)` when the file has no front matter.
///
/// # Errors
/// [`CatalogueError::AgentFile`] for an unreadable file or malformed front
/// matter.
pub fn parse(path: &Path, text: &str) -> Result<Option<Definition>, CatalogueError> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, first)) if first.trim_end() == "---" => {}
        _ => return Ok(None),
    }
    let mut front = FrontMatter::default();
    let mut closed = None;
    for (i, raw) in lines.by_ref() {
        let number = i + 1;
        let line = raw.trim_end();
        if line == "---" {
            closed = Some(number);
            break;
        }
        front.line(path, number, line)?;
    }
    let Some(end) = closed else {
        return Err(error(
            path,
            1,
            "the front matter opened with '---' is never closed by another '---'",
        ));
    };
    let Some(name) = front.name else {
        return Err(error(path, end, "the front matter has no 'name'"));
    };
    let prompt = lines
        .map(|(_, l)| l)
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string();
    Ok(Some(Definition {
        path: path.to_path_buf(),
        name,
        description: front.description,
        tools: front.tools,
        model: front.model,
        prompt,
    }))
}

/// The keys of a front matter read so far.
#[derive(Default)]
struct FrontMatter {
    name: Option<(String, usize)>,
    description: String,
    tools: Vec<String>,
    model: Option<String>,
    /// `tools:` had no value on its line: the `- item` lines after it are
    /// its items.
    in_tools: bool,
}

impl FrontMatter {
    /// One line between the opening and the closing `---`, trimmed at the
    /// end; `number` counts from 1.
    fn line(&mut self, path: &Path, number: usize, line: &str) -> Result<(), CatalogueError> {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            return Ok(());
        }
        if line.starts_with([' ', '\t']) {
            // Indented: an item of `tools`, or part of a key we skip.
            if self.in_tools {
                if let Some(item) = line.trim().strip_prefix("- ") {
                    self.tools.push(unquote(item));
                }
            }
            return Ok(());
        }
        if let Some(item) = line.strip_prefix("- ") {
            if self.in_tools {
                self.tools.push(unquote(item));
                return Ok(());
            }
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(error(
                path,
                number,
                format!("expected 'key: value' in the front matter, found {line:?}"),
            ));
        };
        self.in_tools = false;
        self.key(path, number, key.trim(), value.trim())
    }

    /// A top-level `key: value`; keys other than the four read are skipped.
    fn key(
        &mut self,
        path: &Path,
        number: usize,
        key: &str,
        value: &str,
    ) -> Result<(), CatalogueError> {
        match key {
            "name" => {
                let v = unquote(value);
                if v.is_empty() {
                    return Err(error(path, number, "name is empty"));
                }
                self.name = Some((v, number));
            }
            "description" => self.description = unquote(value),
            "model" => self.model = Some(unquote(value)).filter(|m| !m.is_empty()),
            "tools" => {
                self.in_tools = value.is_empty();
                let list = value.trim_start_matches('[').trim_end_matches(']');
                self.tools = list
                    .split(',')
                    .map(unquote)
                    .filter(|t| !t.is_empty())
                    .collect();
            }
            _ => {}
        }
        Ok(())
    }
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    let inner = s
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .or_else(|| s.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')));
    inner.unwrap_or(s).trim().to_string()
}

/// Every `*.md` under `dir`, recursively, in path order.
fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let path = e.path();
        if e.file_type()?.is_dir() {
            markdown_files(&path, out)?;
        } else if path.extension().is_some_and(|x| x == "md") {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads every definition under `dir`.
///
/// # Errors
/// [`CatalogueError::AgentFile`] for the first unreadable or malformed one.
pub fn read_dir(dir: &Path) -> Result<Vec<Definition>, CatalogueError> {
    let mut files = Vec::new();
    markdown_files(dir, &mut files).map_err(|e| error(dir, 0, format!("cannot read: {e}")))?;
    let mut out = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| error(&path, 0, format!("cannot read: {e}")))?;
        if let Some(d) = parse(&path, &text)? {
            out.push(d);
        }
    }
    Ok(out)
}

impl Catalogue {
    /// Applies the agent definitions under `dir`: a definition whose name
    /// is a role's name or one of its phrases becomes that role's profile;
    /// a new name becomes a new role. On error nothing is changed.
    ///
    /// # Errors
    /// [`CatalogueError::AgentFile`] naming the file and line.
    pub fn extend_from_agents_dir(&mut self, dir: &Path) -> Result<(), CatalogueError> {
        let mut next = self.clone();
        for d in read_dir(dir)? {
            let (name, line) = &d.name;
            let role = match next.resolve(name) {
                Ok(role) => role.to_string(),
                Err(_) => {
                    let role: String = name
                        .trim()
                        .to_lowercase()
                        .chars()
                        .map(|c| if c == ' ' || c == '_' { '-' } else { c })
                        .collect();
                    let valid = !role.is_empty()
                        && role.len() <= 64
                        && role
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                    if !valid {
                        return Err(error(
                            &d.path,
                            *line,
                            format!(
                                "name {name:?} is not a known role, and as a new one it must be \
                                 letters, digits and '-' (like 'data-engineer'), at most 64"
                            ),
                        ));
                    }
                    next.insert_role(&role, &d.description);
                    role
                }
            };
            let index = next
                .roles()
                .iter()
                .position(|r| r.name == role)
                .unwrap_or_default();
            next.role_mut(index).profile.overlay(Profile {
                prompt: Some(d.prompt.clone()).filter(|p| !p.is_empty()),
                exec: None,
                model: d.model.clone(),
                tools: d.tools.clone(),
                env: Default::default(),
                pool: None,
                sources: vec![d.path.display().to_string()],
            });
        }
        *self = next;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_code_front_matter_and_body() {
        let text = "---\nname: sre\ndescription: \"Keeps prod up\"\ntools: Read, Bash , Grep\nmodel: sonnet\n---\n\nYou are an SRE.\nBe careful.\n";
        let d = parse(Path::new("sre.md"), text)
            .expect("ok")
            .expect("a definition");
        assert_eq!(d.name, ("sre".to_string(), 2));
        assert_eq!(d.description, "Keeps prod up");
        assert_eq!(d.tools, vec!["Read", "Bash", "Grep"]);
        assert_eq!(d.model.as_deref(), Some("sonnet"));
        assert_eq!(d.prompt, "You are an SRE.\nBe careful.");
    }

    #[test]
    fn claude_flow_nested_keys_are_skipped_and_lists_read() {
        let text = "---\nname: \"code-analyzer\"\ntype: analysis\nmetadata:\n  description: nested, ignored\nhooks:\n  pre: |\n    echo hi: there\ntools:\n  - Read\n  - Grep\n---\nAnalyse code.\n";
        let d = parse(Path::new("a.md"), text)
            .expect("ok")
            .expect("a definition");
        assert_eq!(d.name.0, "code-analyzer");
        assert_eq!(d.description, "");
        assert_eq!(d.tools, vec!["Read", "Grep"]);
        assert_eq!(d.prompt, "Analyse code.");
    }

    #[test]
    fn bad_front_matter_names_file_and_line() {
        let err = parse(Path::new("x.md"), "---\nname: sre\njust words\n---\n").expect_err("bad");
        assert_eq!(
            err.to_string(),
            "x.md:3: expected 'key: value' in the front matter, found \"just words\""
        );
        let err = parse(Path::new("x.md"), "---\ndescription: d\n---\nbody").expect_err("no name");
        assert_eq!(err.to_string(), "x.md:3: the front matter has no 'name'");
        let err = parse(Path::new("x.md"), "---\nname: a\n").expect_err("open");
        assert!(err.to_string().starts_with("x.md:1: "), "{err}");
        assert_eq!(
            parse(Path::new("README.md"), "# Agents\n").expect("ok"),
            None
        );
    }

    #[test]
    fn definitions_profile_known_roles_and_add_new_ones() {
        let dir = std::env::temp_dir().join(format!("swarm-roles-agents-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("ops")).expect("mkdir");
        std::fs::write(
            dir.join("ops/sre.md"),
            "---\nname: Site Reliability Engineer\nmodel: opus\n---\nKeep it up.\n",
        )
        .expect("write");
        std::fs::write(
            dir.join("gremlin.md"),
            "---\nname: Chaos Gremlin\ndescription: breaks things on purpose\n---\nReview.\n",
        )
        .expect("write");
        std::fs::write(dir.join("README.md"), "not a definition\n").expect("write");
        let mut c = Catalogue::builtin();
        c.extend_from_agents_dir(&dir).expect("applies");
        let sre = c.get("sre").expect("sre");
        assert_eq!(sre.profile.model.as_deref(), Some("opus"));
        assert_eq!(sre.profile.prompt.as_deref(), Some("Keep it up."));
        assert!(sre.profile.sources[0].ends_with("ops/sre.md"));
        let gremlin = c.get("chaos-gremlin").expect("a new role");
        assert_eq!(gremlin.description, "breaks things on purpose");
        assert_eq!(c.resolve("Chaos Gremlin").expect("phrase"), "chaos-gremlin");

        std::fs::write(dir.join("bad.md"), "---\nname: a/b\n---\n").expect("write");
        let before = c.roles().len();
        let err = c.extend_from_agents_dir(&dir).expect_err("bad name");
        assert!(err.to_string().contains("bad.md:2: name \"a/b\""), "{err}");
        assert_eq!(c.roles().len(), before, "unchanged");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
