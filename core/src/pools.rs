//! Pools of a rate-limited API, and what a rate limit does: an attempt
//! turned away is re-queued without using a retry, and its pool pauses
//! until the reset time the attempt gave, or else backs off (30 s,
//! doubling to 15 min, back to 30 s once an attempt of the pool ends
//! otherwise). A task rate-limited `max_rate_limited` times in a row
//! waits for an operator (`swarmctl task retry ID`) instead of looping.
//!
//! Every task is in one pool: its plan's `**Pool**`, else its role
//! profile's `pool`, else the config's `default_pool` (`default` unless
//! set); `pools/limits.rs` holds the
//! pools' concurrency and rate.
//!
//! Invariants: a pool is paused exactly while `now < until`; the
//! rate-limit streak of a task counts its consecutive rate-limited
//! attempts, an attempt that ended otherwise starting it over. Every
//! attempt's end is stored, so a restart derives the streaks from the
//! stored attempts ([`Pools::restore_streaks`]); pauses and backoffs are
//! kept in memory only.

mod limits;

use std::collections::{BTreeMap, HashMap};

use super::command::{AttemptRef, AttemptReport};
use super::effects::Turn;
use super::event::AttemptEnd;
use super::model::{AttemptState, TaskState};
use super::{CoreError, State};

/// The first backoff of a pool whose rate limit gave no reset time.
pub(crate) const FIRST_BACKOFF_MS: i64 = 30_000;

/// The longest backoff.
pub(crate) const MAX_BACKOFF_MS: i64 = 15 * 60_000;

/// The wait of a task held for an operator: for ever, until `swarmctl
/// task retry`.
pub(crate) const HELD_FOR_OPERATOR: i64 = i64::MAX;

/// Why a pool is paused.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pause {
    until: i64,
    reason: String,
}

/// The pools' pauses, backoffs and the tasks' rate-limit streaks.
#[derive(Debug, Default)]
pub(crate) struct Pools {
    paused: BTreeMap<String, Pause>,
    /// The next backoff of a pool, ms (absent: [`FIRST_BACKOFF_MS`]).
    backoff: HashMap<String, i64>,
    streak: HashMap<usize, u32>,
    /// Each limited pool's starts in the last minute.
    starts: limits::Starts,
}

impl Pools {
    /// Pauses `pool` until `reset_at` (when given and later than now),
    /// else for its next backoff. Returns the end of the pause.
    pub(crate) fn pause(
        &mut self,
        pool: &str,
        now: i64,
        reset_at: Option<i64>,
        reason: String,
    ) -> i64 {
        let until = match reset_at {
            Some(at) => at.max(now),
            None => {
                let next = self
                    .backoff
                    .entry(pool.to_string())
                    .or_insert(FIRST_BACKOFF_MS);
                let wait = *next;
                *next = (wait * 2).min(MAX_BACKOFF_MS);
                now + wait
            }
        };
        // A later pause wins over an earlier one.
        let keep = self.paused.get(pool).is_some_and(|p| p.until >= until);
        if !keep {
            self.paused
                .insert(pool.to_string(), Pause { until, reason });
        }
        until.max(self.paused.get(pool).map_or(until, |p| p.until))
    }

    /// Whether `pool` is paused at `now`.
    pub(crate) fn is_paused(&self, pool: &str, now: i64) -> bool {
        self.paused.get(pool).is_some_and(|p| now < p.until)
    }

    /// An attempt of task `task` in `pool` ended other than rate limited:
    /// the pool's backoff and the task's streak start over.
    pub(crate) fn ended_otherwise(&mut self, pool: &str, task: usize) {
        self.backoff.remove(pool);
        self.streak.remove(&task);
    }

    /// Task `task` was rate limited once more; returns its streak.
    pub(crate) fn count_limit(&mut self, task: usize) -> u32 {
        let n = self.streak.entry(task).or_insert(0);
        *n += 1;
        *n
    }

    /// The streaks the stored attempts of a plan say, given oldest first
    /// as (task, attempt state name): a rate-limited attempt adds one to
    /// its task's streak, one that ended otherwise starts it over, a live
    /// one changes nothing yet.
    pub(crate) fn restore_streaks<'a>(&mut self, attempts: impl Iterator<Item = (usize, &'a str)>) {
        self.streak.clear();
        for (task, state) in attempts {
            match state.parse::<AttemptState>() {
                Ok(AttemptState::RateLimited) => {
                    self.count_limit(task);
                }
                Ok(AttemptState::Offered | AttemptState::Running) | Err(_) => {}
                Ok(
                    AttemptState::Succeeded
                    | AttemptState::Failed
                    | AttemptState::TimedOut
                    | AttemptState::Cancelled
                    | AttemptState::Lost,
                ) => {
                    self.streak.remove(&task);
                }
            }
        }
    }

    /// Status lines of the pools paused at `now`, by name.
    pub(crate) fn lines(&self, now: i64) -> Vec<String> {
        self.paused
            .iter()
            .filter(|(_, p)| now < p.until)
            .map(|(name, p)| {
                format!(
                    "pool {name} paused until {}: {}",
                    wall_label(p.until),
                    p.reason
                )
            })
            .collect()
    }

    /// Forgets everything (a new plan).
    pub(crate) fn reset(&mut self) {
        *self = Pools::default();
    }
}

