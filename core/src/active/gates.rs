//! Gates (`swarmd --gates`): a day's checklist window, and the day's exit
//! criteria, hold back the tasks after them until their Check commands
//! pass or an operator approves the day (`swarmctl gate approve DAY`).
//!
//! - The exit criteria of day D hold back every task of a later day.
//! - A checklist window (checkbox items, no tasks) of day D holds back the
//!   tasks of day D in the windows after it.
//!
//! A gate's checks run once the work before it is done: for exit criteria
//! every task of the day succeeded or was skipped; for a checklist, the
//! tasks of the windows before it. A gate without a single Check command
//! opens only by approval. Failed checks are tried again after a while.
//! Invariant: a task is in `held` exactly while a closed gate keeps it
//! pending although its dependencies are done.

use super::ActivePlan;
use crate::model::TaskState;

/// After failed checks, a gate is checked again this much later.
const RECHECK_MS: i64 = 30_000;

/// What a gate stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateKind {
    /// A window that holds a checklist.
    Checklist {
        /// Index of the window in its day.
        window: usize,
        /// Its name.
        name: String,
    },
    /// The day's exit criteria.
    ExitCriteria,
}

/// One gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    /// The day it belongs to.
    pub day: u32,
    /// Checklist or exit criteria.
    pub kind: GateKind,
    /// Its Check commands.
    pub checks: Vec<String>,
    /// Whether it lets tasks through.
    pub open: bool,
    /// Its checks are running now.
    checking: bool,
    /// Not checked again before this wall time, ms.
    next_check: i64,
    /// What the last check said, or how it opened.
    pub last: String,
    /// Its `gate.waiting` was emitted: it waits for an operator.
    waiting: bool,
}

impl Gate {
    /// "Day 2 exit criteria", "Day 10 Pre-Launch Checklist".
    pub fn label(&self) -> String {
        match &self.kind {
            GateKind::Checklist { name, .. } => format!("Day {} {name}", self.day),
            GateKind::ExitCriteria => format!("Day {} exit criteria", self.day),
        }
    }
}

impl ActivePlan {
    /// Turns the day gates on (`--gates`): they start closed.
    pub fn enable_gates(&mut self) {
        let mut gates = Vec::new();
        for day in &self.compiled.plan.days {
            for (w, window) in day.windows.iter().enumerate() {
                if !window.checklist.is_empty() {
                    gates.push(Gate {
                        day: day.number,
                        kind: GateKind::Checklist {
                            window: w,
                            name: window.name.clone(),
                        },
                        checks: window
                            .checklist
                            .iter()
                            .filter_map(|c| c.check.clone())
                            .collect(),
                        open: false,
                        checking: false,
                        next_check: 0,
                        last: String::new(),
                        waiting: false,
                    });
                }
            }
            if !day.exit_criteria.is_empty() {
                gates.push(Gate {
                    day: day.number,
                    kind: GateKind::ExitCriteria,
                    checks: day
                        .exit_criteria
                        .iter()
                        .filter_map(|c| c.check.clone())
                        .collect(),
                    open: false,
                    checking: false,
                    next_check: 0,
                    last: String::new(),
                    waiting: false,
                });
            }
        }
        self.gates = gates;
    }

    /// The plan's gates (none unless `--gates`).
    pub fn gates(&self) -> &[Gate] {
        &self.gates
    }

    /// Whether gate `g` holds task `i` back.
    fn holds(&self, g: &Gate, i: usize) -> bool {
        let spec = &self.compiled.plan.tasks[i];
        let Some(day) = spec.day else {
            return false;
        };
        match g.kind {
            GateKind::ExitCriteria => day > g.day,
            GateKind::Checklist { window, .. } => {
                day == g.day && spec.window.is_some_and(|w| w > window)
            }
        }
    }

    /// Holds task `i` back when a closed gate stands before it; returns why.
    pub(super) fn hold(&mut self, i: usize) -> Option<String> {
        let gate = self.closed_gate_of(i)?;
        let why = format!(
            "waiting for the {} gate: its checks to pass, or swarmctl gate approve {}",
            gate.label(),
            gate.day
        );
        self.held.insert(i);
        Some(why)
    }

    /// The first closed gate that holds task `i` back.
    pub(super) fn closed_gate_of(&self, i: usize) -> Option<&Gate> {
        self.gates.iter().find(|g| !g.open && self.holds(g, i))
    }

