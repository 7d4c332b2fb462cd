//! Projected completion: the plan simulator (the same placement policy the
//! loop uses) run on what is left — unfinished tasks, running ones with the
//! rest of their planned time — with the agents present now.

use std::cell::RefCell;

use super::model::TaskState;
use super::remaining::{began_at, planned_end, remaining_critical_path, Unfinishable};
use super::verdict::{judge, Facts, Judgement};
use super::State;

/// Plans up to this size are simulated for every status (once a second at
/// most); larger ones are simulated at checkpoints only.
const LIVE_SIMULATION_TASKS: usize = 2_000;

/// The projection part of the loop's state: the live assessment, cached
/// for a second (status may be asked for every few milliseconds).
#[derive(Default)]
pub struct Projection {
    cache: RefCell<Option<(i64, Projected)>>,
}

/// When the rest of the plan is projected to end.
#[derive(Debug, Clone)]
struct Projected {
    /// Plan ms (unused once the plan finished).
    at: i64,
    /// How it was found.
    how: String,
    /// Why the agents present cannot finish, if they cannot.
    cannot_finish: Option<String>,
}

impl Projection {
    /// A new plan: nothing projected yet.
    pub fn reset(&mut self) {
        *self.cache.get_mut() = None;
    }
}

/// A projection and the verdict drawn from it.
#[derive(Debug, Clone)]
pub(crate) struct Assessment {
    /// The verdict and why.
    pub judgement: Judgement,
    /// Projected completion, plan ms.
    pub projected: i64,
    /// The plan's end, plan ms.
    pub planned_end: i64,
    /// "<when> — <verdict> (plan ends <end>; <how>)", for status.
    pub line: String,
    /// Why the agents present cannot finish, if they cannot.
    pub cannot_finish: Option<String>,
}

/// A projected completion as people read it: when the agents present
/// cannot finish the plan, the date holds only once the missing agents
/// join, and says so (the verdict beside it says they cannot finish).
pub(crate) fn projected_label(at: &str, cannot_finish: bool) -> String {
    if cannot_finish {
        format!("{at} once the missing agents join")
    } else {
        at.to_string()
    }
}

impl State {
    /// The assessment status shows at `now`. The projection (a simulation,
    /// or the critical path for plans over [`LIVE_SIMULATION_TASKS`]
    /// tasks) is cached for a second: status may be asked for every few
    /// milliseconds. The verdict is drawn afresh every time, so it never
    /// lags behind a failure or the plan's end.
    pub(crate) fn assessment(&self, now: i64) -> Option<Assessment> {
        let plan = self.plan.as_ref()?;
        let cached = self
            .projection
            .cache
            .borrow()
            .as_ref()
            .filter(|(at, _)| now - at < 1000)
            .map(|(_, p)| p.clone());
        let projected = match cached {
            Some(p) => p,
            None => {
                let simulate = plan.len() <= LIVE_SIMULATION_TASKS;
                let how = if simulate {
                    "simulated with the agents present"
                } else {
                    "critical path"
                };
                let p = self.project(now, plan.clock().plan_at(now), simulate, how)?;
                *self.projection.cache.borrow_mut() = Some((now, p.clone()));
                p
            }
        };
        self.judge_with(now, projected)
    }

    /// Assesses the plan at wall time `now`, projecting the rest from plan
    /// time `from`: by simulation when `simulate` (described as `how`), by
    /// the critical path otherwise or when the agents present cannot finish.
    pub(crate) fn assess(
        &self,
        now: i64,
        from: i64,
        simulate: bool,
        how: &str,
    ) -> Option<Assessment> {
        let projected = self.project(now, from, simulate, how)?;
        self.judge_with(now, projected)
    }

    /// When the rest of the plan ends, and how that was found.
    fn project(&self, now: i64, from: i64, simulate: bool, how: &str) -> Option<Projected> {
        let plan = self.plan.as_ref()?;
        let clock = plan.clock();
        if plan.finished_at().is_some() {
            return Some(Projected {
                at: 0,
                how: "finished".into(),
                cannot_finish: None,
            });
        }
        let simulated = if simulate {
            self.simulate_rest(now)
        } else {
            Err(Unfinishable::TooLarge {
                left: plan.unfinished(),
            })
        };
        Some(match simulated {
            Ok(ms) => Projected {
                at: clock.add_working(from, ms),
                how: how.to_string(),
                cannot_finish: None,
            },
            Err(why) => {
                let (_, rest) = remaining_critical_path(plan, &self.attempts, now);
                Projected {
                    at: clock.add_working(from, rest),
                    how: "critical path".into(),
                    cannot_finish: matches!(
                        why,
                        Unfinishable::Staffing(_) | Unfinishable::NoAgents
                    )
                    .then(|| why.to_string()),
                }
            }
        })
    }

    /// Draws the verdict from the plan as it is now and `projected`.
    fn judge_with(&self, now: i64, projected: Projected) -> Option<Assessment> {
        let plan = self.plan.as_ref()?;
        let clock = plan.clock();
        let mut facts = Facts {
            cancelled: plan.cancelled_why().map(str::to_string),
            all_done: plan.completion() == Some(true),
            cannot_finish: projected.cannot_finish.clone(),
            ..Facts::default()
        };
        if plan.count(TaskState::Failed) > 0 {
            facts.failed = (0..plan.len())
                .filter(|&i| plan.task(i).state == TaskState::Failed)
                .map(|i| {
                    format!(
                        "{}: {}",
                        plan.task_id(i),
                        plan.task(i).reason.as_deref().unwrap_or("failed")
                    )
                })
                .collect();
        }
        // Running tasks are the live attempts' tasks: no scan of the plan.
        let mut running: Vec<usize> = self.attempts.tasks().collect();
        running.sort_unstable();
        running.dedup();
        facts.p0_overruns = running
            .into_iter()
            .filter(|&i| plan.spec(i).priority.level() == 0)
            .filter_map(|i| {
                let planned_h = plan.spec(i).duration.hours();
                let ran = clock.scale(now - began_at(plan, &self.attempts, i, now));
                let ran_h = ran as f64 / 3_600_000.0;
                (planned_h > 0.0 && ran_h > 1.5 * planned_h)
                    .then(|| format!("{} ({ran_h:.1} h of {planned_h} h)", plan.task_id(i)))
            })
            .collect();
        let at = match plan.finished_at() {
            Some(done) => clock.plan_at(done),
            None => projected.at,
        };
        let planned_end = planned_end(plan);
        facts.late_ms = at - planned_end;
        facts.budget_spent = self.budget_spent(now);
        let judgement = judge(&facts);
        let when = if plan.finished_at().is_some() {
            format!("finished at {}", clock.label(at))
        } else {
            projected_label(&clock.label(at), facts.cannot_finish.is_some())
        };
        let line = format!(
            "{when} — {} (plan ends {}; {})",
            judgement.verdict.label().to_lowercase(),
            clock.label(planned_end),
            projected.how
        );
        Some(Assessment {
            judgement,
            projected: at,
            planned_end,
            line,
            cannot_finish: facts.cannot_finish,
        })
    }
}
