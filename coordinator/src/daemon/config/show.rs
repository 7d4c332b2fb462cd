//! The configuration shown to people, from the declaration: `swarmd
//! config show` (the effective value of every setting and where it came
//! from), the key list of `swarmd --help`, and the README's table.

use toml::Value;

use super::{settings, tables, Loaded, Source};

/// One line of `swarmd config show`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The key as the config file spells it, dotted for tables.
    pub key: String,
    /// The effective value as TOML would hold it; `None`: not set.
    pub value: Option<Value>,
    /// Where it came from.
    pub source: Source,
}

/// Every setting's effective value and source, in declaration order,
/// then the tables' entries. Nothing declared is a secret (tokens are not
/// configuration: they live in WORKDIR/.swarm or SWARM_*_TOKEN), so
/// every value is shown — but a `[[notify]]` URL, whose path may be a
/// webhook's key, shows only its scheme and host.
pub fn rows(loaded: &Loaded) -> Vec<Row> {
    let mut rows: Vec<Row> = settings()
        .map(|s| Row {
            key: s.key.to_string(),
            value: (s.show)(&loaded.config),
            source: loaded.origin(s.key),
        })
        .collect();
    for (key, value) in tables::show(&loaded.config) {
        let table = if key.starts_with("exec") {
            "exec"
        } else if key.starts_with("pool") {
            "pool"
        } else {
            "scale"
        };
        let source = match (&value, loaded.origin(table)) {
            (Some(Value::Table(t)), _) if t.is_empty() => Source::Default,
            (Some(_), Source::File) => Source::File,
            _ => Source::Default,
        };
        rows.push(Row { key, value, source });
    }
    for (key, value) in super::keys_notify::show(&loaded.config) {
        let source = loaded.origin("notify");
        rows.push(Row { key, value, source });
    }
    rows
}

/// `--json`: an array of `{"key", "value", "source"}` (`value` null when
/// the setting is unset).
pub fn json(rows: &[Row]) -> serde_json::Value {
    let row = |r: &Row| {
        serde_json::json!({
            "key": r.key,
            "value": r.value.as_ref().map(to_json),
            "source": r.source.name(),
        })
    };
    serde_json::Value::Array(rows.iter().map(row).collect())
}

fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Integer(n) => serde_json::Value::from(*n),
        Value::Float(f) => serde_json::Value::from(*f),
        Value::Boolean(b) => serde_json::Value::Bool(*b),
        Value::Datetime(d) => serde_json::Value::String(d.to_string()),
        Value::Array(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Value::Table(t) => {
            serde_json::Value::Object(t.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}

/// The aligned table `KEY  VALUE  SOURCE`; an unset value shows as `-`.
pub fn table(rows: &[Row]) -> String {
    let values: Vec<String> = rows
        .iter()
        .map(|r| {
            r.value
                .as_ref()
                .map_or("-".to_string(), ToString::to_string)
        })
        .collect();
    let kw = rows.iter().map(|r| r.key.len()).max().unwrap_or(0).max(3);
    let vw = values.iter().map(String::len).max().unwrap_or(0).max(5);
    let mut out = format!("{:kw$}  {:vw$}  SOURCE\n", "KEY", "VALUE");
    for (r, v) in rows.iter().zip(&values) {
        out.push_str(&format!("{:kw$}  {v:vw$}  {}\n", r.key, r.source.name()));
    }
    out
}

/// `swarmd --help`'s list of config keys: key, variable, default.
pub fn help_keys() -> String {
    let mut lines = vec![
        "Configuration: defaults, then --config FILE (TOML), then SWARM_* variables, then \
         flags. Keys [variable] (default):"
            .to_string(),
    ];
    for s in settings() {
        let env = s.env.map(|e| format!(" [{e}]")).unwrap_or_default();
        lines.push(format!("  {}{env} ({})", s.key, s.default));
    }
    for t in tables::TABLE_KEYS {
        lines.push(format!("  {} ({})", t.key, t.default));
    }
    lines.push(
        "`swarmd config show` prints what swarmd would run with, and where each value came from."
            .into(),
    );
    lines.join("\n")
}

/// The README's table of settings, between its markers.
pub fn readme_table() -> String {
    let mut out =
        String::from("| key | variable | flag | default | what it is |\n|---|---|---|---|---|\n");
    let code = |s: &str| format!("`{s}`");
    for s in settings() {
        let env = s.env.map(code).unwrap_or_default();
        let flag = s
            .flag
            .map(|f| code(&format!("--{}", f.long)))
            .unwrap_or_default();
        let row = format!(
            "| `{}` | {env} | {flag} | {} | {} |\n",
            s.key, s.default, s.help
        );
        out.push_str(&row);
    }
    for t in tables::TABLE_KEYS {
        out.push_str(&format!(
            "| `{}` | | | {} | {} |\n",
            t.key, t.default, t.help
        ));
    }
    out
}

/// Where the README's table starts and ends.
pub const README_MARKERS: (&str, &str) = (
    "<!-- settings: generated from coordinator/src/daemon/config; do not edit -->",
    "<!-- settings: end -->",
);
