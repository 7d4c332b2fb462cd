//! The reallocation planner, driven directly with snapshots, like the
//! placement policy's tests: no core, no store, no clock.

use std::collections::BTreeMap;

use super::planner::{plan, AgentSnap, Backoff, Decision, Demand, Snapshot, Starved, Unstarted};
use super::prose;
use crate::config::ProvisionerKind;

fn demand(role: &str, weight_h: f64, peak: u32, slots: u32) -> (String, Demand) {
    (
        role.to_string(),
        Demand {
            weight_h,
            peak,
            slots,
        },
    )
}

fn agent(id: &str, roles: &[&str], active: &str, idle: bool, ours: bool) -> AgentSnap {
    AgentSnap {
        id: id.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        active_role: active.into(),
        idle,
        ours,
    }
}

fn snapshot(demand: Vec<(String, Demand)>, agents: Vec<AgentSnap>) -> Snapshot {
    Snapshot {
        demand: demand.into_iter().collect(),
        planned: None,
        agents,
        pending: BTreeMap::new(),
        scale: BTreeMap::new(),
        default_max: 4,
        provisioner: ProvisionerKind::None,
        backoff: BTreeMap::new(),
        any_role_need: 0,
    }
}

#[test]
fn an_idle_agent_switches_from_a_role_with_surplus_to_a_starved_one() {
    let s = snapshot(
        vec![demand("sre", 6.0, 1, 2), demand("tester", 1.0, 1, 1)],
        vec![
            agent("a1", &["tester", "sre"], "tester", true, false),
            agent("a2", &["tester"], "tester", true, false),
        ],
    );
    let starved = Starved {
        have: 0,
        want: 1,
        weight_h: 6.0,
    };
    assert_eq!(
        plan(&s),
        [Decision::Switch {
            agent: "a1".into(),
            from: "tester".into(),
            to: "sre".into(),
            why: starved,
        }]
    );
    assert_eq!(
        prose::switched("a1", "tester", "sre", starved),
        "switched agent a1 from tester to sre: sre has 0 of the 1 agent its ready work needs (6.0 rank-weighted hours), tester had more than it needs"
    );
}

#[test]
fn a_busy_agent_or_one_whose_role_has_no_surplus_does_not_switch() {
    let s = snapshot(
        vec![demand("sre", 6.0, 1, 1), demand("tester", 1.0, 1, 1)],
        vec![
            agent("busy", &["tester", "sre"], "tester", false, false),
            agent("only", &["tester", "sre"], "tester", true, false),
        ],
    );
    // Two testers for one tester slot: one may go, and only the idle one
    // can.
    assert_eq!(
        plan(&s),
        [Decision::Switch {
            agent: "only".into(),
            from: "tester".into(),
            to: "sre".into(),
            why: Starved {
                have: 0,
                want: 1,
                weight_h: 6.0,
            },
        }]
    );
    let lone = snapshot(
        vec![demand("sre", 6.0, 1, 1), demand("tester", 1.0, 1, 1)],
        vec![agent("only", &["tester", "sre"], "tester", true, false)],
    );
    // The one tester is all tester needs: sre is short instead.
    assert_eq!(
        plan(&lone),
        [Decision::Shortfall {
            role: "sre".into(),
            missing: 1,
            weight_h: 6.0,
            why: Unstarted::NoProvisioner,
        }]
    );
}

#[test]
fn the_provisioner_scales_a_starved_pool_up_within_its_bounds() {
    let mut s = snapshot(vec![demand("coder", 12.0, 1, 6)], vec![]);
    s.provisioner = ProvisionerKind::Docker;
    s.planned = Some(BTreeMap::from([("coder".to_string(), 5)]));
    s.scale = BTreeMap::from([("coder".to_string(), (0, 3))]);
    s.pending = BTreeMap::from([("coder".to_string(), 1)]);
    // The day plans 5, the work could use 6, the pool stops at 3, and one
    // is on its way: two more.
    assert_eq!(
        plan(&s),
        [Decision::Start {
            role: "coder".into(),
            count: 2,
            kind: ProvisionerKind::Docker,
            why: Starved {
                have: 1,
                want: 3,
                weight_h: 12.0,
            },
        }]
    );
    let said = prose::started(
        ProvisionerKind::Docker,
        "coder",
        "docker-coder-7",
        Starved {
            have: 1,
            want: 3,
            weight_h: 12.0,
        },
        "plan",
    );
    assert_eq!(said, "asked the docker provisioner for agent docker-coder-7 (coder): coder had 1 of 3 agents its ready work needs; it counts as started once it registers");
}

#[test]
fn a_configured_minimum_holds_for_a_role_with_no_work() {
    let mut s = snapshot(vec![], vec![]);
    s.provisioner = ProvisionerKind::Process;
    s.scale = BTreeMap::from([("sre".to_string(), (2, 4))]);
    assert!(matches!(
        &plan(&s)[..],
        [Decision::Start { role, count: 2, .. }] if role == "sre"
    ));
}

