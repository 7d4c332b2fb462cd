//! Dispatch: ready tasks onto free agents, by the placement policy the
//! plan simulator uses too. An attempt is committed in the turn's
//! transaction; the assignment is sent only after the commit.

use std::collections::BTreeMap;

use swarm_memory::state::upsert_attempt;
use swarm_plan::policy::{place, AgentSlots};
use swarm_plan::Task;

use super::attempts::{Attempt, Member};
use super::command::{Assignment, AttemptRef, ToAgent};
use super::effects::Turn;
use super::event::{Event, EventKind};
use super::model::{AttemptState, PlanState, TaskState};
use super::roster::Agent;
use super::{CoreError, State};

impl State {
    /// Places ready tasks on free agents.
    pub(crate) fn dispatch(&mut self, t: &mut Turn<'_>) -> Result<(), CoreError> {
        let Some(plan) = self.plan.as_ref() else {
            return Ok(());
        };
        if plan.state() != PlanState::Running || !plan.has_ready() {
            return Ok(());
        }
        let agents: Vec<&Agent> = self.roster.connected().collect();
        let mut slots: Vec<AgentSlots> = agents
            .iter()
            .enumerate()
            .map(|(i, a)| AgentSlots {
                id: i,
                role: a.active_role.clone(),
                free: a.free(),
            })
            .collect();
        let needs = &plan.compiled().tasks;
        let candidates = plan.ready().map(|i| (i, &needs[i].need));
        let round = place(candidates, &mut slots);
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
        for (task, members) in placements {
            self.start_attempt(t, task, members)?;
        }
        Ok(())
    }

    /// Offers a new attempt of `task` to `members`: committed in this turn,
    /// sent after the commit.
    fn start_attempt(
        &mut self,
        t: &mut Turn<'_>,
        task: usize,
        members: Vec<Member>,
    ) -> Result<(), CoreError> {
        let Some(plan) = self.plan.as_mut() else {
            return Ok(());
        };
        let id = self.attempts.allocate();
        let number =
            plan.begin_attempt(task, id, members.iter().map(|m| m.agent.clone()).collect());
        let attempt = Attempt {
            id,
            task,
            number,
            members: members.clone(),
            state: AttemptState::Offered,
            created_at: t.now,
            started_at: None,
            log_seq: 0,
        };
        upsert_attempt(t.db, &attempt.row(plan.id(), "offered"))?;
        self.attempts.insert(attempt);
        self.set_task(t, task, TaskState::Running, None)?;
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
            .attempt(id)
            .message(format!("attempt {number} on {who}"));
        if let Some(lead) = members.first() {
            offered = offered.agent(lead.agent.clone());
        }
        t.emit(offered)?;
        let brief = brief(spec, &members, plan.name());
        let mut env = BTreeMap::new();
        env.insert("SWARM_PLAN".to_string(), plan.name().to_string());
        env.insert("SWARM_RETRIES".to_string(), plan.retries(task).to_string());
        for (k, m) in members.iter().enumerate() {
            let Some(tx) = self.roster.occupy(&m.agent, id) else {
                continue;
            };
            let assignment = Assignment {
                attempt: AttemptRef {
                    task_id: spec.id.clone(),
                    attempt: id,
                },
                attempt_no: number,
                role: m.role.clone(),
                lead: k == 0,
                title: spec.title.clone(),
                run: spec.run.clone(),
                checks: spec.checks.clone(),
                image: spec.image.clone(),
                timeout_ms: spec.timeout.map_or(0, |t| t.secs() * 1000),
                brief: brief.clone(),
                env: env.clone(),
                plan: plan.name().to_string(),
            };
            t.send(Some(tx), ToAgent::Assign(Box::new(assignment)));
        }
        Ok(())
    }
}

/// The task brief an agent (a person, a script, an AI CLI) works from.
fn brief(task: &Task, members: &[Member], plan: &str) -> String {
    let mut out = format!("# Task {}: {}\n\nPlan: {plan}\n", task.id, task.title);
    let roles: Vec<&str> = members.iter().map(|m| m.role.as_str()).collect();
    out.push_str(&format!(
        "Roles: {}\nPriority: {}\nPlanned duration: {}\n",
        roles.join(" + "),
        task.priority,
        task.duration
    ));
    for (name, items) in [
        ("Deliverables", &task.deliverables),
        ("Success criteria", &task.success_criteria),
    ] {
        if !items.is_empty() {
            out.push_str(&format!("\n## {name}\n"));
            for item in items {
                out.push_str(&format!("- {item}\n"));
            }
        }
    }
    if let Some(b) = &task.blocking {
        out.push_str(&format!("\nBlocking: {b}\n"));
    }
    out
}
