//! The agents part of the loop's state: every agent seen, its session, its
//! lease and the attempts it is part of.
//!
//! Invariants, kept by the methods below (the only code that changes an
//! agent):
//! - an agent has a session channel only while it is connected or
//!   draining;
//! - `busy` holds the live attempts the agent is a member of, and nothing
//!   else; free slots are `slots - busy` for a connected agent, 0 for any
//!   other;
//! - a lease is checked a few times per TTL, not on every turn.

use std::collections::{BTreeMap, HashSet};

use swarm_memory::state::AgentRow;

use super::command::{AgentTx, Liveness};
use super::model::AgentState;
use super::CoreError;

/// An agent. Read through [`Roster::get`]; changed only by [`Roster`].
pub struct Agent {
    /// Chosen by the agent (`--id`), stable across its reconnects.
    pub id: String,
    /// Canonical roles it can play, in the order it gave them.
    pub roles: Vec<String>,
    /// The role it plays now; checkpoints may switch it.
    pub active_role: String,
    /// Attempts it can run at once.
    pub slots: u32,
    /// Fencing numbers of the live attempts it is part of.
    pub busy: HashSet<u64>,
    /// Host name it reported.
    pub host: String,
    /// Labels it reported.
    pub labels: BTreeMap<String, String>,
    /// Connected, disconnected, draining, lost or gone.
    pub state: AgentState,
    /// Number of its current session; messages of older ones are ignored.
    pub session: u64,
    /// The process instance of its current session (see `Hello::instance`).
    pub instance: String,
    /// Whether it has a command template (see `Hello::exec_template`);
    /// None until a session says.
    pub exec_template: Option<bool>,
    /// The sandbox its tasks run in (see `Hello::sandbox`); empty until a
    /// session says.
    pub sandbox: String,
    /// Outbound channel of the current session.
    pub tx: Option<AgentTx>,
    /// Last sign of life, wall ms (its lease runs from here).
    pub last_seen: i64,
    /// First registration, wall ms.
    pub registered_at: i64,
    /// The current session's heartbeats, and the count at the last lease
    /// check.
    alive: (Liveness, u64),
}

impl Agent {
    /// Free slots, if it takes work.
    pub fn free(&self) -> u32 {
        if self.state == AgentState::Connected {
            self.slots.saturating_sub(self.busy.len() as u32)
        } else {
            0
        }
    }

    /// Whether a task without a run command or image waits for an
    /// operator on it: it said it has no command template.
    pub fn leaves_manual_tasks_to_an_operator(&self) -> bool {
        self.exec_template == Some(false)
    }

    /// Connected and taking work.
    pub fn is_connected(&self) -> bool {
        self.state == AgentState::Connected
    }

    /// Whether an attempt that dropped this agent is waiting to be
    /// counted: the agent's lease is still running.
    fn lease_running(&self) -> bool {
        matches!(
            self.state,
            AgentState::Connected | AgentState::Disconnected | AgentState::Draining
        )
    }

    /// The row that mirrors it in the store.
    pub fn row(&self) -> AgentRow {
        AgentRow {
            id: self.id.clone(),
            roles: self.roles.clone(),
            active_role: self.active_role.clone(),
            slots: self.slots,
            host: self.host.clone(),
            labels: serde_json::to_string(&self.labels).unwrap_or_else(|_| "{}".into()),
            state: self.state.name().to_string(),
            registered_at: self.registered_at,
            last_seen: self.last_seen,
        }
    }
}

/// What a Hello registers.
pub struct Registration {
    /// Agent id, trimmed and validated.
    pub id: String,
    /// Canonical roles, deduplicated, at least one.
    pub roles: Vec<String>,
    /// Attempts it can run at once, 1 to 1024.
    pub slots: u32,
    /// Host name it reported.
    pub host: String,
    /// Labels it reported.
    pub labels: BTreeMap<String, String>,
    /// Random per agent process (see `Hello::instance`).
    pub instance: String,
    /// Whether it has a command template (see `Hello::exec_template`).
    pub exec_template: Option<bool>,
    /// The sandbox its tasks run in (see `Hello::sandbox`).
    pub sandbox: String,
    /// Its session's heartbeats (see `Hello::alive`).
    pub alive: Liveness,
}

