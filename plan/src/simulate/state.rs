//! The simulator's state ([`Sim`]) and how a run builds it from a compiled
//! plan: the roles in play, the tasks grouped by what they need
//! ([`Sig`]), each task's ready key, rank and tail.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};

use super::api_pools::{ApiPools, PoolState};
use super::pools::demand_of;
use super::{Staffing, TaskRun};
use crate::compile::{CompiledPlan, Need};
use crate::policy::{ready_key, PriorityOrder, RankKey, ReadyKey, RoleDemand};
use crate::ANY_ROLE;

/// What a set of tasks needs: agents per role (role ids), `any` agents,
/// and whether it is a monitoring task (one agent plus every free one).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Demand {
    pub(super) specific: Vec<(usize, u32)>,
    pub(super) any: u32,
    pub(super) monitoring: bool,
}

impl Demand {
    pub(super) fn total(&self) -> u64 {
        self.specific
            .iter()
            .map(|&(_, c)| u64::from(c))
            .sum::<u64>()
            + u64::from(self.any)
    }
    /// (role id, count) per role it waits for; `any_id` for any agents.
    pub(super) fn keys(&self, any_id: usize) -> impl Iterator<Item = (usize, u32)> + '_ {
        let any = (self.any > 0).then_some((any_id, self.any));
        self.specific.iter().copied().chain(any)
    }
}

/// Ready tasks of one demand, in ready order.
pub(super) struct Sig {
    pub(super) demand: Demand,
    pub(super) queue: BTreeSet<ReadyKey>,
    /// The same tasks, longest chain first.
    pub(super) by_rank: BTreeSet<RankKey>,
    /// The same tasks per planned duration (seconds), by key and by rank:
    /// tasks of one demand and one duration are interchangeable for a
    /// backfill.
    pub(super) by_secs: BTreeMap<u64, (BTreeSet<ReadyKey>, BTreeSet<RankKey>)>,
    /// Seconds a waiting member spent unstaffed, per key, then in all.
    pub(super) cum: Vec<u64>,
}

/// From when on, for which plan day (matrix staffing), which agents per
/// role.
pub(super) type Pool = (u64, Option<u32>, Vec<u32>);

pub(super) struct Agent {
    pub(super) role: usize,
    pub(super) busy: bool,
    pub(super) present: bool,
    pub(super) leaving: bool,
    /// When its task is planned to end, while busy.
    pub(super) until: u64,
}

/// The simulator's state; `prune` off hands every ready task to `place`
/// (tests check both agree).
pub(super) struct Sim<'a> {
    pub(super) plan: &'a CompiledPlan,
    pub(super) roles: Vec<String>,
    pub(super) any_id: usize,
    pub(super) sig_of: Vec<usize>,
    pub(super) sigs: Vec<Sig>,
    pub(super) live: BTreeSet<usize>,
    pub(super) keys: Vec<ReadyKey>,
    pub(super) agents: Vec<Agent>,
    pub(super) names: Vec<String>,
    /// Per role: present and staying, present, free, most present.
    pub(super) pool: Vec<u32>,
    pub(super) present: Vec<u32>,
    pub(super) free: Vec<u32>,
    pub(super) peak: Vec<u32>,
    pub(super) made: Vec<u32>,
    pub(super) busy_secs: Vec<u64>,
    pub(super) waiting: Vec<u64>,
    pub(super) unstaffed: Vec<u64>,
    pub(super) missing: Vec<usize>,
    pub(super) runs: Vec<TaskRun>,
    pub(super) snap: Vec<Vec<u64>>,
    pub(super) running: BinaryHeap<Reverse<(u64, usize)>>,
    pub(super) done: usize,
    pub(super) elastic: bool,
    pub(super) prune: bool,
    pub(super) pools: Vec<Pool>,
    pub(super) order: PriorityOrder,
    /// Percent of its slack a reservation spends
    /// ([`Guide::slack_pct`](crate::policy::Guide::slack_pct)).
    pub(super) slack_pct: u64,
    /// Upward rank per task, and the longest rank among its dependents.
    pub(super) rank: Vec<u64>,
    pub(super) tail: Vec<u64>,
    /// Rank-weighted role demand of the ready tasks.
    pub(super) ready_demand: RoleDemand,
    /// Per running task, its planned end plus the longest chain after it.
    pub(super) running_tail: BTreeSet<(u64, usize)>,
    /// The pools of a rate-limited API and what runs in them.
    pub(super) api: PoolState,
    /// Per sig, its ready tasks that wait for their pool's room (not for
    /// agents) since the last round.
    pub(super) pool_held: Vec<u64>,
    /// Per task, the seconds it actually takes (empty: as planned).
    pub(super) actual: Vec<u64>,
    /// When replayed with actual durations: when to search a new guide.
    pub(super) replay: Option<super::replay::Replans>,
}

