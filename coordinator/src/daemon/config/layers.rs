//! The layers laid over the defaults, in order — the config file, the
//! environment, the flags — each setting read by its declared function,
//! and where each effective value came from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::Value;

use super::setting::{Bad, Draft, Kind, Setting};
use super::{settings, tables, validate::validate, Config, ConfigError, Flags};

/// Where an effective value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// Nothing set it.
    Default,
    /// The config file.
    File,
    /// An environment variable.
    Env,
    /// A flag.
    Flag,
}

impl Source {
    /// How `swarmd config show` names it.
    pub fn name(self) -> &'static str {
        match self {
            Source::Default => "default",
            Source::File => "file",
            Source::Env => "env",
            Source::Flag => "flag",
        }
    }
}

/// The effective configuration and where each setting came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// What swarmd runs with.
    pub config: Config,
    /// By config key (tables by `exec` and `scale`); absent: the default.
    pub origins: BTreeMap<&'static str, Source>,
}

impl Loaded {
    /// Where `key`'s value came from.
    pub fn origin(&self, key: &str) -> Source {
        self.origins.get(key).copied().unwrap_or(Source::Default)
    }
}

/// Defaults, file, environment, flags; then the TLS files together, the
/// backup directory under the workdir, and validation. What [`load`]
/// does, keeping where each value came from.
///
/// # Errors
/// As [`load`](super::load).
pub fn load_traced(
    file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    flags: &Flags,
) -> Result<Loaded, ConfigError> {
    let mut d = Draft::default();
    let mut origins = BTreeMap::new();
    if let Some(path) = file {
        from_file(&mut d, &mut origins, path)?;
    }
    from_env(&mut d, &mut origins, env)?;
    from_flags(&mut d, &mut origins, flags)?;
    let Draft { mut c, tls } = d;
    c.tls = tls.resolve()?;
    if let Some(b) = &mut c.backups {
        // Relative to the workdir; by default WORKDIR/.swarm/backups.
        b.dir = if b.dir.as_os_str().is_empty() {
            c.core.workdir.join(".swarm").join("backups")
        } else {
            c.core.workdir.join(&b.dir)
        };
    }
    super::keys_workspace::check(&mut c)?;
    validate(&c)?;
    Ok(Loaded { config: c, origins })
}

fn from_file(
    d: &mut Draft,
    origins: &mut BTreeMap<&'static str, Source>,
    path: &Path,
) -> Result<(), ConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: shown.clone(),
        source,
    })?;
    let mut keys: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: shown.clone(),
        line: e.span().map_or(1, |s| {
            text[..s.start.min(text.len())].matches('\n').count() + 1
        }),
        message: e.message().to_string(),
    })?;
    let at = |line: usize, message: String| ConfigError::Parse {
        path: shown.clone(),
        line,
        message,
    };
    for s in settings() {
        let taken = take(&mut keys, s.key).map_err(|m| at(line_of_key(&text, s.key), m))?;
        if let Some(v) = taken {
            let line = line_of_key(&text, s.key);
            (s.apply)(d, &v).map_err(|bad| at(line, said(s, &v, bad)))?;
            origins.insert(s.key, Source::File);
        }
    }
    for (key, v) in keys {
        let line = line_of_key(&text, &key);
        if let Some(fields) = dotted_fields(&key) {
            // What is left of a table of declared keys is unknown.
            if let Some(field) = v.as_table().and_then(|t| t.keys().next()) {
                let line = line_of_key(&text, &format!("{key}.{field}"));
                return Err(at(
                    line,
                    format!(
                        "unknown key `{field}` in [{key}]; the keys are {}",
                        fields.join(", ")
                    ),
                ));
            }
            continue;
        }
        if key == "notify" {
            super::keys_notify::apply(d, &v, &text).map_err(|(line, m)| at(line, m))?;
            origins.insert("notify", Source::File);
            continue;
        }
        if !tables::is_table(&key) {
            let known: Vec<&str> = settings().map(|s| s.key).collect();
            return Err(at(
                line,
                format!(
                    "unknown key `{key}`; the keys are {}, [exec], [scale.ROLE], [pool.NAME] \
                     and [[notify]]",
                    known.join(", ")
                ),
            ));
        }
        tables::apply(d, &key, &v).map_err(|e| at(line, e.to_string()))?;
        let table = match key.as_str() {
            "exec" => "exec",
            "pool" => "pool",
            _ => "scale",
        };
        origins.insert(table, Source::File);
    }
    Ok(())
}

/// Takes `key` out of the file's keys; a dotted key (`sandbox.mode`)
/// from its table (`[sandbox]` `mode`).
fn take(keys: &mut toml::Table, key: &str) -> Result<Option<Value>, String> {
    let Some((table, field)) = key.split_once('.') else {
        return Ok(keys.remove(key));
    };
    match keys.get_mut(table) {
        None => Ok(None),
        Some(Value::Table(t)) => Ok(t.remove(field)),
        Some(_) => Err(format!(
            "{table} must be a table ([{table}]) with the keys {}",
            dotted_fields(table).unwrap_or_default().join(", ")
        )),
    }
}

