//! Staffing: pools from the allocation matrix, day lengths, and what a
//! task needs.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::state::*;
use super::*;
use crate::analysis::DEFAULT_DAY;
use crate::compile::{CompiledPlan, Need};
use crate::ANY_ROLE;

/// The plan's days, in day order, with their lengths: the days it heads,
/// the days its tasks and matrix name.
pub(super) fn calendar(plan: &CompiledPlan) -> BTreeMap<u32, u64> {
    let mut days: BTreeMap<u32, u64> = BTreeMap::new();
    for d in &plan.plan.days {
        days.insert(d.number, d.duration.unwrap_or(DEFAULT_DAY).secs());
    }
    let named =
        (plan.plan.tasks.iter().filter_map(|t| t.day)).chain(plan.matrix.iter().map(|a| a.day));
    for day in named {
        days.entry(day).or_insert(DEFAULT_DAY.secs());
    }
    days
}

pub(super) fn check_total(target: &[u32], what: &str) -> Result<(), SimulateError> {
    let count: u64 = target.iter().map(|&n| u64::from(n)).sum();
    if count > MAX_AGENTS {
        return Err(SimulateError::TooManyAgents {
            what: what.to_string(),
            count,
        });
    }
    Ok(())
}

/// The pool per role (indexed like `roles`) from each matrix row's day
/// on. A full-swarm row is the least of its agents_required, spread
/// round-robin over every role the matrix names.
pub(super) fn matrix_pools(
    plan: &CompiledPlan,
    roles: &[String],
) -> Result<Vec<Pool>, SimulateError> {
    if plan.matrix.is_empty() {
        return Err(SimulateError::NoMatrix);
    }
    let mut start = BTreeMap::new();
    let mut at = 0u64;
    for (day, len) in calendar(plan) {
        start.insert(day, at);
        at = at.saturating_add(len);
    }
    let id = |role: &str| roles.iter().position(|r| r == role);
    let mut named: Vec<usize> = (plan.matrix.iter())
        .flat_map(|a| a.roles.keys().filter_map(|r| id(r)))
        .collect::<BTreeSet<usize>>()
        .into_iter()
        .collect();
    if named.is_empty() {
        named = roles
            .iter()
            .enumerate()
            .filter(|(_, r)| *r != ANY_ROLE)
            .map(|(i, _)| i)
            .collect();
    }
    let mut pools = Vec::new();
    let mut previous = 1u64;
    for (i, row) in plan.matrix.iter().enumerate() {
        let mut target = vec![0u32; roles.len()];
        if row.swarm {
            let text = plan
                .plan
                .matrix
                .get(i)
                .map_or("", |m| m.agents_required.as_str());
            let digits: String = text
                .trim()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let least = digits
                .parse::<u64>()
                .unwrap_or(previous)
                .min(MAX_AGENTS + 1);
            for k in 0..least {
                let role = named.get(k as usize % named.len().max(1)).copied();
                if let Some(slot) = role.and_then(|r| target.get_mut(r)) {
                    *slot += 1;
                }
            }
        } else {
            for (role, &n) in &row.roles {
                if let Some(slot) = id(role).and_then(|r| target.get_mut(r)) {
                    *slot = slot.saturating_add(n);
                }
            }
        }
        check_total(
            &target,
            &format!("the allocation matrix row for day {}", row.day),
        )?;
        previous = target.iter().map(|&n| u64::from(n)).sum::<u64>().max(1);
        pools.push((
            start.get(&row.day).copied().unwrap_or(0),
            Some(row.day),
            target,
        ));
    }
    pools.sort_by_key(|(at, _, _)| *at);
    Ok(pools)
}

pub(super) fn demand_of(need: &Need, index: &HashMap<&str, usize>) -> Demand {
    match need {
        Need::Roles(roles) => {
            let mut counts: BTreeMap<usize, u32> = BTreeMap::new();
            for r in roles.iter() {
                let id = index.get(r.as_str()).copied().unwrap_or(0);
                *counts.entry(id).or_insert(0) += 1;
            }
            Demand {
                specific: counts.into_iter().collect(),
                any: 0,
                monitoring: false,
            }
        }
        Need::Swarm { min, .. } => Demand {
            specific: Vec::new(),
            any: *min,
            monitoring: false,
        },
        Need::Monitoring => Demand {
            specific: Vec::new(),
            any: 1,
            monitoring: true,
        },
    }
}
