//! Budgets that stop spending: `[budget] plan_usd, day_usd` and
//! `[budget.role]`, each changed while the plan runs by `swarmctl budget
//! set` (kept in `swarm_budgets`, so across restarts). At 80 % of a
//! budget a `budget.warning` event and a status line; at 100 % a
//! `budget.reached` event, and no new attempt starts under it (the plan's
//! and today's budgets hold every task, a role's the tasks that need the
//! role) while running ones finish; the verdict is `at_risk`.
//!
//! `lines.rs` holds the budgets and decides from a snapshot of what was
//! spent; the loop applies (`State` methods, here).

mod lines;

use std::collections::{BTreeMap, HashSet};

use swarm_memory::state::{budgets_of_plan, put_budget};

pub use lines::{BudgetLine, BudgetScope};

use super::command::Reply;
use super::config::Budgets;
use super::effects::Turn;
use super::event::{Event, EventKind};
use super::{CoreError, State};

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
        lines::lines(&self.budgets(), &self.spend, today)
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
