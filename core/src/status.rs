//! The daemon's status as `swarmctl status`, `/metrics` and the web view
//! read it: the plan's state and counts, the agents, the projection and
//! its verdict, shortfalls, gates and the shared memory's note.

use super::active::ActivePlan;
use super::model::{PlanState, StatusState, TaskState};
use super::views::{Counts, Status};
use super::State;

/// Most ready tasks a status looks at for roles nobody plays.
const MAX_UNSTAFFED_SCAN: usize = 1_000;

impl State {
    /// The plan's status at `now`.
    pub(crate) fn status(&self, now: i64) -> Status {
        let agents = self.roster.connected().count() as u32;
        let Some(plan) = &self.plan else {
            return Status {
                state: StatusState::Idle,
                agents,
                ..Status::default()
            };
        };
        let plan_now = plan.clock().plan_at(now);
        let assessment = self.assessment(now);
        Status {
            plan_id: plan.id(),
            plan: plan.name().to_string(),
            state: StatusState::Plan(plan.state()),
            counts: self.counts(plan),
            agents,
            loaded_at: plan.loaded_at(),
            finished_at: plan.finished_at().unwrap_or(0),
            unstaffed_roles: self.unstaffed(plan),
            plan_time: plan.clock().label(plan_now),
            plan_day: plan.clock().plan_day(plan_now),
            projected: assessment
                .as_ref()
                .map(|a| a.line.clone())
                .unwrap_or_default(),
            verdict: assessment.as_ref().map(|a| a.judgement.verdict),
            verdict_reason: assessment.map(|a| a.judgement.reason).unwrap_or_default(),
            shortfall: self.provisioning.shortfall().to_vec(),
            memory: [self.memory_note.as_str(), self.memory_backlog.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join("; "),
            gates: self.closed_gates(),
            workspace: (self.ws.as_ref())
                .map(|w| w.status_line(plan.state().has_ended()))
                .unwrap_or_default(),
            waiting_for_operator: self.waiting_for_operator(),
            pools: self.pools.lines(now),
            budgets: self.budget_status(now),
            spend: self.spend.view(
                plan.clock().plan_day(plan_now),
                plan.clock().working_hours(plan_now),
            ),
            // A finished plan has no next checkpoint.
            next_checkpoint: plan
                .next_checkpoint()
                .filter(|_| matches!(plan.state(), PlanState::Running | PlanState::Paused))
                .map(|next| {
                    format!(
                        "{} at {}",
                        plan.checkpoints()[next.index].name,
                        plan.clock().label(next.at)
                    )
                })
                .unwrap_or_default(),
        }
    }

    /// Tasks per state.
    pub(crate) fn counts(&self, plan: &ActivePlan) -> Counts {
        let n = |s: TaskState| plan.count(s);
        Counts {
            total: plan.len() as u32 - n(TaskState::Removed),
            pending: n(TaskState::Pending),
            ready: n(TaskState::Ready),
            running: n(TaskState::Running),
            merging: n(TaskState::Merging),
            succeeded: n(TaskState::Succeeded),
            failed: n(TaskState::Failed),
            blocked: n(TaskState::Blocked),
            skipped: n(TaskState::Skipped),
            cancelled: n(TaskState::Cancelled),
            removed: n(TaskState::Removed),
        }
    }

    /// Roles ready tasks need that no connected agent plays. Looks at the
    /// first [`MAX_UNSTAFFED_SCAN`] ready tasks in dispatch order, without
    /// allocating per task: status is polled often, and plans can have a
    /// hundred thousand ready tasks.
    fn unstaffed(&self, plan: &ActivePlan) -> Vec<String> {
        let played: std::collections::HashSet<&str> = self
            .roster
            .connected()
            .map(|a| a.active_role.as_str())
            .collect();
        let mut missing: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
        for i in plan.ready().take(MAX_UNSTAFFED_SCAN) {
            if let swarm_plan::Need::Roles(roles) = &plan.compiled().tasks[i].need {
                missing.extend(
                    roles
                        .iter()
                        .map(String::as_str)
                        .filter(|r| !played.contains(r)),
                );
            }
        }
        missing.into_iter().map(str::to_string).collect()
    }
}
