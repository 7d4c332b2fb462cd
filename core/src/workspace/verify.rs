//! `verify = "merged"`: a task with Checks is merged on a candidate branch
//! first, and an agent of its role runs its Checks on that merged tree, in
//! its sandbox (never swarmd on its own host). The integration branch moves
//! only when they pass; when they fail the task runs again on top of the
//! integration branch, as after a conflict.
//!
//! The check is an attempt of the task (numbered with the others, shown in
//! `task show`), offered while the task is `merging`; its assignment runs
//! only the Checks, in a worktree of the candidate, and commits nothing.

use swarm_memory::state::{merges_of_task, upsert_attempt, upsert_merge};

use crate::attempts::{Attempt, Member};
use crate::command::{AssignedWorkspace, Assignment, AttemptRef, ToAgent};
use crate::effects::Turn;
use crate::event::{Event, EventKind};
use crate::grants::Grant;
use crate::jobs::MergeJob;
use crate::model::{AttemptState, TaskState};
use crate::{CoreError, State};

/// A candidate merge waiting for its checks.
#[derive(Debug, Clone)]
pub(crate) struct Verifying {
    /// The attempt whose work it merges.
    pub(crate) attempt: u64,
    /// Its task.
    pub(crate) task: usize,
    /// The candidate merge commit.
    pub(crate) commit: String,
    /// Its branch.
    pub(crate) branch: String,
    /// The integration head it was made on.
    pub(crate) tip: String,
    /// The attempt running the checks, once offered.
    pub(crate) runner: Option<u64>,
    /// They passed: the worker is moving the integration branch to it.
    pub(crate) landing: bool,
}

impl State {
    /// The worker made a candidate: its checks wait for an agent.
    pub(super) fn candidate(
        &mut self,
        t: &mut Turn<'_>,
        attempt: u64,
        commit: String,
        branch: String,
        tip: String,
    ) -> Result<(), CoreError> {
        let Some(ws) = self.ws.as_mut() else {
            return Ok(());
        };
        let Some(&task) = ws.queued.get(&attempt) else {
            return Ok(());
        };
        ws.verifying = Some(Verifying {
            attempt,
            task,
            commit: commit.clone(),
            branch: branch.clone(),
            tip,
            runner: None,
            landing: false,
        });
        let plan_id = ws.plan_id;
        if let Some(mut row) = merges_of_task(t.db, plan_id, task as u32)?
            .into_iter()
            .find(|m| m.attempt == attempt)
        {
            row.state = "verifying".to_string();
            row.merged = commit.clone();
            upsert_merge(t.db, &row)?;
        }
        let reason = format!(
            "its Checks run on the merged tree (candidate {} on {branch})",
            swarm_text::short_commit(&commit)
        );
        self.set_task(t, task, TaskState::Merging, Some(reason))
    }

    /// Offers the candidate's checks to a free agent of the task's role.
    pub(crate) fn dispatch_verification(&mut self, t: &mut Turn<'_>) -> Result<(), CoreError> {
        let (Some(ws), Some(plan)) = (self.ws.as_ref(), self.plan.as_ref()) else {
            return Ok(());
        };
        let Some(v) = ws.verifying.clone().filter(|v| !v.landing) else {
            return Ok(());
        };
        // The checking attempt still runs, or it ended without a result
        // (an operator's action): then the checks are offered again.
        if v.runner.is_some_and(|r| self.attempts.get(r).is_some()) {
            return Ok(());
        }
        if plan.task(v.task).state != TaskState::Merging {
            // An operator settled the task meanwhile: nothing merges.
            if let Some(ws) = self.ws.as_mut() {
                ws.verifying = None;
                ws.in_flight = None;
            }
            let why = "the task was settled by an operator while its checks waited";
            self.dequeue(t, v.attempt, "dropped", "", &[], why)?;
            return self.pump_merges(t);
        }
        let role = plan.compiled().tasks[v.task]
            .need
            .role_slots()
            .into_iter()
            .next()
            .unwrap_or_default();
        let any = role == swarm_plan::ANY_ROLE;
        let Some(agent) = self
            .roster
            .connected()
            .find(|a| a.free() > 0 && (any || a.active_role == role))
            .map(|a| (a.id.clone(), a.active_role.clone()))
        else {
            return Ok(());
        };
        self.offer_verification(t, &v, agent)
    }