/// A wall time as `HH:MM:SS UTC`.
pub(crate) fn wall_label(ms: i64) -> String {
    let secs = ms.div_euclid(1000).rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

impl State {
    /// Whether task `task`'s pool is paused at `now`.
    pub(crate) fn pool_paused(&self, task: usize, now: i64) -> bool {
        self.pools.is_paused(self.pool_of(task), now)
    }

    /// An attempt of task `task` ended `end`: anything but a rate limit
    /// ends its pool's backoff and the task's streak.
    pub(crate) fn note_attempt_end(&mut self, task: usize, end: AttemptEnd) {
        if end != AttemptEnd::RateLimited {
            let pool = self.pool_of(task).to_string();
            self.pools.ended_otherwise(&pool, task);
        }
    }

    /// Attempt `r` was turned away by a rate-limited API (`agent` said
    /// so): ended as `rate_limited`, its pool paused, its task ready
    /// again without using a retry — or, rate limited
    /// `max_rate_limited` times in a row, waiting for an operator.
    pub(crate) fn rate_limited(
        &mut self,
        t: &mut Turn<'_>,
        agent: &str,
        r: &AttemptRef,
        report: &AttemptReport,
        reset_at: Option<i64>,
    ) -> Result<(), CoreError> {
        let message = report.message.clone();
        let ended = self.end_attempt_with(
            t,
            r.attempt,
            AttemptEnd::RateLimited,
            &message,
            report.output_dropped,
            Some(agent),
        )?;
        let Some(task) = ended else {
            return Ok(());
        };
        let pool = self.pool_of(task).to_string();
        let why = format!("rate limited (task {})", r.task_id);
        let until = self.pools.pause(&pool, t.now, reset_at, why);
        let streak = self.pools.count_limit(task);
        let max = self.cfg.max_rate_limited;
        let Some(plan) = self.plan.as_mut() else {
            return Ok(());
        };
        if plan.task(task).state != TaskState::Running {
            return self.save_task(t, task);
        }
        if streak >= max {
            let reason = format!(
                "rate limited {max} times in a row (last: {}); waits for an operator: swarmctl task retry {}",
                message.lines().next().unwrap_or_default(),
                r.task_id
            );
            self.set_task(t, task, TaskState::Pending, Some(reason))?;
            if let Some(plan) = self.plan.as_mut() {
                plan.delay(task, HELD_FOR_OPERATOR);
            }
            return self.save_task(t, task);
        }
        let reason = format!(
            "rate limited; pool {pool} paused until {}",
            wall_label(until)
        );
        self.set_task(t, task, TaskState::Ready, Some(reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_without_a_reset_backs_off_doubling_to_fifteen_minutes() {
        let mut p = Pools::default();
        let mut waits = Vec::new();
        for _ in 0..8 {
            waits.push(p.pause("api", 0, None, "x".into()) / 1000);
            p.paused.clear();
        }
        assert_eq!(waits, [30, 60, 120, 240, 480, 900, 900, 900]);
        p.ended_otherwise("api", 1);
        assert_eq!(p.pause("api", 0, None, "x".into()), FIRST_BACKOFF_MS);
    }

    #[test]
    fn a_reset_time_is_kept_and_a_later_pause_wins() {
        let mut p = Pools::default();
        assert_eq!(p.pause("api", 1000, Some(50_000), "task 1".into()), 50_000);
        assert!(p.is_paused("api", 49_999));
        assert!(!p.is_paused("api", 50_000));
        assert!(!p.is_paused("other", 0));
        assert_eq!(p.pause("api", 1000, Some(20_000), "task 2".into()), 50_000);
        assert_eq!(
            p.lines(2000),
            ["pool api paused until 00:00:50 UTC: task 1"]
        );
        assert!(p.lines(50_000).is_empty());
        assert_eq!(p.pause("api", 60_000, Some(10), "past".into()), 60_000);
    }

    #[test]
    fn stored_attempts_give_each_tasks_streak() {
        let mut p = Pools::default();
        let stored = [
            (1, "rate_limited"),
            (2, "rate_limited"),
            (1, "failed"),
            (1, "rate_limited"),
            (2, "rate_limited"),
            (1, "rate_limited"),
            (2, "running"),
            (3, "lost"),
        ];
        p.restore_streaks(stored.into_iter());
        // Task 1: two since its failure; task 2: two, its live attempt
        // not yet counted; task 3: none.
        assert_eq!(p.count_limit(1), 3);
        assert_eq!(p.count_limit(2), 3);
        assert_eq!(p.count_limit(3), 1);
    }

    #[test]
    fn streaks_count_until_an_attempt_ends_otherwise() {
        let mut p = Pools::default();
        assert_eq!(p.count_limit(3), 1);
        assert_eq!(p.count_limit(3), 2);
        p.ended_otherwise("api", 3);
        assert_eq!(p.count_limit(3), 1);
    }
}
