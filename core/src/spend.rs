//! What the plan spent: the attempts' usage (cost, tokens) summed per
//! task, role, agent and plan day, and in all. Rows are stored per
//! attempt and agent in `swarm_usage` in the turn the result arrives;
//! the sums here are rebuilt from them after a restart.
//!
//! Invariant: each (attempt, agent) is counted once, however often its
//! agent sends the result again.

use std::collections::{BTreeMap, HashMap, HashSet};

use swarm_memory::state::{last_session, put_usage, Usage, UsageRow};

use super::command::AttemptRef;
use super::effects::Turn;
use super::views::{SpendLine, SpendView};
use super::{CoreError, State};

/// Sums of cost and tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tally {
    /// US dollars.
    pub cost_usd: f64,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Tokens written to the prompt cache.
    pub cache_creation_tokens: u64,
    /// Tokens read from the prompt cache.
    pub cache_read_tokens: u64,
    /// Attempt reports (one per attempt and agent) that said what they spent.
    pub reports: u32,
}

impl Tally {
    fn add(&mut self, u: &Usage) {
        self.cost_usd += u.cost_usd;
        self.input_tokens += u.input_tokens;
        self.output_tokens += u.output_tokens;
        self.cache_creation_tokens += u.cache_creation_tokens;
        self.cache_read_tokens += u.cache_read_tokens;
        self.reports += 1;
    }
}

/// The plan's spend.
#[derive(Debug, Default)]
pub(crate) struct Spend {
    total: Tally,
    by_task: HashMap<String, Tally>,
    by_role: BTreeMap<String, Tally>,
    by_agent: BTreeMap<String, Tally>,
    by_day: BTreeMap<u32, Tally>,
    counted: HashSet<(u64, String)>,
}

impl Spend {
    /// Spend rebuilt from a plan's stored rows.
    pub(crate) fn from_rows(rows: &[UsageRow]) -> Spend {
        let mut s = Spend::default();
        for row in rows {
            s.add(row);
        }
        s
    }

    /// Counts a row, unless its attempt and agent were counted already.
    /// Returns whether it was new.
    pub(crate) fn add(&mut self, row: &UsageRow) -> bool {
        if !self.counted.insert((row.attempt, row.agent_id.clone())) {
            return false;
        }
        let u = &row.usage;
        self.total.add(u);
        self.by_task.entry(row.task_id.clone()).or_default().add(u);
        self.by_role.entry(row.role.clone()).or_default().add(u);
        self.by_agent
            .entry(row.agent_id.clone())
            .or_default()
            .add(u);
        self.by_day.entry(row.plan_day).or_default().add(u);
        true
    }

    /// One task's (zero when it spent nothing).
    pub(crate) fn task(&self, id: &str) -> Tally {
        self.by_task.get(id).copied().unwrap_or_default()
    }

    /// The whole plan's.
    pub(crate) fn total(&self) -> Tally {
        self.total
    }

    /// One role's (zero when it spent nothing).
    pub(crate) fn role(&self, role: &str) -> Tally {
        self.by_role.get(role).copied().unwrap_or_default()
    }

    /// One plan day's.
    pub(crate) fn day(&self, day: u32) -> Tally {
        self.by_day.get(&day).copied().unwrap_or_default()
    }

    /// The view status and reports show, on plan day `today` after
    /// `hours` working hours of the plan.
    pub(crate) fn view(&self, today: u32, hours: f64) -> SpendView {
        let line = |name: String, t: &Tally| SpendLine { name, tally: *t };
        SpendView {
            total: self.total,
            today: self.day(today),
            usd_per_plan_hour: if hours > 0.0 {
                self.total.cost_usd / hours
            } else {
                0.0
            },
            by_role: self
                .by_role
                .iter()
                .map(|(k, t)| line(k.clone(), t))
                .collect(),
            by_day: self
                .by_day
                .iter()
                .map(|(d, t)| line(format!("Day {d}"), t))
                .collect(),
            by_agent: self
                .by_agent
                .iter()
                .map(|(k, t)| line(k.clone(), t))
                .collect(),
        }
    }
}

