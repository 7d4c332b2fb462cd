//! The guide and soon-ready reservations: dispatch follows the guide the
//! searcher sends, a search is asked for when agents come, and a short
//! task does not take the agent a soon-ready critical task will need.

use swarm_plan::policy::Guide;

use crate::command::{Command, Outcome};
use crate::testkit::{plan, Harness};

#[test]
fn agents_coming_ask_for_a_search_and_dispatch_follows_the_guide_sent_back() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "SRE", "P1", 1, ""),
        ("1.2", "SRE", "P1", 1, ""),
        ("1.3", "SRE", "P1", 1, ""),
    ]))
    .expect("loads");
    assert!(
        h.receivers.guides.try_recv().is_err(),
        "no agents, no search"
    );
    // A coder cannot take SRE work, but its coming asks for a search.
    let _coder = h.connect("coder-1", &["coder"]);
    let job = h
        .receivers
        .guides
        .try_recv()
        .expect("a search is asked for");
    assert_eq!(job.rest.plan.tasks.len(), 3);
    assert_eq!(job.keep, vec![0, 1, 2]);
    assert_eq!(job.staffing.get("coder"), Some(&1));
    // The searcher's answer: 1.3, then 1.2, then 1.1 (a guide for another
    // plan changes nothing).
    let reversed = Guide {
        place: vec![3, 2, 1],
        slack_pct: 100,
    };
    h.turn(vec![Command::Guide {
        plan: job.plan + 1,
        guide: Guide {
            place: vec![1, 2, 3],
            slack_pct: 0,
        },
    }]);
    h.turn(vec![Command::Guide {
        plan: job.plan,
        guide: reversed,
    }]);
    let mut sre = h.connect("sre-1", &["sre"]);
    let mut order = Vec::new();
    for _ in 0..3 {
        let (task, attempt) = sre.assignments().remove(0);
        h.report(&sre, &task, attempt, Outcome::Succeeded);
        order.push(task);
    }
    assert_eq!(order, ["1.3", "1.2", "1.1"]);
}

#[test]
fn a_short_task_leaves_the_agent_a_soon_ready_critical_task_needs() {
    // 1.1 (coder, 1 h) then 1.3 (SRE, 3 h) is the critical chain; 1.2
    // (SRE, 2 h) has 2 h of slack. While 1.1 runs, 1.3 reserves the one
    // SRE from 1.1's planned end: 1.2 would end after it, so it waits.
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "Coder", "P1", 1, ""),
        ("1.2", "SRE", "P1", 2, ""),
        ("1.3", "SRE", "P1", 3, "Task 1.1"),
    ]))
    .expect("loads");
    let mut coder = h.connect("coder-1", &["coder"]);
    let (task, attempt) = coder.assignments().remove(0);
    assert_eq!(task, "1.1");
    let mut sre = h.connect("sre-1", &["sre"]);
    assert!(
        sre.assignments().is_empty(),
        "1.2 would hold the SRE past 1.1's end"
    );
    assert_eq!(h.state_of("1.2"), "ready");
    h.report(&coder, "1.1", attempt, Outcome::Succeeded);
    let (first, attempt) = sre.assignments().remove(0);
    assert_eq!(
        first, "1.3",
        "the critical task gets the SRE as soon as it is ready"
    );
    h.report(&sre, "1.3", attempt, Outcome::Succeeded);
    assert_eq!(sre.assignments()[0].0, "1.2");
}

#[test]
fn a_task_ending_past_its_plan_asks_for_a_new_search_and_one_on_time_does_not() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", "SRE", "P1", 1, ""),
        ("1.2", "SRE", "P1", 1, ""),
        ("1.3", "SRE", "P1", 1, ""),
        ("1.4", "SRE", "P1", 1, ""),
        ("1.5", "SRE", "P1", 1, ""),
    ]))
    .expect("loads");
    let mut sre = h.connect("sre-1", &["sre"]);
    while h.receivers.guides.try_recv().is_ok() {}
    // Well inside its hour: nothing to re-plan.
    let (task, attempt) = sre.assignments().remove(0);
    h.advance(60_000);
    h.report(&sre, &task, attempt, Outcome::Succeeded);
    assert!(
        h.receivers.guides.try_recv().is_err(),
        "a task on time asks for no search"
    );
    // Past its hour: the rest of the plan is searched again at once.
    let (task, attempt) = sre.assignments().remove(0);
    h.advance(2 * 3_600_000);
    h.report(&sre, &task, attempt, Outcome::Succeeded);
    let job = h
        .receivers
        .guides
        .try_recv()
        .expect("an overrun asks for a search");
    assert_eq!(job.rest.plan.tasks.len(), 3, "what is left: three tasks");
}
