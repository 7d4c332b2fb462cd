//! Dispatch: ready tasks onto free agents, by the placement policy the
//! plan simulator uses too. An attempt is committed in the turn's
//! transaction; the assignment is sent only after the commit.

use std::collections::BTreeMap;

use swarm_memory::state::upsert_attempt;
use swarm_plan::policy::{place, AgentSlots, Candidate, HeldClaims};

use super::attempts::{Attempt, Member};
use super::brief::{brief, is_manual, operator_hint};
use super::command::{AssignedWorkspace, Assignment, AttemptRef, ToAgent};
use super::effects::Turn;
use super::event::{Event, EventKind};
use super::model::{AttemptState, PlanState, TaskState};
use super::roster::Agent;
use super::{CoreError, State};
use crate::grants::Grant;

impl State {
    /// Places ready tasks on free agents.
    pub(crate) fn dispatch(&mut self, t: &mut Turn<'_>) -> Result<(), CoreError> {
        self.dispatch_verification(t)?;
        let Some(plan) = self.plan.as_ref() else {
            return Ok(());
        };
        if plan.state() != PlanState::Running || !plan.has_ready() {
            return Ok(());
        }
        self.refresh_guide(t.now, false);
        let gate = self.start_gate(t.now);
        let Some(plan) = self.plan.as_ref() else {
            return Ok(());
        };
        let agents: Vec<&Agent> = self.roster.connected().collect();
        let mut slots = self.agent_slots(&agents, t.now);
        let compiled = plan.compiled();
        let (order, demand) = plan.dispatch_order(self.cfg.priority, t.now);
        // Work in the repository waits until its integration branch is
        // open; a task held by a budget or a paused or full pool waits
        // (`pools/limits.rs`).
        let ws_open = self.ws.as_ref().is_none_or(|w| w.head().is_some());
        let repo = swarm_plan::claims::Workspace::Repo;
        let open = |&(i, _, _): &(usize, _, _)| {
            (ws_open || compiled.plan.tasks[i].workspace != repo) && self.may_start(i, t.now, &gate)
        };
        let candidates = order.filter(open).map(|(i, slack, ready_in)| Candidate {
            task: i,
            need: &compiled.tasks[i].need,
            secs: compiled.plan.tasks[i].duration.secs(),
            slack,
            ready_in,
            claims: &compiled.plan.tasks[i].touches,
        });
        // A live attempt holds its task's claims.
        let mut held = HeldClaims::new();
        if compiled.claims {
            // So does a task whose work waits to be merged.
            let merging = self.ws.iter().flat_map(|w| w.merging_tasks());
            for task in self.attempts.tasks().chain(merging) {
                held.hold(&compiled.plan.tasks[task].touches);
            }
        }
        let round = place(candidates, &mut slots, &demand, &mut held);
        let placements: Vec<(usize, Vec<Member>)> = round
            .placements
            .into_iter()
            .map(|p| {
                let members = p
                    .agents
                    .into_iter()
                    .map(|(a, role)| Member {
                        agent: agents[a].id.clone(),
                        role,
                    })
                    .collect();
                (p.task, members)
            })
            .collect();
        for (task, members) in self.within_pools(placements, gate, t.now) {
            self.start_attempt(t, task, members)?;
        }
        Ok(())
    }

    /// What each agent offers placement: its roles, free slots, and when
    /// the first of its attempts is planned to end.
    fn agent_slots(&self, agents: &[&Agent], now: i64) -> Vec<AgentSlots> {
        let Some(plan) = self.plan.as_ref() else {
            return Vec::new();
        };
        agents
            .iter()
            .enumerate()
            .map(|(i, a)| AgentSlots {
                id: i,
                role: a.active_role.clone(),
                also: (a.roles.iter())
                    .filter(|r| **r != a.active_role)
                    .cloned()
                    .collect(),
                free: a.free(),
                busy_secs: (a.busy.iter())
                    .filter_map(|&id| self.attempts.get(id))
                    .map(|at| plan.planned_rest(at.task, now))
                    .min()
                    .unwrap_or(0),
            })
            .collect()
    }

