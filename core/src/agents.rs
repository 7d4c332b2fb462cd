//! Agent sessions: registration and reconnects, messages within a session,
//! disconnects, leases, draining.

use swarm_memory::state::{upsert_agent, upsert_attempt, LogRow};

use super::command::{AgentTx, AttemptRef, FromAgent, Hello, LogEvent, ToAgent, Welcome};
use super::effects::Turn;
use super::event::{Event, EventKind};
use super::model::AgentState;
use super::roster::Registration;
use super::{CoreError, State};

/// Most roles an agent may declare.
const MAX_ROLES: usize = 64;

/// Most slots an agent may declare.
const MAX_SLOTS: u32 = 1024;

/// Longest role name, in bytes.
const MAX_ROLE_BYTES: usize = 64;

/// Longest agent id, in bytes.
const MAX_ID_BYTES: usize = 128;

impl State {
    /// Persists an agent's row and records `kind` about it.
    pub(crate) fn record_agent(
        &self,
        t: &mut Turn<'_>,
        id: &str,
        kind: EventKind,
        message: String,
    ) -> Result<(), CoreError> {
        if let Some(agent) = self.roster.get(id) {
            upsert_agent(t.db, &agent.row())?;
        }
        t.emit(Event::new(kind).agent(id).message(message))
    }

    /// Tells an agent to drain (finish its work, take no more, exit).
    pub(crate) fn drain(
        &mut self,
        t: &mut Turn<'_>,
        id: &str,
        why: String,
    ) -> Result<(), CoreError> {
        let tx = self.roster.set_draining(id);
        t.send(tx, ToAgent::Drain(why.clone()));
        self.record_agent(t, id, EventKind::AgentDraining, why)
    }

    /// A session opens: register (or re-register) the agent, and sort the
    /// attempts it still runs into resumed and abandoned.
    pub(crate) fn hello(
        &mut self,
        t: &mut Turn<'_>,
        hello: Hello,
        session: u64,
        tx: AgentTx,
    ) -> Result<(), CoreError> {
        let reg = registration(hello.agent_id.trim(), &hello)?;
        let id = reg.id.clone();
        let ttl = self.cfg.lease_ttl.as_millis() as i64;
        if self.roster.is_duplicate(&id, &reg.instance, t.now, ttl) {
            return Err(CoreError::Duplicate(format!(
                "agent id '{id}' is in use by a live session (another swarm-agent process); give this agent another --id, or stop the other one"
            )));
        }
        let (resume, abandon) = self.sort_running(&id, hello.running);
        let keep: Vec<u64> = resume.iter().map(|r| r.attempt).collect();
        let (known, dropped) = self.roster.connect(reg, session, tx.clone(), &keep, t.now);
        let swarm_role = self.swarm_role_of(&id);
        self.provisioning.joined(&id, swarm_role.as_deref());
        let operator = self
            .roster
            .get(&id)
            .is_some_and(|a| a.leaves_manual_tasks_to_an_operator());
        for r in &resume {
            self.roster.occupy(&id, r.attempt);
            self.mark_operator_wait(r.attempt, &id, operator);
        }
        // The Welcome is always the first message of a session: whatever
        // the rest of this Hello sends the agent (a Cancel for an attempt
        // it dropped) comes after it.
        let active_role = self
            .roster
            .get(&id)
            .map(|a| a.active_role.clone())
            .unwrap_or_default();
        let resumed = resume.len();
        t.send(
            Some(tx),
            ToAgent::Welcome(Box::new(Welcome {
                agent_id: id.clone(),
                heartbeat_ms: self.cfg.heartbeat.as_millis() as u32,
                lease_ttl_ms: self.cfg.lease_ttl.as_millis() as u32,
                resume,
                abandon: abandon.clone(),
                active_role,
                state_dir: self.state_dir(),
            })),
        );
        self.settle_unlisted(t, &id, dropped, &abandon)?;
        let roles = self
            .roster
            .get(&id)
            .map(|a| a.roles.join(","))
            .unwrap_or_default();
        let kind = if known {
            EventKind::AgentReconnected
        } else {
            EventKind::AgentConnected
        };
        self.record_agent(
            t,
            &id,
            kind,
            format!(
                "roles {roles}, resumed {}",
                swarm_text::count(resumed as u64, "attempt")
            ),
        )
    }

