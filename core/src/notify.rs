//! What the notifier (`[[notify]]`, a worker off the loop that posts
//! events to webhooks) asks of the loop: where each entry resumes in the
//! event log, the plan names its messages show, and each delivery's
//! record. The loop owns `swarmd.db`: the notifier writes nothing.

use swarm_memory::state::{open_notify_entry, plan_name, record_delivery};
pub use swarm_memory::state::{DeliveryRow, NotifyResume};

use super::command::Reply;
use super::effects::Turn;
use super::{CoreError, State};

/// The notifier's questions and records.
pub enum NotifyCmd {
    /// Where entry `entry` resumes (a new one starts at the log's end).
    Open {
        /// The entry's name.
        entry: String,
        /// Where it resumes.
        reply: Reply<NotifyResume>,
    },
    /// The name of a plan, for a message.
    PlanName {
        /// The plan.
        plan_id: i64,
        /// Its name, if stored.
        reply: Reply<Option<String>>,
    },
    /// A delivery was tried: its record.
    Record(DeliveryRow),
}

impl State {
    /// Answers the notifier.
    pub(crate) fn notify_cmd(&mut self, t: &mut Turn<'_>, cmd: NotifyCmd) -> Result<(), CoreError> {
        match cmd {
            NotifyCmd::Open { entry, reply } => {
                let r = open_notify_entry(t.db, &entry, t.now).map_err(CoreError::from);
                t.reply(reply, r);
            }
            NotifyCmd::PlanName { plan_id, reply } => {
                let r = plan_name(t.db, plan_id).map_err(CoreError::from);
                t.reply(reply, r);
            }
            NotifyCmd::Record(row) => record_delivery(t.db, &row)?,
        }
        Ok(())
    }
}
