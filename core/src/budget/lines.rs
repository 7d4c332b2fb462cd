//! A budget and what was spent under it: which budget ([`BudgetScope`],
//! as `swarmctl budget set` names it), one line of `budget show`
//! ([`BudgetLine`], with its warning and reached thresholds and the
//! sentence status and held tasks give), and [`lines`], every budget from
//! the configured limits and a spend snapshot.

use super::Budgets;
use crate::spend::Spend;

/// Which budget.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BudgetScope {
    /// The whole plan.
    Plan,
    /// Each plan day.
    Day,
    /// One role.
    Role(String),
}

impl BudgetScope {
    /// `plan`, `day` or `role:NAME`.
    ///
    /// # Errors
    /// What is wrong, with the valid forms.
    pub fn parse(text: &str) -> Result<BudgetScope, String> {
        match text.trim() {
            "plan" => Ok(BudgetScope::Plan),
            "day" => Ok(BudgetScope::Day),
            other => match other.strip_prefix("role:").map(str::trim) {
                Some(role) if !role.is_empty() => Ok(BudgetScope::Role(role.to_string())),
                _ => Err(format!(
                    "unknown budget '{other}': expected plan, day or role:NAME (role:security)"
                )),
            },
        }
    }

    /// `plan`, `day` or `role:NAME`.
    pub fn name(&self) -> String {
        match self {
            BudgetScope::Plan => "plan".into(),
            BudgetScope::Day => "day".into(),
            BudgetScope::Role(r) => format!("role:{r}"),
        }
    }
}

/// One budget and what has been spent under it.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetLine {
    /// Which.
    pub scope: BudgetScope,
    /// Its limit, US dollars.
    pub limit_usd: f64,
    /// Spent under it (for the day budget: today, on the plan clock).
    pub spent_usd: f64,
    /// The plan day it is about (the day budget's today).
    pub day: u32,
}

impl BudgetLine {
    /// At or past its limit.
    pub fn reached(&self) -> bool {
        self.spent_usd >= self.limit_usd
    }

    /// At or past 80 % of its limit.
    pub fn warned(&self) -> bool {
        self.spent_usd >= 0.8 * self.limit_usd
    }

    /// `the plan's budget`, `day 3's budget`, `role security's budget`.
    pub fn what(&self) -> String {
        match &self.scope {
            BudgetScope::Plan => "the plan's budget".into(),
            BudgetScope::Day => format!("day {}'s budget", self.day),
            BudgetScope::Role(r) => format!("role {r}'s budget"),
        }
    }

    /// `day 3's budget is spent: $50.12 of $50.00`, or `… is 84 % spent: …`.
    pub fn sentence(&self) -> String {
        let how = if self.reached() {
            "spent".to_string()
        } else {
            let pct = if self.limit_usd > 0.0 {
                (100.0 * self.spent_usd / self.limit_usd).floor()
            } else {
                100.0
            };
            format!("{pct:.0} % spent")
        };
        format!(
            "{} is {how}: ${:.2} of ${:.2}",
            self.what(),
            self.spent_usd,
            self.limit_usd
        )
    }

    /// What the announcement of its state is keyed by (a day's budget
    /// is announced once per day).
    pub(super) fn key(&self) -> String {
        match self.scope {
            BudgetScope::Day => format!("day {}", self.day),
            _ => self.scope.name(),
        }
    }
}

/// Every budget with what was spent under it, on plan day `today`.
pub(crate) fn lines(budgets: &Budgets, spend: &Spend, today: u32) -> Vec<BudgetLine> {
    let line = |scope, limit_usd, spent_usd| BudgetLine {
        scope,
        limit_usd,
        spent_usd,
        day: today,
    };
    let mut out = Vec::new();
    if let Some(limit) = budgets.plan_usd {
        out.push(line(BudgetScope::Plan, limit, spend.total().cost_usd));
    }
    if let Some(limit) = budgets.day_usd {
        out.push(line(BudgetScope::Day, limit, spend.day(today).cost_usd));
    }
    for (role, &limit) in &budgets.roles {
        let spent = spend.role(role).cost_usd;
        out.push(line(BudgetScope::Role(role.clone()), limit, spent));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_bad_ones_are_named() {
        assert_eq!(BudgetScope::parse("plan"), Ok(BudgetScope::Plan));
        assert_eq!(
            BudgetScope::parse("role:security"),
            Ok(BudgetScope::Role("security".into()))
        );
        let err = BudgetScope::parse("week").expect_err("unknown");
        assert!(err.contains("plan, day or role:NAME"), "{err}");
        assert!(BudgetScope::parse("role:").is_err());
    }

    #[test]
    fn sentences_say_how_much_of_which_budget_is_spent() {
        let day = BudgetLine {
            scope: BudgetScope::Day,
            limit_usd: 50.0,
            spent_usd: 50.12,
            day: 3,
        };
        assert!(day.reached() && day.warned());
        assert_eq!(day.sentence(), "day 3's budget is spent: $50.12 of $50.00");
        let role = BudgetLine {
            scope: BudgetScope::Role("sre".into()),
            limit_usd: 20.0,
            spent_usd: 16.9,
            day: 1,
        };
        assert!(role.warned() && !role.reached());
        assert_eq!(
            role.sentence(),
            "role sre's budget is 84 % spent: $16.90 of $20.00"
        );
    }
}