    /// The attempts a reconnecting agent says it runs, as (resumed: still
    /// its own and current, abandoned: the rest).
    fn sort_running(
        &self,
        id: &str,
        running: Vec<AttemptRef>,
    ) -> (Vec<AttemptRef>, Vec<AttemptRef>) {
        running.into_iter().partition(|r| {
            self.attempts
                .get(r.attempt)
                .is_some_and(|a| a.has_member(id))
                && self.is_current(r)
        })
    }

    /// The role whose swarm service agent `id` is a task of, when the
    /// swarm provisioner runs and its id names a slot of the plan's
    /// service.
    fn swarm_role_of(&self, id: &str) -> Option<String> {
        if self.cfg.provisioner != crate::config::ProvisionerKind::Swarm {
            return None;
        }
        let plan = self.plan.as_ref()?.name();
        let role = self.roster.get(id)?.roles.first()?;
        crate::jobs::provision::slot_of(id, plan, role).map(|_| role.clone())
    }

    /// After a reconnect: the attempts the agent no longer lists are lost;
    /// those it listed that are no longer current are recorded as told to
    /// be abandoned.
    fn settle_unlisted(
        &mut self,
        t: &mut Turn<'_>,
        id: &str,
        dropped: Vec<u64>,
        abandon: &[AttemptRef],
    ) -> Result<(), CoreError> {
        for attempt in dropped {
            self.lose_attempt(t, attempt, &format!("agent {id} reconnected without it"))?;
        }
        for r in abandon {
            t.emit(
                Event::new(EventKind::AttemptRejected)
                    .task(r.task_id.clone())
                    .attempt(r.attempt)
                    .agent(id.to_string())
                    .message("the agent still held an attempt that is no longer current; told to abandon it"),
            )?;
        }
        Ok(())
    }

    /// The state directory as agents should hide it: absolute.
    fn state_dir(&self) -> String {
        let dir = self.cfg.state_dir();
        std::path::absolute(&dir)
            .unwrap_or(dir)
            .display()
            .to_string()
    }

    /// A message within a session. Messages of an old session are ignored.
    pub(crate) fn on_agent_message(
        &mut self,
        t: &mut Turn<'_>,
        id: &str,
        session: u64,
        msg: FromAgent,
    ) -> Result<(), CoreError> {
        if !self.roster.touch(id, session, t.now) {
            return Ok(());
        }
        match msg {
            FromAgent::Heartbeat => {}
            FromAgent::Started(r) => self.started(t, id, &r)?,
            FromAgent::Log {
                attempt,
                stream,
                data,
            } => self.log(t, &attempt, stream, data)?,
            FromAgent::Result { attempt, report } => {
                let verdict = self.result(t, id, &attempt, &report)?;
                let (accepted, reason) = match verdict {
                    super::tasks::ResultVerdict::Accepted => (true, String::new()),
                    super::tasks::ResultVerdict::Rejected => {
                        (false, "not the current attempt: rejected".to_string())
                    }
                    // Acknowledged when the rest of the gang is done.
                    super::tasks::ResultVerdict::Held => return Ok(()),
                };
                let ack = ToAgent::Ack {
                    attempt,
                    accepted,
                    reason,
                };
                t.send(self.roster.tx(id), ack);
            }
            FromAgent::Draining => {
                self.roster.set_draining(id);
                self.record_agent(t, id, EventKind::AgentDraining, "takes no new work".into())?;
            }
            FromAgent::Release { attempt, reason } => {
                let member = self
                    .attempts
                    .get(attempt.attempt)
                    .is_some_and(|a| a.has_member(id));
                if member {
                    let why = format!("released by agent {id}: {reason}");
                    self.lose_attempt(t, attempt.attempt, &why)?;
                }
            }
        }
        Ok(())
    }

