//! The config file's tables — `[exec]` (command templates by role),
//! `[scale.ROLE]` (pool bounds and swarm placement) and `[pool.NAME]`
//! (the limits of a rate-limited API) — and the backup
//! settings that only make sense together: how each is read, and how
//! `--help` and the README describe them.

use std::time::Duration;

use toml::Value;

use super::setting::{count, number, text, Bad, Draft};
use super::ConfigError;

/// A key of a table whose names the operator chooses (`ROLE`), described
/// for `--help` and the README; only the config file sets these.
#[derive(Debug)]
pub struct TableKey {
    /// The key, dotted, with `ROLE` for the operator's name.
    pub key: &'static str,
    /// The default, as documentation says it.
    pub default: &'static str,
    /// What it means.
    pub help: &'static str,
}

/// The tables' keys.
pub static TABLE_KEYS: &[TableKey] = &[
    TableKey {
        key: "exec.default",
        default: "none",
        help: "Command template for tasks without a Run command (see swarm-agent --exec)",
    },
    TableKey {
        key: "exec.ROLE",
        default: "exec.default",
        help: "The same, for one role",
    },
    TableKey {
        key: "scale.ROLE.min",
        default: "0",
        help: "Agents of ROLE the provisioner keeps at least",
    },
    TableKey {
        key: "scale.ROLE.max",
        default: "default_max_agents",
        help: "Agents of ROLE the provisioner starts at most",
    },
    TableKey {
        key: "scale.ROLE.constraints",
        default: "[]",
        help: "Swarm placement constraints, e.g. node.labels.pool==agents",
    },
    TableKey {
        key: "scale.ROLE.cpus",
        default: "no limit",
        help: "CPU limit of each of ROLE's swarm agents, in cores",
    },
    TableKey {
        key: "pool.NAME.concurrency",
        default: "no limit",
        help: "Attempts of pool NAME's tasks executing at once (each gang member that runs counts)",
    },
    TableKey {
        key: "pool.NAME.per_minute",
        default: "no limit",
        help: "Attempts of pool NAME's tasks started per minute",
    },
    TableKey {
        key: "scale.ROLE.memory",
        default: "no limit",
        help: "Memory limit of each of ROLE's swarm agents: bytes, or \"512m\", \"2GiB\"",
    },
    TableKey {
        key: "notify.url",
        default: "none",
        help: "[[notify]] (one table per entry): the http:// or https:// URL events are \
               POSTed to; shown and logged only as scheme://host/…",
    },
    TableKey {
        key: "notify.events",
        default: "required",
        help: "The event kinds or families the entry posts, as swarmctl events --kind takes \
               them: [\"task.failed\", \"gate.waiting\", \"task.waiting_operator\", \"plan\"]",
    },
    TableKey {
        key: "notify.format",
        default: "json",
        help: "json (the event as swarmctl events --json prints it) or slack (an incoming \
               webhook's {\"text\": …} naming the plan and task, with a link to the web view)",
    },
    TableKey {
        key: "notify.name",
        default: "its place: 1, 2, …",
        help: "The name the entry's deliveries are recorded under (swarm_notify_deliveries); \
               name entries to keep their history when they move",
    },
];

/// Whether `key` names one of the tables.
pub fn is_table(key: &str) -> bool {
    matches!(key, "exec" | "scale" | "pool")
}

/// Reads the `[exec]` or `[scale]` table.
pub fn apply(d: &mut Draft, key: &str, v: &Value) -> Result<(), ConfigError> {
    let table = v
        .as_table()
        .ok_or_else(|| ConfigError::Invalid(format!("{key} must be a table ([{key}])")))?;
    for (name, entry) in table {
        match key {
            "exec" => exec(d, name, entry)?,
            "pool" => pool(d, name, entry)?,
            _ => scale(d, name, entry)?,
        }
    }
    Ok(())
}

fn exec(d: &mut Draft, role: &str, v: &Value) -> Result<(), ConfigError> {
    let template = v.as_str().ok_or_else(|| {
        ConfigError::Invalid(format!("exec.{role} must be a string (a command template)"))
    })?;
    if template.trim().is_empty() {
        return Err(ConfigError::Invalid(format!(
            "exec.{role} is empty; give a command template or remove it"
        )));
    }
    if role == "default" {
        d.c.core.exec.default = Some(template.to_string());
    } else {
        d.c.core
            .exec
            .roles
            .insert(role.to_string(), template.to_string());
    }
    Ok(())
}

