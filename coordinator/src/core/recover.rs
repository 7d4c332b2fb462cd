//! Recovery after a restart: the active plan, its tasks and live attempts
//! and the agents are rebuilt from the store. Agents get a grace period to
//! reconnect and resume their attempts; those that do not come back are
//! lost like any other, and their attempts re-queued. Nothing that
//! succeeded runs again.

use rusqlite::Connection;
use swarm_memory::now_ms;
use swarm_memory::state::{agents, attempts_in_states, latest_plan, max_attempt_id, tasks};

use super::model::{Agent, AgentState, Attempt, AttemptState, PlanState, TaskState};
use super::setup::new_active_plan;
use super::{CoreError, Effects, State};

impl State {
    pub(crate) fn recover(&mut self, db: &Connection, fx: &mut Effects) -> Result<(), CoreError> {
        self.next_attempt = max_attempt_id(db)? + 1;
        let now = now_ms();
        // An agent seen before the restart counts as seen now: its lease
        // restarts with the grace period added.
        let grace = self.cfg.reconnect_grace.as_millis() as i64;
        for row in agents(db)? {
            // Provisioned agents are numbered; new ones must not reuse a
            // number (a container of that name may still exist).
            if row.id.starts_with("proc-") || row.id.starts_with("docker-") {
                if let Some(n) = row
                    .id
                    .rsplit('-')
                    .next()
                    .and_then(|n| n.parse::<u64>().ok())
                {
                    self.provision_seq = self.provision_seq.max(n);
                }
            }
            let state = match row.state.as_str() {
                "connected" | "disconnected" | "draining" => AgentState::Disconnected,
                "gone" => AgentState::Gone,
                _ => AgentState::Lost,
            };
            let labels = serde_json::from_str(&row.labels).unwrap_or_default();
            self.agents.insert(
                row.id.clone(),
                Agent {
                    id: row.id,
                    active_role: row.active_role,
                    roles: row.roles,
                    slots: row.slots,
                    busy: Default::default(),
                    host: row.host,
                    labels,
                    state,
                    session: 0,
                    tx: None,
                    last_seen: now + grace,
                    registered_at: row.registered_at,
                },
            );
        }
        let Some(row) = latest_plan(db)? else {
            return self.event(
                db,
                fx,
                "coordinator.started",
                None,
                None,
                None,
                "no plan".into(),
            );
        };
        let Some(state) = PlanState::parse(&row.state) else {
            return Err(CoreError::Internal(format!(
                "plan {} has unknown state '{}'",
                row.id, row.state
            )));
        };
        let req = super::command::LoadPlan {
            file_name: row.file.clone(),
            text: row.source.clone(),
            toml: row.format == "toml",
            roles_toml: row.roles_toml.clone(),
        };
        let compiled = super::setup::compile(&req, self.cfg.roles_file.as_deref())
            .map_err(|e| CoreError::Internal(format!("the stored plan no longer compiles: {e}")))?;
        let clock = serde_json::from_str(&row.clock).unwrap_or(crate::clock::PlanClock {
            start: row.loaded_at,
            wall0: row.loaded_at,
            time_scale: self.cfg.time_scale,
            day_start: self.cfg.day_start,
            day_end: self.cfg.day_end,
        });
        let mut plan = new_active_plan(
            row.id,
            compiled,
            row.loaded_at,
            self.cfg.default_retries,
            clock,
        );
        if let Some(last) = swarm_memory::state::checkpoints(db, Some(row.id))?.last() {
            let times: Vec<u16> = plan.checkpoints.iter().map(|c| c.1).collect();
            plan.last_checkpoint = (last.plan_time, swarm_memory::state::last_event_seq(db)?);
            plan.next_checkpoint = plan.clock.next_checkpoint(last.plan_time, &times);
        }
        plan.state = state;
        plan.finished_at = row.finished_at;
        for t in tasks(db, row.id)? {
            let i = t.idx as usize;
            if i >= plan.tasks.len() {
                continue;
            }
            let rt = &mut plan.tasks[i];
            rt.state = TaskState::parse(&t.state).unwrap_or(TaskState::Pending);
            rt.attempts = t.attempts;
            rt.failures = t.failures;
            rt.losses = t.losses;
            rt.not_before = t.not_before;
            rt.reason = t.reason;
            rt.updated_at = t.updated_at;
        }
        for i in 0..plan.tasks.len() {
            let done = plan.compiled.tasks[i]
                .deps
                .iter()
                .filter(|&&d| plan.tasks[d].state.is_done())
                .count();
            plan.tasks[i].deps_left = (plan.compiled.tasks[i].deps.len() - done) as u32;
            match plan.tasks[i].state {
                TaskState::Ready => {
                    let key = plan.key(i);
                    plan.ready.insert(key);
                }
                TaskState::Pending => {
                    if let Some(nb) = plan.tasks[i].not_before {
                        plan.delayed.insert((nb, i));
                    }
                }
                _ => {}
            }
        }
        plan.recount();
        for a in attempts_in_states(db, row.id, &["offered", "running"])? {
            let task = a.task_idx as usize;
            if task >= plan.tasks.len() {
                continue;
            }
            plan.tasks[task].current = Some(a.id);
            plan.tasks[task].last_agents = a.agents.clone();
            let next_seq = swarm_memory::state::next_log_seq(db, a.id)?;
            let members: Vec<(String, String)> = a
                .agents
                .iter()
                .map(|id| (id.clone(), String::new()))
                .collect();
            for (id, _) in &members {
                if let Some(agent) = self.agents.get_mut(id) {
                    agent.busy.insert(a.id);
                }
            }
            self.attempts.insert(
                a.id,
                Attempt {
                    id: a.id,
                    task,
                    number: a.number,
                    agents: members,
                    state: if a.state == "running" {
                        AttemptState::Running
                    } else {
                        AttemptState::Offered
                    },
                    created_at: a.created_at,
                    started_at: a.started_at,
                    log_seq: next_seq,
                },
            );
        }
        let (name, live) = (plan.compiled.plan.name.clone(), self.attempts.len());
        self.plan = Some(plan);
        self.event(
            db,
            fx,
            "coordinator.started",
            None,
            None,
            None,
            format!("recovered plan '{name}' with {live} live attempt(s)"),
        )
    }
}
