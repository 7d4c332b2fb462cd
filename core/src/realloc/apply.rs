//! Applying reallocation's decisions: each becomes the state change, the
//! message to an agent or provisioner and the event it stands for, and
//! its sentence for the report.

use super::planner::Decision;
use super::prose;
use crate::command::ToAgent;
use crate::effects::Turn;
use crate::event::{Event, EventKind};
use crate::jobs::ProvisionCmd;
use crate::{CoreError, State};

impl State {
    /// Applies `decisions` in order; returns their sentences and records
    /// the shortfalls for `swarmctl status`.
    pub(super) fn apply_realloc(
        &mut self,
        t: &mut Turn<'_>,
        decisions: Vec<Decision>,
    ) -> Result<Vec<String>, CoreError> {
        let kind = self.cfg.provisioner;
        let mut said = Vec::new();
        let mut shortfall = Vec::new();
        for decision in decisions {
            match decision {
                Decision::Switch {
                    agent,
                    from,
                    to,
                    why,
                } => {
                    let why = prose::switched(&agent, &from, &to, why);
                    let tx = self.roster.switch_role(&agent, &to);
                    t.send(tx, ToAgent::SetRole(to));
                    self.record_agent(t, &agent, EventKind::AgentRoleSwitched, why.clone())?;
                    said.push(why);
                }
                Decision::Start {
                    role,
                    count,
                    kind,
                    why,
                } => {
                    for _ in 0..count {
                        said.push(self.start_agent(t, kind, &role, |id, plan| {
                            prose::started(kind, &role, id, why, plan)
                        })?);
                    }
                }
                Decision::StartForSwarm {
                    role,
                    count,
                    kind,
                    have,
                    want,
                } => {
                    for _ in 0..count {
                        said.push(self.start_agent(t, kind, &role, |id, _| {
                            prose::started_for_swarm(kind, &role, id, have, want)
                        })?);
                    }
                }
                Decision::Shortfall {
                    role,
                    missing,
                    weight_h,
                    why,
                } => {
                    let (said_now, line) = prose::shortfall(&role, missing, weight_h, &why, kind);
                    shortfall.push(line);
                    said.push(said_now);
                }
                Decision::Drain { agent, role } => {
                    let why = prose::drained(&agent, &role);
                    self.drain(t, &agent, why.clone())?;
                    said.push(why);
                }
            }
        }
        self.provisioning.set_shortfall(shortfall);
        Ok(said)
    }

    /// Asks the provisioner for one agent of `role`; its sentence, which
    /// `say` makes of the new agent's id and the plan's name.
    fn start_agent(
        &mut self,
        t: &mut Turn<'_>,
        kind: crate::config::ProvisionerKind,
        role: &str,
        say: impl Fn(&str, &str) -> String,
    ) -> Result<String, CoreError> {
        let plan_name = self
            .plan
            .as_ref()
            .map(|p| p.name().to_string())
            .unwrap_or_default();
        let id = self.provisioning.ask(kind, role, t.now);
        t.provision(ProvisionCmd::Start {
            role: role.to_string(),
            agent_id: id.clone(),
            plan: plan_name.clone(),
        });
        let why = say(&id, &plan_name);
        t.emit(
            Event::new(EventKind::AgentProvisioned)
                .agent(id)
                .message(why.clone()),
        )?;
        Ok(why)
    }
}