/// Every agent seen, by id.
#[derive(Default)]
pub struct Roster {
    agents: BTreeMap<String, Agent>,
    /// When leases are checked next, wall ms.
    next_lease_scan: i64,
}

impl Roster {
    /// One agent.
    pub fn get(&self, id: &str) -> Option<&Agent> {
        self.agents.get(id)
    }

    /// Whether an agent with this id was ever seen.
    pub fn contains(&self, id: &str) -> bool {
        self.agents.contains_key(id)
    }

    /// Every agent, by id.
    pub fn iter(&self) -> impl Iterator<Item = &Agent> {
        self.agents.values()
    }

    /// Agents connected and taking work.
    pub fn connected(&self) -> impl Iterator<Item = &Agent> {
        self.agents.values().filter(|a| a.is_connected())
    }

    /// Agents connected, per role they play now.
    pub fn connected_by_role(&self) -> BTreeMap<String, u32> {
        let mut present: BTreeMap<String, u32> = BTreeMap::new();
        for a in self.connected() {
            *present.entry(a.active_role.clone()).or_insert(0) += 1;
        }
        present
    }

    /// The session channel of an agent, if it has one.
    pub fn tx(&self, id: &str) -> Option<AgentTx> {
        self.agents.get(id).and_then(|a| a.tx.clone())
    }

    /// Whether a session with `instance` would be a second agent using the
    /// id of a live one: the current session is open, heard from within
    /// `ttl` ms, and belongs to another process.
    pub fn is_duplicate(&self, id: &str, instance: &str, now: i64, ttl: i64) -> bool {
        self.agents.get(id).is_some_and(|a| {
            a.tx.is_some()
                && matches!(a.state, AgentState::Connected | AgentState::Draining)
                && now - a.last_seen <= ttl
                && !a.instance.is_empty()
                && !instance.is_empty()
                && a.instance != instance
        })
    }

    /// A session opens: registers the agent or updates it, connected on
    /// `session`. Returns whether the id was known, and the attempts it
    /// was part of that are not in `keep` (it no longer runs them).
    pub fn connect(
        &mut self,
        reg: Registration,
        session: u64,
        tx: AgentTx,
        keep: &[u64],
        now: i64,
    ) -> (bool, Vec<u64>) {
        let known = self.agents.contains_key(&reg.id);
        let agent = self.agents.entry(reg.id.clone()).or_insert_with(|| Agent {
            id: reg.id.clone(),
            roles: reg.roles.clone(),
            active_role: reg.roles[0].clone(),
            slots: reg.slots,
            busy: HashSet::new(),
            host: String::new(),
            labels: BTreeMap::new(),
            state: AgentState::Connected,
            session,
            instance: String::new(),
            exec_template: None,
            sandbox: String::new(),
            tx: None,
            last_seen: now,
            registered_at: now,
            alive: (Liveness::default(), 0),
        });
        if agent.roles != reg.roles || !reg.roles.contains(&agent.active_role) {
            agent.active_role = reg.roles[0].clone();
        }
        agent.roles = reg.roles;
        agent.slots = reg.slots;
        agent.host = reg.host;
        agent.labels = reg.labels;
        agent.state = AgentState::Connected;
        agent.session = session;
        agent.instance = reg.instance;
        agent.exec_template = reg.exec_template;
        agent.sandbox = reg.sandbox;
        agent.tx = Some(tx);
        agent.last_seen = now;
        let beats = reg.alive.count();
        agent.alive = (reg.alive, beats);
        let dropped = agent
            .busy
            .iter()
            .copied()
            .filter(|a| !keep.contains(a))
            .collect();
        (known, dropped)
    }

    /// A message arrived in `session`: the agent is alive. False when the
    /// session is not the agent's current one (the message is ignored).
    pub fn touch(&mut self, id: &str, session: u64, now: i64) -> bool {
        match self.agents.get_mut(id) {
            Some(a) if a.session == session => {
                a.last_seen = now;
                true
            }
            _ => false,
        }
    }

