//! The seed plan (examples/plan-a-execution-timeline.md, a real plan)
//! compiles to the DAG its authors meant.

use std::path::PathBuf;

use swarm_plan::{analyse, load, Catalogue, CompiledPlan, Format, Need, Priority};

fn seed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/plan-a-execution-timeline.md")
}

fn seed() -> CompiledPlan {
    load(&seed_path(), &Catalogue::builtin()).unwrap_or_else(|e| panic!("{e}"))
}

fn deps(plan: &CompiledPlan, id: &str) -> Vec<String> {
    let i = plan.index_of(id).unwrap_or_else(|| panic!("no task {id}"));
    let mut ids: Vec<String> = plan.tasks[i]
        .deps
        .iter()
        .map(|&d| plan.plan.tasks[d].id.clone())
        .collect();
    ids.sort();
    ids
}

#[test]
fn seed_has_26_tasks_in_10_days() {
    let plan = seed();
    assert_eq!(plan.plan.tasks.len(), 26);
    assert_eq!(plan.plan.days.len(), 10);
    assert!(plan.plan.name.starts_with("Plan A Execution Timeline"));
    assert_eq!(
        plan.plan.properties.get("Status").map(String::as_str),
        Some("Active")
    );
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    for day in &plan.plan.days {
        assert_eq!(day.exit_criteria.len(), 5, "day {}", day.number);
        assert!(day.exit_criteria.iter().all(|c| c.done));
    }
}

#[test]
fn seed_dependencies_follow_every_phrase() {
    let plan = seed();
    assert_eq!(deps(&plan, "3.1"), ["2.1", "2.2", "2.3", "2.4"]);
    let days_1_to_7: Vec<String> = plan
        .plan
        .tasks
        .iter()
        .filter(|t| t.day.is_some_and(|d| d <= 7))
        .map(|t| t.id.clone())
        .collect();
    assert_eq!(days_1_to_7.len(), 20);
    let mut want = days_1_to_7.clone();
    want.sort();
    assert_eq!(deps(&plan, "8.1"), want);
    // No Dependencies bullet: the launch's window is the first of day 10
    // with tasks (the checklist window has none), so it waits for day 9;
    // the post-launch watch waits for the deployment window's task.
    assert_eq!(deps(&plan, "10.1"), ["9.1", "9.2"]);
    assert_eq!(deps(&plan, "10.2"), ["10.1"]);
    assert!(deps(&plan, "4.1").is_empty());
    assert!(deps(&plan, "1.1").is_empty());
    assert_eq!(deps(&plan, "1.2"), ["1.1"]);
    assert_eq!(deps(&plan, "2.1"), ["1.4"]);
    assert_eq!(deps(&plan, "7.1"), ["5.1", "5.2"]);
}

#[test]
fn seed_roles_and_fields() {
    let plan = seed();
    let task = |id: &str| plan.index_of(id).unwrap();
    assert_eq!(
        plan.tasks[task("1.4")].need,
        Need::Roles(vec!["devops".into(), "devops".into()].into())
    );
    assert_eq!(
        plan.tasks[task("1.1")].need,
        Need::Roles(vec!["devops".into(), "security".into()].into())
    );
    assert_eq!(
        plan.tasks[task("9.2")].need,
        Need::Roles(vec!["security".into(), "security".into()].into())
    );
    assert_eq!(
        plan.tasks[task("10.1")].need,
        Need::Swarm {
            min: 8,
            max: Some(10)
        }
    );
    assert_eq!(plan.tasks[task("10.2")].need, Need::Monitoring);
    let t11 = &plan.plan.tasks[task("1.1")];
    assert_eq!(t11.priority, Priority::P0);
    assert_eq!(t11.duration.hours(), 2.0);
    assert_eq!(t11.deliverables.len(), 9);
    assert_eq!(t11.deliverables[1], "  `scripts/backup/postgres-backup.sh`");
    assert_eq!(t11.success_criteria.len(), 4);
    assert!(t11
        .blocking
        .as_deref()
        .unwrap_or("")
        .starts_with("Production deployment"));
    let t13 = &plan.plan.tasks[task("1.3")];
    assert_eq!(t13.notes[0].field, "Code Change");
    assert!(t13.notes[0]
        .body
        .iter()
        .any(|l| l.contains("allowed_columns")));
}