#[test]
fn an_idle_provisioned_agent_of_a_role_without_work_is_drained_to_the_minimum() {
    let mut s = snapshot(
        vec![demand("coder", 2.0, 1, 1)],
        vec![
            agent("c1", &["coder"], "coder", false, false),
            agent("t1", &["tester"], "tester", true, true),
            agent("t2", &["tester"], "tester", true, true),
            agent("t3", &["tester"], "tester", true, false),
        ],
    );
    s.scale = BTreeMap::from([("tester".to_string(), (1, 4))]);
    // Three testers, minimum one, two ours: both of ours go; t3 is not
    // ours.
    assert_eq!(
        plan(&s),
        [
            Decision::Drain {
                agent: "t1".into(),
                role: "tester".into()
            },
            Decision::Drain {
                agent: "t2".into(),
                role: "tester".into()
            },
        ]
    );
    assert_eq!(
        prose::drained("t1", "tester"),
        "drained agent t1 (tester): no tester work is ready or coming, and the pool is above its minimum"
    );
}

#[test]
fn a_full_swarm_keeps_enough_agents_of_any_role_from_draining() {
    let mut s = snapshot(
        vec![],
        vec![
            agent("t1", &["tester"], "tester", true, true),
            agent("t2", &["tester"], "tester", true, true),
            agent("t3", &["tester"], "tester", true, true),
        ],
    );
    // A ready Full Swarm needs three agents of any role: none drains.
    s.any_role_need = 3;
    assert_eq!(plan(&s), []);
    // Needing two, one may go (the first in the roster's order).
    s.any_role_need = 2;
    assert_eq!(
        plan(&s),
        [Decision::Drain {
            agent: "t1".into(),
            role: "tester".into()
        }]
    );
}

#[test]
fn with_no_provisioner_a_starved_role_is_a_shortfall() {
    let s = snapshot(vec![demand("dba", 3.5, 2, 2)], vec![]);
    let decisions = plan(&s);
    assert_eq!(
        decisions,
        [Decision::Shortfall {
            role: "dba".into(),
            missing: 2,
            weight_h: 3.5,
            why: Unstarted::NoProvisioner,
        }]
    );
    let (said, line) = prose::shortfall(
        "dba",
        2,
        3.5,
        &Unstarted::NoProvisioner,
        ProvisionerKind::None,
    );
    assert_eq!(said, "shortfall: dba needs 2 more agents for its ready work (3.5 rank-weighted hours); the provisioner is 'none', so none was started");
    assert_eq!(line, "dba: 2 more agents");
}

#[test]
fn a_provisioner_backing_off_is_a_shortfall_with_its_last_failure() {
    let mut s = snapshot(vec![demand("dba", 1.0, 1, 1)], vec![]);
    s.provisioner = ProvisionerKind::Docker;
    let b = Backoff {
        count: 2,
        last: "no image".into(),
        retry: "Day 1 10:00".into(),
    };
    s.backoff = BTreeMap::from([("dba".to_string(), b.clone())]);
    assert_eq!(
        plan(&s),
        [Decision::Shortfall {
            role: "dba".into(),
            missing: 1,
            weight_h: 1.0,
            why: Unstarted::BackingOff(b.clone()),
        }]
    );
    let (said, line) = prose::shortfall(
        "dba",
        1,
        1.0,
        &Unstarted::BackingOff(b),
        ProvisionerKind::Docker,
    );
    assert_eq!(said, "shortfall: dba needs 1 more agent, but starting one failed 2 times in a row (last: no image); not trying again before Day 1 10:00");
    assert_eq!(line, "dba: 1 more agent; the docker provisioner failed 2 times in a row (last: no image); next try after Day 1 10:00");
}

#[test]
fn a_full_swarm_short_of_agents_of_any_role_gets_them_provisioned() {
    // The seed's last day: a Full Swarm of 8 becomes ready after the day
    // before drained its agents down to what its own work needed. The
    // new agents play the role most agents play (ties: by name).
    let mut s = snapshot(
        vec![],
        vec![
            agent("t1", &["tester"], "tester", true, true),
            agent("s1", &["security"], "security", true, true),
            agent("s2", &["security"], "security", true, true),
            agent("q1", &["qa"], "qa", true, true),
        ],
    );
    s.any_role_need = 8;
    s.pending.insert("tester".into(), 1);
    s.provisioner = ProvisionerKind::Process;
    assert_eq!(
        plan(&s),
        [Decision::StartForSwarm {
            role: "security".into(),
            count: 3,
            kind: ProvisionerKind::Process,
            have: 5,
            want: 8,
        }]
    );
    assert_eq!(
        prose::started_for_swarm(ProvisionerKind::Process, "security", "proc-security-9", 5, 8),
        "asked the process provisioner for agent proc-security-9 (security): a Full Swarm task needs 8 agents of any role and 5 are present or coming; it counts as started once it registers"
    );
    // With no provisioner it is a shortfall; with enough agents, nothing.
    s.provisioner = ProvisionerKind::None;
    assert!(matches!(
        plan(&s).as_slice(),
        [Decision::Shortfall {
            missing: 3,
            why: Unstarted::NoProvisioner,
            ..
        }]
    ));
    s.any_role_need = 5;
    assert_eq!(plan(&s), []);
}
