//! Agent sessions: registration and resume, messages within a session,
//! disconnects, leases, draining.

use rusqlite::Connection;
use swarm_memory::now_ms;
use swarm_memory::state::{upsert_agent, upsert_attempt, AgentRow, AttemptRow, LogRow};

use super::command::{AgentTx, AttemptRef, FromAgent, Hello, LogEvent, Outcome, ToAgent};
use super::model::{Agent, AgentState, AttemptState};
use super::{CoreError, Effects, State};

/// Most roles and slots an agent may declare.
const MAX_ROLES: usize = 64;
const MAX_SLOTS: u32 = 1024;

impl State {
    pub(crate) fn save_agent(&self, db: &Connection, a: &Agent) -> Result<(), CoreError> {
        upsert_agent(
            db,
            &AgentRow {
                id: a.id.clone(),
                roles: a.roles.clone(),
                active_role: a.active_role.clone(),
                slots: a.slots,
                host: a.host.clone(),
                labels: serde_json::to_string(&a.labels).unwrap_or_else(|_| "{}".into()),
                state: a.state.name().to_string(),
                registered_at: a.registered_at,
                last_seen: a.last_seen,
            },
        )?;
        Ok(())
    }

    /// Persists an agent's row and records an event about it.
    pub(crate) fn record_agent(
        &self,
        db: &Connection,
        fx: &mut Effects,
        id: &str,
        kind: &str,
        message: String,
    ) -> Result<(), CoreError> {
        if let Some(agent) = self.agents.get(id) {
            self.save_agent(db, agent)?;
        }
        self.event(db, fx, kind, None, None, Some(id), message)
    }

    /// Tells an agent to drain (finish its work, take no more, exit).
    pub(crate) fn drain(
        &mut self,
        db: &Connection,
        fx: &mut Effects,
        id: &str,
        why: String,
    ) -> Result<(), CoreError> {
        if let Some(agent) = self.agents.get_mut(id) {
            agent.state = AgentState::Draining;
            let tx = agent.tx.clone();
            fx.send(&tx, ToAgent::Drain(why.clone()));
        }
        self.record_agent(db, fx, id, "agent.draining", why)
    }

    /// A session opens: register (or re-register) the agent, and sort its
    /// running attempts into resumed and abandoned.
    pub(crate) fn hello(
        &mut self,
        db: &Connection,
        hello: Hello,
        session: u64,
        tx: AgentTx,
        fx: &mut Effects,
    ) -> Result<(), CoreError> {
        let id = hello.agent_id.trim().to_string();
        if id.is_empty()
            || id.len() > 128
            || id.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(CoreError::Invalid(
                "agent id must be 1-128 printable characters without spaces".into(),
            ));
        }
        if hello.roles.is_empty() || hello.roles.len() > MAX_ROLES {
            return Err(CoreError::Invalid(format!(
                "an agent must declare between 1 and {MAX_ROLES} roles"
            )));
        }
        if hello.slots == 0 || hello.slots > MAX_SLOTS {
            return Err(CoreError::Invalid(format!(
                "slots must be between 1 and {MAX_SLOTS}, not {}",
                hello.slots
            )));
        }
        let catalogue = swarm_roles::Catalogue::builtin();
        let mut roles = Vec::new();
        for phrase in &hello.roles {
            let role = catalogue
                .resolve(phrase)
                .map(str::to_string)
                .unwrap_or_else(|_| phrase.trim().to_lowercase());
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
        let now = now_ms();
        let (mut resume, mut abandon) = (Vec::new(), Vec::new());
        for r in &hello.running {
            let live = self
                .attempts
                .get(&r.attempt)
                .filter(|a| a.agents.iter().any(|(agent, _)| *agent == id));
            let current = live.is_some_and(|a| {
                self.plan.as_ref().is_some_and(|p| {
                    p.tasks[a.task].current == Some(a.id)
                        && p.compiled.plan.tasks[a.task].id == r.task_id
                })
            });
            if current {
                resume.push(r.clone());
            } else {
                abandon.push(r.clone());
            }
        }
        let reconnect = self.agents.contains_key(&id);
        let agent = self.agents.entry(id.clone()).or_insert_with(|| Agent {
            id: id.clone(),
            roles: roles.clone(),
            active_role: roles[0].clone(),
            slots: hello.slots,
            busy: Default::default(),
            host: hello.host.clone(),
            labels: hello.labels.clone(),
            state: AgentState::Connected,
            session,
            tx: None,
            last_seen: now,
            registered_at: now,
        });
        if !agent.roles.contains(&agent.active_role) || agent.roles != roles {
            agent.active_role = roles[0].clone();
        }
        agent.roles = roles;
        agent.slots = hello.slots;
        agent.host = hello.host;
        agent.labels = hello.labels;
        agent.state = AgentState::Connected;
        agent.session = session;
        agent.tx = Some(tx);
        agent.last_seen = now;
        // Attempts it no longer runs: the ones it did not list are lost.
        let listed: Vec<u64> = resume.iter().map(|r| r.attempt).collect();
        let dropped: Vec<u64> = agent
            .busy
            .iter()
            .copied()
            .filter(|a| !listed.contains(a))
            .collect();
        let active_role = agent.active_role.clone();
        let tx = agent.tx.clone();
        let agent_snapshot_id = agent.id.clone();
        for attempt in dropped {
            self.lose_attempt(
                db,
                attempt,
                &format!("agent {agent_snapshot_id} reconnected without it"),
                fx,
            )?;
        }
        for r in &resume {
            if let Some(agent) = self.agents.get_mut(&id) {
                agent.busy.insert(r.attempt);
            }
        }
        if let Some(agent) = self.agents.get(&id) {
            self.save_agent(db, agent)?;
        }
        for r in &abandon {
            self.event(
                db,
                fx,
                "attempt.rejected",
                Some(&r.task_id),
                Some(r.attempt),
                Some(&id),
                "the agent still held an attempt that is no longer current; told to abandon it"
                    .into(),
            )?;
        }
        let kind = if reconnect {
            "agent.reconnected"
        } else {
            "agent.connected"
        };
        let roles_text = self
            .agents
            .get(&id)
            .map(|a| a.roles.join(","))
            .unwrap_or_default();
        self.event(
            db,
            fx,
            kind,
            None,
            None,
            Some(&id),
            format!("roles {roles_text}, resumed {} attempt(s)", resume.len()),
        )?;
        fx.send(
            &tx,
            ToAgent::Welcome {
                agent_id: id,
                heartbeat_ms: self.cfg.heartbeat.as_millis() as u32,
                lease_ttl_ms: self.cfg.lease_ttl.as_millis() as u32,
                resume,
                abandon,
                active_role,
            },
        );
        Ok(())
    }