    /// Offers a new attempt of `task` to `members`: committed in this turn,
    /// sent after the commit.
    fn start_attempt(
        &mut self,
        t: &mut Turn<'_>,
        task: usize,
        members: Vec<Member>,
    ) -> Result<(), CoreError> {
        let Some(offer) = self.record_attempt(t, task, &members)? else {
            return Ok(());
        };
        self.announce_offer(t, task, &members, &offer)?;
        if offer.waits_for_operator {
            self.announce_operator_wait(t, task, &members, &offer)?;
        }
        let upstream = self.upstream_results(t, task)?;
        // A first attempt has no earlier one that could have said a
        // session (attempt numbers never restart): no read for it.
        let session = if offer.number > 1 {
            self.previous_session(t, task)?
        } else {
            String::new()
        };
        self.send_assignments(t, task, &members, offer, &upstream, session);
        Ok(())
    }

    /// The attempt's rows: the attempt offered, its token granted, the
    /// task running. `None` without a plan.
    fn record_attempt(
        &mut self,
        t: &mut Turn<'_>,
        task: usize,
        members: &[Member],
    ) -> Result<Option<Offer>, CoreError> {
        let Some(plan) = self.plan.as_mut() else {
            return Ok(None);
        };
        let id = self.attempts.allocate();
        let waits_for_operator = is_manual(plan.spec(task))
            && members.first().is_some_and(|lead| {
                self.profiles.of(&lead.role).exec.is_none()
                    && self
                        .roster
                        .get(&lead.agent)
                        .is_some_and(|a| a.leaves_manual_tasks_to_an_operator())
            });
        let ready_for = (t.now - plan.task(task).updated_at).max(0);
        self.out.metrics.dispatch.observe(ready_for as f64 / 1000.0);
        let number =
            plan.begin_attempt(task, id, members.iter().map(|m| m.agent.clone()).collect());
        let token = self.tokens.mint();
        self.grants.grant(
            token.clone(),
            Grant {
                task_id: plan.task_id(task).to_string(),
                attempt: id,
            },
        );
        let attempt = Attempt {
            id,
            task,
            number,
            members: members.to_vec(),
            gang: plan.spec(task).gang,
            succeeded: Vec::new(),
            commits: Vec::new(),
            verifies: false,
            state: AttemptState::Offered,
            created_at: t.now,
            started_at: None,
            log_seq: 0,
            waits_for_operator,
            token: token.clone(),
        };
        upsert_attempt(t.db, &attempt.row(plan.id(), "offered"))?;
        self.attempts.insert(attempt);
        self.set_task(t, task, TaskState::Running, None)?;
        Ok(Some(Offer {
            id,
            number,
            token,
            waits_for_operator,
        }))
    }

    /// The `attempt.offered` event, naming every member.
    fn announce_offer(
        &self,
        t: &mut Turn<'_>,
        task: usize,
        members: &[Member],
        offer: &Offer,
    ) -> Result<(), CoreError> {
        let Some(plan) = self.plan.as_ref() else {
            return Ok(());
        };
        let spec = plan.spec(task);
        let who = members
            .iter()
            .map(|m| format!("{} ({})", m.agent, m.role))
            .collect::<Vec<_>>()
            .join(", ");
        let mut offered = Event::new(EventKind::AttemptOffered)
            .task(spec.id.clone())
            .attempt(offer.id)
            .number(offer.number)
            .message(format!("offered to {who}"));
        if let Some(lead) = members.first() {
            offered = offered.agent(lead.agent.clone());
        }
        t.emit(offered)
    }

    /// The `task.waiting_operator` event of an attempt an operator must
    /// mark, once, when it is offered.
    fn announce_operator_wait(
        &self,
        t: &mut Turn<'_>,
        task: usize,
        members: &[Member],
        offer: &Offer,
    ) -> Result<(), CoreError> {
        let Some(plan) = self.plan.as_ref() else {
            return Ok(());
        };
        let id = plan.task_id(task).to_string();
        let mut waiting = Event::new(EventKind::TaskWaitingOperator)
            .task(id.clone())
            .attempt(offer.id)
            .number(offer.number)
            .message(operator_hint(&id));
        if let Some(lead) = members.first() {
            waiting = waiting.agent(lead.agent.clone());
        }
        t.emit(waiting)
    }