impl<'a> Sim<'a> {
    /// A simulation of `plan` before any agent exists or any task is
    /// ready; `rank` is each task's upward rank (0 past its end).
    pub(super) fn new(
        plan: &'a CompiledPlan,
        staffing: &Staffing,
        prune: bool,
        rank: &[u64],
        pools: &ApiPools,
    ) -> Self {
        let roles = role_names(plan, staffing);
        let index: HashMap<&str, usize> = roles
            .iter()
            .enumerate()
            .map(|(i, r)| (r.as_str(), i))
            .collect();
        let any_id = index.get(ANY_ROLE).copied().unwrap_or(0);
        let (sigs, sig_of) = signatures(plan, &index, any_id);
        let sigs_len = sigs.len();
        let keys = ready_keys(plan, rank);
        let n = roles.len();
        let rank: Vec<u64> = (0..plan.tasks.len())
            .map(|i| rank.get(i).copied().unwrap_or(0))
            .collect();
        let tail = tails(plan, &rank);
        Sim {
            plan,
            any_id,
            sig_of,
            sigs,
            live: BTreeSet::new(),
            keys,
            agents: Vec::new(),
            names: Vec::new(),
            pool: vec![0; n],
            present: vec![0; n],
            free: vec![0; n],
            peak: vec![0; n],
            made: vec![0; n],
            busy_secs: vec![0; n],
            waiting: vec![0; n],
            unstaffed: vec![0; n],
            missing: plan.tasks.iter().map(|t| t.deps.len()).collect(),
            runs: vec![TaskRun::default(); plan.tasks.len()],
            snap: vec![Vec::new(); plan.tasks.len()],
            running: BinaryHeap::new(),
            done: 0,
            elastic: matches!(staffing, Staffing::Unlimited),
            // A ready task's claims, or its pool, can hold it back
            // whatever its place in its signature's queue (tasks of one
            // demand may draw on different pools): every ready task is
            // offered.
            prune: prune && !plan.claims && !pools.in_play(),
            roles,
            pools: Vec::new(),
            order: PriorityOrder::default(),
            slack_pct: 100,
            rank,
            tail,
            ready_demand: RoleDemand::new(),
            running_tail: BTreeSet::new(),
            api: PoolState::new(pools, plan.tasks.len()),
            pool_held: vec![0; sigs_len],
            actual: Vec::new(),
            replay: None,
        }
    }

    pub(super) fn role_id(&self, role: &str) -> usize {
        self.roles
            .iter()
            .position(|r| r == role)
            .unwrap_or(self.any_id)
    }
}

/// Every role the run may staff, sorted: those the tasks name, the
/// matrix's, the fixed staffing's, and `any`.
fn role_names(plan: &CompiledPlan, staffing: &Staffing) -> Vec<String> {
    let mut roles: BTreeSet<String> = BTreeSet::new();
    for t in &plan.tasks {
        if let Need::Roles(r) = &t.need {
            roles.extend(r.iter().cloned());
        }
    }
    for a in &plan.matrix {
        roles.extend(a.roles.keys().cloned());
    }
    if let Staffing::Fixed(map) = staffing {
        roles.extend(map.keys().cloned());
    }
    roles.insert(ANY_ROLE.to_string());
    roles.into_iter().collect()
}

/// One [`Sig`] per distinct demand, in the order tasks first ask for it,
/// and each task's sig.
fn signatures(
    plan: &CompiledPlan,
    index: &HashMap<&str, usize>,
    any_id: usize,
) -> (Vec<Sig>, Vec<usize>) {
    let mut sig_ids: HashMap<Demand, usize> = HashMap::new();
    let mut sigs = Vec::new();
    let mut sig_of = Vec::with_capacity(plan.tasks.len());
    for t in &plan.tasks {
        let demand = demand_of(&t.need, index);
        let next = sigs.len();
        let id = *sig_ids.entry(demand.clone()).or_insert(next);
        if id == next {
            let cum = vec![0; demand.keys(any_id).count() + 1];
            sigs.push(Sig {
                demand,
                queue: BTreeSet::new(),
                by_rank: BTreeSet::new(),
                by_secs: BTreeMap::new(),
                cum,
            });
        }
        sig_of.push(id);
    }
    (sigs, sig_of)
}

/// Each task's key in the ready order, before any guide.
fn ready_keys(plan: &CompiledPlan, rank: &[u64]) -> Vec<ReadyKey> {
    plan.plan
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            ready_key(
                t.priority.level(),
                rank.get(i).copied().unwrap_or(0),
                t.day,
                i,
            )
        })
        .collect()
}

/// Per task, the longest rank among its dependents (0 for none).
fn tails(plan: &CompiledPlan, rank: &[u64]) -> Vec<u64> {
    plan.tasks
        .iter()
        .map(|t| t.dependents.iter().map(|&d| rank[d]).max().unwrap_or(0))
        .collect()
}
