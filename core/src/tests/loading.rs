//! Loading a plan: it is compiled before the core sees it (the `Load`
//! command carries the compiled plan, never text to parse), and the core
//! persists and activates it, or refuses it while another plan runs.

use crate::command::{LoadPlan, PlanCmd, PlanText};
use crate::roles::RolesSource;
use crate::testkit::{plan, Harness};
use crate::CoreError;

fn text(markdown: &str) -> PlanText {
    PlanText {
        file_name: "plan.md".into(),
        text: markdown.into(),
        toml: false,
        roles_toml: String::new(),
    }
}

#[test]
fn the_load_command_carries_a_compiled_plan_and_the_core_activates_it() {
    let mut h = Harness::new();
    let markdown = plan(&[
        ("1.1", "SRE", "P1", 1, ""),
        ("1.2", "SRE", "P1", 1, "Task 1.1"),
    ]);
    let load = LoadPlan::compile(text(&markdown), &RolesSource::default()).expect("compiles");
    // Compiled here, off the loop: the command holds the tasks and their
    // dependencies already resolved.
    assert_eq!(load.compiled().tasks.len(), 2);
    assert_eq!(load.compiled().tasks[1].deps, [0]);
    assert_eq!(
        load.source().text,
        markdown,
        "the text is kept to be stored"
    );
    let loaded = h
        .ask(|reply| {
            PlanCmd::Load {
                plan: Box::new(load),
                actor: crate::actor::Actor::new("admin"),
                reply,
            }
            .into()
        })
        .expect("activated");
    assert_eq!((loaded.plan_id, loaded.tasks), (1, 2));
    assert_eq!(h.task("1.1").task.state.name(), "ready");
    assert_eq!(h.task("1.2").task.state.name(), "pending");
}

#[test]
fn a_compile_error_keeps_its_file_and_line_and_reaches_no_core() {
    let bad = "# Plan\n\n### Day 1: Work\n\n**Task 1.1**: One\n- **Agent**: SRE\n- **Duration**: 1 hour\n- **Dependencies**: Task 9.9\n";
    let err = LoadPlan::compile(text(bad), &RolesSource::default()).expect_err("unknown dep");
    let CoreError::Invalid(message) = err else {
        panic!("not a plan error: {err:?}");
    };
    assert!(message.starts_with("plan.md:"), "{message}");
}

#[test]
fn a_plan_is_refused_while_another_runs_with_nothing_changed() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("first");
    let second = LoadPlan::compile(
        text(&plan(&[("2.1", "SRE", "P1", 1, "")])),
        &RolesSource::default(),
    )
    .expect("compiles");
    let refused = h.ask(|reply| {
        PlanCmd::Load {
            plan: Box::new(second),
            actor: crate::actor::Actor::new("admin"),
            reply,
        }
        .into()
    });
    assert!(
        matches!(&refused, Err(CoreError::Conflict(m)) if m.contains("is still running")),
        "{refused:?}"
    );
    assert_eq!(h.status().plan_id, 1);
}

#[test]
fn the_loaded_event_counts_the_tasks_in_words() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    let loaded = h.events_of("plan.loaded");
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].message, "Test plan: 1 task");
}
