//! Text from a plan, a task, an agent or an event made safe for a
//! terminal: control characters (ESC sequences, `\r`, the bell) are shown
//! escaped (`\u{1b}`, `\r`, `\u{7}`), so a title cannot recolour, rewrite
//! or hide what a client prints. JSON output keeps the exact text (JSON
//! escapes control characters itself).
//!
//! - [`printable`]: one field (a title, a key, a message): every control
//!   character escaped, newlines included;
//! - [`printable_text`]: a whole multi-line text (a report, a page of
//!   output): newlines and tabs kept, every other control escaped.

use std::borrow::Cow;

/// `text` with every control character escaped (`\n`, `\u{1b}`), for one
/// field of human output.
pub fn printable(text: &str) -> Cow<'_, str> {
    escape_where(text, char::is_control)
}

/// `text` with every control character but the newline and the tab
/// escaped, for multi-line human output.
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
}
