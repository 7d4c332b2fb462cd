//! One verdict on a plan, computed here and nowhere else, for `swarmctl
//! status`, the checkpoint reports and `swarmd run`'s summary.
//!
//! In order of precedence:
//! 0. `cancelled` — an operator cancelled the plan (`swarmctl plan
//!    cancel`): nothing of it runs any more, whatever else holds;
//! 1. `failed` — a task failed for good (its retries are spent, or an
//!    operator failed it) and nothing will retry it;
//! 2. `done` — every task succeeded or was skipped (a plan that finished
//!    after its planned end says so in the reason: there is nothing left to
//!    be behind with);
//! 3. `at_risk` — a budget is spent (no new attempt starts under it);
//! 4. `behind` — the projected completion is after the plan's planned end;
//! 5. `at_risk` — the agents present cannot finish the plan, or a P0 task
//!    runs past 1.5× its planned duration;
//! 6. `on_track` — otherwise.

/// The verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// An operator cancelled the plan.
    Cancelled,
    /// A task failed for good.
    Failed,
    /// Projected to end after the plan's end.
    Behind,
    /// Cannot finish with the agents present, or a P0 task overruns.
    AtRisk,
    /// Every task succeeded or was skipped.
    Done,
    /// None of the above.
    OnTrack,
}

impl Verdict {
    /// Every verdict, in order of precedence.
    pub const ALL: [Verdict; 6] = [
        Verdict::Cancelled,
        Verdict::Failed,
        Verdict::Done,
        Verdict::Behind,
        Verdict::AtRisk,
        Verdict::OnTrack,
    ];

    /// The name in `--json` (`verdict`).
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Cancelled => "cancelled",
            Verdict::Failed => "failed",
            Verdict::Behind => "behind",
            Verdict::AtRisk => "at_risk",
            Verdict::Done => "done",
            Verdict::OnTrack => "on_track",
        }
    }

    /// The words people read.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Cancelled => "Cancelled",
            Verdict::Failed => "Failed",
            Verdict::Behind => "Behind",
            Verdict::AtRisk => "At risk",
            Verdict::Done => "Done",
            Verdict::OnTrack => "On track",
        }
    }
}

impl std::str::FromStr for Verdict {
    type Err = crate::model::UnknownName;

    /// The verdict a `--json` name stands for.
    fn from_str(name: &str) -> Result<Verdict, Self::Err> {
        crate::model::parse_name("verdict", &Verdict::ALL, Verdict::name, name)
    }
}

/// What a verdict is drawn from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Who cancelled the plan and why (`cancelled by an operator: …`),
    /// when it was cancelled.
    pub cancelled: Option<String>,
    /// Tasks failed for good, with their reasons (`2.1: failed: …`).
    pub failed: Vec<String>,
    /// Every task succeeded or was skipped.
    pub all_done: bool,
    /// By how many ms the projected completion is after the plan's end (0
    /// or less: not behind).
    pub late_ms: i64,
    /// Why the agents present cannot finish the plan, if they cannot.
    pub cannot_finish: Option<String>,
    /// P0 tasks running past 1.5× their plan (`2.1: 6.1 h of 4 h`).
    pub p0_overruns: Vec<String>,
    /// A spent budget (`day 3's budget is spent: $50.12 of $50.00`).
    pub budget_spent: Option<String>,
}

/// A verdict and the sentence that explains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    /// The verdict.
    pub verdict: Verdict,
    /// Why, in a sentence.
    pub reason: String,
}

/// Judges `facts`, in the order of precedence above.
pub fn judge(facts: &Facts) -> Judgement {
    let (verdict, reason) = if let Some(why) = &facts.cancelled {
        (Verdict::Cancelled, format!("the plan was {why}"))
    } else if !facts.failed.is_empty() {
        (
            Verdict::Failed,
            format!(
                "{} failed for good: {}",
                swarm_text::count(facts.failed.len() as u64, "task"),
                list(&facts.failed)
            ),
        )
    } else if facts.all_done {
        let reason = if facts.late_ms > 0 {
            format!(
                "every task succeeded or was skipped, {:.1} h after the plan's end",
                facts.late_ms as f64 / 3_600_000.0
            )
        } else {
            "every task succeeded or was skipped".to_string()
        };
        (Verdict::Done, reason)
    } else if let Some(why) = &facts.budget_spent {
        (
            Verdict::AtRisk,
            format!("{why}; new attempts under it wait"),
        )
    } else if facts.late_ms > 0 {
        (
            Verdict::Behind,
            format!(
                "projected to end {:.1} h after the plan's end",
                facts.late_ms as f64 / 3_600_000.0
            ),
        )
    } else if let Some(why) = &facts.cannot_finish {
        (Verdict::AtRisk, why.clone())
    } else if !facts.p0_overruns.is_empty() {
        (
            Verdict::AtRisk,
            format!(
                "{} running past 1.5× their plan: {}",
                swarm_text::count(facts.p0_overruns.len() as u64, "P0 task"),
                list(&facts.p0_overruns)
            ),
        )
    } else {
        (
            Verdict::OnTrack,
            "projected to end within the plan".to_string(),
        )
    };
    Judgement { verdict, reason }
}

