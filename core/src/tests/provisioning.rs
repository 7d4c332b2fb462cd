//! Provisioning reports what happened: an agent counts once it registers,
//! a failed start is a shortfall with its reason and an event, and the
//! role backs off before the next try.

use crate::command::{CheckpointCmd, Command, Outcome};
use crate::config::ProvisionerKind;
use crate::jobs::ProvisionCmd;
use crate::testkit::{config, plan, Harness};

fn asked(h: &mut Harness) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(ProvisionCmd::Start { agent_id, .. }) = h.receivers.provision.try_recv() {
        out.push(agent_id);
    }
    out
}

/// Runs a standup and returns the decisions of every checkpoint since the
/// last call (the plan's own 09:00 standup included), from the report jobs
/// the loop hands to the reporter.
fn standup(h: &mut Harness) -> Vec<String> {
    let (reply, _answer) = tokio::sync::oneshot::channel();
    h.turn(vec![CheckpointCmd::Run {
        kind: None,
        actor: crate::actor::Actor::new("admin"),
        reply,
    }
    .into()]);
    let mut decisions = Vec::new();
    while let Ok(job) = h.receivers.jobs.try_recv() {
        decisions.extend(job.decisions);
    }
    decisions
}

#[test]
fn a_failed_start_is_a_shortfall_with_its_reason_and_backs_off() {
    let mut h = Harness::with(crate::config::CoreConfig {
        provisioner: ProvisionerKind::Docker,
        ..config()
    });
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    let decisions = standup(&mut h);
    assert!(
        decisions
            .iter()
            .any(|d| d.starts_with("asked the docker provisioner for agent docker-sre-")),
        "{decisions:?}"
    );
    let ids = asked(&mut h);
    assert_eq!(ids.len(), 1);
    h.turn(vec![Command::ProvisionFailed {
        agent_id: ids[0].clone(),
        reason: "image swarm-agent:dev is missing".into(),
    }]);
    let failed = h.events_of("agent.provision_failed");
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]
            .message
            .contains("image swarm-agent:dev is missing"),
        "{}",
        failed[0].message
    );
    let status = h.status();
    assert!(
        status
            .shortfall
            .iter()
            .any(|s| s.contains("could not start: image swarm-agent:dev is missing")),
        "{:?}",
        status.shortfall
    );
    // The next checkpoint does not ask again yet, and says why.
    h.advance(1_000);
    let decisions = standup(&mut h);
    assert!(asked(&mut h).is_empty(), "backing off");
    assert!(
        decisions
            .iter()
            .any(|d| d.contains("failed 1 time in a row")),
        "{decisions:?}"
    );
    // After the backoff it tries again.
    h.advance(31_000);
    standup(&mut h);
    assert_eq!(asked(&mut h).len(), 1, "tried again after the backoff");
}

#[test]
fn an_agent_asked_for_counts_once_it_registers() {
    let mut h = Harness::with(crate::config::CoreConfig {
        provisioner: ProvisionerKind::Process,
        ..config()
    });
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    standup(&mut h);
    let ids = asked(&mut h);
    let mut a = h.connect(&ids[0], &["sre"]);
    assert_eq!(a.assignments().len(), 1, "it works once registered");
    // Its exit later is not a failed start.
    h.turn(vec![Command::ProvisionFailed {
        agent_id: ids[0].clone(),
        reason: "the agent process exited (exit status: 0)".into(),
    }]);
    assert!(h.events_of("agent.provision_failed").is_empty());
}

#[test]
fn a_swarm_agent_answers_its_roles_request_and_is_drained_as_ours() {
    let mut h = Harness::with(crate::config::CoreConfig {
        provisioner: ProvisionerKind::Swarm,
        ..config()
    });
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    let decisions = standup(&mut h);
    assert!(
        decisions
            .iter()
            .any(|d| d.starts_with("asked the swarm provisioner for one more sre agent")),
        "{decisions:?}"
    );
    let mut starts = Vec::new();
    while let Ok(ProvisionCmd::Start { plan, role, .. }) = h.receivers.provision.try_recv() {
        starts.push((plan, role));
    }
    assert_eq!(starts.len(), 1, "{starts:?}");
    // The agent registers with its slot's id, not the request's.
    let id = format!(
        "{}.1",
        crate::jobs::provision::service_name(&starts[0].0, "sre")
    );
    let mut a = h.connect(&id, &["sre"]);
    let work = a.assignments();
    assert_eq!(work.len(), 1, "it works once registered");
    // It answered the request: the next standup asks for nobody.
    standup(&mut h);
    assert!(asked(&mut h).is_empty(), "the request was answered");
    // Once its work is done and none is coming, it is drained as one of
    // this coordinator's agents.
    h.report(&a, &work[0].0, work[0].1, Outcome::Succeeded);
    let decisions = standup(&mut h);
    assert!(
        decisions
            .iter()
            .any(|d| d.starts_with(&format!("drained agent {id} (sre)"))),
        "{decisions:?}"
    );
    // An agent of the same role that is no slot of the service is not ours.
    let mut h2 = Harness::with(crate::config::CoreConfig {
        provisioner: ProvisionerKind::Swarm,
        ..config()
    });
    h2.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    let mut b = h2.connect("sre-by-hand", &["sre"]);
    let work = b.assignments();
    h2.report(&b, &work[0].0, work[0].1, Outcome::Succeeded);
    let decisions = standup(&mut h2);
    assert!(
        !decisions.iter().any(|d| d.starts_with("drained agent")),
        "{decisions:?}"
    );
}
