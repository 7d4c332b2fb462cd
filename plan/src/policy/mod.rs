//! The placement policy: which ready tasks start now, on which agents.
//!
//! This is the one implementation of the scheduling rules in
//! ARCHITECTURE.md, used by the coordinator's scheduler loop and by the
//! plan simulator alike:
//!
//! - candidates arrive already ordered ([`DispatchOrder`]: priority — a
//!   task without slack at the highest one ready — then the plan's
//!   [`Guide`], then upward rank, day and id, see [`ReadyKey`]; under
//!   `strict`, every task at its own priority);
//! - a task needing several agents (a gang) starts only when a distinct free
//!   agent is there for every role it needs, all at once;
//! - when the first task in order that needs a role cannot start, it
//!   reserves the agents of that role it would use from its *projected
//!   start* — when, by the planned durations of the running work and of
//!   earlier reservations, enough of them are free — delayed by its slack,
//!   which it can spend without making the plan longer (as much of it as
//!   the guide says). Until then a reserved
//!   agent may run a task that ends before that start (EASY backfilling),
//!   so a reservation never idles an agent that could finish something
//!   first, and never starts later because of it: tasks behind cannot
//!   starve it. A task the connected agents could never staff reserves
//!   nothing. A soon-ready task (its last dependency running) reserves the
//!   same way, from no earlier than that dependency's planned end;
//! - where a placement can choose agents (a swarm's any-role agents, a
//!   monitoring task, agents that advertise other roles too), it takes
//!   those whose roles ready and soon-ready work needs least
//!   ([`RoleDemand`]);
//! - a swarm `Full Swarm (a-b agents)` starts with `a` agents and, at the
//!   end of the round, takes up to `b` of those left free whose role no
//!   ready or soon-ready task needs;
//! - a monitoring task (`Full Swarm (monitoring mode)`) takes one agent, and
//!   at the end of the round every agent the other placements left free.

mod demand;
mod order;
mod reserve;

pub use demand::RoleDemand;
pub use order::{
    rank_key, ready_key, DispatchOrder, Guide, PriorityOrder, RankKey, ReadyKey, UnknownOrder,
};
use reserve::Holds;

use crate::compile::Need;
use crate::ANY_ROLE;

/// Most candidates looked at for a backfill once every free agent is
/// reserved: bounds a round over a long ready queue.
pub const BACKFILL_SCAN: usize = 256;

/// Most soon-ready tasks offered to one round: the first in dispatch
/// order, enough for every role's head.
pub const SOON_READY: usize = 32;

/// A ready task offered to [`place`].
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// Its index in [`CompiledPlan::tasks`](crate::CompiledPlan::tasks).
    pub task: usize,
    /// Who it needs.
    pub need: &'a Need,
    /// Planned duration, seconds.
    pub secs: u64,
    /// Seconds it can start later than now without making the plan longer
    /// (the longest remaining chain less its upward rank); 0 when it is on
    /// the critical path or the caller does not know.
    pub slack: u64,
    /// 0 for a ready task; for a soon-ready one (its last dependency is
    /// running), the seconds until that is planned to end. A soon-ready
    /// task never starts; it reserves like a blocked one, from no earlier
    /// than then, so a short task does not take the agent it will need.
    pub ready_in: u64,
    /// The repository paths it claims (`**Touches**`): it does not start
    /// while running work holds an overlapping claim.
    pub claims: &'a [String],
}

/// The path claims held by work in progress, and by what a round starts.
#[derive(Debug, Clone, Default)]
pub struct HeldClaims<'a> {
    held: Vec<&'a [String]>,
}

impl<'a> HeldClaims<'a> {
    /// None held.
    pub fn new() -> HeldClaims<'a> {
        HeldClaims { held: Vec::new() }
    }

    /// `claims` are held (a task running, or waiting for its merge).
    pub fn hold(&mut self, claims: &'a [String]) {
        if !claims.is_empty() {
            self.held.push(claims);
        }
    }

    /// Whether a task claiming `claims` must wait.
    pub fn blocks(&self, claims: &[String]) -> bool {
        !claims.is_empty()
            && self
                .held
                .iter()
                .any(|h| crate::claims::any_overlap(h, claims))
    }
}

/// An agent as the policy sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSlots {
    /// The caller's handle for the agent.
    pub id: usize,
    /// The role it plays now.
    pub role: String,
    /// The other roles it advertises (a checkpoint may switch it to one):
    /// of the agents playing a role, those whose other roles ready work
    /// needs least go first, so the ones that could switch stay free.
    pub also: Vec<String>,
    /// Slots not running anything.
    pub free: u32,
    /// With no free slot: seconds until its work is planned to end (0 when
    /// overdue or unknown, which allows no backfill before it).
    pub busy_secs: u64,
}

