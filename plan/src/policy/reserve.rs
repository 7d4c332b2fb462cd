//! Reservations with backfilling, for one placement round.
//!
//! Every agent has a planned *available* time (seconds from now): 0 when
//! free and unreserved; when its work is planned to end when busy; when
//! the task reserving it is planned to end when reserved. A task that
//! cannot start projects its start as the time enough agents of each role
//! it needs are available, plus its slack (the time it can lose without
//! making the plan longer: shrinking as the plan goes on, so a task with
//! slack is held back for a while, never for ever), and the first such
//! task per role (the head of that role's queue) reserves them: a free
//! one is *held* from that start. A held agent takes only a task that
//! ends by then, so a reservation's start never moves later because of a
//! backfilled task. The projection comes from planned durations; an agent
//! whose work overran its plan counts as available now, which allows no
//! backfill before it.

use std::collections::HashMap;

use super::AgentSlots;
use crate::ANY_ROLE;

/// Free agents of one role.
#[derive(Debug, Clone, Copy, Default)]
struct RoleFree {
    /// Agents with a free slot.
    free: u32,
    /// Of them, those no reservation holds.
    unheld: u32,
    /// The latest start of a reservation holding one (never lowered: a
    /// bound for a quick no).
    latest: u64,
}

/// The round's reservations: per agent, its available time and the start
/// of the reservation holding it, if any.
pub(super) struct Holds {
    avail: Vec<u64>,
    hold: Vec<Option<u64>>,
    /// Role ids by name; `ANY_ROLE` is not among them.
    role_ids: HashMap<String, usize>,
    role_of: Vec<usize>,
    /// Agents per role.
    population: Vec<u32>,
    by_role: Vec<RoleFree>,
    /// Whether a blocked task claimed the role (last entry: `any`).
    claimed: Vec<bool>,
    /// Agents with a free slot, and those of them held.
    with_free: usize,
    held_free: usize,
}

/// A wanted role: a role id, or `None` for any.
type Wanted = Option<usize>;

impl Holds {
    pub(super) fn new(agents: &[AgentSlots]) -> Self {
        let mut role_ids: HashMap<String, usize> = HashMap::new();
        let mut role_of = Vec::with_capacity(agents.len());
        for a in agents {
            let next = role_ids.len();
            let id = match role_ids.get(a.role.as_str()) {
                Some(&id) => id,
                None => {
                    role_ids.insert(a.role.clone(), next);
                    next
                }
            };
            role_of.push(id);
        }
        let mut population = vec![0u32; role_ids.len()];
        let mut by_role = vec![RoleFree::default(); role_ids.len()];
        for (a, &r) in agents.iter().zip(&role_of) {
            population[r] += 1;
            if a.free > 0 {
                by_role[r].free += 1;
                by_role[r].unheld += 1;
            }
        }
        Holds {
            avail: agents
                .iter()
                .map(|a| if a.free > 0 { 0 } else { a.busy_secs })
                .collect(),
            hold: vec![None; agents.len()],
            claimed: vec![false; role_ids.len() + 1],
            role_ids,
            role_of,
            population,
            by_role,
            with_free: agents.iter().filter(|a| a.free > 0).count(),
            held_free: 0,
        }
    }

    /// Per distinct wanted role (`None` for any), how many agents; `Err`
    /// when a role no connected agent plays is wanted.
    fn count(&self, wanted: &[String]) -> Result<Vec<(Wanted, u32)>, ()> {
        let mut out: Vec<(Wanted, u32)> = Vec::new();
        for r in wanted {
            let id = if r == ANY_ROLE {
                None
            } else {
                Some(*self.role_ids.get(r.as_str()).ok_or(())?)
            };
            match out.iter_mut().find(|(w, _)| *w == id) {
                Some(e) => e.1 += 1,
                None => out.push((id, 1)),
            }
        }
        Ok(out)
    }

    /// Whether the connected agents could ever run this, all being free.
    pub(super) fn staffable(&self, wanted: &[String]) -> bool {
        wanted.len() <= self.role_of.len()
            && self.count(wanted).is_ok_and(|c| {
                c.iter()
                    .all(|&(w, n)| w.is_none_or(|r| self.population[r] >= n))
            })
    }