    /// Records the checking attempt and sends its assignment.
    fn offer_verification(
        &mut self,
        t: &mut Turn<'_>,
        v: &Verifying,
        (agent, role): (String, String),
    ) -> Result<(), CoreError> {
        let Some(plan) = self.plan.as_mut() else {
            return Ok(());
        };
        let id = self.attempts.allocate();
        let number = plan.begin_attempt(v.task, id, vec![agent.clone()]);
        let spec = plan.spec(v.task).clone();
        let plan_id = plan.id();
        let token = self.tokens.mint();
        let grant = Grant {
            task_id: spec.id.clone(),
            attempt: id,
        };
        self.grants.grant(token.clone(), grant);
        let member = Member {
            agent: agent.clone(),
            role: role.clone(),
        };
        let attempt = Attempt {
            id,
            task: v.task,
            number,
            members: vec![member.clone()],
            gang: spec.gang,
            succeeded: Vec::new(),
            commits: Vec::new(),
            verifies: true,
            state: AttemptState::Offered,
            created_at: t.now,
            started_at: None,
            log_seq: 0,
            waits_for_operator: false,
            token: token.clone(),
        };
        upsert_attempt(t.db, &attempt.row(plan_id, "offered"))?;
        self.attempts.insert(attempt);
        if let Some(w) = self.ws.as_mut().and_then(|w| w.verifying.as_mut()) {
            w.runner = Some(id);
        }
        let short = swarm_text::short_commit(&v.commit);
        t.emit(
            Event::new(EventKind::AttemptOffered)
                .task(spec.id.clone())
                .attempt(id)
                .number(number)
                .agent(agent.clone())
                .message(format!(
                    "offered to {agent} ({role}) to run the Checks on the merged tree (candidate {short})"
                )),
        )?;
        let assignment = self.checks_assignment(v, &spec, (id, number, token), &member);
        let tx = self.roster.occupy(&agent, id);
        if let Some(a) = assignment {
            t.send(tx, ToAgent::Assign(Box::new(a)));
        }
        Ok(())
    }

    /// The assignment of attempt `(id, number, token)` that runs `spec`'s
    /// Checks on the candidate `v`, for `member`.
    fn checks_assignment(
        &self,
        v: &Verifying,
        spec: &swarm_plan::Task,
        (id, number, token): (u64, u32, String),
        member: &Member,
    ) -> Option<Assignment> {
        let (ws, plan) = (self.ws.as_ref()?, self.plan.as_ref()?);
        let (plan_name, retries) = (plan.name().to_string(), plan.retries(v.task));
        let short = swarm_text::short_commit(&v.commit);
        let role = member.role.clone();
        let brief = format!(
            "# Task {}: {}\n\nPlan: {plan_name}\nRun the task's Checks on its work merged into the integration branch (candidate {short} on {}); change nothing.\n",
            spec.id, spec.title, v.branch
        );
        let mut env =
            crate::dispatch::attempt_env(&plan_name, retries, token, std::slice::from_ref(member));
        self.add_traceparent(&mut env, &spec.id, number);
        Some(Assignment {
            attempt: AttemptRef {
                task_id: spec.id.clone(),
                attempt: id,
            },
            attempt_no: number,
            role: role.clone(),
            lead: true,
            member: 1,
            members: 1,
            title: spec.title.clone(),
            run: Some(":".to_string()),
            checks: spec.checks.clone(),
            image: spec.image.clone(),
            timeout_ms: spec.timeout.map_or(0, |t| t.secs() * 1000),
            brief,
            env,
            plan: plan_name.clone(),
            profile: self.profiles.of(&role),
            workspace: Some(AssignedWorkspace {
                repo: ws.repo().to_string(),
                base_commit: v.commit.clone(),
                branch: format!("{}-check{number}", v.branch),
                plan: ws.label().to_string(),
                checks_only: true,
            }),
        })
    }

    /// The checks of the candidate ended (`runner`: the attempt that ran
    /// them). Passed: the integration branch moves to
    /// the candidate. Failed: the task runs again on top of the branch.
    pub(crate) fn verified(
        &mut self,
        t: &mut Turn<'_>,
        runner: u64,
        passed: bool,
        message: &str,
    ) -> Result<(), CoreError> {
        let Some(ws) = self.ws.as_mut() else {
            return Ok(());
        };
        let Some(v) = ws.verifying.clone() else {
            return Ok(());
        };
        if v.runner != Some(runner) {
            return Ok(());
        }
        if passed {
            if let Some(v) = ws.verifying.as_mut() {
                v.landing = true;
            }
            t.merge(MergeJob::Land {
                plan_id: ws.plan_id,
                repo: ws.repo.clone(),
                branch: ws.integration(),
                attempt: v.attempt,
                commit: v.commit,
                tip: v.tip,
            });
            return Ok(());
        }
        ws.verifying = None;
        ws.in_flight = None;
        let what = format!("its Checks fail on the merged tree: {}", message.trim());
        self.rerun_on_top(t, v.attempt, &[], &what)?;
        self.pump_merges(t)
    }

    /// The attempt running the checks was lost: they are offered again.
    pub(crate) fn verification_lost(&mut self, runner: u64) {
        if let Some(v) = self.ws.as_mut().and_then(|w| w.verifying.as_mut()) {
            if v.runner == Some(runner) {
                v.runner = None;
            }
        }
    }
}