/// A decision: start `task` on these agents, lead first, with the role
/// each plays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// Its index in [`CompiledPlan::tasks`](crate::CompiledPlan::tasks).
    pub task: usize,
    /// (agent id, role) per agent of the attempt; the first is the lead.
    pub agents: Vec<(usize, String)>,
}

/// What one round of placement decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    /// Tasks to start now.
    pub placements: Vec<Placement>,
    /// Tasks that need a role no connected agent plays (enough of).
    pub unstaffed: Vec<usize>,
}

/// Places as many candidates as the free agents allow. `agents` is updated
/// (slots taken); `held` gains the claims of what starts, and a candidate
/// whose claims overlap one held waits as if it were not ready. Stops early once no free slot is left, or once every
/// free agent is reserved and [`BACKFILL_SCAN`] more candidates found no
/// backfill.
///
/// Two phases: each candidate in order starts, reserves or is unstaffed;
/// then the round's swarms, and after them its monitoring tasks, take the
/// agents left free.
pub fn place<'a>(
    candidates: impl IntoIterator<Item = Candidate<'a>>,
    agents: &mut [AgentSlots],
    demand: &RoleDemand,
    held: &mut HeldClaims<'a>,
) -> Round {
    let mut placer = Placer {
        holds: Holds::new(agents),
        round: Round::default(),
        monitoring: Vec::new(),
        swarms: Vec::new(),
    };
    let mut scanned = 0usize;
    for c in candidates {
        if placer.holds.none_free() {
            break;
        }
        if placer.holds.all_free_held() {
            scanned += 1;
            if scanned > BACKFILL_SCAN {
                break;
            }
        }
        if c.ready_in == 0 && held.blocks(c.claims) {
            continue;
        }
        if placer.offer(c, agents, demand) {
            held.hold(c.claims);
        }
    }
    placer.grow_swarms(agents, demand);
    placer.widen_monitoring(agents);
    placer.round
}

/// One round of [`place`] in progress: the reservations, the decisions so
/// far, and the placements that take more agents once every candidate has
/// been offered.
struct Placer {
    holds: Holds,
    round: Round,
    /// Placements (indices into `round.placements`) of monitoring tasks.
    monitoring: Vec<usize>,
    /// Placements of swarms, with how many more agents each may take.
    swarms: Vec<(usize, u32)>,
}

impl Placer {
    /// One candidate, in dispatch order: unstaffed when the connected
    /// agents could never take it; a soon-ready one reserves; a ready one
    /// starts if agents can take it now, else reserves. Whether it started.
    #[inline]
    fn offer(&mut self, c: Candidate<'_>, agents: &mut [AgentSlots], demand: &RoleDemand) -> bool {
        let wanted = wanted_roles(c.need);
        if !self.holds.staffable(&wanted) {
            if c.ready_in == 0 {
                self.round.unstaffed.push(c.task);
            }
            return false;
        }
        if c.ready_in > 0 {
            self.holds
                .reserve(&wanted, c.secs, c.slack, c.ready_in, agents);
            return false;
        }
        let picked = if self.holds.cannot_start(&wanted, c.secs) {
            None
        } else {
            pick(&wanted, c.secs, agents, &self.holds, demand)
        };
        match picked {
            Some(chosen) => {
                self.start(c, chosen, agents);
                true
            }
            None => {
                self.holds.reserve(&wanted, c.secs, c.slack, 0, agents);
                false
            }
        }
    }

    /// Starts `c` on the chosen agents (indices into `agents`, with the
    /// role each plays), noting a swarm or monitoring task for the end of
    /// the round.
    #[inline]
    fn start(&mut self, c: Candidate<'_>, chosen: Vec<(usize, String)>, agents: &mut [AgentSlots]) {
        match c.need {
            Need::Monitoring => self.monitoring.push(self.round.placements.len()),
            Need::Swarm { min, max } => self.swarms.push((
                self.round.placements.len(),
                max.unwrap_or(u32::MAX).saturating_sub(*min),
            )),
            Need::Roles(_) => {}
        }
        for &(i, _) in &chosen {
            self.holds.occupy(agents, i, c.secs);
        }
        self.round.placements.push(Placement {
            task: c.task,
            agents: chosen
                .into_iter()
                .map(|(i, role)| (agents[i].id, role))
                .collect(),
        });
    }

