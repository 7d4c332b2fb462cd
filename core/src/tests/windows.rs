//! Day windows: under the calendar pace a task does not start before its
//! window opens (windows are laid end to end from 09:00, the harness's
//! working day start), and a window that holds only a checklist is shown
//! in its day's first report.

use crate::config::{CoreConfig, Pace};
use crate::jobs::report::{ChecklistJob, ReportJob};
use crate::testkit::{config, Harness};

const HOUR: i64 = 3_600_000;

/// A task bullet list with no Dependencies field unless `deps` is given.
fn task(id: &str, deps: &str) -> String {
    let deps = if deps.is_empty() {
        String::new()
    } else {
        format!("- **Dependencies**: {deps}\n")
    };
    format!("**Task {id}**: Task {id}\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n{deps}- **Run**: `true`\n\n")
}

fn sprints() -> String {
    format!(
        "# Windows\n\n### Day 1: One\n\n**Morning Sprint (4 hours)**\n\n{}**Afternoon Sprint (4 hours)**\n\n{}### Day 2: Two\n\n**Pre-Launch Checklist (1 hour)**\n- [ ] Rollback plan prepared\n- [x] Team briefed\n\n**Deployment Window (3 hours)**\n\n{}",
        task("1.1", "None"),
        task("1.2", "None"),
        task("2.1", "None"),
    )
}

fn calendar() -> CoreConfig {
    CoreConfig {
        pace: Pace::Calendar,
        ..config()
    }
}

#[test]
fn under_the_calendar_pace_an_afternoon_task_waits_for_its_window() {
    let mut h = Harness::with(calendar());
    h.load(&sprints()).expect("loads");
    assert_eq!(h.state_of("1.1"), "ready", "the morning window is open");
    assert_eq!(h.state_of("1.2"), "pending", "the afternoon opens at 13:00");
    h.advance(4 * HOUR - 1);
    h.tick();
    assert_eq!(h.state_of("1.2"), "pending", "12:59:59.999");
    h.advance(1);
    h.tick();
    assert_eq!(h.state_of("1.2"), "ready", "13:00");
    // Day 2's deployment window opens at 10:00, after its checklist hour.
    h.advance(21 * HOUR - 1);
    h.tick();
    assert!(h.status().plan_time.starts_with("Day 2"));
    assert_eq!(h.state_of("2.1"), "pending", "09:59:59.999");
    h.advance(1);
    h.tick();
    assert_eq!(h.state_of("2.1"), "ready", "10:00");
}

#[test]
fn as_soon_as_possible_ignores_the_windows() {
    let mut h = Harness::new();
    h.load(&sprints()).expect("loads");
    for id in ["1.1", "1.2", "2.1"] {
        assert_eq!(h.state_of(id), "ready", "{id}");
    }
}

/// The report jobs handed out since the last call.
fn jobs(h: &mut Harness) -> Vec<ReportJob> {
    let mut out = Vec::new();
    while let Ok(job) = h.receivers.jobs.try_recv() {
        out.push(job);
    }
    out
}

#[test]
fn a_checklist_window_is_in_its_days_first_report_only() {
    let plan = sprints().replace(
        "**Morning Sprint (4 hours)**\n",
        "**Kick-off (1 hour)**\n- [ ] Agents connected\n\n**Morning Sprint (3 hours)**\n",
    );
    let mut h = Harness::new();
    h.load(&plan).expect("loads");
    let first = jobs(&mut h);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].kind, "Daily Standup");
    assert_eq!(
        first[0].checklists,
        [ChecklistJob {
            window: "Kick-off".into(),
            items: vec![(false, "Agents connected".into())],
        }],
        "the first report of all"
    );
    h.advance(4 * HOUR);
    h.tick();
    let midday = jobs(&mut h);
    assert_eq!(midday.len(), 1);
    assert!(midday[0].checklists.is_empty(), "not the day's first");
    h.advance(20 * HOUR);
    h.tick();
    let later = jobs(&mut h);
    let kinds: Vec<(&str, u32, usize)> = later
        .iter()
        .map(|j| (j.kind.as_str(), j.plan_day, j.checklists.len()))
        .collect();
    assert_eq!(
        kinds,
        [("End-of-Day Review", 1, 0), ("Daily Standup", 2, 1)]
    );
    let standup = &later[1];
    assert_eq!(standup.checklists[0].window, "Pre-Launch Checklist");
    // How the reporter renders it: the report worker's own tests.
    assert_eq!(
        standup.checklists[0].items,
        [
            (false, "Rollback plan prepared".to_string()),
            (true, "Team briefed".to_string())
        ]
    );
    assert!(later[0].checklists.is_empty());
}
