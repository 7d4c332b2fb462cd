//! Pools of a rate-limited API in the simulator: their concurrency and
//! rate hold, other pools' tasks go ahead, and a task no pool could ever
//! start is reported as such.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::{load_text, Catalogue, Format};

const H: u64 = 3600;

/// `(id, agent, duration, pool or "", extra lines)` tasks with no
/// dependencies, in one day.
fn plan(tasks: &[(&str, &str, &str, &str, &str)]) -> CompiledPlan {
    let mut text = "# Test\n\n### Day 1: One\n\n".to_string();
    for (id, agent, duration, pool, extra) in tasks {
        text.push_str(&format!(
            "**Task {id}**: T\n- **Agent**: {agent}\n- **Priority**: P1\n- **Duration**: {duration}\n- **Dependencies**: None\n"
        ));
        if !pool.is_empty() {
            text.push_str(&format!("- **Pool**: {pool}\n"));
        }
        text.push_str(extra);
        text.push('\n');
    }
    load_text(&text, "test.md", Format::Markdown, &Catalogue::builtin())
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn limits(list: &[(&str, Option<u32>, Option<u32>)]) -> BTreeMap<String, PoolLimit> {
    (list.iter())
        .map(|&(name, concurrency, per_minute)| {
            let limit = PoolLimit {
                concurrency,
                per_minute,
            };
            (name.to_string(), limit)
        })
        .collect()
}

fn pooled(plan: &CompiledPlan, staffing: &Staffing, pools: &ApiPools) -> Simulation {
    simulate_pooled(plan, staffing, PriorityOrder::default(), pools).expect("simulates")
}

/// Most tasks of `tasks` running at once in `sim`.
fn most_at_once(sim: &Simulation, tasks: &[usize]) -> usize {
    let spans: Vec<(u64, u64)> = (tasks.iter())
        .filter_map(|&i| Some((sim.tasks[i].start?, sim.tasks[i].finish?)))
        .collect();
    (spans.iter())
        .map(|&(at, _)| spans.iter().filter(|&&(s, f)| s <= at && at < f).count())
        .max()
        .unwrap_or(0)
}

fn four_testers(pool: &str) -> CompiledPlan {
    let t = |id| (id, "Tester", "1 hour", pool, "");
    plan(&[t("1.1"), t("1.2"), t("1.3"), t("1.4")])
}

#[test]
fn a_pool_of_concurrency_two_runs_two_at_once_and_stretches_the_run() {
    let p = four_testers("api");
    let free = simulate(&p, &Staffing::Unlimited).expect("simulates");
    assert_eq!(free.makespan, H);
    let pools = ApiPools::new(&p, &limits(&[("api", Some(2), None)]), |_| None, "default");
    assert!(pools.in_play());
    for staffing in [
        Staffing::Unlimited,
        Staffing::Fixed([("tester".into(), 4)].into()),
    ] {
        let sim = pooled(&p, &staffing, &pools);
        assert!(sim.complete());
        assert_eq!(sim.makespan, 2 * H, "{staffing:?}");
        assert_eq!(most_at_once(&sim, &[0, 1, 2, 3]), 2);
        let api = &sim.pools["api"];
        assert_eq!((api.peak, api.starts), (2, 4));
        // Two tasks waited an hour each, for the pool, not for a tester.
        assert_eq!(api.waiting_secs, 2 * H);
        assert_eq!(sim.roles["tester"].waiting_secs, 0, "{staffing:?}");
        assert!(sim.bottlenecks.iter().all(|b| b.waiting_secs == 0));
    }
    // Unlimited staffing made no agent for a task its pool held.
    let sim = pooled(&p, &Staffing::Unlimited, &pools);
    assert_eq!(sim.agents.len(), 2);
}

#[test]
fn a_pools_rate_holds_starts_to_so_many_a_minute() {
    let p = four_testers("api");
    let pools = ApiPools::new(&p, &limits(&[("api", None, Some(2))]), |_| None, "default");
    let sim = pooled(&p, &Staffing::Unlimited, &pools);
    let mut starts: Vec<u64> = sim.tasks.iter().filter_map(|t| t.start).collect();
    starts.sort_unstable();
    assert_eq!(starts, [0, 0, 60, 60]);
    assert_eq!(sim.makespan, H + 60);
    // A plan clock 60 times faster than the wall: a wall minute is an
    // hour of plan time.
    let sim = pooled(&p, &Staffing::Unlimited, &pools.with_minute(H));
    let mut starts: Vec<u64> = sim.tasks.iter().filter_map(|t| t.start).collect();
    starts.sort_unstable();
    assert_eq!(starts, [0, 0, H, H]);
}

#[test]
fn tasks_of_other_pools_go_ahead_of_a_full_one() {
    // Same role and duration, so the same demand: 1.1-1.3 share a pool of
    // one, 1.4 has none and starts at once though it comes last.
    let t = |id, pool| (id, "Tester", "1 hour", pool, "");
    let p = plan(&[
        t("1.1", "one"),
        t("1.2", "one"),
        t("1.3", "one"),
        t("1.4", ""),
    ]);
    let pools = ApiPools::new(&p, &limits(&[("one", Some(1), None)]), |_| None, "default");
    let sim = pooled(&p, &Staffing::Fixed([("tester".into(), 2)].into()), &pools);
    assert_eq!(sim.tasks[3].start, Some(0));
    assert_eq!(most_at_once(&sim, &[0, 1, 2]), 1);
    assert_eq!(sim.makespan, 3 * H);
}

#[test]
fn a_tasks_pool_is_its_own_else_its_roles_else_the_default() {
    let p = plan(&[
        ("1.1", "Tester", "1 hour", "api", ""),
        ("1.2", "Tester", "1 hour", "", ""),
        ("1.3", "Technical Writer", "1 hour", "", ""),
    ]);
    let profile = |role: &str| (role == "tester").then(|| "testing".to_string());
    let all = limits(&[
        ("api", Some(1), None),
        ("testing", Some(1), None),
        ("fallback", Some(1), None),
        ("unlimited", None, None),
    ]);
    let pools = ApiPools::new(&p, &all, profile, "fallback");
    assert_eq!(pools.pool_of(0), Some("api"));
    assert_eq!(pools.pool_of(1), Some("testing"));
    assert_eq!(pools.pool_of(2), Some("fallback"));
    // A pool with no limit is none at all.
    let pools = ApiPools::new(&p, &all, |_| None, "unlimited");
    assert_eq!(pools.pool_of(1), None);
    assert!(pools.limits().all(|(name, _)| name != "unlimited"));
}

#[test]
fn every_member_of_a_gang_counts_and_the_lead_alone_of_a_lead_gang() {
    let pair = "DevOps Engineer + Security Engineer";
    let p = plan(&[
        ("1.1", pair, "1 hour", "api", ""),
        ("1.2", pair, "1 hour", "api", ""),
        ("1.3", pair, "1 hour", "api", "- **Gang**: lead\n"),
        ("1.4", pair, "1 hour", "api", "- **Gang**: lead\n"),
    ]);
    let pools = ApiPools::new(&p, &limits(&[("api", Some(2), None)]), |_| None, "default");
    let sim = pooled(&p, &Staffing::Unlimited, &pools);
    assert!(sim.complete());
    // Each all-gang fills the pool alone; the two lead gangs run together.
    assert_eq!(most_at_once(&sim, &[0, 1]), 1);
    assert_eq!(most_at_once(&sim, &[2, 3]), 2);
    assert_eq!(sim.makespan, 3 * H);
    assert_eq!(sim.pools["api"].peak, 2);
}

#[test]
fn a_gang_bigger_than_its_pool_can_never_start_and_says_why() {
    let p = plan(&[(
        "1.1",
        "DevOps Engineer + Security Engineer + Tester",
        "1 hour",
        "api",
        "",
    )]);
    let pools = ApiPools::new(&p, &limits(&[("api", Some(2), None)]), |_| None, "default");
    let sim = pooled(&p, &Staffing::Unlimited, &pools);
    assert!(!sim.complete());
    assert_eq!(sim.unrunnable.len(), 1);
    assert_eq!(sim.unrunnable[0].pool, Some(("api".to_string(), 3, 2)));
    // Its pool held it: no agent was made for it.
    assert!(sim.agents.is_empty());
}

#[test]
fn no_pools_change_nothing() {
    let p = four_testers("");
    let sim = pooled(&p, &Staffing::Unlimited, &ApiPools::none());
    assert_eq!(sim, simulate(&p, &Staffing::Unlimited).expect("simulates"));
    assert!(sim.pools.is_empty());
}

/// Random plans: `(agent, minutes, pool, earlier task it depends on)`.
fn random_tasks() -> impl Strategy<Value = Vec<(usize, u64, usize, Option<usize>)>> {
    proptest::collection::vec(
        (
            0usize..3,
            prop_oneof![Just(1u64), Just(2), Just(30), Just(60)],
            0usize..3,
            proptest::option::of(0usize..20),
        ),
        1..14,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    /// Whatever the plan and staffing, no pool ever runs more members
    /// than its concurrency, nor starts more than its rate in a minute,
    /// and every task still runs.
    #[test]
    fn no_pool_ever_runs_or_starts_more_than_its_limits(
        tasks in random_tasks(),
        concurrency in 1u32..3,
        per_minute in 1u32..4,
        fixed in any::<bool>(),
    ) {
        const AGENTS: [&str; 3] = ["Tester", "SRE", "DevOps Engineer + Tester"];
        const POOLS: [&str; 3] = ["a", "b", ""];
        let mut text = "# Random\n\n### Day 1: One\n\n".to_string();
        for (i, &(agent, minutes, pool, dep)) in tasks.iter().enumerate() {
            let deps = match dep.filter(|&d| d < i) {
                Some(d) => format!("Task 1.{}", d + 1),
                None => "None".into(),
            };
            text.push_str(&format!(
                "**Task 1.{}**: T\n- **Agent**: {}\n- **Priority**: P1\n- **Duration**: {minutes} minutes\n- **Dependencies**: {deps}\n",
                i + 1,
                AGENTS[agent]
            ));
            if !POOLS[pool].is_empty() {
                text.push_str(&format!("- **Pool**: {}\n", POOLS[pool]));
            }
            text.push('\n');
        }
        let p = load_text(&text, "random.md", Format::Markdown, &Catalogue::builtin())
            .expect("loads");
        // Pool a: at most 2 at once (a pair always fits); pool b: a rate.
        let pools = ApiPools::new(
            &p,
            &limits(&[("a", Some(concurrency + 1), None), ("b", None, Some(per_minute + 1))]),
            |_| None,
            "default",
        );
        let staffing = if fixed {
            Staffing::Fixed([("tester".into(), 2), ("sre".into(), 1), ("devops".into(), 1)].into())
        } else {
            Staffing::Unlimited
        };
        let sim = pooled(&p, &staffing, &pools);
        prop_assert!(sim.complete(), "{text}");
        let members = |i: usize| p.tasks[i].need.min_agents() as usize;
        for (name, most_running, most_started) in
            [("a", concurrency + 1, u32::MAX), ("b", u32::MAX, per_minute + 1)]
        {
            let mine: Vec<usize> = (0..p.tasks.len()).filter(|&i| pools.pool_of(i) == Some(name)).collect();
            for &i in &mine {
                let at = sim.tasks[i].start.expect("ran");
                let running: usize = (mine.iter())
                    .filter(|&&j| sim.tasks[j].start <= Some(at) && Some(at) < sim.tasks[j].finish)
                    .map(|&j| members(j))
                    .sum();
                prop_assert!(running as u32 <= most_running, "pool {name} at {at}: {running}\n{text}");
                let started: usize = (mine.iter())
                    .filter(|&&j| sim.tasks[j].start.is_some_and(|s| s <= at && at < s + 60))
                    .map(|&j| members(j))
                    .sum();
                prop_assert!(started as u32 <= most_started, "pool {name} by {at}: {started}\n{text}");
            }
        }
    }
}
