//! Parsers for the values of plan fields, shared by the markdown and TOML
//! forms: durations, priorities, agent phrases, dependency phrases, times
//! of day and allocation-matrix cells. Each returns a message saying what
//! was expected; the caller adds the file and line.

use crate::model::{Agents, DepRef, PlanDuration, Priority};

/// Longest duration a plan may state: a year of hours. Guards arithmetic.
const MAX_DURATION_SECS: f64 = 366.0 * 24.0 * 3600.0;

/// Removes every parenthesised note: `Task 1.1 (backups first)` becomes
/// `Task 1.1 `. An unbalanced `(` drops the rest of the text.
pub(crate) fn strip_notes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// `2 hours`, `1 hour`, `1.5 hours`, `90 minutes`, `45 min`, `2h`, `30m`,
/// `1h30m`, `20s`; a parenthesised note is ignored.
pub(crate) fn parse_duration(text: &str) -> Result<PlanDuration, String> {
    let cleaned = strip_notes(text).replace('~', "");
    let bad = || {
        format!(
            "malformed duration '{}': expected a number and a unit, like '2 hours', '90 minutes', '1.5h' or '30m'",
            text.trim()
        )
    };
    let mut rest = cleaned.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = 0.0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..number_len].parse().map_err(|_| bad())?;
        rest = rest[number_len..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = rest[..unit_len].to_ascii_lowercase();
        rest = rest[unit_len..].trim_start_matches([' ', ',']).trim_start();
        let scale = match unit.as_str() {
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
            "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
            "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
            _ => return Err(bad()),
        };
        total += number * scale;
        if !total.is_finite() || total > MAX_DURATION_SECS {
            return Err(format!(
                "duration '{}' is longer than a year; plans are in hours",
                text.trim()
            ));
        }
    }
    Ok(PlanDuration(total.round() as u64))
}

/// `P0` to `P3`, optionally followed by a note (`P0 (critical)`, `P1 - high`).
pub(crate) fn parse_priority(text: &str) -> Result<Priority, String> {
    let t = text.trim();
    let mut chars = t.chars();
    let level = match (chars.next(), chars.next(), chars.next()) {
        (Some('P' | 'p'), Some(d), next) if next.is_none_or(|c| !c.is_alphanumeric()) => {
            d.to_digit(10)
        }
        _ => None,
    };
    match level {
        Some(n) if n < 4 => Ok(Priority::ALL[n as usize]),
        _ => Err(format!(
            "malformed priority '{t}': expected P0, P1, P2 or P3 (P0 is the most urgent)"
        )),
    }
}

/// `DevOps Engineer + Security Auditor`, `2x SRE`, `Full Swarm (8-10
/// agents)`, `Full Swarm (monitoring mode)`.
pub(crate) fn parse_agents(text: &str) -> Result<Agents, String> {
    let t = text.trim();
    let lower = t.to_lowercase();
    if lower.starts_with("full swarm") {
        let inner = t
            .find('(')
            .map(|open| t[open + 1..].trim_end().trim_end_matches(')'))
            .unwrap_or("");
        let inner_lower = inner.to_lowercase();
        if inner_lower.contains("monitor") {
            return Ok(Agents::Monitoring);
        }
        if inner.trim().is_empty() {
            return Ok(Agents::Swarm { min: 1, max: None });
        }
        let (min, max) = parse_count_range(inner.trim_end_matches(|c: char| c.is_alphabetic() || c == ' '))
            .ok_or_else(|| {
                format!("malformed swarm size in '{t}': expected 'Full Swarm (8-10 agents)' or 'Full Swarm (monitoring mode)'")
            })?;
        if min == 0 || min > 1000 || max.is_some_and(|m| m > 1000) {
            return Err(format!(
                "swarm size in '{t}' must be between 1 and 1000 agents"
            ));
        }
        return Ok(Agents::Swarm { min, max });
    }
    let mut phrases = Vec::new();
    for part in strip_notes(t).split(['+', '&']) {
        let part = part.trim();
        if part.is_empty() {
            return Err(format!(
                "malformed agent list '{t}': expected roles joined by '+', like 'DevOps Engineer + Security Auditor'"
            ));
        }
        let (count, phrase) = split_count(part);
        if count == 0 || count > 1000 {
            return Err(format!(
                "agent count {count} in '{part}' must be between 1 and 1000"
            ));
        }
        for _ in 0..count {
            phrases.push(phrase.to_string());
        }
    }
    Ok(Agents::Roles(phrases.into()))
}

/// `2x SRE`, `2 × SRE` and `2 SRE` are (2, "SRE"); `SRE` is (1, "SRE").
fn split_count(part: &str) -> (u32, &str) {
    let digits = part
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(part.len());
    if digits == 0 || digits == part.len() {
        return (1, part);
    }
    let rest = part[digits..].trim_start();
    let rest = rest
        .strip_prefix(['x', 'X', '×', '*'])
        .filter(|r| r.starts_with(' '))
        .unwrap_or(rest)
        .trim_start();
    match part[..digits].parse() {
        Ok(n) if !rest.is_empty() => (n, rest),
        _ => (1, part),
    }
}

/// `6` is (6, None), `8-10` is (8, Some(10)).
pub(crate) fn parse_count_range(text: &str) -> Option<(u32, Option<u32>)> {
    let t = text.trim();
    match t.split_once(['-', '–']) {
        Some((a, b)) => {
            let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            (a <= b).then_some((a, Some(b)))
        }
        None => Some((t.parse().ok()?, None)),
    }
}

