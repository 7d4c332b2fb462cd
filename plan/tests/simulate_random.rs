//! The simulator on generated plans: with unlimited agents every task
//! starts at its CPM earliest start, so the run takes exactly the critical
//! path; with any staffing every task is accounted for and no agent does
//! more than the plan asks of it.

use proptest::prelude::*;
use swarm_plan::policy::{Guide, PriorityOrder};
use swarm_plan::simulate::guide::search;
use swarm_plan::{
    analyse, load_text, simulate, simulate_guided, Catalogue, CompiledPlan, Format, Need, Staffing,
};

const ROLES: &[&str] = &[
    "SRE",
    "DevOps Engineer",
    "Security Auditor",
    "Backend Developer",
    "Tester",
    "Coder",
    "Technical Writer",
];

/// One task: agent phrase, duration in minutes, priority, dependency
/// picks (taken modulo the task's index: earlier tasks), whether it waits for the whole
/// previous day instead.
type Spec = (String, u64, u8, Vec<u64>, bool);

fn agent() -> impl Strategy<Value = String> {
    let role = prop::sample::select(ROLES);
    prop_oneof![
        8 => role.clone().prop_map(str::to_string),
        4 => prop::collection::vec(role, 2..4).prop_map(|r| r.join(" + ")),
        1 => (1u32..4).prop_map(|n| format!("Full Swarm ({n}-{} agents)", n + 2)),
        1 => Just("Full Swarm (monitoring mode)".to_string()),
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        agent(),
        0u64..600,
        0u8..4,
        prop::collection::vec(any::<u64>(), 0..4),
        prop::bool::weighted(0.1),
    )
}

/// Markdown for the tasks, `per_day` to a day.
fn markdown(specs: &[Spec], per_day: usize) -> String {
    let mut text = "# Generated\n".to_string();
    for (i, (agent, minutes, priority, deps, whole_day)) in specs.iter().enumerate() {
        let day = i / per_day + 1;
        if i % per_day == 0 {
            text.push_str(&format!("\n### Day {day}: D\n\n"));
        }
        let deps = if *whole_day && day > 1 {
            format!("Day {}", day - 1)
        } else if i == 0 || deps.is_empty() {
            "None".to_string()
        } else {
            let ids: Vec<String> = deps
                .iter()
                .map(|d| {
                    let j = (*d % i as u64) as usize;
                    format!("Task {}.{j}", j / per_day + 1)
                })
                .collect();
            ids.join(", ")
        };
        text.push_str(&format!(
            "**Task {day}.{i}**: T\n- **Agent**: {agent}\n- **Priority**: P{priority}\n- **Duration**: {minutes} minutes\n- **Dependencies**: {deps}\n\n"
        ));
    }
    text
}

