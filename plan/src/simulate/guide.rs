//! The guide: a plan's own tie-break between ready tasks of equal
//! priority, and how much of its slack a blocked task spends, found by
//! simulating the plan under its staffing.
//!
//! One pass of the policy is list scheduling: good, rarely optimal. So
//! before a plan runs, the simulator tries other lists: the start order
//! of the best schedule found so far with its starts jittered, and the
//! upward ranks with noise (biased random sampling, as project schedulers
//! do), each with all, half or none of the slack spent, each run through
//! the real policy, and keeps the guide of the shortest complete run. The first run is the policy's own order, so a
//! guide never makes the simulated plan longer. The search is seeded by
//! the plan alone: the same plan and staffing give the same guide, on
//! every host and after every restart.

use super::engine;
use super::{ApiPools, SimulateError, Simulation, Staffing};
use crate::compile::CompiledPlan;
use crate::policy::{Guide, PriorityOrder};

/// Most simulated task placements one search spends (passes × tasks):
/// 75–100 ms for 400 passes of 40 tasks, about 260 ms for 8 of 2,500
/// (release build, 2 cores).
pub const GUIDE_BUDGET: usize = 20_000;

/// Most passes of one search.
pub const GUIDE_PASSES: usize = 400;

/// Fewest passes worth a search: a plan with more tasks than
/// `GUIDE_BUDGET / MIN_PASSES` keeps the policy's own order.
const MIN_PASSES: usize = 8;

/// Whether a plan (or the rest of one) of this many tasks is searched.
pub fn searchable(tasks: usize) -> bool {
    tasks >= 3 && GUIDE_BUDGET / tasks >= MIN_PASSES
}

/// Percents of slack a reservation may spend, tried in turn.
const SLACK_PCTS: [u64; 3] = [100, 50, 0];

/// The best guide found and its simulation; the default guide when the
/// policy's own order was best, or the plan too big to search.
pub fn search(
    plan: &CompiledPlan,
    staffing: &Staffing,
    order: PriorityOrder,
) -> Result<(Guide, Simulation), SimulateError> {
    search_pooled(plan, staffing, order, &ApiPools::none())
}

/// [`search`] with the pools of a rate-limited API in play.
pub fn search_pooled(
    plan: &CompiledPlan,
    staffing: &Staffing,
    order: PriorityOrder,
    pools: &ApiPools,
) -> Result<(Guide, Simulation), SimulateError> {
    let analysis = crate::analysis::analyse(plan);
    let run =
        |guide: &Guide| engine::run_analysed(plan, staffing, true, order, guide, &analysis, pools);
    let mut guide = Guide::default();
    let mut best = run(&guide)?;
    let n = plan.tasks.len();
    if !searchable(n) || !best.complete() || matches!(staffing, Staffing::Unlimited) {
        return Ok((guide, best));
    }
    let rank = &analysis.rank;
    let mean = (plan.plan.tasks.iter())
        .map(|t| t.duration.secs())
        .sum::<u64>()
        .max(1) as f64
        / n as f64;
    let mut rng = SplitMix(0x5eed ^ n as u64);
    let mut keys = vec![0f64; n];
    for pass in 0..GUIDE_PASSES.min(GUIDE_BUDGET / n) {
        let slack_pct = SLACK_PCTS[pass % SLACK_PCTS.len()];
        if pass < SLACK_PCTS.len() {
            // The policy's own order with less slack spent.
            keys.iter_mut()
                .enumerate()
                .for_each(|(i, k)| *k = -(rank[i] as f64));
        } else if rng.below(2) == 0 {
            let amp = mean * [0.25, 0.5, 1.0, 2.0][rng.below(4)];
            for (i, k) in keys.iter_mut().enumerate() {
                let start = best.tasks[i].start.unwrap_or(0) as f64;
                *k = start + amp * rng.unit();
            }
        } else {
            let amp = [0.1, 0.25, 0.5, 1.0][rng.below(4)];
            for (i, k) in keys.iter_mut().enumerate() {
                *k = -(rank[i] as f64) * (1.0 + amp * rng.unit());
            }
        }
        let tried = Guide {
            place: places(&keys),
            slack_pct,
        };
        let sim = run(&tried)?;
        if sim.complete() && sim.makespan < best.makespan {
            best = sim;
            guide = tried;
        }
    }
    Ok((guide, best))
}

/// A guide for a whole plan of `total` tasks from a search on the rest of
/// it (`rest`'s task `k` is task `keep[k]`): finished tasks get place 0;
/// the default guide when the policy's own order was best or the search
/// could not run.
pub fn search_rest(
    rest: &CompiledPlan,
    keep: &[usize],
    total: usize,
    staffing: &Staffing,
    order: PriorityOrder,
    pools: &ApiPools,
) -> Guide {
    let Ok((found, _)) = search_pooled(rest, staffing, order, pools) else {
        return Guide::default();
    };
    let mut place = Vec::new();
    if !found.place.is_empty() {
        place = vec![0u32; total];
        for (&g, &i) in found.place.iter().zip(keep) {
            place[i] = g;
        }
    }
    Guide {
        place,
        slack_pct: found.slack_pct,
    }
}

/// Each task's place when sorted by key (ties by plan order), from 1.
fn places(keys: &[f64]) -> Vec<u32> {
    let mut idx: Vec<usize> = (0..keys.len()).collect();
    idx.sort_by(|&a, &b| keys[a].total_cmp(&keys[b]).then(a.cmp(&b)));
    let mut out = vec![0u32; keys.len()];
    for (place, i) in idx.into_iter().enumerate() {
        out[i] = u32::try_from(place + 1).unwrap_or(u32::MAX);
    }
    out
}

/// A small seeded generator (SplitMix64): reproducible, no dependency.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
