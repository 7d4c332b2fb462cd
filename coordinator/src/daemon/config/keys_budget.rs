//! `[budget]`: what the plan may spend, in US dollars — `plan_usd`,
//! `day_usd` and, per role, `[budget.role] security = 20` — declared once
//! like every other key (`budget.plan_usd` is `[budget] plan_usd` in the
//! file). `swarmctl budget set` changes them while a plan runs.

use toml::Value;

use super::setting::{number, Bad, Kind, Setting};

/// Dollars: a number, 0 or more.
fn dollars(key: &str, v: &Value) -> Result<f64, Bad> {
    let usd = number(v)?;
    if usd.is_finite() && usd >= 0.0 {
        Ok(usd)
    } else {
        Err(Bad::Value(format!(
            "{key} must be dollars, 0 or more (got {usd})"
        )))
    }
}

/// The `[budget]` settings.
pub static BUDGET: &[Setting] = &[
    Setting {
        key: "budget.plan_usd",
        env: None,
        flag: None,
        default: "no budget",
        help: "Dollars the plan may spend in all; once spent, no new attempt starts",
        kind: Kind::Number,
        apply: |d, v| {
            d.c.core.budget.plan_usd = Some(dollars("budget.plan_usd", v)?);
            Ok(())
        },
        show: |c| c.core.budget.plan_usd.map(Value::Float),
    },
    Setting {
        key: "budget.day_usd",
        env: None,
        flag: None,
        default: "no budget",
        help: "Dollars each plan day may spend; once spent, no new attempt starts that day",
        kind: Kind::Number,
        apply: |d, v| {
            d.c.core.budget.day_usd = Some(dollars("budget.day_usd", v)?);
            Ok(())
        },
        show: |c| c.core.budget.day_usd.map(Value::Float),
    },
    Setting {
        key: "budget.role",
        env: None,
        flag: None,
        default: "none",
        help: "Dollars per role, a table ([budget.role] security = 20); once a role's is spent, \
               its tasks start no new attempt",
        kind: Kind::Text { env_expected: None },
        apply: |d, v| {
            let table = v.as_table().ok_or(Bad::Type(
                "a table of role = dollars ([budget.role] security = 20)",
            ))?;
            for (role, usd) in table {
                let usd = dollars(&format!("budget.role.{role}"), usd)?;
                d.c.core
                    .budget
                    .roles
                    .insert(role.trim().to_lowercase(), usd);
            }
            Ok(())
        },
        show: |c| {
            let roles = c.core.budget.roles.iter();
            Some(Value::Table(
                roles.map(|(r, u)| (r.clone(), Value::Float(*u))).collect(),
            ))
        },
    },
];
