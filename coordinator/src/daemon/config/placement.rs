//! `[scale.ROLE]`'s placement keys — `constraints`, `cpus`, `memory` — for
//! the swarm provisioner: parsed and checked here, so a wrong value is a
//! config error naming the role and the key, not an engine error later.

use super::ConfigError;

/// Where a role's swarm agents run and what each may use.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Placement {
    /// Swarm placement constraints, e.g. `node.labels.pool==agents`.
    pub constraints: Vec<String>,
    /// CPU limit per agent, in cores.
    pub cpus: Option<f64>,
    /// Memory limit per agent, in bytes.
    pub memory_bytes: Option<u64>,
}

/// The smallest memory limit accepted: the engine refuses less than this.
const MIN_MEMORY: u64 = 6 * 1024 * 1024;

/// Checks and converts one role's placement keys.
pub(super) fn parse(
    role: &str,
    constraints: Vec<String>,
    cpus: Option<f64>,
    memory: Option<toml::Value>,
) -> Result<Placement, ConfigError> {
    let invalid =
        |key: &str, problem: String| ConfigError::Invalid(format!("scale.{role}.{key} {problem}"));
    let mut checked = Vec::with_capacity(constraints.len());
    for c in constraints {
        let c = c.trim().to_string();
        if !(c.contains("==") || c.contains("!=")) || c.chars().any(char::is_control) {
            return Err(invalid(
                "constraints",
                format!(
                    "has `{c}`; a constraint is ATTRIBUTE==VALUE or ATTRIBUTE!=VALUE, such as \
                     node.role==worker or node.labels.pool==agents"
                ),
            ));
        }
        checked.push(c);
    }
    if let Some(n) = cpus {
        if !(n.is_finite() && n > 0.0 && n <= 1024.0) {
            return Err(invalid(
                "cpus",
                format!(
                    "is {n}; give the cores one agent may use, above 0 and at most 1024 (e.g. 0.5)"
                ),
            ));
        }
    }
    let memory_bytes = match memory {
        None => None,
        Some(v) => {
            let bytes = match &v {
                toml::Value::Integer(n) => u64::try_from(*n).ok(),
                toml::Value::String(s) => parse_bytes(s),
                _ => None,
            };
            match bytes {
                Some(b) if b >= MIN_MEMORY => Some(b),
                _ => {
                    return Err(invalid(
                        "memory",
                        format!(
                            "is {v}; give bytes, or a size such as \"512m\" or \"2GiB\", of at \
                             least 6 MiB"
                        ),
                    ))
                }
            }
        }
    };
    Ok(Placement {
        constraints: checked,
        cpus,
        memory_bytes,
    })
}

/// `512m`, `512MiB`, `2g`, `2GB`, `1048576`, `64k`: binary units, case
/// ignored; None for anything else.
fn parse_bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return None,
    };
    n.checked_mul(1u64 << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_the_usual_units() {
        assert_eq!(parse_bytes("512m"), Some(512 << 20));
        assert_eq!(parse_bytes("2GiB"), Some(2 << 30));
        assert_eq!(parse_bytes(" 64 kb "), Some(64 << 10));
        assert_eq!(parse_bytes("1048576"), Some(1 << 20));
        assert_eq!(parse_bytes("12 parsecs"), None);
        assert_eq!(parse_bytes("m"), None);
        assert_eq!(parse_bytes("99999999999999999999g"), None);
    }

    #[test]
    fn bad_values_name_the_role_and_the_key() {
        let err = parse("sre", vec!["node.role".into()], None, None).unwrap_err();
        assert!(err.to_string().contains("scale.sre.constraints"), "{err}");
        let err = parse("sre", vec![], Some(0.0), None).unwrap_err();
        assert!(err.to_string().contains("scale.sre.cpus is 0"), "{err}");
        let err = parse("qa", vec![], None, Some(toml::Value::String("1k".into()))).unwrap_err();
        assert!(err.to_string().contains("scale.qa.memory"), "{err}");
        let ok = parse(
            "sre",
            vec![" node.labels.pool==agents ".into()],
            Some(0.5),
            Some(toml::Value::String("256m".into())),
        )
        .expect("valid");
        assert_eq!(ok.constraints, vec!["node.labels.pool==agents"]);
        assert_eq!(ok.memory_bytes, Some(256 << 20));
    }
}
