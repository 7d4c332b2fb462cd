//! What the shared-memory worker reports to the loop — a repair of
//! `memory.db`, trouble with it, its backlog — as events and status lines.

use crate::effects::Turn;
use crate::event::{Event, EventKind};
use crate::{CoreError, State};

impl State {
    /// The shared-memory worker repaired the file, or cannot use it: an
    /// event, and a line in status.
    pub(crate) fn memory_notice(
        &mut self,
        t: &mut Turn<'_>,
        notice: crate::jobs::Notice,
    ) -> Result<(), CoreError> {
        use crate::jobs::Notice;
        use swarm_memory::shared::Repair;
        let (kind, text) = match notice {
            Notice::Repaired(Repair::Merged { adopted, deleted, reapplied }) => (
                EventKind::MemoryReconciled,
                format!("memory.db was changed by another tool: merged {adopted} new or changed rows and {deleted} deletes, re-applied {reapplied} writes it had lost"),
            ),
            Notice::Repaired(Repair::Rebuilt { moved_to, reason, rows }) => (
                EventKind::MemoryRebuilt,
                format!(
                    "memory.db was unreadable ({reason}); {}rebuilt it with {rows} rows from swarmd's copy",
                    moved_to.map_or(String::new(), |p| format!("moved it to {}, ", p.display()))
                ),
            ),
            Notice::Unavailable(why) => (EventKind::MemoryUnavailable, why),
            Notice::Available => (EventKind::MemoryAvailable, "memory.db is in step again".to_string()),
            Notice::Backlog(b) => {
                self.memory_backlog = b.to_string();
                return Ok(());
            }
        };
        let label = self
            .plan
            .as_ref()
            .map(|p| p.clock().label(p.clock().plan_at(t.now)))
            .unwrap_or_default();
        self.memory_note = if label.is_empty() {
            text.clone()
        } else {
            format!("{text} ({label})")
        };
        t.emit(Event::new(kind).message(text))
    }
}
