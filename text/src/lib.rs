//! Text people read, made safe and worded in one place. No dependencies,
//! so every crate can use it — the core (which must not pull in tonic) as
//! much as the clients.
//!
//! - [`printable`] and [`printable_text`]: text from a plan, a task, an
//!   agent or an event made safe for a terminal or a report: control
//!   characters (ESC sequences, `\r`, the bell) are shown escaped
//!   (`\u{1b}`, `\r`, `\u{7}`), so a title cannot recolour, rewrite or hide
//!   what is printed. JSON output keeps the exact text (JSON escapes
//!   control characters itself).
//! - [`count`]: a count with its noun, singular for one ("1 task",
//!   "2 tasks", "0 days").
//! - [`short_commit`]: a git commit id as `git log --oneline` shows it.

use std::borrow::Cow;

/// `text` with every control character escaped (`\n`, `\u{1b}`), for one
/// field of human output (a title, a key, a message).
pub fn printable(text: &str) -> Cow<'_, str> {
    escape_where(text, char::is_control)
}

/// `text` with every control character but the newline and the tab
/// escaped, for multi-line human output (a report, a page of output).
pub fn printable_text(text: &str) -> Cow<'_, str> {
    escape_where(text, |c| c.is_control() && c != '\n' && c != '\t')
}

/// `text` with the characters `escape` picks written as Rust escapes.
fn escape_where(text: &str, escape: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(&escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `n` and `noun`, the noun plural unless `n` is 1 (`noun` is the
/// singular; the plural adds an `s`, as every noun swarmd counts does).
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A commit id's first seven characters, as `git log --oneline` shows
/// it (all of it when shorter).
pub fn short_commit(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_shows_every_control_escaped() {
        assert_eq!(printable("plain title"), "plain title");
        assert!(matches!(printable("plain"), Cow::Borrowed(_)));
        assert_eq!(
            printable("a\u{1b}[31mb\rc\u{7}\nd"),
            "a\\u{1b}[31mb\\rc\\u{7}\\nd"
        );
    }

    #[test]
    fn a_text_keeps_its_lines_and_tabs() {
        assert_eq!(
            printable_text("line 1\tx\nline\u{1b}[2J 2\r\n"),
            "line 1\tx\nline\\u{1b}[2J 2\\r\n"
        );
        let shown = printable_text("\u{1b}]0;pwned\u{7}\u{9b}");
        assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
    }

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(count(1u32, "task"), "1 task");
        assert_eq!(count(0u32, "day"), "0 days");
        assert_eq!(count(2u64, "error"), "2 errors");
    }
}
