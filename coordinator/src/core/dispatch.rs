//! Dispatch: ready tasks onto free agents, by the placement policy the
//! plan simulator uses too. An attempt is committed in the turn's
//! transaction; the assignment is sent only after the commit.

use std::collections::BTreeMap;

use rusqlite::Connection;
use swarm_memory::state::upsert_attempt;
use swarm_plan::policy::{place, AgentSlots};
use swarm_plan::Task;

use super::agents::attempt_row;
use super::command::{Assignment, AttemptRef, ToAgent};
use super::model::{Attempt, AttemptState, PlanState, TaskState};
use super::{CoreError, Effects, State};

impl State {
    /// Places ready tasks on free agents.
    pub(crate) fn dispatch(
        &mut self,
        db: &Connection,
        now: i64,
        fx: &mut Effects,
    ) -> Result<(), CoreError> {
        let Some(plan) = self.plan.as_ref() else {
            return Ok(());
        };
        if plan.state != PlanState::Running || plan.ready.is_empty() {
            self.unstaffed.clear();
            return Ok(());
        }
        let ids: Vec<&String> = self.agents.keys().collect();
        let mut slots: Vec<AgentSlots> = self
            .agents
            .values()
            .enumerate()
            .filter(|(_, a)| a.state == super::model::AgentState::Connected)
            .map(|(i, a)| AgentSlots {
                id: i,
                role: a.active_role.clone(),
                free: a.free(),
            })
            .collect();
        let candidates = plan
            .ready
            .iter()
            .map(|k| (k.3, &plan.compiled.tasks[k.3].need));
        let round = place(candidates, &mut slots);
        let mut unstaffed: Vec<String> = round
            .unstaffed
            .iter()
            .flat_map(|&i| plan.compiled.tasks[i].need.role_slots())
            .filter(|r| !slots.iter().any(|s| s.role == *r) && r != swarm_plan::ANY_ROLE)
            .collect();
        unstaffed.sort();
        unstaffed.dedup();
        let placements: Vec<(usize, Vec<(String, String)>)> = round
            .placements
            .into_iter()
            .map(|p| {
                (
                    p.task,
                    p.agents
                        .into_iter()
                        .map(|(a, role)| (ids[a].clone(), role))
                        .collect(),
                )
            })
            .collect();
        self.unstaffed = unstaffed;
        for (task, agents) in placements {
            self.start_attempt(db, task, agents, now, fx)?;
        }
        Ok(())
    }

    fn start_attempt(
        &mut self,
        db: &Connection,
        task: usize,
        agents: Vec<(String, String)>,
        now: i64,
        fx: &mut Effects,
    ) -> Result<(), CoreError> {
        let id = self.next_attempt;
        self.next_attempt += 1;
        let Some(plan) = self.plan.as_mut() else {
            return Ok(());
        };
        let number = plan.tasks[task].attempts + 1;
        plan.tasks[task].attempts = number;
        plan.tasks[task].current = Some(id);
        plan.tasks[task].last_agents = agents.iter().map(|(a, _)| a.clone()).collect();
        let attempt = Attempt {
            id,
            task,
            number,
            agents: agents.clone(),
            state: AttemptState::Offered,
            created_at: now,
            started_at: None,
            log_seq: 0,
        };
        upsert_attempt(db, &attempt_row(plan.id, &attempt, "offered"))?;
        let spec = &plan.compiled.plan.tasks[task];
        let retries = plan.retries[task];
        let plan_name = plan.compiled.plan.name.clone();
        let brief = brief(spec, &agents, &plan_name);
        self.attempts.insert(id, attempt);
        self.set_task(db, task, TaskState::Running, None, fx)?;
        let Some(plan) = self.plan.as_ref() else {
            return Ok(());
        };
        let spec = &plan.compiled.plan.tasks[task];
        let who = agents
            .iter()
            .map(|(a, r)| format!("{a} ({r})"))
            .collect::<Vec<_>>()
            .join(", ");
        self.event(
            db,
            fx,
            "attempt.offered",
            Some(&spec.id),
            Some(id),
            agents.first().map(|(a, _)| a.as_str()),
            format!("attempt {number} on {who}"),
        )?;
        let mut env = BTreeMap::new();
        env.insert("SWARM_PLAN".to_string(), plan_name.clone());
        env.insert("SWARM_RETRIES".to_string(), retries.to_string());
        for (k, (agent_id, role)) in agents.iter().enumerate() {
            let Some(agent) = self.agents.get_mut(agent_id) else {
                continue;
            };
            agent.busy.insert(id);
            let tx = agent.tx.clone();
            let assignment = Assignment {
                attempt: AttemptRef {
                    task_id: spec.id.clone(),
                    attempt: id,
                },
                attempt_no: number,
                role: role.clone(),
                lead: k == 0,
                title: spec.title.clone(),
                run: spec.run.clone(),
                checks: spec.checks.clone(),
                image: spec.image.clone(),
                timeout_ms: spec.timeout.map_or(0, |t| t.secs() * 1000),
                brief: brief.clone(),
                env: env.clone(),
                plan: plan_name.clone(),
            };
            fx.send(&tx, ToAgent::Assign(Box::new(assignment)));
        }
        Ok(())
    }
}

/// The task brief an agent (a person, a script, an AI CLI) works from.
fn brief(task: &Task, agents: &[(String, String)], plan: &str) -> String {
    let mut out = format!("# Task {}: {}\n\nPlan: {plan}\n", task.id, task.title);
    let roles: Vec<&str> = agents.iter().map(|(_, r)| r.as_str()).collect();
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