/// The first three items, and how many more.
fn list(items: &[String]) -> String {
    let mut out = items.iter().take(3).cloned().collect::<Vec<_>>().join("; ");
    if items.len() > 3 {
        out.push_str(&format!("; and {} more", items.len() - 3));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts::default()
    }

    #[test]
    fn a_spent_budget_is_at_risk_ranked_above_behind() {
        let spent = Facts {
            budget_spent: Some("day 3's budget is spent: $50.12 of $50.00".into()),
            late_ms: 3_600_000,
            ..facts()
        };
        let j = judge(&spent);
        assert_eq!(j.verdict, Verdict::AtRisk);
        assert_eq!(
            j.reason,
            "day 3's budget is spent: $50.12 of $50.00; new attempts under it wait"
        );
        let failed = Facts {
            failed: vec!["1.2: failed".into()],
            ..spent
        };
        assert_eq!(judge(&failed).verdict, Verdict::Failed);
    }

    #[test]
    fn each_case() {
        assert_eq!(judge(&facts()).verdict, Verdict::OnTrack);
        let done = Facts {
            all_done: true,
            ..facts()
        };
        assert_eq!(judge(&done).verdict, Verdict::Done);
        let failed = Facts {
            failed: vec!["1.2: failed: exit 3".into()],
            ..facts()
        };
        let j = judge(&failed);
        assert_eq!(j.verdict, Verdict::Failed);
        assert_eq!(j.reason, "1 task failed for good: 1.2: failed: exit 3");
        let late = Facts {
            late_ms: 5_400_000,
            ..facts()
        };
        let j = judge(&late);
        assert_eq!(j.verdict, Verdict::Behind);
        assert_eq!(j.reason, "projected to end 1.5 h after the plan's end");
        let short = Facts {
            cannot_finish: Some("3.3 needs 1 database (have 0)".into()),
            ..facts()
        };
        assert_eq!(judge(&short).verdict, Verdict::AtRisk);
        let overrun = Facts {
            p0_overruns: vec!["2.1: 6.1 h of 4 h".into()],
            ..facts()
        };
        assert_eq!(judge(&overrun).verdict, Verdict::AtRisk);
        assert_eq!(judge(&overrun).verdict.name(), "at_risk");
    }

    #[test]
    fn precedence_cancelled_failed_done_behind_at_risk_on_track() {
        let cancelled = Facts {
            cancelled: Some("cancelled by an operator: wrong plan".into()),
            failed: vec!["1.2".into()],
            all_done: true,
            late_ms: 1,
            cannot_finish: Some("no agent is connected".into()),
            p0_overruns: vec!["2.1".into()],
            budget_spent: None,
        };
        let j = judge(&cancelled);
        assert_eq!(j.verdict, Verdict::Cancelled);
        assert_eq!(
            j.reason,
            "the plan was cancelled by an operator: wrong plan"
        );
        let everything = Facts {
            cancelled: None,
            ..cancelled
        };
        assert_eq!(judge(&everything).verdict, Verdict::Failed);
        let no_failure = Facts {
            failed: Vec::new(),
            ..everything.clone()
        };
        let done_late = judge(&no_failure);
        assert_eq!(done_late.verdict, Verdict::Done);
        assert_eq!(
            done_late.reason,
            "every task succeeded or was skipped, 0.0 h after the plan's end"
        );
        let unfinished = Facts {
            all_done: false,
            ..no_failure.clone()
        };
        assert_eq!(judge(&unfinished).verdict, Verdict::Behind);
        let on_time = Facts {
            late_ms: 0,
            ..unfinished
        };
        assert_eq!(judge(&on_time).verdict, Verdict::AtRisk);
        let staffed = Facts {
            cannot_finish: None,
            p0_overruns: Vec::new(),
            ..on_time
        };
        assert_eq!(judge(&staffed).verdict, Verdict::OnTrack);
    }

    #[test]
    fn long_lists_are_cut() {
        let many = Facts {
            failed: (1..=5).map(|i| format!("1.{i}")).collect(),
            ..facts()
        };
        assert_eq!(
            judge(&many).reason,
            "5 tasks failed for good: 1.1; 1.2; 1.3; and 2 more"
        );
    }
}
