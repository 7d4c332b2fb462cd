//! Rendering the agent's command template (`--exec 'my-agent-cli --role
//! {role}'`) into a shell command. A value never appears in the command:
//! each placeholder becomes a reference to the environment variable that
//! holds it, which the shell expands but never parses again, so a title
//! such as `x; touch PWNED` or `$(rm -rf ~)` stays text in every context —
//! outside quotes, inside `'...'` or `"..."`, and inside `$(...)` within
//! double quotes.

use super::ExecSpec;

/// The placeholders and the variables that carry their values (every
/// task process has them).
const PLACEHOLDERS: [(&str, &str); 9] = [
    ("role", "SWARM_ROLE"),
    ("task", "SWARM_TASK_ID"),
    ("title", "SWARM_TASK_TITLE"),
    ("attempt", "SWARM_ATTEMPT"),
    ("prompt_file", "SWARM_PROMPT_FILE"),
    ("brief_file", "SWARM_BRIEF_FILE"),
    ("model", "SWARM_MODEL"),
    ("tools", "SWARM_TOOLS"),
    ("session", "SWARM_SESSION"),
];

/// Renders `template` for one attempt.
///
/// Placeholders: `{role}`, `{task}` (the task id), `{title}`, `{attempt}`
/// (the 1-based attempt number of the task, not the fencing number),
/// `{prompt_file}` (the role's prompt, in a private file), `{brief_file}`
/// (the brief, also on stdin), `{model}` and `{tools}` (comma-separated)
/// from the role's profile, `{session}` (the AI CLI session id the
/// task's previous attempt reported, empty on the first: `claude
/// --resume {session}`). Any other `{...}` is left as written, so shell
/// braces keep working.
///
/// A placeholder becomes `"${VAR}"` outside quotes, `${VAR}` inside
/// `"..."`, and `'"${VAR}"'` inside `'...'` (the single quote is closed
/// around it): one word with the value, whatever it holds. Every task
/// process has the variables in its environment.
pub fn render_template(template: &str, _spec: &ExecSpec) -> String {
    let var_of = |name: &str| {
        PLACEHOLDERS
            .iter()
            .find(|(p, _)| *p == name)
            .map(|(_, var)| *var)
    };
    let mut out = String::with_capacity(template.len() + 64);
    let mut quote = Quote::None;
    let mut rest = template;
    while let Some(c) = rest.chars().next() {
        if c == '{' {
            if let Some((name, after)) = rest[1..].split_once('}') {
                if let Some(var) = var_of(name) {
                    out.push_str(&quote.reference(var));
                    rest = after;
                    continue;
                }
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
        match (quote, c) {
            (Quote::None, '\'') => quote = Quote::Single,
            (Quote::None, '"') => quote = Quote::Double,
            (Quote::Single, '\'') | (Quote::Double, '"') => quote = Quote::None,
            (Quote::None | Quote::Double, '\\') => {
                // The next character is escaped: copy it through untouched.
                if let Some(next) = rest.chars().next() {
                    out.push(next);
                    rest = &rest[next.len_utf8()..];
                }
            }
            _ => {}
        }
    }
    out
}

/// The variables a rendered template refers to, with their values.
pub fn template_env(spec: &ExecSpec) -> Vec<(String, String)> {
    vec![
        ("SWARM_ROLE".into(), spec.role.clone()),
        ("SWARM_TASK_ID".into(), spec.task_id.clone()),
        ("SWARM_TASK_TITLE".into(), spec.title.clone()),
        ("SWARM_ATTEMPT".into(), spec.attempt_no.to_string()),
    ]
}

/// Which quotes the template is inside at a placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Single,
    Double,
}

impl Quote {
    /// A reference to `var` that expands to its value as one word here.
    fn reference(self, var: &str) -> String {
        match self {
            Quote::None => format!("\"${{{var}}}\""),
            Quote::Double => format!("${{{var}}}"),
            Quote::Single => format!("'\"${{{var}}}\"'"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(title: &str) -> ExecSpec {
        ExecSpec {
            task_id: "d1.build".into(),
            attempt_no: 2,
            role: "coder".into(),
            title: title.into(),
            ..ExecSpec::default()
        }
    }

    /// Runs the rendered template with `sh` in `dir`, with the variables.
    fn run(template: &str, title: &str, dir: &std::path::Path) -> String {
        let s = spec(title);
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(render_template(template, &s))
            .envs(template_env(&s))
            .current_dir(dir)
            .output()
            .expect("sh runs");
        String::from_utf8_lossy(&out.stdout).trim_end().to_string()
    }

    #[test]
    fn placeholders_become_variable_references_for_their_quotes() {
        let s = spec("t");
        assert_eq!(
            render_template("cli --role {role} --task {task} -n {attempt}", &s),
            r#"cli --role "${SWARM_ROLE}" --task "${SWARM_TASK_ID}" -n "${SWARM_ATTEMPT}""#
        );
        assert_eq!(
            render_template("a '{title}'", &s),
            r#"a ''"${SWARM_TASK_TITLE}"''"#
        );
        assert_eq!(
            render_template(r#"a "t={title}""#, &s),
            r#"a "t=${SWARM_TASK_TITLE}""#
        );
    }

    #[test]
    fn no_title_runs_as_a_command_in_any_context() {
        let dir = tempfile::tempdir().expect("tmp");
        let evil = "x; touch PWNED $(touch PWNED2) `touch PWNED3` 'q' \"dq\" \\";
        for template in [
            "echo {title}",
            "echo '{title}'",
            "echo \"{title}\"",
            "echo \"$(echo {title})\"",
            "echo \"$(echo '{title}')\"",
            "echo $(echo \"{title}\")",
        ] {
            let said = run(template, evil, dir.path());
            for file in ["PWNED", "PWNED2", "PWNED3"] {
                assert!(
                    !dir.path().join(file).exists(),
                    "{template} ran a command from the title (said {said:?})"
                );
            }
        }
        assert_eq!(run("echo {title}", evil, dir.path()), evil);
        assert_eq!(
            run("echo \"[{title}]\"", evil, dir.path()),
            format!("[{evil}]")
        );
        assert_eq!(
            run("echo '<{title}>'", evil, dir.path()),
            format!("<{evil}>")
        );
    }

    #[test]
    fn leaves_other_braces_and_escapes_alone() {
        let s = spec("t");
        assert_eq!(
            render_template("echo ${HOME} {x} {", &s),
            "echo ${HOME} {x} {"
        );
        assert_eq!(
            render_template(r"echo \' {role}", &s),
            r#"echo \' "${SWARM_ROLE}""#
        );
    }
}
