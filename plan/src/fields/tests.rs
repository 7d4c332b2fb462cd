use super::*;

fn hours(h: f64) -> PlanDuration {
    PlanDuration((h * 3600.0) as u64)
}

#[test]
fn durations_in_every_written_form() {
    for (text, want) in [
        ("2 hours", hours(2.0)),
        ("1 hour", hours(1.0)),
        ("1.5 hours", hours(1.5)),
        ("90 minutes", hours(1.5)),
        ("45 min", PlanDuration(2700)),
        ("2h", hours(2.0)),
        ("30m", PlanDuration(1800)),
        ("1h30m", hours(1.5)),
        ("1 hour 30 minutes", hours(1.5)),
        ("2 hours (estimated)", hours(2.0)),
        ("20s", PlanDuration(20)),
        ("  3 Hours ", hours(3.0)),
    ] {
        assert_eq!(parse_duration(text), Ok(want), "{text}");
    }
    for bad in [
        "",
        "two hours",
        "2 parsecs",
        "h",
        "1.2.3h",
        "9999999999999 hours",
        "2 hours 3",
    ] {
        let err = parse_duration(bad).unwrap_err();
        assert!(err.contains("duration"), "{bad}: {err}");
    }
}

#[test]
fn priorities() {
    assert_eq!(parse_priority("P0"), Ok(Priority::P0));
    assert_eq!(parse_priority(" p3 "), Ok(Priority::P3));
    assert_eq!(parse_priority("P1 (high)"), Ok(Priority::P1));
    assert_eq!(parse_priority("P2 - normal"), Ok(Priority::P2));
    for bad in ["P4", "P10", "high", "", "PX", "P1x"] {
        let err = parse_priority(bad).unwrap_err();
        assert!(err.contains("expected P0, P1, P2 or P3"), "{bad}: {err}");
    }
}

#[test]
fn agents_one_two_three_and_swarms() {
    let roles = |v: &[&str]| Agents::Roles(v.iter().map(|s| s.to_string()).collect());
    assert_eq!(parse_agents("SRE"), Ok(roles(&["SRE"])));
    assert_eq!(
        parse_agents("DevOps Engineer + CI/CD Engineer"),
        Ok(roles(&["DevOps Engineer", "CI/CD Engineer"]))
    );
    assert_eq!(
        parse_agents("Coder + Reviewer + Tester"),
        Ok(roles(&["Coder", "Reviewer", "Tester"]))
    );
    assert_eq!(
        parse_agents("2x SRE + Coder"),
        Ok(roles(&["SRE", "SRE", "Coder"]))
    );
    assert_eq!(
        parse_agents("Backend Developer (lead)"),
        Ok(roles(&["Backend Developer"]))
    );
    assert_eq!(
        parse_agents("Full Swarm (8-10 agents)"),
        Ok(Agents::Swarm {
            min: 8,
            max: Some(10)
        })
    );
    assert_eq!(
        parse_agents("Full Swarm (monitoring mode)"),
        Ok(Agents::Monitoring)
    );
    assert!(parse_agents("SRE + ").is_err());
    assert!(parse_agents("Full Swarm (lots)").is_err());
}

#[test]
fn every_dependency_phrase() {
    let task = |id: &str| DepRef::Task {
        id: id.into(),
        day: None,
    };
    assert_eq!(parse_depends("None"), Ok(vec![]));
    assert_eq!(parse_depends("None (can run in parallel)"), Ok(vec![]));
    assert_eq!(parse_depends("Task 1.2"), Ok(vec![task("1.2")]));
    assert_eq!(
        parse_depends("Task 1.1 (backup scripts must be ready)"),
        Ok(vec![task("1.1")])
    );
    assert_eq!(
        parse_depends("Day 1 Task 1.4 (production deployment)"),
        Ok(vec![DepRef::Task {
            id: "1.4".into(),
            day: Some(1)
        }])
    );
    assert_eq!(
        parse_depends("Tasks 1.1, 1.2"),
        Ok(vec![task("1.1"), task("1.2")])
    );
    assert_eq!(
        parse_depends("Task 1.1 and Task 1.3"),
        Ok(vec![task("1.1"), task("1.3")])
    );
    assert_eq!(
        parse_depends("Day 5 (pipeline refactoring complete)"),
        Ok(vec![DepRef::Day(5)])
    );
    assert_eq!(
        parse_depends("Days 1-7 (all refactoring complete)"),
        Ok(vec![DepRef::Days(1, 7)])
    );
    assert_eq!(parse_depends("Days 1–7"), Ok(vec![DepRef::Days(1, 7)]));
    assert_eq!(
        parse_depends("Days 1, 3"),
        Ok(vec![DepRef::Day(1), DepRef::Day(3)])
    );
    assert_eq!(
        parse_depends("Task 3.2.1, 2.10"),
        Ok(vec![task("3.2.1"), task("2.10")])
    );
    for bad in [
        "Task",
        "Task one",
        "yesterday",
        "Days 7-1",
        "Task 1.2 or Task 1.3",
    ] {
        let err = parse_depends(bad).unwrap_err();
        assert!(err.contains("cannot read dependency"), "{bad}: {err}");
    }
}

#[test]
fn times_of_day() {
    assert_eq!(parse_time_of_day("9:00 AM"), Some(540));
    assert_eq!(parse_time_of_day("1:00 PM"), Some(780));
    assert_eq!(parse_time_of_day("5:00 PM"), Some(1020));
    assert_eq!(parse_time_of_day("12:30 pm"), Some(750));
    assert_eq!(parse_time_of_day("12 AM"), Some(0));
    assert_eq!(parse_time_of_day("17:00"), Some(1020));
    assert_eq!(parse_time_of_day("9am"), Some(540));
    assert_eq!(parse_time_of_day("13 PM"), None);
    assert_eq!(parse_time_of_day("monday"), None);
}

#[test]
fn matrix_cells() {
    assert_eq!(
        parse_role_counts("DevOps (2), Security (2), Backend (2)"),
        Some(vec![
            ("DevOps".into(), 2),
            ("Security".into(), 2),
            ("Backend".into(), 2)
        ])
    );
    assert_eq!(
        parse_role_counts("Backend (2), DB (1), Coder"),
        Some(vec![
            ("Backend".into(), 2),
            ("DB".into(), 1),
            ("Coder".into(), 1)
        ])
    );
    assert_eq!(parse_role_counts("Full swarm activation"), None);
    assert_eq!(parse_count_range("8-10"), Some((8, Some(10))));
    assert_eq!(parse_count_range("6"), Some((6, None)));
}
