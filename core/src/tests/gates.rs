//! Day gates (`--gates`): the exit criteria of a day, and a checklist
//! window, hold back the tasks after them until their checks pass or an
//! operator approves the day.

use crate::command::{Command, Outcome, PlanCmd};
use crate::testkit::{config, Harness};
use crate::CoreError;

const TWO_DAYS: &str = "# Gated\n\n### Day 1: First\n\n**Task 1.1**: Build\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `true`\n\n**Day 1 Exit Criteria**:\n- [ ] Built — **Check**: `test -f built`\n\n### Day 2: Second\n\n**Task 2.1**: Ship\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `true`\n";

/// Gates on; a lease long enough for the clock jumps below.
fn gated() -> Harness {
    Harness::with(crate::config::CoreConfig {
        gates: true,
        lease_ttl: std::time::Duration::from_secs(120),
        ..config()
    })
}

/// Gate jobs handed to the gate checker since the last call: (gate, checks).
fn gate_jobs(h: &mut Harness) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    while let Ok(job) = h.receivers.gates.try_recv() {
        out.push((job.gate, job.checks));
    }
    out
}

fn approve(h: &mut Harness, day: u32) -> Result<Vec<String>, CoreError> {
    h.ask(|reply| {
        PlanCmd::ApproveGate {
            day,
            actor: crate::actor::Actor::new("admin"),
            reply,
        }
        .into()
    })
}

#[test]
fn the_next_day_waits_for_the_exit_criteria_and_opens_when_they_pass() {
    let mut h = gated();
    h.load(TWO_DAYS).expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let work = a.assignments();
    assert_eq!(work.len(), 1, "only day 1 runs");
    assert_eq!(work[0].0, "1.1");
    let waiting = h.task("2.1").task;
    assert_eq!(waiting.state.name(), "pending");
    assert!(
        waiting.reason.contains("Day 1 exit criteria gate"),
        "{}",
        waiting.reason
    );
    assert!(
        gate_jobs(&mut h).is_empty(),
        "nothing to check before day 1's work is done"
    );
    assert!(h
        .status()
        .gates
        .iter()
        .any(|g| g.starts_with("Day 1 exit criteria is closed")));

    h.report(&a, "1.1", work[0].1, Outcome::Succeeded);
    let jobs = gate_jobs(&mut h);
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].1, ["test -f built"]);
    // The check fails: still closed, checked again later.
    h.turn(vec![Command::GateChecked {
        gate: jobs[0].0,
        passed: false,
        detail: "check `test -f built` failed (exit 1)".into(),
    }]);
    assert_eq!(h.state_of("2.1"), "pending");
    // Only an operator can open it for now: said once.
    let waiting = h.events_of("gate.waiting");
    assert_eq!(waiting.len(), 1);
    assert!(
        waiting[0]
            .message
            .starts_with("Day 1 exit criteria: check `test -f built` failed")
            && waiting[0].message.ends_with("swarmctl gate approve 1"),
        "{}",
        waiting[0].message
    );
    h.advance(1_000);
    h.tick();
    assert!(gate_jobs(&mut h).is_empty(), "not again at once");
    h.advance(30_000);
    h.tick();
    let again = gate_jobs(&mut h);
    assert_eq!(again.len(), 1, "checked again after a while");
    h.turn(vec![Command::GateChecked {
        gate: again[0].0,
        passed: true,
        detail: "check `test -f built` passed".into(),
    }]);
    assert_eq!(h.events_of("gate.opened").len(), 1);
    assert_eq!(h.events_of("gate.waiting").len(), 1, "said once");
    assert_eq!(
        a.assignments()[0].0,
        "2.1",
        "day 2 runs once the gate opens"
    );
    assert!(h.status().gates.is_empty());
}

