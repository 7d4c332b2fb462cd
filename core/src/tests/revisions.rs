//! Revising the running plan: tasks matched by id keep their state, a
//! running attempt finishes under the definition it started with and the
//! next one gets the new one, removed tasks leave the plan and the
//! outcome, dependents are judged again, a refused revision changes
//! nothing, and a restart runs the newest version.

use crate::command::{LoadPlan, Outcome, PlanCmd, PlanText, Query, ToAgent};
use crate::revise::{ApplyPlan, Revision, VersionView};
use crate::roles::RolesSource;
use crate::testkit::{config, Harness, TestAgent};
use crate::CoreError;

/// `(id, hours, dependencies or "", run)` SRE tasks in one day.
fn plan(tasks: &[(&str, u32, &str, &str)]) -> String {
    let mut out = String::from("# Test plan\n\n### Day 1: Work\n\n");
    for (id, hours, deps, run) in tasks {
        let deps = if deps.is_empty() { "None" } else { deps };
        out.push_str(&format!(
            "**Task {id}**: Task {id}\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: {hours} hours\n- **Dependencies**: {deps}\n- **Run**: `{run}`\n\n"
        ));
    }
    out
}

fn apply(h: &mut Harness, markdown: &str, dry_run: bool) -> Result<Revision, CoreError> {
    apply_with(h, markdown, dry_run, &[], &[])
}

fn apply_with(
    h: &mut Harness,
    markdown: &str,
    dry_run: bool,
    rerun: &[&str],
    restart: &[&str],
) -> Result<Revision, CoreError> {
    let text = PlanText {
        file_name: "v2.md".into(),
        text: markdown.into(),
        toml: false,
        roles_toml: String::new(),
    };
    let plan = LoadPlan::compile(text, &RolesSource::default())?;
    let req = ApplyPlan {
        plan,
        dry_run,
        rerun: rerun.iter().map(|s| s.to_string()).collect(),
        restart: restart.iter().map(|s| s.to_string()).collect(),
        reason: "standup".into(),
        actor: crate::actor::Actor::new("admin").with_as(Some("Ann")),
    };
    h.ask(|reply| PlanCmd::Apply(Box::new(req), reply).into())
}

/// The Run of each assignment since the last call, by task id.
fn runs(a: &mut TestAgent) -> Vec<(String, u64, String)> {
    (a.inbox().into_iter())
        .filter_map(|m| match m {
            ToAgent::Assign(x) => Some((
                x.attempt.task_id.clone(),
                x.attempt.attempt,
                x.run.clone().unwrap_or_default(),
            )),
            _ => None,
        })
        .collect()
}

/// 1.1 succeeded, 1.2 running (`echo old`), 1.3 and 1.4 pending after
/// 1.2, on one agent.
fn running() -> (Harness, TestAgent, u64) {
    let mut h = Harness::on_disk(config());
    h.load(&plan(&[
        ("1.1", 1, "", "true"),
        ("1.2", 1, "Task 1.1", "echo old"),
        ("1.3", 2, "Task 1.2", "true"),
        ("1.4", 1, "Task 1.2", "true"),
    ]))
    .expect("loads");
    let mut a = h.connect("sre-1", &["sre"]);
    let first = runs(&mut a);
    h.report(&a, "1.1", first[0].1, Outcome::Succeeded);
    let second = runs(&mut a);
    assert_eq!(
        (second[0].0.as_str(), second[0].2.as_str()),
        ("1.2", "echo old")
    );
    (h, a, second[0].1)
}

/// The revision of the tests: 1.2's Run changed, 1.3 longer and after
/// 1.5, 1.4 removed, 1.5 and 1.6 added (1.6 after 1.5).
fn revised() -> String {
    plan(&[
        ("1.1", 1, "", "true"),
        ("1.2", 1, "Task 1.1", "echo new"),
        ("1.3", 3, "Task 1.2, Task 1.6", "true"),
        ("1.5", 1, "Task 1.1", "true"),
        ("1.6", 1, "Task 1.5", "true"),
    ])
}

#[test]
fn a_dry_run_says_what_would_change_and_changes_nothing() {
    let (mut h, _a, _) = running();
    let before = h.stored_events().len();
    let r = apply(&mut h, &revised(), true).expect("dry run");
    assert!(!r.applied);
    assert_eq!((r.version, r.added, r.removed, r.changed), (2, 2, 1, 2));
    assert!(
        r.changes
            .contains(&"~ task 1.2 run: echo old → echo new".to_string()),
        "{:?}",
        r.changes
    );
    assert!(r
        .changes
        .contains(&"~ task 1.3 duration: 2 hours → 3 hours".to_string()));
    assert!(r
        .changes
        .contains(&"~ task 1.3 dependencies: 1.2 → 1.2, 1.6".to_string()));
    assert!(r.changes.contains(&"- task 1.4: Task 1.4".to_string()));
    assert_eq!(h.stored_events().len(), before, "nothing was recorded");
    assert_eq!(h.state_of("1.4"), "pending");
    let history: Vec<VersionView> = h.ask(|r| Query::PlanHistory(r).into()).expect("history");
    assert_eq!(history.len(), 1);
}

