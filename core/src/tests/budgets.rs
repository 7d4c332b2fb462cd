//! Budgets at dispatch: a spent role budget holds that role's tasks and
//! no other, records `budget.reached`, makes the verdict `at_risk`, and
//! raising it lets the held task start at once.

use std::time::Duration;

use swarm_memory::state::Usage;

use crate::budget::BudgetCmd;
use crate::command::{AttemptRef, AttemptReport, FromAgent, Outcome};
use crate::config::CoreConfig;
use crate::testkit::{plan, Harness};
use crate::verdict::Verdict;

#[test]
fn a_spent_role_budget_holds_that_roles_tasks_until_raised() {
    let mut cfg = CoreConfig {
        lease_ttl: Duration::from_secs(86_400),
        ..CoreConfig::default()
    };
    cfg.budget.roles.insert("sre".into(), 1.0);
    let mut h = Harness::with(cfg);
    h.load(&plan(&[
        ("1.1", "SRE", "P0", 1, ""),
        ("1.2", "SRE", "P1", 1, ""),
        ("1.3", "Security", "P1", 1, ""),
        ("1.4", "Security", "P2", 1, ""),
    ]))
    .expect("loads");
    let mut sre = h.connect("sre-1", &["sre"]);
    let mut sec = h.connect("security-1", &["security"]);
    let first = sre.assignments();
    assert_eq!(first[0].0, "1.1");
    let usage = Usage {
        cost_usd: 1.25,
        ..Usage::default()
    };
    h.say(
        &sre,
        FromAgent::Result {
            attempt: AttemptRef {
                task_id: "1.1".into(),
                attempt: first[0].1,
            },
            report: AttemptReport {
                usage: Some(usage),
                ..AttemptReport::of(Outcome::Succeeded)
            },
        },
    );
    h.tick();
    assert!(sre.assignments().is_empty(), "the sre budget is spent");
    assert!(h.task_events("1.2").iter().all(|k| k != "attempt.offered"));
    let reason = h.task("1.2").task.reason;
    assert_eq!(reason, "waits: role sre's budget is spent: $1.25 of $1.00");
    let security = sec.assignments();
    assert_eq!(security[0].0, "1.3", "other roles go on");
    h.report(&sec, "1.3", security[0].1, Outcome::Succeeded);
    assert_eq!(sec.assignments()[0].0, "1.4");
    let kinds: Vec<&str> = h.events.iter().map(|e| e.kind.as_str()).collect();
    assert!(
        kinds.contains(&"budget.warning") && kinds.contains(&"budget.reached"),
        "{kinds:?}"
    );
    let status = h.status();
    assert_eq!(status.verdict, Some(Verdict::AtRisk));
    assert_eq!(
        status.budgets,
        ["role sre's budget is spent: $1.25 of $1.00; new attempts under it wait"]
    );
    let lines = h
        .ask(|reply| {
            BudgetCmd::Set {
                scope: "role:sre".into(),
                usd: 5.0,
                actor: crate::actor::Actor::new("admin"),
                reply,
            }
            .into()
        })
        .expect("set");
    assert_eq!(lines[0].limit_usd, 5.0);
    assert_eq!(sre.assignments()[0].0, "1.2", "raised: it starts at once");
    let bad = h.ask(|reply| {
        BudgetCmd::Set {
            scope: "week".into(),
            usd: 5.0,
            actor: crate::actor::Actor::new("admin"),
            reply,
        }
        .into()
    });
    assert!(bad.is_err());
}