/// A Dependencies value. `None` (with or without a note) is `Some(vec![])`.
pub(crate) fn parse_depends(text: &str) -> Result<Vec<DepRef>, String> {
    let cleaned = strip_notes(text);
    let trimmed = cleaned.trim().trim_end_matches('.').trim();
    if trimmed.eq_ignore_ascii_case("none") || trimmed == "-" || trimmed.is_empty() {
        return Ok(Vec::new());
    }
    let mut refs = Vec::new();
    let mut last_was_day = false;
    for piece in split_list(trimmed) {
        let r = parse_dep_piece(&piece, last_was_day).map_err(|why| {
            format!(
                "cannot read dependency '{}' in '{}': {why}; expected None, Task 1.2, Day 1 Task 1.4, Tasks 1.1, 1.2, Day 5 or Days 1-7",
                piece.trim(),
                text.trim()
            )
        })?;
        last_was_day = matches!(r, DepRef::Day(_) | DepRef::Days(..));
        refs.push(r);
    }
    Ok(refs)
}

/// Splits on `,`, `;`, `&` and the word `and`.
fn split_list(text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    for chunk in text.split([',', ';', '&']) {
        let mut current: Vec<&str> = Vec::new();
        for word in chunk.split_whitespace() {
            if word.eq_ignore_ascii_case("and") {
                pieces.push(current.join(" "));
                current.clear();
            } else {
                current.push(word);
            }
        }
        pieces.push(current.join(" "));
    }
    pieces.retain(|p| !p.is_empty());
    pieces
}

fn parse_dep_piece(piece: &str, after_day: bool) -> Result<DepRef, String> {
    let words: Vec<&str> = piece.split_whitespace().collect();
    let keyword = |w: Option<&&str>, singular: &str| {
        w.map(|w| {
            let w = w.to_ascii_lowercase();
            w == singular || w == format!("{singular}s")
        })
        .unwrap_or(false)
    };
    match words.as_slice() {
        [w, rest @ ..] if keyword(Some(w), "task") => match rest {
            [id] => Ok(DepRef::Task {
                id: parse_task_id(id)?,
                day: None,
            }),
            _ => Err("expected one task id after 'Task'".into()),
        },
        [w, rest @ ..] if keyword(Some(w), "day") => match rest {
            [range] => parse_day_range(range),
            [a, to, b] if to.eq_ignore_ascii_case("to") || *to == "-" || *to == "–" => {
                parse_day_range(&format!("{a}-{b}"))
            }
            [day, t, id] if keyword(Some(t), "task") => Ok(DepRef::Task {
                id: parse_task_id(id)?,
                day: Some(parse_number(day)?),
            }),
            _ => Err("expected a day number or range after 'Day'".into()),
        },
        [bare] if after_day && !bare.contains('.') => parse_day_range(bare),
        [bare] => Ok(DepRef::Task {
            id: parse_task_id(bare)?,
            day: None,
        }),
        _ => Err("not a task or day reference".into()),
    }
}

fn parse_day_range(text: &str) -> Result<DepRef, String> {
    match text.split_once(['-', '–']) {
        Some((a, b)) => {
            let (a, b) = (parse_number(a)?, parse_number(b)?);
            if a > b {
                return Err(format!("day range {a}-{b} runs backwards"));
            }
            Ok(DepRef::Days(a, b))
        }
        None => Ok(DepRef::Day(parse_number(text)?)),
    }
}

fn parse_number(text: &str) -> Result<u32, String> {
    let t = text.trim().trim_end_matches(':');
    t.parse().map_err(|_| format!("'{t}' is not a day number"))
}

/// A task id: numbers joined by dots (`1`, `1.1`, `2.10`, `3.2.1`).
pub(crate) fn parse_task_id(text: &str) -> Result<String, String> {
    let t = text.trim().trim_end_matches([':', '.']);
    let valid = !t.is_empty()
        && t.len() <= 64
        && t.split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
    if valid {
        Ok(t.to_string())
    } else {
        Err(format!(
            "'{t}' is not a task id (numbers joined by dots, like 1.2 or 3.2.1)"
        ))
    }
}

/// `9:00 AM`, `1:00 PM`, `17:00`, `5 PM`, `9am`: minutes after midnight.
pub(crate) fn parse_time_of_day(text: &str) -> Option<u16> {
    let t = text.trim().to_ascii_lowercase().replace('.', "");
    let (clock, meridiem) = if let Some(c) = t.strip_suffix("am") {
        (c.trim(), Some(false))
    } else if let Some(c) = t.strip_suffix("pm") {
        (c.trim(), Some(true))
    } else {
        (t.as_str(), None)
    };
    let (h, m) = match clock.split_once(':') {
        Some((h, m)) => (h.trim().parse::<u16>().ok()?, m.trim().parse::<u16>().ok()?),
        None => (clock.parse::<u16>().ok()?, 0),
    };
    if m >= 60 {
        return None;
    }
    let h = match meridiem {
        Some(pm) if (1..=12).contains(&h) => h % 12 + if pm { 12 } else { 0 },
        Some(_) => return None,
        None if h < 24 => h,
        None => return None,
    };
    Some(h * 60 + m)
}

/// The matrix's specialisations cell: `DevOps (2), Security (2), DB (1)`.
/// Returns `None` when the cell is not such a list (`Full swarm activation`).
pub(crate) fn parse_role_counts(text: &str) -> Option<Vec<(String, u32)>> {
    let mut out = Vec::new();
    for part in text.split([',', ';']) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (phrase, count) = match part.rfind('(') {
            Some(open) => {
                let inner = part[open + 1..].trim_end().strip_suffix(')')?;
                (part[..open].trim(), inner.trim().parse().ok()?)
            }
            None => (part, 1),
        };
        if phrase.is_empty() || phrase.to_lowercase().contains("swarm") {
            return None;
        }
        out.push((phrase.to_string(), count));
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests;
