use proptest::prelude::*;

use super::engine::run;
use super::*;
use crate::policy::PriorityOrder;
use crate::{analyse, load, load_text, Catalogue, Format};

const H: u64 = 3600;

fn seed() -> CompiledPlan {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/plan-a-execution-timeline.md");
    load(&path, &Catalogue::builtin()).expect("seed loads")
}

fn md(text: &str) -> CompiledPlan {
    load_text(text, "test.md", Format::Markdown, &Catalogue::builtin())
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// `(id, agent, duration, dependencies)` tasks in one day, then the rest
/// of the plan (more days, the matrix) verbatim.
pub(super) fn plan(tasks: &[(&str, &str, &str, &str)], tail: &str) -> CompiledPlan {
    let mut text = "# Test\n\n### Day 1: One\n\n".to_string();
    for (id, agent, duration, deps) in tasks {
        text.push_str(&format!(
            "**Task {id}**: T\n- **Agent**: {agent}\n- **Priority**: P1\n- **Duration**: {duration}\n- **Dependencies**: {deps}\n\n"
        ));
    }
    text.push_str(tail);
    md(&text)
}

pub(super) fn fixed(roles: &[(&str, u32)]) -> Staffing {
    Staffing::Fixed(roles.iter().map(|&(r, n)| (r.to_string(), n)).collect())
}

pub(super) fn task(plan: &CompiledPlan, sim: &Simulation, id: &str) -> TaskRun {
    sim.tasks[plan.index_of(id).expect("task exists")].clone()
}

/// One agent of every role at the most any one task needs at once.
fn one_per_role() -> Staffing {
    fixed(&[
        ("devops", 2),
        ("security", 2),
        ("sre", 1),
        ("performance", 1),
        ("backend", 1),
        ("database", 1),
        ("coder", 1),
        ("reviewer", 1),
        ("data-engineer", 1),
        ("tester", 1),
        ("qa", 1),
        ("writer", 1),
        ("architect", 1),
    ])
}

#[test]
fn seed_with_unlimited_agents_takes_exactly_the_critical_path() {
    let plan = seed();
    let analysis = analyse(&plan);
    let sim = simulate(&plan, &Staffing::Unlimited).expect("simulates");
    // 1.1 → 1.2 → 1.4 → 2.1 → 2.2 → 3.1 → 3.2 → 9.1 → 10.1 → 10.2: the
    // post-launch watch waits for the launch (its window follows the
    // deployment window).
    assert_eq!(sim.makespan, 25 * H);
    assert_eq!(sim.makespan, analysis.makespan);
    assert_eq!(sim.critical_path, analysis.makespan);
    assert!(sim.complete());
    for (i, run) in sim.tasks.iter().enumerate() {
        assert_eq!(run.start, Some(analysis.earliest_start[i]), "task {i}");
    }
    assert!(sim.bottlenecks.is_empty(), "{:?}", sim.bottlenecks);
    // A business day is the working day, 8 h, though day 7 holds only 6.
    assert_eq!(sim.day_secs, 8 * H);
    assert_eq!(sim.business_days, 3.13);
}

#[test]
fn seed_with_one_agent_per_role_takes_longer_and_names_its_bottlenecks() {
    let plan = seed();
    let sim = simulate(&plan, &one_per_role()).expect("simulates");
    assert!(sim.complete());
    // The proven optimum (CP-SAT, bench/schedule.sh) is 34 h: the one coder
    // has 23 h of work in days 1-7, then 9.x, 10.1 and 10.2 take 11 h. The
    // issue-15 target is within 5% of it; the policy reaches it.
    assert_eq!(sim.makespan, 34 * H);
    assert!(sim.makespan * 100 <= 34 * H * 105);
    assert_eq!(sim.roles["coder"].agents, 1);
    // 23 h of coding, the 3 h deployment and the 4 h watch (every agent).
    assert_eq!(sim.roles["coder"].busy_secs, 30 * H);
    assert!((sim.roles["coder"].utilisation - 30.0 / 34.0).abs() < 1e-9);
    let names: Vec<&str> = sim.bottlenecks.iter().map(|b| b.role.as_str()).collect();
    assert_eq!(names, ["coder", "backend", "sre"]);
    assert_eq!(sim.bottlenecks[0].waiting_secs, 52 * H);
    // The deployment (27 h to 30 h) takes its most, 10 agents, none of them
    // the tester and QA that 8.1 needs then (27 h to 31 h); the watch
    // waits for the deployment, then takes every agent free: all 15 but
    // the two still on 8.1, and ends the plan.
    let watch = task(&plan, &sim, "10.2");
    let deploy = task(&plan, &sim, "10.1");
    let e2e = task(&plan, &sim, "8.1");
    assert_eq!(deploy.agents.len(), 10);
    assert_eq!(e2e.start, deploy.start);
    assert!(deploy.agents.iter().all(|a| !e2e.agents.contains(a)));
    assert_eq!(watch.start, deploy.finish);
    assert_eq!(watch.finish, Some(34 * H));
    assert_eq!(watch.agents.len(), 15 - e2e.agents.len(), "{watch:?}");
    assert!(watch.agents.iter().all(|a| !e2e.agents.contains(a)));
}

#[test]
fn a_p2_task_heading_the_longest_chain_is_not_held_back_behind_a_p0_with_slack() {
    // One SRE; 1.2 (P2) heads a 6 h chain, 1.1 (P0) has 4 h of slack.
    let text = "# T\n\n### Day 1: One\n\n\
        **Task 1.1**: A\n- **Agent**: SRE\n- **Priority**: P0\n- **Duration**: 2 hours\n- **Dependencies**: None\n\n\
        **Task 1.2**: B\n- **Agent**: SRE\n- **Priority**: P2\n- **Duration**: 2 hours\n- **Dependencies**: None\n\n\
        **Task 1.3**: C\n- **Agent**: Coder\n- **Priority**: P2\n- **Duration**: 4 hours\n- **Dependencies**: Task 1.2\n";
    let p = md(text);
    let staffing = fixed(&[("sre", 1), ("coder", 1)]);
    let slack = simulate(&p, &staffing).expect("simulates");
    assert_eq!(task(&p, &slack, "1.2").start, Some(0));
    assert_eq!(slack.makespan, 6 * H);
    let strict = simulate_ordered(&p, &staffing, PriorityOrder::Strict).expect("simulates");
    assert_eq!(task(&p, &strict, "1.1").start, Some(0));
    assert_eq!(strict.makespan, 8 * H);
    // On the seed both orders reach the optimum.
    let seed = seed();
    let strict =
        simulate_ordered(&seed, &one_per_role(), PriorityOrder::Strict).expect("simulates");
    assert_eq!(strict.makespan, 34 * H);
}

#[test]
fn a_monitoring_task_leaves_a_full_swarm_the_agents_it_starts_with() {
    // The monitoring task (longer, so first in order) does not take the
    // agents the full swarm starts with: both start together, and the
    // watch gets the agents the swarm left free.
    let p = plan(
        &[
            ("1.1", "Full Swarm (3-4 agents)", "2 hours", "None"),
            ("1.2", "Full Swarm (monitoring mode)", "3 hours", "None"),
        ],
        "",
    );
    let sim = simulate(&p, &fixed(&[("sre", 3), ("devops", 2)])).expect("simulates");
    let (swarm, watch) = (task(&p, &sim, "1.1"), task(&p, &sim, "1.2"));
    assert_eq!((swarm.start, watch.start), (Some(0), Some(0)));
    assert!(swarm.agents.len() >= 3, "{swarm:?}");
    assert!(!watch.agents.is_empty() && watch.agents.len() <= 5 - swarm.agents.len());
    assert!(watch.agents.iter().all(|a| !swarm.agents.contains(a)));
}

#[test]
fn seed_on_its_matrix_waits_for_staffed_days_and_reports_what_never_runs() {
    let plan = seed();
    let sim = simulate(&plan, &Staffing::Matrix).expect("simulates");
    // Coders and reviewers are first staffed on day 4, which starts at 24 h.
    let refactor = task(&plan, &sim, "4.1");
    assert_eq!((refactor.ready, refactor.start), (Some(0), Some(24 * H)));
    assert_eq!(refactor.unstaffed_roles, ["coder", "reviewer"]);
    // No day staffs SRE and performance, or backend and tester, together.
    let stuck: Vec<&str> = sim
        .unrunnable
        .iter()
        .map(|s| plan.plan.tasks[s.task].id.as_str())
        .collect();
    assert_eq!(stuck, ["2.1", "7.2"]);
    assert_eq!(sim.unrunnable[0].missing, [("sre".to_string(), 1, 0)]);
    assert_eq!(
        sim.unrunnable[0].staffed_days,
        [
            ("performance".to_string(), vec![3, 9, 10]),
            ("sre".to_string(), vec![2])
        ]
    );
    assert_eq!(sim.blocked.len(), 9);
    assert!(!sim.complete());
    assert_eq!(sim.roles["performance"].agents, 2);
    assert!(sim.roles["coder"].unstaffed_secs > 0);
}

#[test]
fn one_agent_runs_independent_tasks_one_after_another() {
    let p = plan(
        &[
            ("1.1", "SRE", "1 hour", "None"),
            ("1.2", "SRE", "1 hour", "None"),
            ("1.3", "SRE", "1 hour", "None"),
        ],
        "",
    );
    let sim = simulate(&p, &fixed(&[("sre", 1)])).expect("simulates");
    assert_eq!(sim.makespan, 3 * H);
    assert_eq!(sim.roles["sre"].utilisation, 1.0);
    // The second waited one hour, the third two.
    assert_eq!(sim.roles["sre"].waiting_secs, 3 * H);
    assert_eq!(sim.roles["sre"].unstaffed_secs, 0);
    assert_eq!(sim.bottlenecks[0].role, "sre");
    assert_eq!(sim.agents, ["sre-1"]);
    assert_eq!(task(&p, &sim, "1.3").agents, [0]);
}

#[test]
fn a_gang_starts_only_with_every_role_it_needs() {
    let p = plan(
        &[
            ("1.1", "SRE", "2 hours", "None"),
            ("1.2", "SRE + DevOps Engineer", "1 hour", "None"),
        ],
        "",
    );
    let sim = simulate(&p, &fixed(&[("sre", 1), ("devops", 1)])).expect("simulates");
    assert_eq!(sim.makespan, 3 * H);
    let gang = task(&p, &sim, "1.2");
    assert_eq!(gang.start, Some(2 * H));
    assert_eq!(gang.agents.len(), 2);
    // It waited for the SRE, not for the DevOps engineer who was idle.
    assert_eq!(sim.roles["sre"].waiting_secs, 2 * H);
    assert_eq!(sim.roles["devops"].waiting_secs, 0);
}

#[test]
fn a_role_nobody_plays_stalls_with_the_reason_instead_of_looping() {
    let p = plan(
        &[
            ("1.1", "SRE", "1 hour", "None"),
            ("1.2", "Technical Writer", "1 hour", "None"),
            ("1.3", "SRE", "1 hour", "Task 1.2"),
        ],
        "",
    );
    let sim = simulate(&p, &fixed(&[("sre", 2)])).expect("simulates");
    assert!(!sim.complete());
    assert_eq!(sim.unrunnable.len(), 1);
    assert_eq!(sim.unrunnable[0].task, 1);
    assert_eq!(sim.unrunnable[0].missing, [("writer".to_string(), 1, 0)]);
    assert!(sim.unrunnable[0].staffed_days.is_empty());
    assert_eq!(sim.blocked, [2]);
    assert_eq!(sim.makespan, H);
}

#[test]
fn matrix_agents_finish_their_task_before_leaving() {
    let tail = "### Day 2: Two\n\n**Task 2.1**: T\n- **Agent**: DevOps Engineer\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n\n\
        ## Appendix: Agent Allocation Matrix\n\n| Day | Phase | Agents Required | Specializations |\n|---|---|---|---|\n\
        | 1 | A | 1 | SRE (1) |\n| 2 | B | 1 | DevOps (1) |\n";
    let p = plan(
        &[
            ("1.1", "SRE", "10 hours", "None"),
            ("1.2", "SRE", "1 hour", "Task 1.1"),
        ],
        tail,
    );
    let sim = simulate(&p, &Staffing::Matrix).expect("simulates");
    // The SRE works past day 1's end, then leaves: 1.2 has nobody.
    assert_eq!(task(&p, &sim, "1.1").finish, Some(10 * H));
    assert_eq!(task(&p, &sim, "2.1").start, Some(8 * H));
    assert_eq!(sim.unrunnable.len(), 1);
    assert_eq!(
        sim.unrunnable[0].staffed_days,
        [("sre".to_string(), vec![1])]
    );
    assert_eq!(sim.makespan, 10 * H);
}

#[test]
fn a_full_swarm_row_spreads_its_least_count_over_the_matrix_roles() {
    let tail = "### Day 2: Two\n\n**Task 2.1**: T\n- **Agent**: Full Swarm (3-4 agents)\n- **Priority**: P0\n- **Duration**: 2 hours\n\n\
        ## Appendix: Agent Allocation Matrix\n\n| Day | Phase | Agents Required | Specializations |\n|---|---|---|---|\n\
        | 1 | A | 1 | SRE (1) |\n| 2 | B | 4-5 | Full swarm activation |\n| 3 | C | 1 | DevOps (1) |\n";
    let p = plan(&[("1.1", "SRE", "1 hour", "None")], tail);
    let sim = simulate(&p, &Staffing::Matrix).expect("simulates");
    assert!(sim.complete());
    assert_eq!(task(&p, &sim, "2.1").start, Some(8 * H));
    // Its least, 3; then the one agent left, whom nothing else needs: 4.
    assert_eq!(task(&p, &sim, "2.1").agents.len(), 4);
    assert_eq!(
        (sim.roles["devops"].agents, sim.roles["sre"].agents),
        (2, 2)
    );
}

#[test]
fn zero_length_tasks_release_their_dependents_at_once() {
    let p = plan(
        &[
            ("1.1", "SRE", "0 hours", "None"),
            ("1.2", "SRE", "0 hours", "Task 1.1"),
            ("1.3", "SRE", "2 hours", "Task 1.2"),
        ],
        "",
    );
    let sim = simulate(&p, &fixed(&[("sre", 1)])).expect("simulates");
    assert_eq!(sim.makespan, 2 * H);
    assert!(sim.complete());
}

#[test]
fn setup_errors_say_what_is_wrong() {
    let p = plan(&[("1.1", "SRE", "1 hour", "None")], "");
    let e = simulate(&p, &Staffing::Matrix).expect_err("no matrix");
    assert_eq!(e, SimulateError::NoMatrix);
    assert!(e.to_string().contains("Agent Allocation Matrix"));
    let e = simulate(&p, &fixed(&[("sre", 6_000), ("devops", 6_000)])).expect_err("too many");
    assert!(e.to_string().contains("12000 agents"), "{e}");
}

/// A random valid plan: tasks in a few days, random roles (gangs, swarms,
/// a monitoring task), durations, priorities and earlier dependencies,
/// and a matrix.
pub(super) fn random_plan() -> impl Strategy<Value = CompiledPlan> {
    let agent = prop_oneof![
        6 => prop::sample::select(vec!["SRE", "DevOps Engineer", "Coder", "Tester", "SRE + Coder", "Coder + Tester + Tester"]),
        1 => Just("Full Swarm (2-3 agents)"),
        1 => Just("Full Swarm (monitoring mode)"),
    ];
    let task = (
        agent,
        0u64..4,
        0u8..4,
        prop::collection::vec(any::<prop::sample::Index>(), 0..3),
    );
    (prop::collection::vec(task, 1..24), prop::collection::vec((1u32..4, 0u32..3, 0u32..3), 1..4)).prop_map(
        |(tasks, rows)| {
            let mut text = "# Random\n".to_string();
            for (i, (agent, hours, priority, deps)) in tasks.iter().enumerate() {
                let day = i / 6 + 1;
                if i % 6 == 0 {
                    text.push_str(&format!("\n### Day {day}: D\n\n"));
                }
                let deps: Vec<String> = match i {
                    0 => Vec::new(),
                    _ => deps.iter().map(|d| format!("Task 9.{}", d.index(i))).collect(),
                };
                let deps = if deps.is_empty() { "None".to_string() } else { deps.join(", ") };
                text.push_str(&format!(
                    "**Task 9.{i}**: T\n- **Agent**: {agent}\n- **Priority**: P{priority}\n- **Duration**: {hours} hours\n- **Dependencies**: {deps}\n\n"
                ));
            }
            text.push_str("## Appendix: Agent Allocation Matrix\n\n| Day | Phase | Agents Required | Specializations |\n|---|---|---|---|\n");
            for (day, sre, coder) in rows {
                match (sre, coder) {
                    (0, 0) => text.push_str(&format!("| {day} | P | 3-4 | Full swarm activation |\n")),
                    _ => text.push_str(&format!("| {day} | P | 4 | SRE ({sre}), Coder ({coder}), Tester (1), DevOps (1) |\n")),
                }
            }
            md(&text)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Handing `place` only the candidates that can matter changes nothing.
    #[test]
    fn pruning_the_candidates_changes_no_decision(
        p in random_plan(),
        sre in 1u32..3,
        coder in 1u32..3,
        salt in 0u32..1000,
    ) {
        // A guide that shuffles the plan order, and none.
        let none = crate::policy::Guide::default();
        let shuffled = crate::policy::Guide {
            place: (0..p.tasks.len() as u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) ^ salt) % 97)
                .collect(),
            slack_pct: u64::from(salt % 3) * 50,
        };
        let staffings = [
            Staffing::Unlimited,
            Staffing::Matrix,
            fixed(&[("sre", sre), ("coder", coder), ("tester", 2), ("devops", 1)]),
            fixed(&[("sre", sre), ("coder", 1)]),
        ];
        for (staffing, guide) in staffings.iter().flat_map(|s| [(s, &none), (s, &shuffled)]) {
            let none = ApiPools::none();
            let pruned = run(&p, staffing, true, PriorityOrder::default(), guide, &none).expect("simulates");
            let all = run(&p, staffing, false, PriorityOrder::default(), guide, &none).expect("simulates");
            prop_assert_eq!(&pruned, &all);
            for (i, t) in pruned.tasks.iter().enumerate() {
                let accounted = t.finish.is_some()
                    || pruned.blocked.contains(&i)
                    || pruned.unrunnable.iter().any(|s| s.task == i);
                prop_assert!(accounted, "task {} is neither run, stuck nor blocked", i);
            }
        }
    }
}