fn compile(text: &str) -> CompiledPlan {
    load_text(
        text,
        "generated.md",
        Format::Markdown,
        &Catalogue::builtin(),
    )
    .unwrap_or_else(|e| panic!("{e}\n{text}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn unlimited_agents_take_exactly_the_critical_path(
        specs in prop::collection::vec(spec(), 1..60),
        per_day in 1usize..8,
    ) {
        let plan = compile(&markdown(&specs, per_day));
        let analysis = analyse(&plan);
        let sim = simulate(&plan, &Staffing::Unlimited).expect("simulates");
        prop_assert!(sim.complete());
        prop_assert_eq!(sim.makespan, analysis.makespan);
        for (i, run) in sim.tasks.iter().enumerate() {
            prop_assert_eq!(run.start, Some(analysis.earliest_start[i]), "task {}", i);
        }
        prop_assert!(sim.bottlenecks.iter().all(|b| b.waiting_secs == 0));
    }

    #[test]
    fn any_staffing_accounts_for_every_task(
        specs in prop::collection::vec(spec(), 1..60),
        per_day in 1usize..8,
        counts in prop::collection::vec(0u32..3, 7),
        salt in 0u32..1000,
    ) {
        let plan = compile(&markdown(&specs, per_day));
        let analysis = analyse(&plan);
        // Any guide keeps every promise: places shuffled, slack spent or not.
        let guide = Guide {
            place: (0..plan.tasks.len() as u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) ^ salt) % 31)
                .collect(),
            slack_pct: u64::from(salt % 3) * 50,
        };
        let catalogue = Catalogue::builtin();
        let roles = ROLES
            .iter()
            .zip(&counts)
            .filter(|(_, &n)| n > 0)
            .map(|(r, &n)| (catalogue.resolve(r).expect("known").to_string(), n))
            .collect();
        let staffing = Staffing::Fixed(roles);
        let sim = simulate_guided(&plan, &staffing, PriorityOrder::default(), &guide)
            .expect("simulates");
        prop_assert!(sim.makespan >= analysis.makespan || !sim.complete());
        for (i, run) in sim.tasks.iter().enumerate() {
            let need = &plan.tasks[i].need;
            match (run.start, run.finish) {
                (Some(s), Some(f)) => {
                    prop_assert!(s >= analysis.earliest_start[i]);
                    prop_assert_eq!(f - s, plan.plan.tasks[i].duration.secs());
                    prop_assert!(run.agents.len() as u32 >= need.min_agents());
                    if let Need::Roles(r) = need {
                        prop_assert_eq!(run.agents.len(), r.len());
                    }
                }
                _ => prop_assert!(
                    sim.blocked.contains(&i) || sim.unrunnable.iter().any(|s| s.task == i),
                    "task {} neither ran nor was reported", i
                ),
            }
        }
        for role in sim.roles.values() {
            prop_assert!(role.utilisation <= 1.0 + 1e-9);
            prop_assert!(role.unstaffed_secs <= role.waiting_secs);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The guide search never makes a plan longer than the policy's own
    /// order, and the guide it returns gives the run it reports.
    #[test]
    fn the_guide_search_never_loses_to_the_policys_own_order(
        specs in prop::collection::vec(spec(), 3..40),
        counts in prop::collection::vec(1u32..3, 7),
    ) {
        let plan = compile(&markdown(&specs, 8));
        let catalogue = Catalogue::builtin();
        let roles = ROLES
            .iter()
            .zip(&counts)
            .map(|(r, &n)| (catalogue.resolve(r).expect("known").to_string(), n))
            .collect();
        let staffing = Staffing::Fixed(roles);
        let order = PriorityOrder::default();
        let own = simulate_guided(&plan, &staffing, order, &Guide::default()).expect("simulates");
        let (guide, best) = search(&plan, &staffing, order).expect("searches");
        prop_assert!(best.makespan <= own.makespan);
        prop_assert_eq!(best.complete(), own.complete());
        let again = simulate_guided(&plan, &staffing, order, &guide).expect("simulates");
        prop_assert_eq!(again, best);
    }
}

/// A plan of 5,000 tasks simulates to the end, on 50 agents and unlimited;
/// it prints how long that took (speed is measured, never asserted: see
/// `--nocapture`).
#[test]
fn five_thousand_tasks_on_fifty_agents() {
    let mut specs: Vec<Spec> = Vec::new();
    let mut seed = 7u64;
    let mut next = |m: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % m.max(1)
    };
    for i in 0..5000u64 {
        let roles: Vec<&str> = (0..1 + next(2)).map(|_| ROLES[next(6) as usize]).collect();
        let deps = (0..next(3)).map(|_| next(u64::MAX)).collect();
        let _ = i;
        specs.push((
            roles.join(" + "),
            30 + next(240),
            next(4) as u8,
            deps,
            false,
        ));
    }
    for per_day in [5000, 50] {
        let plan = compile(&markdown(&specs, per_day));
        let roles = ROLES[..6]
            .iter()
            .map(|r| {
                (
                    Catalogue::builtin().resolve(r).expect("known").to_string(),
                    50 / 6 + 1,
                )
            })
            .collect();
        let started = std::time::Instant::now();
        let sim = simulate(&plan, &Staffing::Fixed(roles)).expect("simulates");
        println!(
            "{} tasks ({} a day), 54 agents: simulated in {:?}, makespan {} h vs critical path {} h",
            plan.tasks.len(),
            per_day,
            started.elapsed(),
            sim.makespan / 3600,
            sim.critical_path / 3600
        );
        assert!(sim.complete());
        let started = std::time::Instant::now();
        let sim = simulate(&plan, &Staffing::Unlimited).expect("simulates");
        assert_eq!(
            sim.makespan, sim.critical_path,
            "unlimited agents finish on the critical path"
        );
        let agents: u32 = sim.roles.values().map(|r| r.agents).sum();
        println!(
            "  unlimited: simulated in {:?} with {agents} agents, makespan {} h",
            started.elapsed(),
            sim.makespan / 3600
        );
    }
}
