//! Gate transitions (`--gates`): checks handed to the gate checker when the
//! work before a gate is done, a gate opened by its checks or by an
//! operator, and the tasks it held back released.

use super::effects::Turn;
use super::event::{Event, EventKind};
use super::model::TaskState;
use super::{CoreError, State};
use crate::jobs::GateJob;

impl State {
    /// Hands the checks of every gate that is due to the gate checker;
    /// a gate only an operator can open says so once (`gate.waiting`).
    pub(crate) fn due_gates(&mut self, t: &mut Turn<'_>) -> Result<(), CoreError> {
        let Some(plan) = self.plan.as_mut() else {
            return Ok(());
        };
        for (gate, checks) in plan.gates_to_check(t.now) {
            t.check_gate(GateJob {
                gate,
                checks,
                workdir: self.cfg.workdir.clone(),
            });
        }
        for g in plan.gates_waiting() {
            let gate = &plan.gates()[g];
            let why = format!(
                "{}: no check commands; waiting for swarmctl gate approve {}",
                gate.label(),
                gate.day
            );
            t.emit(Event::new(EventKind::GateWaiting).message(why))?;
        }
        Ok(())
    }

    /// A gate's checks ran; when they passed, it opens.
    pub(crate) fn gate_checked(
        &mut self,
        t: &mut Turn<'_>,
        gate: usize,
        passed: bool,
        detail: &str,
    ) -> Result<(), CoreError> {
        let Some(plan) = self.plan.as_mut() else {
            return Ok(());
        };
        if plan.gate_checked(gate, passed, detail.to_string(), t.now) {
            let label = plan.gates()[gate].label();
            t.emit(Event::new(EventKind::GateOpened).message(format!("{label}: {detail}")))?;
            self.release_held(t)?;
        } else if !passed && plan.note_waiting(gate) {
            let g = &plan.gates()[gate];
            let why = format!(
                "{}: {detail}; checked again later, or swarmctl gate approve {}",
                g.label(),
                g.day
            );
            t.emit(Event::new(EventKind::GateWaiting).message(why))?;
        }
        Ok(())
    }

    /// An operator opens every closed gate of `day`.
    pub(crate) fn approve_gate(
        &mut self,
        t: &mut Turn<'_>,
        day: u32,
    ) -> Result<Vec<String>, CoreError> {
        let Some(plan) = self.plan.as_mut() else {
            return Err(CoreError::Conflict("no plan is loaded".into()));
        };
        if plan.gates().is_empty() {
            return Err(CoreError::Conflict(
                "this plan has no gates: start swarmd with --gates to hold tasks at day gates"
                    .into(),
            ));
        }
        if !plan.gates().iter().any(|g| g.day == day) {
            let days: Vec<String> = plan.gates().iter().map(|g| g.day.to_string()).collect();
            return Err(CoreError::NotFound(format!(
                "day {day} has no gate; days with gates: {}",
                days.join(", ")
            )));
        }
        let opened: Vec<String> = plan
            .approve_day(day)
            .into_iter()
            .map(|g| plan.gates()[g].label())
            .collect();
        for label in &opened {
            t.emit(
                Event::new(EventKind::GateOpened)
                    .message(format!("{label}: approved by an operator")),
            )?;
        }
        self.release_held(t)?;
        Ok(opened)
    }

    /// Tasks a gate held that nothing holds any more become ready.
    fn release_held(&mut self, t: &mut Turn<'_>) -> Result<(), CoreError> {
        let Some(plan) = self.plan.as_mut() else {
            return Ok(());
        };
        for i in plan.released() {
            self.set_task(t, i, TaskState::Ready, None)?;
        }
        Ok(())
    }

    /// Closed gates, each with what it waits for, for status.
    pub(crate) fn closed_gates(&self) -> Vec<String> {
        let Some(plan) = self.plan.as_ref() else {
            return Vec::new();
        };
        plan.gates()
            .iter()
            .filter(|g| !g.open)
            .map(|g| {
                let waits = if g.checks.is_empty() {
                    format!("no check commands: swarmctl gate approve {}", g.day)
                } else if g.last.is_empty() {
                    format!(
                        "its {}, once the work before it is done, or swarmctl gate approve {}",
                        swarm_text::count(g.checks.len() as u64, "check"),
                        g.day
                    )
                } else {
                    format!("last check: {}; or swarmctl gate approve {}", g.last, g.day)
                };
                format!("{} is closed — {waits}", g.label())
            })
            .collect()
    }
}
