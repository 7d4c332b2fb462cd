//! The operator's commands that change what runs, handed to the parts of
//! the loop that carry them out. The turn names the command's actor on
//! every event they emit (see `State::apply`).

use super::command::PlanCmd;
use super::effects::Turn;
use super::error::CoreError;
use super::State;

impl State {
    /// Carries out one operator command and queues its reply.
    pub(crate) fn plan_cmd(&mut self, t: &mut Turn<'_>, cmd: PlanCmd) -> Result<(), CoreError> {
        match cmd {
            PlanCmd::Load { plan, reply, .. } => {
                let r = self.load_plan(t, *plan);
                t.reply(reply, r);
            }
            PlanCmd::SetPaused { paused, reply, .. } => {
                let r = self.set_paused(t, paused);
                t.reply(reply, r);
            }
            PlanCmd::Cancel { reason, reply, .. } => {
                let r = self.cancel_plan(t, &reason);
                t.reply(reply, r);
            }
            PlanCmd::TaskAction {
                task,
                action,
                reason,
                reply,
                ..
            } => {
                let r = self.task_action(t, &task, action, &reason);
                t.reply(reply, r);
            }
            PlanCmd::DrainAgent { agent, reply, .. } => {
                let r = self.drain_agent(t, &agent);
                t.reply(reply, r);
            }
            PlanCmd::ApproveGate { day, reply, .. } => {
                let r = self.approve_gate(t, day);
                t.reply(reply, r);
            }
            PlanCmd::Apply(req, reply) => {
                let r = self.apply_revision(t, *req);
                t.reply(reply, r);
            }
        }
        Ok(())
    }
}
