//! `[[notify]]`: where events are posted (see `workers::notify`). Each
//! entry is a table of its own — `url`, `events` (kinds or families, as
//! `swarmctl events --kind` takes them), `format` (`json` or `slack`,
//! `json` by default) and an optional `name` its deliveries are recorded
//! under (by default its place: 1, 2, …). Only the config file sets them;
//! a bad entry is refused with its line, and its URL is never repeated.

use toml::Value;

use crate::workers::notify::{Entry, Format, SecretUrl};

use super::Draft;

/// The keys of an entry.
const KEYS: &str = "url, events, format and name";

/// Reads the `notify` array of tables in the file `text`; `Err` holds the
/// line (1-based) and what is wrong.
pub(super) fn apply(d: &mut Draft, v: &Value, text: &str) -> Result<(), (usize, String)> {
    let headers = header_lines(text);
    let whole = line_of(text, 0, "notify").unwrap_or(1);
    let items = v.as_array().ok_or_else(|| {
        (
            whole,
            format!("notify must be an array of tables ([[notify]] with {KEYS})"),
        )
    })?;
    for (k, item) in items.iter().enumerate() {
        let header = headers.get(k).copied().unwrap_or(whole);
        let at = |field: &str| line_of(text, header, field).unwrap_or(header);
        let entry = parse(k + 1, item).map_err(|(field, why)| {
            let line = field.map_or(header, at);
            (line, format!("notify entry {}: {why}", k + 1))
        })?;
        if d.c.notify.iter().any(|e| e.name == entry.name) {
            let line = at("name");
            return Err((
                line,
                format!(
                    "notify entry {}: name '{}' is taken by an earlier entry; give each a \
                     name of its own",
                    k + 1,
                    entry.name
                ),
            ));
        }
        d.c.notify.push(entry);
    }
    Ok(())
}

/// Entry number `n`; `Err` names the field (when one is to blame) and
/// what is wrong with it.
fn parse(n: usize, item: &Value) -> Result<Entry, (Option<&'static str>, String)> {
    let fields = item
        .as_table()
        .ok_or((None, format!("must be a table with {KEYS}")))?;
    let (mut url, mut events, mut format, mut name) = (None, None, Format::Json, n.to_string());
    for (field, value) in fields {
        match field.as_str() {
            "url" => {
                let text = value
                    .as_str()
                    .ok_or((Some("url"), "url must be a string".into()))?;
                url = Some(SecretUrl::parse(text).map_err(|e| (Some("url"), e))?);
            }
            "events" => events = Some(event_list(value).map_err(|e| (Some("events"), e))?),
            "format" => {
                let text = value.as_str().ok_or((
                    Some("format"),
                    "format must be \"json\" or \"slack\"".into(),
                ))?;
                format = text.parse().map_err(|e| (Some("format"), e))?;
            }
            "name" => {
                name = value
                    .as_str()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .ok_or((Some("name"), "name must be a non-empty string".into()))?
                    .to_string();
            }
            other => return Err((None, format!("unknown key `{other}`; the keys are {KEYS}"))),
        }
    }
    let url = url.ok_or((
        None,
        "url is missing: where to post (http:// or https://)".into(),
    ))?;
    let (events, filters) = events.ok_or((
        None,
        "events is missing: the kinds or families to post, e.g. [\"task.failed\", \"gate\"]".into(),
    ))?;
    Ok(Entry {
        name,
        url,
        events,
        filters,
        format,
    })
}

/// `events`: a non-empty array of kinds or families.
#[allow(clippy::type_complexity)]
fn event_list(v: &Value) -> Result<(Vec<String>, Vec<swarm_core::event::KindFilter>), String> {
    let items = v
        .as_array()
        .filter(|a| !a.is_empty())
        .ok_or("events must be a non-empty array of event kinds or families")?;
    let mut names = Vec::new();
    let mut filters = Vec::new();
    for item in items {
        let name = item
            .as_str()
            .ok_or("events must hold strings (event kinds or families)")?
            .trim();
        filters.push(name.parse().map_err(|e| format!("events: {e}"))?);
        names.push(name.to_string());
    }
    Ok((names, filters))
}

/// The line of each `[[notify]]` header, in order.
fn header_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            l.trim_start()
                .strip_prefix("[[")
                .and_then(|r| r.trim_start().strip_prefix("notify"))
                .is_some_and(|r| r.trim_start().starts_with("]]"))
        })
        .map(|(i, _)| i + 1)
        .collect()
}

/// The line (1-based) setting `key` after line `from` and before the
/// next table header (`from` 0: the top of the file).
fn line_of(text: &str, from: usize, key: &str) -> Option<usize> {
    text.lines()
        .enumerate()
        .skip(from)
        .take_while(|(_, l)| !l.trim_start().starts_with('['))
        .find(|(_, l)| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map(|(i, _)| i + 1)
}

/// `swarmd config show`'s rows: each entry's url (shown without its
/// secrets), events and format, by name.
pub(super) fn show(c: &super::Config) -> Vec<(String, Option<Value>)> {
    let mut rows = Vec::new();
    for e in &c.notify {
        let key = |field: &str| format!("notify.{}.{field}", e.name);
        rows.push((key("url"), Some(Value::String(e.url.to_string()))));
        let events = e.events.iter().cloned().map(Value::String).collect();
        rows.push((key("events"), Some(Value::Array(events))));
        rows.push((key("format"), Some(Value::String(e.format.name().into()))));
    }
    rows
}

#[cfg(test)]
mod tests;