    /// A message within a session. Messages of an old session are ignored.
    pub(crate) fn on_agent_message(
        &mut self,
        db: &Connection,
        id: &str,
        session: u64,
        msg: FromAgent,
        fx: &mut Effects,
    ) -> Result<(), CoreError> {
        let Some(agent) = self.agents.get_mut(id) else {
            return Ok(());
        };
        if agent.session != session {
            return Ok(());
        }
        agent.last_seen = now_ms();
        match msg {
            FromAgent::Heartbeat => {}
            FromAgent::Started(r) => self.started(db, id, &r, fx)?,
            FromAgent::Log {
                attempt,
                stream,
                data,
            } => self.log(db, &attempt, stream, data, fx)?,
            FromAgent::Result {
                attempt,
                outcome,
                exit_code,
                message,
            } => {
                let accepted = self.result(db, id, &attempt, outcome, exit_code, &message, fx)?;
                let tx = self.agents.get(id).and_then(|a| a.tx.clone());
                let reason = if accepted {
                    String::new()
                } else {
                    "not the current attempt: rejected".to_string()
                };
                fx.send(
                    &tx,
                    ToAgent::Ack {
                        attempt,
                        accepted,
                        reason,
                    },
                );
            }
            FromAgent::Draining => {
                if let Some(agent) = self.agents.get_mut(id) {
                    agent.state = AgentState::Draining;
                }
                self.record_agent(db, fx, id, "agent.draining", "takes no new work".into())?;
            }
            FromAgent::Release { attempt, reason } => {
                if self.is_member(id, &attempt) {
                    self.lose_attempt(
                        db,
                        attempt.attempt,
                        &format!("released by agent {id}: {reason}"),
                        fx,
                    )?;
                }
            }
        }
        Ok(())
    }

    fn is_member(&self, agent: &str, r: &AttemptRef) -> bool {
        self.attempts
            .get(&r.attempt)
            .is_some_and(|a| a.agents.iter().any(|(id, _)| id == agent))
    }