    /// One assignment per member, each sent after the commit: the brief
    /// (with the dependencies' results), the environment, the role's
    /// profile.
    fn send_assignments(
        &mut self,
        t: &mut Turn<'_>,
        task: usize,
        members: &[Member],
        offer: Offer,
        upstream: &str,
        session: String,
    ) {
        let Some(plan) = self.plan.as_ref() else {
            return;
        };
        let spec = plan.spec(task);
        let mut brief = brief(spec, members, plan.name(), offer.waits_for_operator);
        brief.push_str(upstream);
        let ws = self.ws.as_ref().filter(|_| self.in_workspace(task));
        if let Some(note) = ws.and_then(|w| w.conflict_note(task)) {
            brief.push_str(&format!(
                "\n## Merge conflict\n\nThe last attempt's work could not be merged: {note}. \
                 This attempt starts from the integration branch with that work in it.\n"
            ));
        }
        let mut env = attempt_env(plan.name(), plan.retries(task), offer.token, members);
        self.add_traceparent(&mut env, &spec.id, offer.number);
        env.insert("SWARM_SESSION".to_string(), session);
        let every_member_runs = spec.gang == swarm_plan::Gang::All;
        for (k, m) in members.iter().enumerate() {
            let Some(tx) = self.roster.occupy(&m.agent, offer.id) else {
                continue;
            };
            let assignment = Assignment {
                attempt: AttemptRef {
                    task_id: spec.id.clone(),
                    attempt: offer.id,
                },
                attempt_no: offer.number,
                role: m.role.clone(),
                lead: k == 0 || every_member_runs,
                member: k as u32 + 1,
                members: members.len() as u32,
                title: spec.title.clone(),
                run: spec.run.clone(),
                checks: spec.checks.clone(),
                image: spec.image.clone(),
                timeout_ms: spec.timeout.map_or(0, |t| t.secs() * 1000),
                brief: brief.clone(),
                env: env.clone(),
                plan: plan.name().to_string(),
                profile: self.profiles.of(&m.role),
                workspace: ws.and_then(|w| {
                    // A member's own branch: its role, and its place when
                    // the gang has the role twice.
                    let twice = members.iter().filter(|o| o.role == m.role).count() > 1;
                    let own = match twice {
                        true => format!("{}-{}", m.role, k + 1),
                        false => m.role.clone(),
                    };
                    let role = every_member_runs && members.len() > 1;
                    let role = role.then_some(own.as_str());
                    Some(AssignedWorkspace {
                        repo: w.repo().to_string(),
                        base_commit: w.head()?.to_string(),
                        branch: w.attempt_branch(&spec.id, offer.number, role),
                        plan: w.label().to_string(),
                        checks_only: false,
                    })
                }),
            };
            t.send(Some(tx), ToAgent::Assign(Box::new(assignment)));
        }
    }

    /// Records whether live attempt `attempt`, which `agent` resumed in a
    /// new session, waits for an operator: `operator` is whether the agent
    /// leaves manual tasks to one; only the lead's word counts, and only
    /// for a task without a run command or image.
    pub(crate) fn mark_operator_wait(&mut self, attempt: u64, agent: &str, operator: bool) {
        let Some(plan) = self.plan.as_ref() else {
            return;
        };
        let Some(a) = self.attempts.get(attempt) else {
            return;
        };
        if a.lead() == Some(agent) {
            let waits = operator && is_manual(plan.spec(a.task));
            self.attempts.set_waits_for_operator(attempt, waits);
        }
    }

    /// Whether the running task `task` waits for an operator.
    pub(crate) fn waits_for_operator(&self, task: usize) -> bool {
        let Some(plan) = self.plan.as_ref() else {
            return false;
        };
        plan.task(task)
            .current
            .and_then(|id| self.attempts.get(id))
            .is_some_and(|a| a.waits_for_operator)
    }
}

/// An attempt just recorded, for its event and its assignments.
struct Offer {
    /// Fencing number.
    id: u64,
    /// The task's attempt number, from 1.
    number: u32,
    /// The attempt's own token (`SWARM_TOKEN`).
    token: String,
    /// A manual task whose agent leaves it to an operator.
    waits_for_operator: bool,
}

/// What every member's executor adds to a task's environment.
pub(crate) fn attempt_env(
    plan: &str,
    retries: u32,
    token: String,
    members: &[Member],
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    env.insert("SWARM_PLAN".to_string(), plan.to_string());
    env.insert("SWARM_RETRIES".to_string(), retries.to_string());
    // The task's own token: shared memory and its own task, while the
    // attempt lives. The agent's token never reaches a task.
    env.insert("SWARM_TOKEN".to_string(), token);
    if members.len() > 1 {
        // Every member's agent and role, lead first.
        let gang: Vec<String> = members
            .iter()
            .map(|m| format!("{}:{}", m.agent, m.role))
            .collect();
        env.insert("SWARM_GANG".to_string(), gang.join(","));
    }
    env
}