#[test]
fn a_revision_applies_task_by_task() {
    let (mut h, mut a, old) = running();
    let r = apply(&mut h, &revised(), false).expect("applies");
    assert!(r.applied);
    assert_eq!(r.version, 2);
    // Nothing succeeded runs again; 1.2 still runs its old attempt.
    assert_eq!(h.state_of("1.1"), "succeeded");
    assert_eq!(h.state_of("1.2"), "running");
    assert_eq!(h.state_of("1.4"), "removed");
    assert_eq!(h.state_of("1.3"), "pending");
    assert_eq!(h.status().counts.total, 5, "1.4 no longer counts");
    assert!(runs(&mut a).is_empty(), "its one slot is taken by 1.2");
    // The old attempt's result is accepted; the new tasks run in DAG order.
    h.report(&a, "1.2", old, Outcome::Succeeded);
    let next = runs(&mut a);
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].0, "1.5");
    h.report(&a, "1.5", next[0].1, Outcome::Succeeded);
    let next = runs(&mut a);
    assert_eq!(next[0].0, "1.6");
    h.report(&a, "1.6", next[0].1, Outcome::Succeeded);
    let next = runs(&mut a);
    assert_eq!(next[0].0, "1.3");
    h.report(&a, "1.3", next[0].1, Outcome::Succeeded);
    assert_eq!(h.status().state.name(), "succeeded", "1.4 is not counted");
    assert_eq!(h.task("1.1").attempts.len(), 1);
    let revised = h.events_of("plan.revised");
    assert_eq!(revised.len(), 1);
    assert!(
        revised[0]
            .message
            .starts_with("version 2: 2 added, 1 removed, 2 changed"),
        "{}",
        revised[0].message
    );
    assert!(revised[0].message.ends_with("— standup"));
    assert_eq!(revised[0].actor.as_deref(), Some("admin (as Ann)"));
}

#[test]
fn the_next_attempt_of_a_running_task_uses_the_new_definition() {
    let (mut h, mut a, old) = running();
    apply(&mut h, &revised(), false).expect("applies");
    // Its agent hands it back (a loss, re-queued): the free slot takes
    // ready 1.5 or 1.2, a second agent the other.
    h.report(&a, "1.2", old, Outcome::Cancelled);
    let mut b = h.connect("sre-2", &["sre"]);
    let mut next = runs(&mut a);
    next.extend(runs(&mut b));
    let again: Vec<&str> = (next.iter())
        .filter(|(task, ..)| task == "1.2")
        .map(|(_, _, run)| run.as_str())
        .collect();
    assert_eq!(again, ["echo new"], "{next:?} {:?}", h.task("1.2").task);
}