    /// Whether the work before gate `g` is done.
    fn before_done(&self, g: &Gate) -> bool {
        (0..self.tasks.len())
            .filter(|&i| self.compiled.plan.tasks[i].day == Some(g.day))
            .filter(|&i| match g.kind {
                GateKind::ExitCriteria => true,
                GateKind::Checklist { window, .. } => self.compiled.plan.tasks[i]
                    .window
                    .is_none_or(|w| w < window),
            })
            .all(|i| self.tasks[i].state.is_done())
    }

    /// Gates whose checks should run now: closed, with checks, the work
    /// before them done, not checked lately. Marked as being checked.
    pub fn gates_to_check(&mut self, now: i64) -> Vec<(usize, Vec<String>)> {
        let due: Vec<usize> = (0..self.gates.len())
            .filter(|&g| {
                let gate = &self.gates[g];
                !gate.open
                    && !gate.checking
                    && !gate.checks.is_empty()
                    && gate.next_check <= now
                    && self.before_done(gate)
            })
            .collect();
        due.into_iter()
            .map(|g| {
                self.gates[g].checking = true;
                (g, self.gates[g].checks.clone())
            })
            .collect()
    }

    /// Closed gates without checks whose work before them is done: only
    /// an operator opens them now. Each is returned once (marked waiting).
    pub fn gates_waiting(&mut self) -> Vec<usize> {
        let due: Vec<usize> = (0..self.gates.len())
            .filter(|&g| {
                let gate = &self.gates[g];
                !gate.open && !gate.waiting && gate.checks.is_empty() && self.before_done(gate)
            })
            .collect();
        for &g in &due {
            self.gates[g].waiting = true;
        }
        due
    }

    /// Marks closed gate `g` as waiting for an operator (its checks
    /// failed); true the first time.
    pub fn note_waiting(&mut self, g: usize) -> bool {
        match self.gates.get_mut(g) {
            Some(gate) if !gate.open && !gate.waiting => {
                gate.waiting = true;
                true
            }
            _ => false,
        }
    }

    /// The checks of gate `g` ran: opens it when they all passed. Returns
    /// whether it opened.
    pub fn gate_checked(&mut self, g: usize, passed: bool, detail: String, now: i64) -> bool {
        let Some(gate) = self.gates.get_mut(g) else {
            return false;
        };
        gate.checking = false;
        gate.last = detail;
        if passed && !gate.open {
            gate.open = true;
            return true;
        }
        gate.next_check = now + RECHECK_MS;
        false
    }

    /// An operator approves day `day`: every closed gate of that day
    /// opens. Returns the gates opened.
    pub fn approve_day(&mut self, day: u32) -> Vec<usize> {
        let mut opened = Vec::new();
        for (g, gate) in self.gates.iter_mut().enumerate() {
            if gate.day == day && !gate.open {
                gate.open = true;
                gate.last = "approved by an operator".into();
                opened.push(g);
            }
        }
        opened
    }

    /// Held tasks that no closed gate holds any more (their dependencies
    /// are done): they may become ready.
    pub fn released(&mut self) -> Vec<usize> {
        let free: Vec<usize> = self
            .held
            .iter()
            .copied()
            .filter(|&i| self.closed_gate_of(i).is_none())
            .collect();
        for i in &free {
            self.held.remove(i);
        }
        free.into_iter()
            .filter(|&i| self.tasks[i].state == TaskState::Pending && self.tasks[i].deps_left == 0)
            .collect()
    }
}

/// Rebuilding the gates after a restart.
impl ActivePlan {
    /// Opens the gates the event log says opened (`opened` are the
    /// messages of its `gate.opened` events, "<label>: <how>"), marks
    /// those `waited` names (its `gate.waiting` events) as waiting, and
    /// holds back again the pending tasks a closed gate stands before.
    pub fn restore_gates(&mut self, opened: &[String], waited: &[String]) {
        for gate in &mut self.gates {
            let label = format!("{}:", gate.label());
            if let Some(how) = opened.iter().find(|m| m.starts_with(&label)) {
                gate.open = true;
                gate.last = how[label.len()..].trim().to_string();
            }
            gate.waiting = waited.iter().any(|m| m.starts_with(&label));
        }
        self.hold_again();
    }

    /// Holds back again the pending tasks a closed gate stands before.
    pub(super) fn hold_again(&mut self) {
        let waiting: Vec<usize> = (0..self.tasks.len())
            .filter(|&i| {
                let t = &self.tasks[i];
                t.state == TaskState::Pending && t.deps_left == 0 && t.not_before.is_none()
            })
            .collect();
        for i in waiting {
            if self.closed_gate_of(i).is_some() {
                self.held.insert(i);
            }
        }
    }
}
