//! Replays with actual durations: planned ones change nothing; others
//! are what the run takes, learned only when a task ends.

use proptest::prelude::*;

use super::tests::{fixed, plan, random_plan, task};
use super::*;
use crate::policy::PriorityOrder;

const H: u64 = 3600;

fn planned(p: &CompiledPlan) -> Vec<u64> {
    p.plan.tasks.iter().map(|t| t.duration.secs()).collect()
}

#[test]
fn a_task_that_overruns_holds_its_agent_and_dependents_until_it_ends() {
    let p = plan(
        &[
            ("1.1", "SRE", "1 hour", "None"),
            ("1.2", "SRE", "2 hours", "None"),
            ("1.3", "Coder", "2 hours", "Task 1.1"),
        ],
        "",
    );
    let staffing = fixed(&[("sre", 1), ("coder", 1)]);
    let none = ApiPools::none();
    let mut actual = planned(&p);
    actual[0] = 3 * H;
    let r = replay(&p, &staffing, PriorityOrder::default(), &none, &actual).expect("replays");
    // 1.1 heads the longest chain: it goes first, runs 3 h instead of 1;
    // the SRE takes 1.2 and the coder 1.3 only once it ends.
    assert_eq!(task(&p, &r.sim, "1.1").finish, Some(3 * H));
    assert_eq!(task(&p, &r.sim, "1.2").start, Some(3 * H));
    assert_eq!(task(&p, &r.sim, "1.3").start, Some(3 * H));
    assert_eq!(r.sim.makespan, 5 * H);
    assert_eq!((r.off_plan, r.overran), (1, 1));
    assert!(r.replans >= 1, "the overrun's end re-plans");
    // As planned it would have taken 3 h.
    let plain = replay(&p, &staffing, PriorityOrder::default(), &none, &planned(&p));
    assert_eq!(plain.expect("replays").sim.makespan, 3 * H);
}

#[test]
fn a_task_that_ends_early_frees_its_agent_early() {
    let p = plan(
        &[
            ("1.1", "SRE", "4 hours", "None"),
            ("1.2", "SRE", "2 hours", "None"),
        ],
        "",
    );
    let staffing = fixed(&[("sre", 1)]);
    let mut actual = planned(&p);
    actual[0] = H;
    let r = replay(
        &p,
        &staffing,
        PriorityOrder::default(),
        &ApiPools::none(),
        &actual,
    )
    .expect("replays");
    assert_eq!(task(&p, &r.sim, "1.2").start, Some(H));
    assert_eq!(r.sim.makespan, 3 * H);
    assert_eq!((r.off_plan, r.overran), (1, 0));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Replayed with the planned durations, a run is the plain
    /// simulation's, decision for decision.
    #[test]
    fn planned_durations_replay_exactly_as_the_plain_simulation(
        p in random_plan(),
        sre in 1u32..3,
        coder in 1u32..3,
    ) {
        let staffings = [
            Staffing::Matrix,
            fixed(&[("sre", sre), ("coder", coder), ("tester", 2), ("devops", 1)]),
        ];
        for staffing in &staffings {
            let order = PriorityOrder::default();
            let plain = simulate_ordered(&p, staffing, order);
            let replayed = replay(&p, staffing, order, &ApiPools::none(), &planned(&p));
            match (plain, replayed) {
                (Ok(plain), Ok(r)) => {
                    prop_assert_eq!(&plain, &r.sim);
                    prop_assert_eq!((r.off_plan, r.replans), (0, 0));
                }
                (Err(a), Err(b)) => prop_assert_eq!(a, b),
                (a, b) => prop_assert!(false, "{:?} vs {:?}", a.is_ok(), b.is_ok()),
            }
        }
    }
}