#[test]
fn a_restart_stops_the_running_attempt_and_starts_the_new_definition() {
    let (mut h, mut a, old) = running();
    let r = apply_with(&mut h, &revised(), false, &[], &["1.2"]).expect("applies");
    assert_eq!(r.restarted, ["1.2"]);
    let inbox = a.inbox();
    assert!(inbox
        .iter()
        .any(|m| matches!(m, ToAgent::Cancel(r, _) if r.attempt == old)));
    let mut b = h.connect("sre-2", &["sre"]);
    let again: Vec<_> = (inbox.into_iter().chain(b.inbox()))
        .filter_map(|m| match m {
            ToAgent::Assign(x) if x.attempt.task_id == "1.2" => x.run.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(again, ["echo new"]);
    let states: Vec<&str> = (h.task("1.2").attempts.iter())
        .map(|a| a.state.name())
        .collect();
    assert_eq!(states, ["cancelled", "offered"], "a restart uses no retry");
}

#[test]
fn a_rerun_runs_a_succeeded_task_again_and_a_pick_that_cannot_be_is_refused_whole() {
    let (mut h, _a, _) = running();
    let refused = apply_with(&mut h, &revised(), false, &["1.2"], &[]);
    assert!(
        matches!(&refused, Err(CoreError::Conflict(m)) if m.contains("--rerun 1.2: task 1.2 is running")),
        "{refused:?}"
    );
    let refused = apply_with(&mut h, &revised(), false, &[], &["1.1"]);
    assert!(
        matches!(&refused, Err(CoreError::Conflict(m)) if m.contains("takes a running task")),
        "{refused:?}"
    );
    let refused = apply_with(&mut h, &revised(), false, &["1.4"], &[]);
    assert!(
        matches!(&refused, Err(CoreError::NotFound(m)) if m.contains("no task '1.4'")),
        "{refused:?}"
    );
    assert_eq!(h.state_of("1.4"), "pending", "nothing changed");
    assert!(h.events_of("plan.revised").is_empty());
    let r = apply_with(&mut h, &revised(), false, &["1.1"], &[]).expect("applies");
    assert_eq!(r.rerun, ["1.1"]);
    assert_eq!(h.state_of("1.1"), "ready");
}

#[test]
fn a_blocked_task_whose_failed_dependency_left_the_plan_runs() {
    let mut h = Harness::new();
    h.load(&plan(&[
        ("1.1", 1, "", "false"),
        ("1.2", 1, "Task 1.1", "true"),
    ]))
    .expect("loads");
    h.action("1.1", crate::command::TaskAction::Fail)
        .expect("failed");
    assert_eq!(h.state_of("1.2"), "blocked");
    apply(&mut h, &plan(&[("1.2", 1, "", "true")]), false).expect("applies");
    assert_eq!(h.state_of("1.1"), "removed");
    assert_eq!(h.state_of("1.2"), "ready");
}

#[test]
fn history_keeps_every_version_and_each_text() {
    let (mut h, _a, _) = running();
    apply(&mut h, &revised(), false).expect("applies");
    let history: Vec<VersionView> = h.ask(|r| Query::PlanHistory(r).into()).expect("history");
    let versions: Vec<(u32, &str)> = history
        .iter()
        .map(|v| (v.version, v.summary.as_str()))
        .collect();
    assert_eq!(
        versions,
        [(1, "loaded: 4 tasks"), (2, "2 added, 1 removed, 2 changed")]
    );
    assert_eq!(
        (history[1].actor.as_str(), history[1].reason.as_str()),
        ("admin (as Ann)", "standup")
    );
    let v1: PlanText = h.ask(|r| Query::PlanText(1, r).into()).expect("v1");
    assert!(v1.text.contains("echo old"));
    let now: PlanText = h.ask(|r| Query::PlanText(0, r).into()).expect("current");
    assert_eq!(now.text, revised());
    let missing = h.ask(|r| Query::PlanText(3, r).into());
    assert!(
        matches!(&missing, Err(CoreError::NotFound(m)) if m.contains("versions are 1 to 2")),
        "{missing:?}"
    );
}

#[test]
fn after_a_restart_the_newest_version_runs_on_the_same_positions() {
    let (mut h, _a, old) = running();
    apply(&mut h, &revised(), false).expect("applies");
    let mut h = h.reopen(config());
    assert_eq!(h.state_of("1.4"), "removed");
    assert_eq!(h.state_of("1.2"), "running");
    assert_eq!(h.state_of("1.3"), "pending");
    assert_eq!(
        h.task("1.4").task.title,
        "Task 1.4",
        "its definition from version 1"
    );
    // The agent resumes the old attempt; its success releases the rest.
    let a = h
        .connect_with(
            "sre-1",
            &["sre"],
            1,
            vec![crate::tests::attempt_ref("1.2", old)],
        )
        .expect("resumes");
    h.report(&a, "1.2", old, Outcome::Succeeded);
    assert_eq!(h.state_of("1.5"), "running");
    let history: Vec<VersionView> = h.ask(|r| Query::PlanHistory(r).into()).expect("history");
    assert_eq!(history.len(), 2);
}

#[test]
fn the_next_report_lists_the_plan_changes_with_who_and_why() {
    let (mut h, _a, _) = running();
    while h.receivers.jobs.try_recv().is_ok() {}
    h.advance(60_000);
    apply(&mut h, &revised(), false).expect("applies");
    let (reply, _answer) = tokio::sync::oneshot::channel();
    h.turn(vec![crate::command::CheckpointCmd::Run {
        kind: None,
        actor: crate::actor::Actor::new("admin"),
        reply,
    }
    .into()]);
    let job = h.receivers.jobs.try_recv().expect("a report");
    assert_eq!(job.plan_changes.len(), 1, "{:?}", job.plan_changes);
    let line = &job.plan_changes[0];
    assert!(
        line.contains(
            "— version 2 by admin (as Ann) (standup): 2 added, 1 removed, 2 changed — + task 1.5"
        ),
        "{line}"
    );
    assert!(line.contains("- task 1.4: Task 1.4"), "{line}");
    // The one after it has nothing new to say.
    let (reply, _answer) = tokio::sync::oneshot::channel();
    h.turn(vec![crate::command::CheckpointCmd::Run {
        kind: None,
        actor: crate::actor::Actor::new("admin"),
        reply,
    }
    .into()]);
    let next = h.receivers.jobs.try_recv().expect("a report");
    assert!(next.plan_changes.is_empty(), "{:?}", next.plan_changes);
}

#[test]
fn removing_the_running_task_stops_its_attempt_and_its_late_result_is_rejected() {
    let (mut h, mut a, old) = running();
    let without = plan(&[
        ("1.1", 1, "", "true"),
        ("1.3", 2, "", "true"),
        ("1.4", 1, "", "true"),
    ]);
    let r = apply(&mut h, &without, false).expect("applies");
    assert_eq!(r.stopped, ["1.2"]);
    assert!(a
        .inbox()
        .iter()
        .any(|m| matches!(m, ToAgent::Cancel(r, _) if r.attempt == old)));
    assert_eq!(h.state_of("1.2"), "removed");
    assert_eq!(
        h.task("1.2").task.reason,
        "removed with plan version 2 (was running)"
    );
    // Its dependents lost it: they run now.
    assert_eq!(h.state_of("1.3"), "running");
    h.report(&a, "1.2", old, Outcome::Succeeded);
    assert_eq!(
        h.state_of("1.2"),
        "removed",
        "a late result changes nothing"
    );
    assert_eq!(h.events_of("attempt.rejected").len(), 1);
}

#[test]
fn a_task_added_after_a_closed_gate_waits_for_it_and_an_open_gate_stays_open() {
    const GATED: &str = "# Gated\n\n### Day 1: First\n\n**Task 1.1**: Build\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `true`\n\n**Day 1 Exit Criteria**:\n- [ ] Built\n\n### Day 2: Second\n\n**Task 2.1**: Ship\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `true`\n";
    let mut h = Harness::with(crate::config::CoreConfig {
        gates: true,
        ..config()
    });
    h.load(GATED).expect("loads");
    let more = format!("{GATED}\n**Task 2.2**: Announce\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `true`\n");
    apply(&mut h, &more, false).expect("applies");
    let held = h.task("2.2").task;
    assert_eq!(held.state.name(), "pending");
    assert!(
        held.reason.contains("Day 1 exit criteria gate"),
        "{}",
        held.reason
    );
    // Approved, the gate lets both through, and a later revision keeps it open.
    h.ask(|reply| {
        PlanCmd::ApproveGate {
            day: 1,
            actor: crate::actor::Actor::new("admin"),
            reply,
        }
        .into()
    })
    .expect("approved");
    let third = more.replace("**Task 2.2**: Announce", "**Task 2.2**: Announce it");
    apply(&mut h, &third, false).expect("applies");
    assert_eq!(h.state_of("2.2"), "ready");
    assert_eq!(h.state_of("2.1"), "ready");
}

#[test]
fn an_operator_action_on_a_removed_task_is_refused() {
    let (mut h, _a, _) = running();
    apply(&mut h, &revised(), false).expect("applies");
    for action in [
        crate::command::TaskAction::Done,
        crate::command::TaskAction::Retry,
        crate::command::TaskAction::Skip,
    ] {
        let refused = h.action("1.4", action);
        assert!(
            matches!(&refused, Err(CoreError::Conflict(m)) if m.contains("left the plan with a revision")),
            "{refused:?}"
        );
    }
    assert_eq!(h.state_of("1.4"), "removed");
}

#[test]
fn a_removed_task_comes_back_in_place_and_a_restart_finds_every_definition() {
    let (mut h, _a, _) = running();
    apply(&mut h, &revised(), false).expect("version 2 removes 1.4");
    // Version 3 brings 1.4 back and drops 1.5 (added by version 2).
    let third = plan(&[
        ("1.1", 1, "", "true"),
        ("1.2", 1, "Task 1.1", "echo new"),
        ("1.3", 3, "Task 1.2", "true"),
        ("1.4", 1, "Task 1.2", "echo back"),
        ("1.6", 1, "Task 1.1", "true"),
    ]);
    let r = apply(&mut h, &third, false).expect("version 3");
    assert_eq!(r.version, 3);
    assert_eq!(h.state_of("1.4"), "pending");
    assert_eq!(h.task("1.4").task.reason, "back in the plan with version 3");
    assert_eq!(h.state_of("1.5"), "removed");
    let before: Vec<(String, String)> = ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6"]
        .iter()
        .map(|id| (id.to_string(), h.state_of(id)))
        .collect();
    let mut h = h.reopen(config());
    let after: Vec<(String, String)> = before
        .iter()
        .map(|(id, _)| (id.clone(), h.state_of(id)))
        .collect();
    assert_eq!(after, before);
    // 1.5's definition comes from version 2, the newest that had it.
    assert_eq!(h.task("1.5").task.title, "Task 1.5");
    let history: Vec<VersionView> = h.ask(|r| Query::PlanHistory(r).into()).expect("history");
    assert_eq!(history.len(), 3);
}