    /// `session` closed. A draining agent is gone, any other disconnected
    /// (its lease runs on). Returns the new state and, when gone, the
    /// attempts it still held; None when nothing changed.
    pub fn disconnect(&mut self, id: &str, session: u64) -> Option<(AgentState, Vec<u64>)> {
        let agent = self.agents.get_mut(id).filter(|a| a.session == session)?;
        agent.tx = None;
        let state = match agent.state {
            AgentState::Lost | AgentState::Gone => return None,
            AgentState::Draining => AgentState::Gone,
            AgentState::Connected | AgentState::Disconnected => AgentState::Disconnected,
        };
        agent.state = state;
        let leftover = if state == AgentState::Gone {
            agent.busy.iter().copied().collect()
        } else {
            Vec::new()
        };
        Some((state, leftover))
    }

    /// The agent takes no new work; it is told so if `tell` has a message.
    pub fn set_draining(&mut self, id: &str) -> Option<AgentTx> {
        let agent = self.agents.get_mut(id)?;
        agent.state = AgentState::Draining;
        agent.tx.clone()
    }

    /// The agent plays `role` from now on; returns its session channel.
    pub fn switch_role(&mut self, id: &str, role: &str) -> Option<AgentTx> {
        let agent = self.agents.get_mut(id)?;
        agent.active_role = role.to_string();
        agent.tx.clone()
    }

    /// The agent is a member of live attempt `attempt`.
    pub fn occupy(&mut self, id: &str, attempt: u64) -> Option<AgentTx> {
        let agent = self.agents.get_mut(id)?;
        agent.busy.insert(attempt);
        agent.tx.clone()
    }

    /// Attempt `attempt` ended for this agent; returns its session channel.
    pub fn release(&mut self, id: &str, attempt: u64) -> Option<AgentTx> {
        let agent = self.agents.get_mut(id)?;
        agent.busy.remove(&attempt);
        agent.tx.clone()
    }

    /// Agents whose lease ran out by `now`, marked lost, with the attempts
    /// they held. Leases are scanned at most every quarter TTL: scanning
    /// every agent on every turn would cost more than the heartbeats.
    pub fn expire(&mut self, now: i64, ttl: i64) -> Vec<(String, Vec<u64>)> {
        if now < self.next_lease_scan {
            return Vec::new();
        }
        self.next_lease_scan = now + (ttl / 4).max(10);
        let mut out = Vec::new();
        for agent in self.agents.values_mut() {
            let beats = agent.alive.0.count();
            if beats != agent.alive.1 {
                agent.alive.1 = beats;
                agent.last_seen = agent.last_seen.max(now);
            }
            if agent.lease_running() && now - agent.last_seen > ttl {
                agent.state = AgentState::Lost;
                agent.tx = None;
                out.push((agent.id.clone(), agent.busy.iter().copied().collect()));
            }
        }
        out
    }

    /// Restores an agent from its stored row after a restart: whatever it
    /// was, it is disconnected now (or stays lost or gone), and its lease
    /// runs from `lease_from`.
    ///
    /// # Errors
    /// [`CoreError::Recovery`] when the stored state is not an agent state.
    pub fn restore(&mut self, row: AgentRow, lease_from: i64) -> Result<(), CoreError> {
        let stored: AgentState = row
            .state
            .parse()
            .map_err(|e| CoreError::Recovery(format!("agent '{}': {e}", row.id)))?;
        let state = match stored {
            AgentState::Connected | AgentState::Disconnected | AgentState::Draining => {
                AgentState::Disconnected
            }
            AgentState::Gone => AgentState::Gone,
            AgentState::Lost => AgentState::Lost,
        };
        let labels = serde_json::from_str(&row.labels).unwrap_or_default();
        self.agents.insert(
            row.id.clone(),
            Agent {
                id: row.id,
                active_role: row.active_role,
                roles: row.roles,
                slots: row.slots,
                busy: HashSet::new(),
                host: row.host,
                labels,
                state,
                session: 0,
                instance: String::new(),
                exec_template: None,
                sandbox: String::new(),
                tx: None,
                last_seen: lease_from,
                registered_at: row.registered_at,
                alive: (Liveness::default(), 0),
            },
        );
        Ok(())
    }
}
