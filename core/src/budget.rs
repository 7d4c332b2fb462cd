//! Budgets that stop spending: `[budget] plan_usd, day_usd` and
//! `[budget.role]`, each changed while the plan runs by `swarmctl budget
//! set` (kept in `swarm_budgets`, so across restarts). At 80 % of a
//! budget a `budget.warning` event and a status line; at 100 % a
//! `budget.reached` event, and no new attempt starts under it (the plan's
//! and today's budgets hold every task, a role's the tasks that need the
//! role) while running ones finish; the verdict is `at_risk`.
//!
//! [`lines`] decides from a snapshot; the loop applies (`State` methods).

use std::collections::{BTreeMap, HashSet};

use swarm_memory::state::{budgets_of_plan, put_budget};

use super::command::Reply;
use super::config::Budgets;
use super::effects::Turn;
use super::event::{Event, EventKind};
use super::spend::Spend;
use super::{CoreError, State};

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
    fn key(&self) -> String {
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

/// What `swarmctl budget` asks the loop.
pub enum BudgetCmd {
    /// Every budget with what it has spent.
    Show(Reply<Vec<BudgetLine>>),
    /// Set one (`plan`, `day`, `role:NAME`) to a number of dollars;
    /// answers every budget.
    Set {
        /// `plan`, `day` or `role:NAME`.
        scope: String,
        /// US dollars, 0 or more.
        usd: f64,
        /// Who.
        actor: crate::actor::Actor,
        /// Every budget afterwards.
        reply: Reply<Vec<BudgetLine>>,
    },
}

impl BudgetCmd {
    /// Who asked, when it changes something.
    pub fn actor(&self) -> Option<&crate::actor::Actor> {
        match self {
            BudgetCmd::Show(_) => None,
            BudgetCmd::Set { actor, .. } => Some(actor),
        }
    }
}

/// The spent budgets that hold tasks, decided once per dispatch.
#[derive(Debug, Default)]
pub(crate) struct BudgetHold {
    /// The plan's or today's budget is spent: every task waits.
    all: bool,
    /// Roles whose budget is spent: their tasks wait.
    roles: Vec<String>,
}

impl BudgetHold {
    /// Whether a task that needs `need` waits.
    pub(crate) fn holds(&self, need: Option<&swarm_plan::Need>) -> bool {
        self.all
            || (!self.roles.is_empty()
                && match need {
                    Some(swarm_plan::Need::Roles(roles)) => {
                        roles.iter().any(|r| self.roles.contains(r))
                    }
                    Some(swarm_plan::Need::Swarm { .. } | swarm_plan::Need::Monitoring) | None => {
                        true
                    }
                })
    }
}

/// Budgets set while the plan runs, and what was announced.
#[derive(Debug, Default)]
pub(crate) struct BudgetState {
    set: BTreeMap<BudgetScope, f64>,
    /// (key, reached) pairs whose event was recorded.
    announced: HashSet<(String, bool)>,
}

impl State {
    /// The budgets in force: the config's, with those set while the plan
    /// runs laid over them.
    fn budgets(&self) -> Budgets {
        let mut b = self.cfg.budget.clone();
        for (scope, &usd) in &self.budget.set {
            match scope {
                BudgetScope::Plan => b.plan_usd = Some(usd),
                BudgetScope::Day => b.day_usd = Some(usd),
                BudgetScope::Role(r) => {
                    b.roles.insert(r.clone(), usd);
                }
            }
        }
        b
    }

    /// Every budget and its spend at `now`.
    pub(crate) fn budget_lines(&self, now: i64) -> Vec<BudgetLine> {
        let Some(plan) = self.plan.as_ref() else {
            return Vec::new();
        };
        let today = plan.clock().plan_day(plan.clock().plan_at(now));
        lines(&self.budgets(), &self.spend, today)
    }

    /// The spent budgets at `now` and what they hold.
    pub(crate) fn budget_hold(&self, now: i64) -> BudgetHold {
        let mut hold = BudgetHold::default();
        for l in self
            .budget_lines(now)
            .into_iter()
            .filter(BudgetLine::reached)
        {
            match l.scope {
                BudgetScope::Plan | BudgetScope::Day => hold.all = true,
                BudgetScope::Role(r) => hold.roles.push(r),
            }
        }
        hold
    }

    /// Why task `task` may not start at `now`: a spent budget it would
    /// spend under (the plan's, today's, or a role's it needs).
    pub(crate) fn budget_blocks(&self, task: usize, now: i64) -> Option<String> {
        let plan = self.plan.as_ref()?;
        let needs = |role: &str| match &plan.compiled().tasks[task].need {
            swarm_plan::Need::Roles(roles) => roles.iter().any(|r| r == role),
            swarm_plan::Need::Swarm { .. } | swarm_plan::Need::Monitoring => true,
        };
        self.budget_lines(now)
            .into_iter()
            .filter(|l| l.reached())
            .find(|l| match &l.scope {
                BudgetScope::Plan | BudgetScope::Day => true,
                BudgetScope::Role(r) => needs(r),
            })
            .map(|l| l.sentence())
    }

    /// Status lines: budgets at 80 % or more.
    pub(crate) fn budget_status(&self, now: i64) -> Vec<String> {
        self.budget_lines(now)
            .into_iter()
            .filter(BudgetLine::warned)
            .map(|l| {
                let wait = if l.reached() {
                    "; new attempts under it wait"
                } else {
                    ""
                };
                format!("{}{wait}", l.sentence())
            })
            .collect()
    }

    /// The first spent budget, for the verdict.
    pub(crate) fn budget_spent(&self, now: i64) -> Option<String> {
        (self.budget_lines(now).into_iter())
            .find(BudgetLine::reached)
            .map(|l| l.sentence())
    }

    /// Records `budget.warning` and `budget.reached`, once each per budget
    /// (per day for the day budget).
    pub(crate) fn announce_budgets(&mut self, t: &mut Turn<'_>) -> Result<(), CoreError> {
        for l in self.budget_lines(t.now) {
            for (reached, kind) in [
                (false, EventKind::BudgetWarning),
                (true, EventKind::BudgetReached),
            ] {
                let due = if reached { l.reached() } else { l.warned() };
                if due && self.budget.announced.insert((l.key(), reached)) {
                    let mut message = l.sentence();
                    if reached {
                        message.push_str("; new attempts under it wait");
                    }
                    t.emit(Event::new(kind).message(message))?;
                }
            }
        }
        Ok(())
    }

    /// Answers a [`BudgetCmd`].
    pub(crate) fn budget_command(&mut self, t: &mut Turn<'_>, cmd: BudgetCmd) {
        match cmd {
            BudgetCmd::Show(reply) => t.reply(reply, Ok(self.budget_lines(t.now))),
            BudgetCmd::Set {
                scope, usd, reply, ..
            } => {
                let r = self.set_budget(t, &scope, usd);
                t.reply(reply, r);
            }
        }
    }

    /// Sets budget `scope` to `usd` for this plan (kept across restarts);
    /// answers every budget.
    pub(crate) fn set_budget(
        &mut self,
        t: &mut Turn<'_>,
        scope: &str,
        usd: f64,
    ) -> Result<Vec<BudgetLine>, CoreError> {
        let scope = BudgetScope::parse(scope).map_err(CoreError::Invalid)?;
        if !usd.is_finite() || usd < 0.0 {
            return Err(CoreError::Invalid(format!(
                "budget {} must be a number of dollars, 0 or more (got {usd})",
                scope.name()
            )));
        }
        let (Some(plan_id), true) = (t.plan_id, self.plan.is_some()) else {
            return Err(CoreError::NotFound("no plan is loaded".into()));
        };
        put_budget(t.db, plan_id, &scope.name(), usd)?;
        self.budget.set.insert(scope.clone(), usd);
        // A raised budget may be warned of and reached again.
        self.budget.announced.clear();
        t.emit(Event::new(EventKind::BudgetSet).message(format!("{} = ${usd:.2}", scope.name())))?;
        self.announce_budgets(t)?;
        Ok(self.budget_lines(t.now))
    }

    /// The budgets set while plan `plan_id` ran (after a restart).
    pub(crate) fn restore_budgets(&mut self, t: &Turn<'_>, plan_id: i64) -> Result<(), CoreError> {
        self.budget = BudgetState::default();
        for (scope, usd) in budgets_of_plan(t.db, plan_id)? {
            if let Ok(scope) = BudgetScope::parse(&scope) {
                self.budget.set.insert(scope, usd);
            }
        }
        Ok(())
    }
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