    /// The lead's executor started: offered → running.
    fn started(&mut self, t: &mut Turn<'_>, agent: &str, r: &AttemptRef) -> Result<(), CoreError> {
        let Some(plan_id) = self.plan_id() else {
            return Ok(());
        };
        let Some(a) = self.attempts.start(r.attempt, agent, t.now) else {
            return Ok(());
        };
        upsert_attempt(t.db, &a.row(plan_id, "running"))?;
        let number = a.number;
        t.emit(
            Event::new(EventKind::AttemptStarted)
                .task(r.task_id.clone())
                .attempt(r.attempt)
                .number(number)
                .agent(agent),
        )
    }

    /// A chunk of output: stored (capped per attempt) and passed on.
    fn log(
        &mut self,
        t: &mut Turn<'_>,
        r: &AttemptRef,
        stream: u8,
        data: Vec<u8>,
    ) -> Result<(), CoreError> {
        let Some(seq) = self.attempts.next_log_seq(r.attempt) else {
            return Ok(());
        };
        let row = LogRow {
            attempt: r.attempt,
            seq,
            stream,
            data,
        };
        swarm_memory::state::append_log(t.db, &row, self.cfg.log_cap_bytes)?;
        t.log(LogEvent { row });
        Ok(())
    }

    /// The session closed. A draining agent is gone; any other keeps its
    /// lease running, and may reconnect and resume.
    pub(crate) fn agent_gone(
        &mut self,
        t: &mut Turn<'_>,
        id: &str,
        session: u64,
    ) -> Result<(), CoreError> {
        let Some((state, leftover)) = self.roster.disconnect(id, session) else {
            return Ok(());
        };
        let kind = if state == AgentState::Gone {
            EventKind::AgentGone
        } else {
            EventKind::AgentDisconnected
        };
        self.record_agent(t, id, kind, String::new())?;
        for attempt in leftover {
            self.lose_attempt(t, attempt, &format!("agent {id} left"))?;
        }
        Ok(())
    }

    /// Agents silent past their lease are lost; their attempts re-queued.
    pub(crate) fn expire_leases(&mut self, t: &mut Turn<'_>) -> Result<(), CoreError> {
        let ttl = self.cfg.lease_ttl.as_millis() as i64;
        for (id, busy) in self.roster.expire(t.now, ttl) {
            self.record_agent(
                t,
                &id,
                EventKind::AgentLost,
                format!("no heartbeat for {ttl} ms"),
            )?;
            for attempt in busy {
                self.lose_attempt(t, attempt, &format!("agent {id} lost"))?;
            }
        }
        Ok(())
    }
}

/// Validates a Hello: the id, the roles (resolved to canonical names) and
/// the slots.
fn registration(id: &str, hello: &Hello) -> Result<Registration, CoreError> {
    if id.is_empty()
        || id.len() > MAX_ID_BYTES
        || id.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(CoreError::Invalid(format!(
            "agent id must be 1-{MAX_ID_BYTES} printable characters without spaces"
        )));
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
    let mut roles: Vec<String> = Vec::new();
    for phrase in &hello.roles {
        let role = catalogue
            .resolve(phrase)
            .map(str::to_string)
            .unwrap_or_else(|_| phrase.trim().to_lowercase());
        let fine = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
        if role.is_empty() || role.len() > MAX_ROLE_BYTES || !role.chars().all(fine) {
            let shown: String = phrase
                .chars()
                .take(40)
                .flat_map(char::escape_default)
                .collect();
            return Err(CoreError::Invalid(format!(
                "role '{shown}' is not a role name: use 1-{MAX_ROLE_BYTES} letters, digits, '-' or '_' (a plan phrase such as 'DevOps Engineer' is fine too)"
            )));
        }
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    Ok(Registration {
        id: id.to_string(),
        roles,
        slots: hello.slots,
        host: hello.host.clone(),
        labels: hello.labels.clone(),
        instance: hello.instance.clone(),
        exec_template: hello.exec_template,
        sandbox: hello.sandbox.clone(),
        alive: hello.alive.clone(),
    })
}