    fn started(
        &mut self,
        db: &Connection,
        agent: &str,
        r: &AttemptRef,
        fx: &mut Effects,
    ) -> Result<(), CoreError> {
        let Some(plan) = self.plan.as_ref() else {
            return Ok(());
        };
        let Some(a) = self.attempts.get_mut(&r.attempt) else {
            return Ok(());
        };
        if a.state != AttemptState::Offered
            || a.agents.first().map(|(id, _)| id.as_str()) != Some(agent)
        {
            return Ok(());
        }
        a.state = AttemptState::Running;
        a.started_at = Some(now_ms());
        let row = attempt_row(plan.id, a, "running");
        upsert_attempt(db, &row)?;
        self.event(
            db,
            fx,
            "attempt.started",
            Some(&r.task_id),
            Some(r.attempt),
            Some(agent),
            String::new(),
        )
    }

    fn log(
        &mut self,
        db: &Connection,
        r: &AttemptRef,
        stream: u8,
        data: Vec<u8>,
        fx: &mut Effects,
    ) -> Result<(), CoreError> {
        let Some(a) = self.attempts.get_mut(&r.attempt) else {
            return Ok(());
        };
        let row = LogRow {
            attempt: r.attempt,
            seq: a.log_seq,
            stream,
            data,
        };
        a.log_seq += 1;
        swarm_memory::state::append_log(db, &row, self.cfg.log_cap_bytes)?;
        fx.logs.push(LogEvent { row });
        Ok(())
    }

    /// The session closed. A draining agent is gone; any other keeps its
    /// lease running, and may reconnect and resume.
    pub(crate) fn agent_gone(
        &mut self,
        db: &Connection,
        id: &str,
        session: u64,
        fx: &mut Effects,
    ) -> Result<(), CoreError> {
        let Some(agent) = self.agents.get_mut(id) else {
            return Ok(());
        };
        if agent.session != session {
            return Ok(());
        }
        agent.tx = None;
        if matches!(agent.state, AgentState::Lost | AgentState::Gone) {
            return Ok(());
        }
        let (state, kind) = if agent.state == AgentState::Draining {
            (AgentState::Gone, "agent.gone")
        } else {
            (AgentState::Disconnected, "agent.disconnected")
        };
        agent.state = state;
        let leftover: Vec<u64> = if state == AgentState::Gone {
            agent.busy.iter().copied().collect()
        } else {
            Vec::new()
        };
        self.record_agent(db, fx, id, kind, String::new())?;
        for attempt in leftover {
            self.lose_attempt(db, attempt, &format!("agent {id} left"), fx)?;
        }
        Ok(())
    }

    /// Agents silent past their lease are lost; their attempts re-queued.
    pub(crate) fn expire_leases(
        &mut self,
        db: &Connection,
        now: i64,
        fx: &mut Effects,
    ) -> Result<(), CoreError> {
        let ttl = self.cfg.lease_ttl.as_millis() as i64;
        // Scanning every agent on every turn would cost more than the
        // heartbeats themselves; a lease is checked a few times per TTL.
        if now < self.next_lease_scan {
            return Ok(());
        }
        self.next_lease_scan = now + (ttl / 4).max(10);
        let expired: Vec<String> = self
            .agents
            .values()
            .filter(|a| {
                matches!(
                    a.state,
                    AgentState::Connected | AgentState::Disconnected | AgentState::Draining
                )
            })
            .filter(|a| now - a.last_seen > ttl)
            .map(|a| a.id.clone())
            .collect();
        for id in expired {
            let busy: Vec<u64> = match self.agents.get_mut(&id) {
                Some(agent) => {
                    agent.state = AgentState::Lost;
                    agent.tx = None;
                    agent.busy.iter().copied().collect()
                }
                None => continue,
            };
            self.record_agent(
                db,
                fx,
                &id,
                "agent.lost",
                format!("no heartbeat for {ttl} ms"),
            )?;
            for attempt in busy {
                self.lose_attempt(db, attempt, &format!("agent {id} lost"), fx)?;
            }
        }
        Ok(())
    }
}

/// The store row of a live attempt in the given state.
pub(crate) fn attempt_row(plan_id: i64, a: &super::model::Attempt, state: &str) -> AttemptRow {
    AttemptRow {
        id: a.id,
        plan_id,
        task_idx: a.task as u32,
        number: a.number,
        agents: a.agents.iter().map(|(id, _)| id.clone()).collect(),
        state: state.to_string(),
        created_at: a.created_at,
        started_at: a.started_at,
        ended_at: None,
        exit_code: None,
        message: String::new(),
    }
}

/// Outcome to attempt state name.
pub(crate) fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Succeeded => "succeeded",
        Outcome::Failed => "failed",
        Outcome::TimedOut => "timed_out",
        Outcome::Cancelled => "cancelled",
    }
}