/// What attempt `attempt` spent in `rows` (summed over its agents; none
/// when no row is about it), and the last session id it reported.
pub(crate) fn of_attempt(rows: &[UsageRow], attempt: u64) -> (Option<Tally>, String) {
    let mut tally: Option<Tally> = None;
    let mut session = String::new();
    for row in rows.iter().filter(|r| r.attempt == attempt) {
        tally.get_or_insert_with(Tally::default).add(&row.usage);
        if !row.usage.session_id.is_empty() {
            session.clone_from(&row.usage.session_id);
        }
    }
    (tally, session)
}

impl State {
    /// The AI CLI session the task's last attempt that reported one
    /// said (`SWARM_SESSION`, a template's `{session}`); empty on the
    /// first attempt.
    pub(crate) fn previous_session(&self, t: &Turn<'_>, task: usize) -> Result<String, CoreError> {
        let (Some(plan), Some(plan_id)) = (self.plan.as_ref(), t.plan_id) else {
            return Ok(String::new());
        };
        Ok(last_session(t.db, plan_id, plan.task_id(task))?.unwrap_or_default())
    }

    /// Records what attempt `r` spent on `agent`, a member that runs it:
    /// stored with the role it played (after a restart, which keeps only
    /// ids, the role the agent plays now) and the plan day it began on.
    pub(crate) fn record_usage(
        &mut self,
        t: &mut Turn<'_>,
        agent: &str,
        r: &AttemptRef,
        usage: &Usage,
    ) -> Result<(), CoreError> {
        let (Some(plan), Some(a)) = (self.plan.as_ref(), self.attempts.get(r.attempt)) else {
            return Ok(());
        };
        let role = a
            .members
            .iter()
            .find(|m| m.agent == agent && !m.role.is_empty())
            .map(|m| m.role.clone())
            .or_else(|| self.roster.get(agent).map(|g| g.active_role.clone()))
            .unwrap_or_default();
        let clock = plan.clock();
        let row = UsageRow {
            attempt: r.attempt,
            agent_id: agent.to_string(),
            plan_id: plan.id(),
            task_id: r.task_id.clone(),
            role,
            plan_day: clock.plan_day(clock.plan_at(a.began_at())),
            at: t.now,
            usage: usage.clone(),
        };
        self.store_usage(t, &row)
    }

    /// Stores a usage row, counts it (once per attempt and agent) and
    /// says which budgets it brought to 80 % or 100 %.
    pub(crate) fn store_usage(
        &mut self,
        t: &mut Turn<'_>,
        row: &UsageRow,
    ) -> Result<(), CoreError> {
        put_usage(t.db, row)?;
        self.spend.add(row);
        self.announce_budgets(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(attempt: u64, agent: &str, role: &str, day: u32, cost: f64) -> UsageRow {
        UsageRow {
            attempt,
            agent_id: agent.into(),
            task_id: format!("t{attempt}"),
            role: role.into(),
            plan_day: day,
            usage: Usage {
                cost_usd: cost,
                input_tokens: 100,
                output_tokens: 10,
                ..Usage::default()
            },
            ..UsageRow::default()
        }
    }

    #[test]
    fn sums_per_role_day_and_task_count_each_report_once() {
        let mut s = Spend::default();
        assert!(s.add(&row(1, "a", "sre", 1, 1.0)));
        assert!(!s.add(&row(1, "a", "sre", 1, 1.0)), "sent again");
        assert!(s.add(&row(1, "b", "security", 1, 0.5)), "a gang member");
        assert!(s.add(&row(2, "a", "sre", 2, 2.0)));
        assert_eq!(s.total.cost_usd, 3.5);
        assert_eq!(s.total.input_tokens, 300);
        assert_eq!(s.task("t1").cost_usd, 1.5);
        assert_eq!(s.day(1).cost_usd, 1.5);
        assert_eq!(s.day(3), Tally::default());
        let v = s.view(2, 7.0);
        let roles: Vec<(&str, f64)> = v
            .by_role
            .iter()
            .map(|l| (l.name.as_str(), l.tally.cost_usd))
            .collect();
        assert_eq!(roles, [("security", 0.5), ("sre", 3.0)]);
        assert_eq!(v.today.cost_usd, 2.0);
        assert_eq!(v.usd_per_plan_hour, 0.5);
        assert_eq!(v.by_day.len(), 2);
        let rebuilt = Spend::from_rows(&[row(1, "a", "sre", 1, 1.0), row(1, "a", "sre", 1, 1.0)]);
        assert_eq!(rebuilt.total.reports, 1);
    }
}