    /// A swarm grows towards its most only with agents nothing else wants.
    fn grow_swarms(&mut self, agents: &mut [AgentSlots], demand: &RoleDemand) {
        for &(k, extra) in &self.swarms {
            let spare: Vec<usize> = (0..agents.len())
                .filter(|&i| {
                    self.holds.free_unheld(agents, i)
                        && demand.of(&agents[i].role) == 0
                        && !self.round.placements[k]
                            .agents
                            .iter()
                            .any(|(id, _)| *id == agents[i].id)
                })
                .take(extra as usize)
                .collect();
            for i in spare {
                self.holds.give(agents, i);
                let role = agents[i].role.clone();
                self.round.placements[k].agents.push((agents[i].id, role));
            }
        }
    }

    /// A monitoring task watches with every agent the round left free, so
    /// it never takes agents other work could start with.
    fn widen_monitoring(&mut self, agents: &mut [AgentSlots]) {
        for &k in &self.monitoring {
            for i in 0..agents.len() {
                if self.holds.free_unheld(agents, i)
                    && !self.round.placements[k]
                        .agents
                        .iter()
                        .any(|(id, _)| *id == agents[i].id)
                {
                    self.holds.give(agents, i);
                    let role = agents[i].role.clone();
                    self.round.placements[k].agents.push((agents[i].id, role));
                }
            }
        }
    }
}

/// The roles a need asks for, one entry per agent; `any` matches every
/// agent. A monitoring task starts with one agent and, at the end of the
/// round, takes every agent still free (see [`place`]): it never waits for
/// busy agents and never takes agents other work could start with.
fn wanted_roles(need: &Need) -> Vec<String> {
    match need {
        Need::Roles(roles) => roles.to_vec(),
        Need::Swarm { min, .. } => vec![ANY_ROLE.to_string(); *min as usize],
        Need::Monitoring => vec![ANY_ROLE.to_string()],
    }
}

/// Distinct agents that can take a task of `secs` now for every wanted
/// role, or None: free and unreserved ones first, then reserved ones the
/// task would hand back before their reservation starts; for `any`, the
/// agents whose roles are least in demand.
fn pick(
    wanted: &[String],
    secs: u64,
    agents: &[AgentSlots],
    holds: &Holds,
    demand: &RoleDemand,
) -> Option<Vec<(usize, String)>> {
    let mut used = vec![false; agents.len()];
    let mut chosen = Vec::with_capacity(wanted.len());
    let multi_role = agents.iter().any(|a| !a.also.is_empty());
    // Specific roles first, so `any` does not take an agent a role needs.
    let mut order: Vec<&String> = wanted.iter().filter(|r| *r != ANY_ROLE).collect();
    order.extend(wanted.iter().filter(|r| *r == ANY_ROLE));
    for role in order {
        let any = role == ANY_ROLE;
        let fits = |i: usize| {
            !used[i] && holds.usable(agents, i, secs) && (any || agents[i].role == *role)
        };
        // A specific role: the first unreserved agent, else the first
        // reserved one the task fits before; any role: the least needed.
        // Where agents advertise other roles, the one whose other roles
        // are least needed.
        let found = if any {
            (0..agents.len())
                .filter(|&i| fits(i))
                .min_by_key(|&i| (holds.held(i), demand.of(&agents[i].role), i))?
        } else if multi_role {
            (0..agents.len()).filter(|&i| fits(i)).min_by_key(|&i| {
                let other: u64 = (agents[i].also.iter())
                    .map(|r| demand.of(r))
                    .fold(0, u64::saturating_add);
                (holds.held(i), other, i)
            })?
        } else {
            let mut first_held = None;
            let mut found = None;
            for i in (0..agents.len()).filter(|&i| fits(i)) {
                if !holds.held(i) {
                    found = Some(i);
                    break;
                }
                first_held = first_held.or(Some(i));
            }
            found.or(first_held)?
        };
        used[found] = true;
        chosen.push((
            found,
            if any {
                agents[found].role.clone()
            } else {
                role.clone()
            },
        ));
    }
    // Keep the lead first as the plan wrote it.
    let lead_role = wanted.first()?;
    if let Some(pos) = chosen
        .iter()
        .position(|(_, r)| lead_role == ANY_ROLE || r == lead_role)
    {
        chosen.swap(0, pos);
    }
    Some(chosen)
}

#[cfg(test)]
mod tests;