fn scale(d: &mut Draft, role: &str, v: &Value) -> Result<(), ConfigError> {
    let fields = v.as_table().ok_or_else(|| {
        ConfigError::Invalid(format!("scale.{role} must be a table ([scale.{role}])"))
    })?;
    let wrong = |field: &str, bad: Bad| {
        ConfigError::Invalid(match bad {
            Bad::Type(expected) => format!("scale.{role}.{field} must be {expected}"),
            Bad::Value(message) => message,
        })
    };
    let (mut min, mut max, mut constraints, mut cpus, mut memory) = (0, None, vec![], None, None);
    for (field, value) in fields {
        match field.as_str() {
            "min" => min = count::<u32>(value).map_err(|b| wrong(field, b))?,
            "max" => max = Some(count::<u32>(value).map_err(|b| wrong(field, b))?),
            "constraints" => constraints = strings(value).map_err(|b| wrong(field, b))?,
            "cpus" => cpus = Some(number(value).map_err(|b| wrong(field, b))?),
            "memory" => memory = Some(value.clone()),
            other => {
                return Err(ConfigError::Invalid(format!(
                    "scale.{role}: unknown key `{other}`; the keys are min, max, constraints, \
                     cpus and memory"
                )))
            }
        }
    }
    let max = max.unwrap_or(d.c.core.default_max_agents.max(min));
    if min > max {
        return Err(ConfigError::Invalid(format!(
            "scale.{role}: min ({min}) is above max ({max})"
        )));
    }
    let placement = super::placement::parse(role, constraints, cpus, memory)?;
    if placement != super::Placement::default() {
        d.c.placement.insert(role.to_string(), placement);
    }
    d.c.core.scale.insert(role.to_string(), (min, max));
    Ok(())
}

fn pool(d: &mut Draft, name: &str, v: &Value) -> Result<(), ConfigError> {
    let name = swarm_plan::model::parse_pool(name).map_err(ConfigError::Invalid)?;
    let fields = v.as_table().ok_or_else(|| {
        ConfigError::Invalid(format!("pool.{name} must be a table ([pool.{name}])"))
    })?;
    let mut limits = swarm_core::config::PoolLimits::default();
    for (field, value) in fields {
        let n = count::<u32>(value).ok().filter(|n| *n > 0).ok_or_else(|| {
            ConfigError::Invalid(format!(
                "pool.{name}.{field} must be a whole number above 0"
            ))
        });
        match field.as_str() {
            "concurrency" => limits.concurrency = Some(n?),
            "per_minute" => limits.per_minute = Some(n?),
            other => {
                return Err(ConfigError::Invalid(format!(
                    "pool.{name}: unknown key `{other}`; the keys are concurrency and per_minute"
                )))
            }
        }
    }
    d.c.core.pools.insert(name, limits);
    Ok(())
}

fn strings(v: &Value) -> Result<Vec<String>, Bad> {
    let items = v.as_array().ok_or(Bad::Type("an array of strings"))?;
    items.iter().map(|i| text(i).map(str::to_string)).collect()
}

/// The effective `[exec]` and `[scale.ROLE]` entries as (key, value).
pub fn show(c: &super::Config) -> Vec<(String, Option<Value>)> {
    let mut rows = vec![(
        "exec.default".to_string(),
        c.core.exec.default.clone().map(Value::String),
    )];
    for (role, template) in &c.core.exec.roles {
        rows.push((
            format!("exec.{role}"),
            Some(Value::String(template.clone())),
        ));
    }
    for (name, l) in &c.core.pools {
        let n = |v: Option<u32>| v.map(|n| Value::Integer(n.into()));
        rows.push((format!("pool.{name}.concurrency"), n(l.concurrency)));
        rows.push((format!("pool.{name}.per_minute"), n(l.per_minute)));
    }
    if c.core.scale.is_empty() {
        rows.push(("scale".to_string(), Some(Value::Table(Default::default()))));
    }
    for (role, (min, max)) in &c.core.scale {
        let p = c.placement.get(role).cloned().unwrap_or_default();
        let key = |field: &str| format!("scale.{role}.{field}");
        rows.push((key("min"), Some(Value::Integer((*min).into()))));
        rows.push((key("max"), Some(Value::Integer((*max).into()))));
        let constraints = p.constraints.into_iter().map(Value::String).collect();
        rows.push((key("constraints"), Some(Value::Array(constraints))));
        rows.push((key("cpus"), p.cpus.map(Value::Float)));
        let memory = p.memory_bytes.map(super::setting::show_u64);
        rows.push((key("memory"), memory));
    }
    rows
}

/// The periodic backups `key` belongs to; they need `backup_interval`.
pub fn backups<'a>(
    d: &'a mut Draft,
    key: &str,
) -> Result<&'a mut crate::workers::backups::Periodic, Bad> {
    d.c.backups.as_mut().ok_or_else(|| {
        Bad::Value(format!(
            "backup_keep and backup_dir need backup_interval (how often to back up; {key} was \
             given without it)"
        ))
    })
}

/// `backup_interval`: seconds above zero, or a string like `6h`.
pub fn backup_interval(v: &Value) -> Result<Duration, Bad> {
    match v {
        Value::Integer(n) if *n > 0 => Ok(Duration::from_secs(n.unsigned_abs())),
        Value::String(s) => parse_interval(s).ok_or_else(|| {
            Bad::Value(format!(
                "backup_interval '{s}' must be a duration like 30m, 6h or 1d (or seconds)"
            ))
        }),
        other => Err(Bad::Value(format!(
            "backup_interval {other} must be a duration like \"30m\" or a number of seconds \
             above 0"
        ))),
    }
}

/// `45s`, `30m`, `6h`, `1d`, or a bare number of seconds; above zero.
fn parse_interval(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = digits.parse().ok().filter(|n| *n > 0)?;
    let secs = match unit {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}
