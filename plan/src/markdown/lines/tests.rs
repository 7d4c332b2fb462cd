use super::*;

#[test]
fn headings_and_bullets() {
    assert_eq!(heading("### Day 1: Foo"), Some((3, "Day 1: Foo")));
    assert_eq!(heading("#NoSpace"), None);
    assert_eq!(heading("####### seven"), None);
    assert_eq!(bullet("  - text"), Some((2, "text")));
    assert_eq!(bullet("* a"), Some((0, "a")));
    assert_eq!(bullet("1. a"), Some((0, "a")));
    assert_eq!(bullet("**Task 1.1**: x"), None);
    assert_eq!(bullet("-x"), None);
}

#[test]
fn bold_fields_both_ways() {
    assert_eq!(bold_field("**Agent**: SRE"), Some(("Agent", "SRE")));
    assert_eq!(bold_field("**Agent:** SRE"), Some(("Agent", "SRE")));
    assert_eq!(bold_field("**Deliverables**:"), Some(("Deliverables", "")));
    assert_eq!(bold_field("**Morning Sprint (4 hours)**"), None);
}

#[test]
fn task_headers() {
    let yes = |t: &str, h: bool| match task_header(t, h) {
        TaskHeader::Yes(id, title) => Some((id, title)),
        _ => None,
    };
    assert_eq!(
        yes("**Task 1.1**: Backup (CRITICAL)", false),
        Some(("1.1".into(), "Backup (CRITICAL)".into()))
    );
    assert_eq!(
        yes("**Task 2.10:** Ten", false),
        Some(("2.10".into(), "Ten".into()))
    );
    assert_eq!(
        yes("**Task 3.2.1: Deep**", false),
        Some(("3.2.1".into(), "Deep".into()))
    );
    assert_eq!(
        yes("Task 4 - Whole", true),
        Some(("4".into(), "Whole".into()))
    );
    assert_eq!(yes("Task 1.1: prose", false), None);
    assert!(matches!(
        task_header("**Task 1.x**: bad", false),
        TaskHeader::BadId(_)
    ));
    assert!(matches!(
        task_header("**Task Overview**", false),
        TaskHeader::No
    ));
}

#[test]
fn day_headings_in_both_styles() {
    assert_eq!(
        day_heading("Day 1: Production Foundation (8 hours)"),
        Some((1, "Production Foundation (8 hours)"))
    );
    assert_eq!(day_heading("Day 2 - Monitoring"), Some((2, "Monitoring")));
    assert_eq!(day_heading("Day  3 — Perf"), Some((3, "Perf")));
    assert_eq!(day_heading("Day 4"), Some((4, "")));
    assert_eq!(day_heading("Days 1-3"), None);
    assert_eq!(day_heading("Daylight"), None);
    assert_eq!(exit_criteria("Day 1 Exit Criteria"), Some(Some(1)));
    assert_eq!(exit_criteria("Exit Criteria:"), Some(None));
    assert_eq!(exit_criteria("Success Criteria"), None);
}

#[test]
fn small_things() {
    assert_eq!(checkbox("[x] done"), Some((true, "done")));
    assert_eq!(checkbox("[ ] open"), Some((false, "open")));
    assert_eq!(fence("  ```python"), Some(('`', 3)));
    assert_eq!(table_cells("| 1 | a |"), Some(vec!["1", "a"]));
    assert!(is_table_rule(&["---", ":--:"]));
    assert!(is_rule("---"));
    assert!(!is_rule("--"));
    assert_eq!(unquote_code("`make test`"), "make test");
    assert_eq!(unquote_code("`` a ` b ``"), "a ` b");
    assert_eq!(unquote_code("plain"), "plain");
}

#[test]
fn window_headings() {
    assert_eq!(
        window_heading("**Morning Sprint (4 hours)**"),
        Some(("Morning Sprint", "4 hours"))
    );
    assert_eq!(
        window_heading("**Pre-Launch Checklist (1 hour)**"),
        Some(("Pre-Launch Checklist", "1 hour"))
    );
    assert_eq!(
        window_heading("**Sprint (A) (2h)**"),
        Some(("Sprint (A)", "2h"))
    );
    assert_eq!(window_heading("**Launch (final)**"), None);
    assert_eq!(window_heading("**(4 hours)**"), None);
    assert_eq!(window_heading("**Morning Sprint** (4 hours)"), None);
    assert_eq!(window_heading("**Day 1 Exit Criteria**:"), None);
    assert_eq!(window_heading("**a** (2 hours) **b**"), None);
}