/// The fields of `table` when its keys are declared settings
/// (`sandbox` → mode, filesystem, ...).
fn dotted_fields(table: &str) -> Option<Vec<&'static str>> {
    let fields: Vec<&str> = settings()
        .filter_map(|s| s.key.split_once('.'))
        .filter(|(t, _)| *t == table)
        .map(|(_, f)| f)
        .collect();
    (!fields.is_empty()).then_some(fields)
}

/// The line (1-based) where `key` is set: `key = ...`, or the header of
/// its table (`[key]`, `[key.NAME]`); for a dotted key, its field's line
/// under its table's header. 1 when not found.
fn line_of_key(text: &str, key: &str) -> usize {
    if let Some((table, field)) = key.split_once('.') {
        let header = line_of_key(text, table);
        let below = text
            .lines()
            .skip(header)
            .take_while(|l| !l.trim_start().starts_with('['));
        let sets = |line: &str| {
            line.trim_start()
                .strip_prefix(field)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        };
        return below
            .into_iter()
            .position(sets)
            .map_or(header, |i| header + i + 1);
    }
    let sets = |line: &str| {
        let line = line.trim_start();
        match line.strip_prefix('[') {
            Some(header) => {
                let name = header.trim_start_matches('[').trim_start();
                name.strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with(['.', ']']))
            }
            None => line
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('=')),
        }
    };
    text.lines().position(sets).map_or(1, |i| i + 1)
}

/// A refused value in words: the key, what it holds, what would do.
fn said(s: &Setting, v: &Value, bad: Bad) -> String {
    match bad {
        Bad::Type(expected) => format!("{} = {v}: expected {expected}", s.key),
        Bad::Value(message) => message,
    }
}

/// Each setting's variable, read here and nowhere else.
fn from_env(
    d: &mut Draft,
    origins: &mut BTreeMap<&'static str, Source>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    for s in settings() {
        let Some(name) = s.env else { continue };
        let Some(text) = env(name) else { continue };
        let wrong = |expected: &'static str, value: &str| ConfigError::Env {
            name: name.to_string(),
            value: value.to_string(),
            expected,
        };
        let v = s
            .kind
            .parse_text(&text)
            .ok_or_else(|| wrong(s.kind.expected(), &text))?;
        (s.apply)(d, &v).map_err(|bad| match (bad, s.kind) {
            (
                Bad::Value(_),
                Kind::Text {
                    env_expected: Some(e),
                },
            ) => wrong(e, &text),
            (Bad::Value(message), _) => ConfigError::Invalid(message),
            (Bad::Type(_), kind) => wrong(kind.expected(), &text),
        })?;
        origins.insert(s.key, Source::Env);
    }
    Ok(())
}

fn from_flags(
    d: &mut Draft,
    origins: &mut BTreeMap<&'static str, Source>,
    flags: &Flags,
) -> Result<(), ConfigError> {
    let fallback = flags.fallback().filter(|(key, _)| {
        !matches!(origins.get(key), Some(Source::Env | Source::Flag))
            && !flags.given().any(|(k, _)| k == *key)
    });
    let fallback: Vec<_> = fallback.collect();
    for (key, text) in flags.given().chain(fallback) {
        let s = super::setting(key).ok_or_else(|| {
            ConfigError::Invalid(format!("no setting is called {key}; see swarmd --help"))
        })?;
        flag_value(d, s, text)?;
        origins.insert(s.key, Source::Flag);
    }
    Ok(())
}

/// Checks and applies one flag's text.
pub(super) fn flag_value(d: &mut Draft, s: &Setting, text: &str) -> Result<(), ConfigError> {
    let Some(flag) = s.flag else {
        return Err(ConfigError::Invalid(format!(
            "{} has no flag; set it in the config file{}",
            s.key,
            s.env.map(|e| format!(" or with {e}")).unwrap_or_default()
        )));
    };
    let v = flag.to_value(s.kind, text).ok_or_else(|| {
        ConfigError::Invalid(format!(
            "--{} {text}: expected {}",
            flag.long,
            match flag.unit {
                super::setting::FlagUnit::Seconds => "whole seconds",
                _ => s.kind.expected(),
            }
        ))
    })?;
    (s.apply)(d, &v).map_err(|bad| {
        ConfigError::Invalid(format!("--{} {text}: {}", flag.long, said(s, &v, bad)))
    })
}

/// The workdir a command line names, if any (`swarmd restore`).
pub fn workdir_flag(flags: &Flags) -> Option<PathBuf> {
    flags
        .given()
        .find(|(key, _)| *key == "workdir")
        .map(|(_, text)| PathBuf::from(text))
}