#[test]
fn seed_matrix_and_checkpoints() {
    let plan = seed();
    assert_eq!(plan.matrix.len(), 10);
    assert_eq!(plan.matrix[2].roles.get("database"), Some(&2));
    assert_eq!(plan.matrix[4].roles.get("data-engineer"), Some(&2));
    assert!(plan.matrix[9].swarm);
    let times: Vec<(String, u16)> = plan
        .plan
        .checkpoints
        .iter()
        .map(|c| (c.name.clone(), c.minute_of_day))
        .collect();
    assert_eq!(
        times,
        [
            ("Daily Standup".to_string(), 540),
            ("Mid-Day Check".to_string(), 780),
            ("End-of-Day Review".to_string(), 1020)
        ]
    );
    assert_eq!(plan.plan.checkpoints[0].agenda.len(), 4);
}

#[test]
fn seed_days_have_windows_laid_end_to_end() {
    let plan = seed();
    let day = |n: u32| &plan.plan.days[n as usize - 1];
    let windows = |n: u32| -> Vec<(String, u64, u64)> {
        day(n)
            .windows
            .iter()
            .map(|w| {
                (
                    w.name.clone(),
                    w.offset.hours() as u64,
                    w.duration.hours() as u64,
                )
            })
            .collect()
    };
    for n in (1..=9).filter(|&n| n != 7) {
        assert_eq!(
            windows(n),
            [
                ("Morning Sprint".to_string(), 0, 4),
                ("Afternoon Sprint".to_string(), 4, 4)
            ],
            "day {n}"
        );
    }
    assert_eq!(
        windows(7),
        [
            ("Morning Sprint".to_string(), 0, 3),
            ("Afternoon Sprint".to_string(), 3, 3)
        ]
    );
    assert_eq!(
        windows(10),
        [
            ("Pre-Launch Checklist".to_string(), 0, 1),
            ("Deployment Window".to_string(), 1, 3),
            ("Post-Launch Monitoring".to_string(), 4, 4)
        ]
    );
    let checklist = &day(10).windows[0].checklist;
    assert_eq!(checklist.len(), 10);
    assert_eq!(checklist[0].text, "All tests passing");
    assert!(checklist.iter().all(|c| c.done));
    assert!(day(10).windows[1..].iter().all(|w| w.checklist.is_empty()));
    let window = |id: &str| plan.plan.tasks[plan.index_of(id).unwrap()].window;
    assert_eq!(window("1.2"), Some(0));
    assert_eq!(window("1.3"), Some(1));
    assert_eq!(window("10.1"), Some(1));
    assert_eq!(window("10.2"), Some(2));
}

#[test]
fn seed_critical_path_is_25_hours() {
    let plan = seed();
    let a = analyse(&plan);
    assert_eq!(a.makespan, 25 * 3600);
    let ids: Vec<&str> = a
        .critical_path
        .iter()
        .map(|&i| plan.plan.tasks[i].id.as_str())
        .collect();
    assert_eq!(
        ids,
        ["1.1", "1.2", "1.4", "2.1", "2.2", "3.1", "3.2", "9.1", "10.1", "10.2"]
    );
    for &i in &a.critical_path {
        assert_eq!(a.slack(i), 0);
    }
    let i41 = plan.index_of("4.1").unwrap();
    assert_eq!(a.earliest_start[i41], 0);
    assert_eq!(a.slack(i41), 10 * 3600, "4.1 can slip until 9.1 must start");
    assert_eq!(a.rank[plan.index_of("1.1").unwrap()], 25 * 3600);
    assert_eq!(a.role_secs.get("devops"), Some(&(14 * 3600)));
}

#[test]
fn seed_round_trips_through_toml_and_markdown() {
    let plan = seed();
    let toml = swarm_plan::toml_form::write(&plan.plan);
    let back = swarm_plan::load_text(&toml, "seed.toml", Format::Toml, &Catalogue::builtin())
        .unwrap_or_else(|e| panic!("{e}\n{toml}"));
    assert_eq!(back.plan, plan.plan);
    let md = swarm_plan::markdown::write(&plan.plan);
    let again = swarm_plan::load_text(&md, "seed.md", Format::Markdown, &Catalogue::builtin())
        .unwrap_or_else(|e| panic!("{e}\n{md}"));
    assert_eq!(again.plan, plan.plan);
    assert_eq!(again.tasks, plan.tasks);
}
