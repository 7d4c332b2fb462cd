//! Recognisers for single markdown lines: headings, bullets, bold fields,
//! checkboxes, fences and table rows. Each looks at one line and never
//! fails; the parser decides what a match means where it stands.

/// Width of a tab when measuring indentation.
const TAB_WIDTH: usize = 4;

/// Leading white space of a line, tabs counted as four columns.
pub(crate) fn indent_of(line: &str) -> usize {
    line.chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .map(|c| if c == '\t' { TAB_WIDTH } else { 1 })
        .sum()
}

/// `### Day 1: Title` is (3, "Day 1: Title").
pub(crate) fn heading(line: &str) -> Option<(usize, &str)> {
    let t = line.trim_start();
    if indent_of(line) > 3 {
        return None;
    }
    let level = t.bytes().take_while(|b| *b == b'#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &t[level..];
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    Some((level, rest.trim().trim_end_matches('#').trim_end()))
}

/// `  - text` is (2, "text"); also `*` and `+` markers and `1.` numbers.
pub(crate) fn bullet(line: &str) -> Option<(usize, &str)> {
    let indent = indent_of(line);
    let t = line.trim_start();
    let rest = if let Some(r) = t.strip_prefix(['-', '*', '+']) {
        r
    } else {
        let digits = t.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        t[digits..].strip_prefix(['.', ')'])?
    };
    if rest.is_empty() {
        return Some((indent, ""));
    }
    rest.starts_with([' ', '\t']).then(|| (indent, rest.trim()))
}

/// `**Name**: value` and `**Name:** value` are ("Name", "value").
pub(crate) fn bold_field(text: &str) -> Option<(&str, &str)> {
    let inner = text.strip_prefix("**")?;
    let close = inner.find("**")?;
    let name = inner[..close].trim();
    let after = &inner[close + 2..];
    if let Some(name) = name.strip_suffix(':') {
        let name = name.trim();
        return (!name.is_empty()).then(|| (name, after.trim()));
    }
    let value = after.trim_start().strip_prefix(':')?;
    (!name.is_empty()).then(|| (name, value.trim()))
}

/// A line that is only bold text, like `**Morning Sprint (4 hours)**`.
pub(crate) fn is_bold_only(text: &str) -> bool {
    text.starts_with("**") && text.ends_with("**") && text.len() > 4
}

/// `**Morning Sprint (4 hours)**` is ("Morning Sprint", "4 hours"): a bold
/// line, alone, ending in a parenthesised text that starts with a digit.
/// The caller still parses the duration; anything else is not a window.
pub(crate) fn window_heading(text: &str) -> Option<(&str, &str)> {
    let inner = text.strip_prefix("**")?.strip_suffix("**")?.trim();
    if inner.contains("**") {
        return None;
    }
    let open = inner.rfind('(')?;
    let length = inner[open + 1..].strip_suffix(')')?.trim();
    let name = inner[..open].trim();
    let starts_with_digit = length.starts_with(|c: char| c.is_ascii_digit());
    (!name.is_empty() && starts_with_digit).then_some((name, length))
}

/// Result of looking for a task header on a line.
pub(crate) enum TaskHeader {
    /// Not a task line.
    No,
    /// A task: (id, title).
    Yes(String, String),
    /// Looks like a task but its id cannot be read.
    BadId(String),
}

/// `**Task 1.1**: Title`, `**Task 1.1:** Title`, `**Task 1.1: Title**`, and
/// in a heading `Task 1.1: Title`.
pub(crate) fn task_header(text: &str, in_heading: bool) -> TaskHeader {
    if !in_heading && !text.starts_with("**") {
        return TaskHeader::No;
    }
    let plain = text.replace("**", "");
    let plain = plain.trim();
    let Some(rest) = strip_word(plain, "task") else {
        return TaskHeader::No;
    };
    let id_len = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let id = rest[..id_len].trim_end_matches('.');
    if id.is_empty() {
        let word: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
        return if word.starts_with(|c: char| c.is_ascii_digit()) {
            TaskHeader::BadId(word)
        } else {
            TaskHeader::No
        };
    }
    let after = &rest[id_len..];
    if after.starts_with(|c: char| c.is_alphanumeric()) {
        let word: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
        return TaskHeader::BadId(word);
    }
    match crate::fields::parse_task_id(id) {
        Ok(id) => TaskHeader::Yes(id, trim_separator(after).to_string()),
        Err(_) => TaskHeader::BadId(id.to_string()),
    }
}

/// `Day 1: Title (8 hours)` is (1, "Title (8 hours)"); also `Day 1 - Title`.
pub(crate) fn day_heading(text: &str) -> Option<(u32, &str)> {
    let plain = text.trim_matches('*').trim();
    let rest = strip_word(plain, "day")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let number = rest[..digits].parse().ok()?;
    let after = &rest[digits..];
    let ok = after.is_empty() || after.starts_with([':', '-', '–', '—', ' ', '(', '.']);
    (ok && !after.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .then(|| (number, trim_separator(after)))
}

/// `Day 1 Exit Criteria` is Some(Some(1)); `Exit Criteria` is Some(None).
pub(crate) fn exit_criteria(name: &str) -> Option<Option<u32>> {
    let lower = name.trim().trim_end_matches(':').to_lowercase();
    let head = lower.strip_suffix("exit criteria")?.trim();
    if head.is_empty() {
        return Some(None);
    }
    day_heading(head)
        .filter(|(_, rest)| rest.is_empty())
        .map(|(n, _)| Some(n))
}

/// `[x] text` is (true, "text"), `[ ] text` is (false, "text").
pub(crate) fn checkbox(text: &str) -> Option<(bool, &str)> {
    let rest = text.strip_prefix('[')?;
    let (mark, rest) = rest.split_once(']')?;
    let done = match mark {
        "x" | "X" => true,
        " " | "" => false,
        _ => return None,
    };
    Some((done, rest.trim()))
}

/// A code fence line: its marker character and length.
pub(crate) fn fence(line: &str) -> Option<(char, usize)> {
    let t = line.trim_start();
    let c = t.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let n = t.chars().take_while(|x| *x == c).count();
    (n >= 3).then_some((c, n))
}

/// `| a | b |` is ["a", "b"].
pub(crate) fn table_cells(line: &str) -> Option<Vec<&str>> {
    let t = line.trim();
    let inner = t.strip_prefix('|')?;
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    Some(inner.split('|').map(str::trim).collect())
}

/// A table's `|---|:---:|` line.
pub(crate) fn is_table_rule(cells: &[&str]) -> bool {
    cells
        .iter()
        .all(|c| !c.is_empty() && c.chars().all(|x| x == '-' || x == ':'))
}

/// `---`, `***`, `___` alone on a line.
pub(crate) fn is_rule(line: &str) -> bool {
    let t: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    t.len() >= 3
        && (t.chars().all(|c| c == '-')
            || t.chars().all(|c| c == '*')
            || t.chars().all(|c| c == '_'))
}

/// A word at the start of `text`, any case, followed by white space.
fn strip_word<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let head = text.get(..word.len())?;
    let rest = &text[word.len()..];
    (head.eq_ignore_ascii_case(word) && rest.starts_with([' ', '\t'])).then(|| rest.trim_start())
}

/// Drops a leading `:`, `-`, `–`, `—` or `.` separator and white space.
fn trim_separator(text: &str) -> &str {
    text.trim_start()
        .trim_start_matches([':', '-', '–', '—', '.'])
        .trim()
}

/// Strips wrapping backticks from inline code: `` `cmd` `` is `cmd`.
pub(crate) fn unquote_code(text: &str) -> &str {
    let t = text.trim();
    let ticks = t.chars().take_while(|c| *c == '`').count();
    if ticks == 0 || t.len() < 2 * ticks {
        return t;
    }
    let closing = t.get(t.len() - ticks..).unwrap_or("");
    if !closing.is_empty() && closing.chars().all(|c| c == '`') {
        t[ticks..t.len() - ticks].trim()
    } else {
        t
    }
}

#[cfg(test)]
mod tests;
