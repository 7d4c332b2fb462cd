//! Manual tasks say so: a running task without a run command or image,
//! whose lead agent said in its Hello that it has no command template,
//! waits for an operator, and status, the task and its brief say
//! "waiting for an operator: swarmctl task done ID". Nothing is claimed
//! for an agent with a template, for a task with a command, or for an
//! agent that did not say.

use super::{assigned, attempt_ref};
use crate::command::TaskAction;
use crate::testkit::{config, plan, Harness};

const HINT: &str = "waiting for an operator: swarmctl task done 1.1";

/// 1.1 (no run command) and 1.2 (runs `true`), both for an SRE.
fn manual_plan() -> String {
    let text = plan(&[("1.1", "SRE", "P1", 1, ""), ("1.2", "SRE", "P1", 1, "")]);
    let run = "- **Run**: `true`\n";
    let first = text.find(run).expect("1.1 has a run line");
    format!("{}{}", &text[..first], &text[first + run.len()..])
}

#[test]
fn a_manual_task_on_an_agent_without_a_template_waits_for_an_operator() {
    let mut h = Harness::new();
    h.load(&manual_plan()).expect("loads");
    let mut ops = h.connect_exec("ops-1", &["sre"], Vec::new(), false);
    let offers = assigned(&ops.inbox());
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].attempt.task_id, "1.1");
    assert!(offers[0].run.is_none());
    assert!(offers[0].brief.contains(HINT), "{}", offers[0].brief);

    let status = h.status();
    assert_eq!(status.waiting_for_operator, ["1.1"]);
    let said = h.events_of("task.waiting_operator");
    assert_eq!(said.len(), 1);
    assert_eq!(said[0].task_id.as_deref(), Some("1.1"));
    assert_eq!(said[0].agent_id.as_deref(), Some("ops-1"));
    assert_eq!(said[0].message, HINT);
    let detail = h.task("1.1");
    assert_eq!(detail.task.state.name(), "running");
    assert!(detail.task.waits_for_operator);
    assert!(!h.task("1.2").task.waits_for_operator);

    // The operator marks it done: nothing waits any more, and 1.2, which
    // runs a command, never waits for an operator.
    h.action("1.1", TaskAction::Done).expect("done");
    assert!(h.status().waiting_for_operator.is_empty());
    let offers = assigned(&ops.inbox());
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].attempt.task_id, "1.2");
    assert!(!offers[0].brief.contains("operator"), "{}", offers[0].brief);
    assert!(h.status().waiting_for_operator.is_empty());
    assert!(!h.task("1.2").task.waits_for_operator);
    assert_eq!(h.events_of("task.waiting_operator").len(), 1);
}

#[test]
fn an_agent_with_a_template_or_that_did_not_say_leaves_nothing_to_an_operator() {
    for exec_template in [Some(true), None] {
        let mut h = Harness::new();
        h.load(&manual_plan()).expect("loads");
        let mut agent = match exec_template {
            Some(t) => h.connect_exec("ai-1", &["sre"], Vec::new(), t),
            None => h.connect("ai-1", &["sre"]),
        };
        let offers = assigned(&agent.inbox());
        assert_eq!(offers[0].attempt.task_id, "1.1");
        assert!(!offers[0].brief.contains("operator"), "{exec_template:?}");
        assert!(h.status().waiting_for_operator.is_empty());
        assert!(!h.task("1.1").task.waits_for_operator);
        assert!(h.events_of("task.waiting_operator").is_empty());
    }
}

#[test]
fn after_a_restart_the_task_waits_for_an_operator_again_once_its_agent_is_back() {
    let mut h = Harness::on_disk(config());
    h.load(&manual_plan()).expect("loads");
    let mut ops = h.connect_exec("ops-1", &["sre"], Vec::new(), false);
    let fence = assigned(&ops.inbox())[0].attempt.attempt;
    assert_eq!(h.status().waiting_for_operator, ["1.1"]);

    let mut h = h.reopen(config());
    // Until the agent says again what it can do, nothing is claimed.
    assert!(h.status().waiting_for_operator.is_empty());
    let _ops = h.connect_exec("ops-1", &["sre"], vec![attempt_ref("1.1", fence)], false);
    assert_eq!(h.status().waiting_for_operator, ["1.1"]);
    assert!(h.task("1.1").task.waits_for_operator);
}