#[test]
fn an_operator_opens_a_day_and_bad_days_are_refused() {
    let mut h = gated();
    h.load(TWO_DAYS).expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    a.assignments();
    assert!(
        matches!(approve(&mut h, 7), Err(CoreError::NotFound(m)) if m.contains("days with gates: 1"))
    );
    let opened = approve(&mut h, 1).expect("approved");
    assert_eq!(opened, ["Day 1 exit criteria"]);
    let events = h.events_of("gate.opened");
    assert_eq!(
        events[0].message,
        "Day 1 exit criteria: approved by an operator"
    );
    // 2.1 no longer waits for the gate; it runs once the agent is free.
    assert_eq!(h.state_of("2.1"), "ready");
}

#[test]
fn without_gates_nothing_waits_and_approval_says_why() {
    let mut h = Harness::new();
    h.load(TWO_DAYS).expect("loads");
    assert_eq!(h.state_of("2.1"), "ready");
    assert!(matches!(approve(&mut h, 1), Err(CoreError::Conflict(m)) if m.contains("--gates")));
}

#[test]
fn a_checklist_window_holds_the_windows_after_it() {
    let plan = "# Launch\n\n### Day 1: Launch\n\n**Prep (1 hour)**\n\n**Task 1.1**: Prepare\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `true`\n\n**Pre-Launch Checklist (1 hour)**\n- [ ] Rollback ready — **Check**: `test -f rollback.sh`\n\n**Launch Window (2 hours)**\n\n**Task 1.2**: Launch\n- **Agent**: SRE\n- **Priority**: P0\n- **Duration**: 2 hours\n- **Dependencies**: None\n- **Run**: `true`\n";
    let mut h = gated();
    h.load(plan).expect("loads");
    assert_eq!(h.state_of("1.1"), "ready");
    let held = h.task("1.2").task;
    assert_eq!(held.state.name(), "pending");
    assert!(
        held.reason.contains("Day 1 Pre-Launch Checklist gate"),
        "{}",
        held.reason
    );
    approve(&mut h, 1).expect("approved");
    assert_eq!(h.state_of("1.2"), "ready");
}

#[test]
fn an_opened_gate_stays_open_after_a_restart() {
    let cfg = crate::config::CoreConfig {
        gates: true,
        ..config()
    };
    let mut h = Harness::on_disk(cfg.clone());
    h.load(TWO_DAYS).expect("loads");
    let mut h2 = h.reopen(cfg.clone());
    assert_eq!(h2.state_of("2.1"), "pending", "still held after a restart");
    approve(&mut h2, 1).expect("approved");
    let mut h3 = h2.reopen(cfg);
    assert_eq!(h3.state_of("2.1"), "ready");
    assert!(h3.status().gates.is_empty(), "the approval was kept");
}

/// A gate without checks waits for an operator as soon as the work
/// before it is done: one `gate.waiting`, not again after a restart.
#[test]
fn a_gate_without_checks_says_once_that_it_waits_for_an_operator() {
    let plan = TWO_DAYS.replace(" — **Check**: `test -f built`", "");
    let cfg = crate::config::CoreConfig {
        gates: true,
        lease_ttl: std::time::Duration::from_secs(120),
        ..config()
    };
    let mut h = Harness::on_disk(cfg.clone());
    h.load(&plan).expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let work = a.assignments();
    assert!(h.events_of("gate.waiting").is_empty(), "day 1 runs first");
    h.report(&a, "1.1", work[0].1, Outcome::Succeeded);
    h.tick();
    let waiting = h.events_of("gate.waiting");
    assert_eq!(waiting.len(), 1);
    assert_eq!(
        waiting[0].message,
        "Day 1 exit criteria: no check commands; waiting for swarmctl gate approve 1"
    );
    let mut h2 = h.reopen(cfg);
    h2.tick();
    let stored = h2.stored_events();
    let said = stored.iter().filter(|e| e.kind == "gate.waiting").count();
    assert_eq!(said, 1, "not said again after a restart");
}
