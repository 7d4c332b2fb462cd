//! The checkpoint report's rendering and its criteria checks.

use super::*;
use std::path::PathBuf;
use swarm_core::jobs::{ChecklistJob, InProgress};
use swarm_core::views::Counts;

fn job(n: usize) -> ReportJob {
    let ids: Vec<String> = (0..n).map(|i| format!("9.{i}")).collect();
    ReportJob {
        projection_text: String::new(),
        verdict: swarm_core::verdict::Verdict::Behind,
        verdict_reason: "many failed".into(),
        plan_id: 1,
        kind: "Standup".into(),
        at: 0,
        plan_time: 0,
        plan_time_label: "Day 1 09:00".into(),
        plan_day: 1,
        plan_name: "Big".into(),
        state: PlanState::Running,
        counts: Counts::default(),
        finished: ids
            .iter()
            .take(200)
            .map(|i| format!("Task {i}: done"))
            .collect(),
        merged: None,
        finished_total: n,
        in_progress: ids
            .iter()
            .map(|i| InProgress {
                task: format!("Task {i}"),
                agents: vec!["sre-1".into()],
                elapsed_h: 1.0,
                planned_h: 2.0,
            })
            .collect(),
        blockers: ids
            .iter()
            .map(|i| format!("Task {i} is blocked: 1.1 failed"))
            .collect(),
        checklists: Vec::new(),
        criteria_day: 1,
        criteria: Vec::new(),
        remaining_path: ids.clone(),
        remaining_hours: n as f64,
        projected: "Day 9".into(),
        planned_end: "Day 2".into(),
        behind_hours: 7.0,
        allocation: Vec::new(),
        spend: Default::default(),
        decisions: ids.iter().map(|i| format!("moved agent {i}")).collect(),
        actions: vec!["Day 1 10:00 — admin (as Ann) — `plan.paused`".into()],
        actions_total: 1,
        plan_changes: vec![
            "Day 1 11:00 — version 2 by admin (as Ann) (standup): 1 added — + task 9.9: New (sre, P1, 1 hour)".into(),
        ],
        workdir: PathBuf::from("."),
        report_path: PathBuf::from("r.md"),
        reply: None,
    }
}

#[test]
fn a_checklist_is_rendered_with_its_ticks_and_none_without_one() {
    let mut with = job(1);
    with.checklists = vec![ChecklistJob {
        window: "Pre-Launch Checklist".into(),
        items: vec![
            (false, "Rollback plan prepared".into()),
            (true, "Team briefed".into()),
        ],
    }];
    let report = render(&with, &[]);
    assert!(
        report.contains(
            "### Checklist: Pre-Launch Checklist\n\n- [ ] Rollback plan prepared\n- [x] Team briefed\n\n"
        ),
        "{report}"
    );
    assert!(!render(&job(1), &[]).contains("### Checklist"));
}

#[test]
fn the_heading_says_how_the_plan_stands_in_words() {
    let mut one = job(1);
    one.counts.total = 1;
    one.state = PlanState::Succeeded;
    let text = render(&one, &[]);
    assert!(
        text.contains("Plan *Big* has succeeded · 0/1 task done ·"),
        "{text}"
    );
    one.state = PlanState::Cancelled;
    one.counts.total = 3;
    let text = render(&one, &[]);
    assert!(
        text.contains("Plan *Big* was cancelled · 0/3 tasks done ·"),
        "{text}"
    );
    assert!(
        text.contains(". Finished Day 9 (plan ends Day 2)."),
        "{text}"
    );
}

#[test]
fn control_characters_of_the_plan_are_escaped_in_the_report() {
    let mut hostile = job(1);
    hostile.plan_name = "red \u{1b}[31mX\r".into();
    hostile.finished = vec!["Task 1.1 \u{1b}]0;pwned\u{7}: done".into()];
    let text = render(&hostile, &[]);
    let raw: Vec<char> = text
        .chars()
        .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
        .collect();
    assert!(raw.is_empty(), "{raw:?} in {text}");
    assert!(
        text.contains("Plan *red \\u{1b}[31mX\\r* is running"),
        "{text}"
    );
    assert!(
        text.contains("- Task 1.1 \\u{1b}]0;pwned\\u{7}: done"),
        "{text}"
    );
}

#[tokio::test]
async fn a_check_is_not_run_before_the_days_tasks_are_done() {
    let dir = tempfile::tempdir().expect("tmp");
    let ran = dir.path().join("ran");
    let check = CriterionJob {
        text: "Backups verified".into(),
        check: Some(format!("touch {}", ran.display())),
        tasks_done: false,
    };
    let (met, why) = evaluate(&check, dir.path()).await;
    assert!(!met);
    assert_eq!(why, "not checked yet: the work it checks has not finished");
    assert!(!ran.exists(), "the check did not run");
    let done = CriterionJob {
        tasks_done: true,
        ..check
    };
    let (met, why) = evaluate(&done, dir.path()).await;
    assert!(met, "{why}");
    assert!(why.ends_with("passed"), "{why}");
    assert!(ran.exists());
}

#[test]
fn a_huge_plan_gets_a_report_of_a_page_with_counts_and_commands() {
    let text = render(&job(50_000), &[]);
    assert!(text.len() < 20_000, "{} bytes", text.len());
    for line in [
        "- … and 49950 more: `swarmctl tasks --state succeeded`",
        "- … and 49950 more: `swarmctl tasks --state running`",
        "- … and 49950 more: `swarmctl tasks`",
        "- … and 49950 more: `swarmctl standup show`",
        "9.14 → … (49980 more) … → 9.49995",
    ] {
        assert!(text.contains(line), "{line} missing");
    }
    let small = render(&job(3), &[]);
    assert!(small.contains("9.0 → 9.1 → 9.2 —"), "{small}");
    assert!(!small.contains("more"), "{small}");
}

#[test]
fn the_spend_section_sums_by_role_and_day_and_is_absent_without_spend() {
    use swarm_core::views::{SpendLine, SpendView, Tally};
    assert!(!render(&job(1), &[]).contains("### Spend"));
    let t = |cost: f64| Tally {
        cost_usd: cost,
        input_tokens: 100,
        output_tokens: 20,
        reports: 1,
        ..Tally::default()
    };
    let mut spent = job(1);
    spent.spend = SpendView {
        total: t(3.25),
        today: t(1.0),
        usd_per_plan_hour: 0.5,
        by_role: vec![SpendLine {
            name: "sre".into(),
            tally: t(3.25),
        }],
        by_day: vec![SpendLine {
            name: "Day 1".into(),
            tally: t(3.25),
        }],
        by_agent: Vec::new(),
    };
    let text = render(&spent, &[]);
    assert!(
        text.contains("### Spend\n\n$3.25 in all, $1.00 today, $0.50 per plan hour; 120 tokens.\n"),
        "{text}"
    );
    assert!(text.contains("| sre | 3.25 | 120 |"), "{text}");
    assert!(text.contains("| Day 1 | 3.25 | 120 |"), "{text}");
}

#[test]
fn a_revision_since_the_last_checkpoint_is_under_plan_changes() {
    let text = render(&job(1), &[]);
    let at = text
        .find("### Plan changes")
        .expect("a Plan changes section");
    assert!(
        text[at..].contains("- Day 1 11:00 — version 2 by admin (as Ann) (standup): 1 added"),
        "{text}"
    );
    let mut none = job(1);
    none.plan_changes.clear();
    assert!(!render(&none, &[]).contains("Plan changes"));
}