    /// Whether a task of `secs` needing `wanted` surely cannot start now:
    /// too few agents of a role have a free slot, or the free ones are
    /// all reserved from before it would end. A quick no; a yes is
    /// settled agent by agent.
    pub(super) fn cannot_start(&self, wanted: &[String], secs: u64) -> bool {
        if wanted.len() > self.with_free {
            return true;
        }
        let Ok(counts) = self.count(wanted) else {
            return true;
        };
        counts.iter().any(|&(w, n)| {
            w.is_some_and(|r| {
                let f = self.by_role[r];
                f.free < n || (f.unheld < n && secs > f.latest)
            })
        })
    }

    /// Whether agent `i` is held by a reservation.
    pub(super) fn held(&self, i: usize) -> bool {
        self.hold[i].is_some()
    }

    /// Whether agent `i` can start a task of `secs` now.
    pub(super) fn usable(&self, agents: &[AgentSlots], i: usize, secs: u64) -> bool {
        agents[i].free > 0 && self.hold[i].is_none_or(|start| secs <= start)
    }

    /// Whether agent `i` has a free slot and no reservation.
    pub(super) fn free_unheld(&self, agents: &[AgentSlots], i: usize) -> bool {
        agents[i].free > 0 && self.hold[i].is_none()
    }

    /// Whether every agent with a free slot is held (only backfills can
    /// start).
    pub(super) fn all_free_held(&self) -> bool {
        self.held_free == self.with_free
    }

    /// Whether no agent has a free slot.
    pub(super) fn none_free(&self) -> bool {
        self.with_free == 0
    }

    /// Agent `i` takes a task of `secs` now.
    pub(super) fn occupy(&mut self, agents: &mut [AgentSlots], i: usize, secs: u64) {
        let a = &mut agents[i];
        a.free -= 1;
        if a.free == 0 {
            a.busy_secs = if a.busy_secs == 0 {
                secs
            } else {
                a.busy_secs.min(secs)
            };
            self.avail[i] = self.avail[i].max(a.busy_secs);
            self.no_longer_free(i);
        }
    }

    /// Agent `i` gives a free slot to a swarm or a monitoring task at the
    /// end of the round.
    pub(super) fn give(&mut self, agents: &mut [AgentSlots], i: usize) {
        agents[i].free -= 1;
        if agents[i].free == 0 {
            self.no_longer_free(i);
        }
    }

    fn no_longer_free(&mut self, i: usize) {
        self.with_free -= 1;
        let f = &mut self.by_role[self.role_of[i]];
        f.free = f.free.saturating_sub(1);
        if self.hold[i].is_some() {
            self.held_free -= 1;
        } else {
            f.unheld = f.unheld.saturating_sub(1);
        }
    }

    /// A task needing `wanted` (one role per agent) for `secs`, with
    /// `slack` to spare, could not start (or is ready only in `not_before`
    /// seconds): project its start and reserve, for each role no earlier
    /// blocked task claimed, the agents it would use.
    pub(super) fn reserve(
        &mut self,
        wanted: &[String],
        secs: u64,
        slack: u64,
        not_before: u64,
        agents: &[AgentSlots],
    ) {
        let Ok(counts) = self.count(wanted) else {
            return;
        };
        let any_slot = self.claimed.len() - 1;
        let slot = |w: Wanted| w.unwrap_or(any_slot);
        if counts.iter().all(|&(w, _)| self.claimed[slot(w)]) {
            return;
        }
        let mut chosen: Vec<(Wanted, Vec<usize>)> = Vec::new();
        let mut start = not_before;
        for &(w, n) in &counts {
            let mut of_role: Vec<usize> = (0..agents.len())
                .filter(|&i| w.is_none_or(|r| self.role_of[i] == r))
                .collect();
            of_role.sort_by_key(|&i| (self.avail[i], i));
            of_role.truncate(n as usize);
            if let Some(&last) = of_role.last() {
                start = start.max(self.avail[last]);
            }
            chosen.push((w, of_role));
        }
        let start = start.saturating_add(slack);
        for (w, picked) in chosen {
            let k = slot(w);
            if std::mem::replace(&mut self.claimed[k], true) {
                continue;
            }
            for i in picked {
                if agents[i].free > 0 && self.hold[i].is_none() {
                    self.hold[i] = Some(start);
                    self.held_free += 1;
                    let f = &mut self.by_role[self.role_of[i]];
                    f.unheld = f.unheld.saturating_sub(1);
                    f.latest = f.latest.max(start);
                }
                self.avail[i] = start.saturating_add(secs);
            }
        }
    }
}
