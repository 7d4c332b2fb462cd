//! Rendering the agent's command template (`--exec 'my-agent-cli --role
//! {role}'`) into a shell command, with every substituted value quoted so the
//! shell sees it as one literal word.

use super::ExecSpec;

/// Renders `template` for one attempt.
///
/// Placeholders: `{role}`, `{task}` (the task id), `{title}` and `{attempt}`
/// (the 1-based attempt number of the task, not the fencing number). Any
/// other `{...}` is left as written, so shell braces keep working.
///
/// Values are quoted for where they land: outside quotes a value becomes one
/// single-quoted word; inside `'...'` or `"..."` in the template it is
/// escaped for that kind of quote. Either way the shell never expands
/// anything in a value: a title such as `$(rm -rf ~)` stays text.
pub fn render_template(template: &str, spec: &ExecSpec) -> String {
    let attempt = spec.attempt_no.to_string();
    let value_of = |name: &str| -> Option<&str> {
        match name {
            "role" => Some(&spec.role),
            "task" => Some(&spec.task_id),
            "title" => Some(&spec.title),
            "attempt" => Some(&attempt),
            _ => None,
        }
    };

    let mut out = String::with_capacity(template.len() + 64);
    let mut quote = Quote::None;
    let mut rest = template;
    while let Some(c) = rest.chars().next() {
        if c == '{' {
            if let Some((name, after)) = rest[1..].split_once('}') {
                if let Some(value) = value_of(name) {
                    out.push_str(&quote.escape(value));
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

/// Quotes `value` as one literal shell word: `it's` becomes `'it'\''s'`.
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// Which quotes the template is inside at a placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Single,
    Double,
}

impl Quote {
    fn escape(self, value: &str) -> String {
        match self {
            Quote::None => shell_quote(value),
            // Close the quote, add an escaped quote, reopen.
            Quote::Single => value.replace('\'', r"'\''"),
            Quote::Double => {
                let mut out = String::with_capacity(value.len());
                for c in value.chars() {
                    if matches!(c, '\\' | '"' | '$' | '`') {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ExecSpec {
        ExecSpec {
            task_id: "d1.build".into(),
            attempt_no: 2,
            role: "coder".into(),
            title: "it's $(x) `y` \"z\" \\".into(),
            ..ExecSpec::default()
        }
    }

    #[test]
    fn substitutes_each_placeholder_quoted() {
        let out = render_template("cli --role {role} --task {task} -n {attempt}", &spec());
        assert_eq!(out, "cli --role 'coder' --task 'd1.build' -n '2'");
    }

    #[test]
    fn quotes_for_the_surrounding_quotes() {
        let s = spec();
        assert_eq!(
            render_template("a {title}", &s),
            r#"a 'it'\''s $(x) `y` "z" \'"#
        );
        assert_eq!(
            render_template("a '{title}'", &s),
            r#"a 'it'\''s $(x) `y` "z" \'"#
        );
        assert_eq!(
            render_template(r#"a "t={title}""#, &s),
            r#"a "t=it's \$(x) \`y\` \"z\" \\""#
        );
    }

    #[test]
    fn leaves_other_braces_and_escapes_alone() {
        let s = spec();
        assert_eq!(
            render_template("echo ${HOME} {x} {", &s),
            "echo ${HOME} {x} {"
        );
        assert_eq!(render_template(r"echo \' {role}", &s), r"echo \' 'coder'");
        assert_eq!(render_template("é{role}ü", &s), "é'coder'ü");
    }

    #[test]
    fn shell_quote_handles_empty_and_quotes() {
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
    }
}
