//! Rows for people and for programs: aligned tables, whole or written as
//! the rows arrive, and JSON arrays written element by element, so a list
//! of a million rows starts printing at once and never sits whole in
//! memory (`swarmctl tasks --state ready | head`).

use serde_json::Value;

use super::printable;

/// Renders rows as aligned columns under a header.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut t = StreamTable::new(header);
    t.render(rows.to_vec())
}

/// A table printed in batches as rows arrive: each column is as wide as
/// the widest cell seen so far, so a list that arrives in one batch is
/// laid out exactly as [`table`] lays it out, and a later, wider cell
/// widens its column from there on.
pub(crate) struct StreamTable {
    header: Vec<String>,
    widths: Vec<usize>,
    /// Whether the header line was rendered.
    started: bool,
}

impl StreamTable {
    pub(crate) fn new(header: &[&str]) -> Self {
        StreamTable {
            header: header.iter().map(|h| h.to_string()).collect(),
            widths: header.iter().map(|h| h.chars().count()).collect(),
            started: false,
        }
    }

    /// The lines for `rows` (after the header, the first time).
    pub(crate) fn render(&mut self, rows: Vec<Vec<String>>) -> String {
        // Cells may hold what anyone wrote (memory keys, task output):
        // control characters are shown escaped, never sent to the
        // terminal.
        let rows: Vec<Vec<String>> = rows
            .into_iter()
            .map(|r| r.iter().map(|c| printable(c).into_owned()).collect())
            .collect();
        for r in &rows {
            for (w, c) in self.widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = String::new();
        if !self.started {
            self.started = true;
            let header = self.header.clone();
            self.line(&mut out, &header);
        }
        for r in &rows {
            self.line(&mut out, r);
        }
        out
    }

    /// Prints `rows` (and the header, the first time).
    pub(crate) fn print(&mut self, rows: Vec<Vec<String>>) {
        let text = self.render(rows);
        crate::out::bytes(text.as_bytes());
    }

    fn line(&self, out: &mut String, cells: &[String]) {
        let n = cells.len();
        for (k, (c, w)) in cells.iter().zip(&self.widths).enumerate() {
            out.push_str(c);
            if k + 1 < n {
                out.push_str(&" ".repeat(w.saturating_sub(c.chars().count()) + 2));
            }
        }
        out.push('\n');
    }
}

/// A JSON array written element by element, laid out as
/// `serde_json::to_string_pretty` lays out the whole array.
#[derive(Default)]
pub(crate) struct JsonArray {
    /// Elements written so far.
    written: u64,
}

impl JsonArray {
    /// The text for the next `items`.
    pub(crate) fn render(&mut self, items: &[Value]) -> String {
        let mut out = String::new();
        for v in items {
            out.push_str(if self.written == 0 { "[\n" } else { ",\n" });
            self.written += 1;
            let pretty = serde_json::to_string_pretty(v).unwrap_or_default();
            for (k, line) in pretty.lines().enumerate() {
                if k > 0 {
                    out.push('\n');
                }
                out.push_str("  ");
                out.push_str(line);
            }
        }
        out
    }

    /// The text that closes the array.
    pub(crate) fn end(&self) -> &'static str {
        if self.written == 0 {
            "[]\n"
        } else {
            "\n]\n"
        }
    }

    /// Prints the next `items`.
    pub(crate) fn print(&mut self, items: &[Value]) {
        let text = self.render(items);
        crate::out::bytes(text.as_bytes());
    }

    /// Prints the end of the array.
    pub(crate) fn finish(self) {
        crate::out::bytes(self.end().as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn control_characters_are_escaped_in_tables() {
        assert_eq!(printable("plain key"), "plain key");
        assert_eq!(printable("a\u{1b}[31mb\nc"), "a\\u{1b}[31mb\\nc");
        let t = table(&["KEY"], &[vec!["x\u{1b}]0;pwned\u{7}".to_string()]]);
        assert!(!t.contains('\u{1b}') && !t.contains('\u{7}'), "{t:?}");
    }

    #[test]
    fn a_table_in_batches_is_the_whole_table_until_a_wider_cell_comes() {
        let rows = |r: &[&[&str]]| -> Vec<Vec<String>> {
            r.iter()
                .map(|c| c.iter().map(|s| s.to_string()).collect())
                .collect()
        };
        let all = rows(&[&["1.1", "ready"], &["1.22", "running"]]);
        let whole = table(&["ID", "STATE"], &all);
        assert_eq!(whole, "ID    STATE\n1.1   ready\n1.22  running\n");
        let mut t = StreamTable::new(&["ID", "STATE"]);
        let first = t.render(all);
        assert_eq!(first, whole);
        let later = t.render(rows(&[&["1.333", "ready"]]));
        assert_eq!(later, "1.333  ready\n");
        assert_eq!(StreamTable::new(&["ID"]).render(vec![]), "ID\n");
    }

    #[test]
    fn an_array_in_pieces_is_the_pretty_array() {
        let items = vec![
            json!({"id": "1.1", "roles": ["coder"]}),
            json!({"id": "1.2"}),
            json!(3),
        ];
        let mut a = JsonArray::default();
        let mut text = a.render(&items[..1]);
        text.push_str(&a.render(&[]));
        text.push_str(&a.render(&items[1..]));
        text.push_str(a.end());
        let whole = serde_json::to_string_pretty(&Value::Array(items)).expect("json");
        assert_eq!(text, format!("{whole}\n"));
        let empty = JsonArray::default();
        assert_eq!(empty.end(), "[]\n");
        assert_eq!(
            serde_json::to_string_pretty(&json!([])).expect("json"),
            "[]"
        );
    }
}
