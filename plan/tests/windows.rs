//! Day windows: `**Name (N hours)**` lines inside a day, laid end to end;
//! the implicit dependency rule that follows them; their TOML form.

use swarm_plan::{load_text, markdown, parse, toml_form, Catalogue, CompiledPlan, Format};

const PLAN: &str = "# Windows

### Day 1: One (8 hours)

**Task 1.1**: Before any window
- **Agent**: SRE
- **Duration**: 1 hour
- **Dependencies**: None

**Morning (2 hours)**

**Task 1.2**: Morning work
- **Agent**: SRE
- **Duration**: 2 hours

**Checklist (1 hour)**
- [ ] Stakeholders told
- [x] Rollback ready — **Check**: `test -f rollback.sh`

**Afternoon (3 hours)**

**Task 1.3**: Afternoon work
- **Agent**: SRE
- **Duration**: 1 hour

**Task 1.4**: Free standing
- **Agent**: SRE
- **Duration**: 1 hour
- **Dependencies**: None

### Day 2: Two

**Morning (4 hours)**

**Task 2.1**: A
- **Agent**: SRE
- **Duration**: 1 hour

**Task 2.2**: B
- **Agent**: SRE
- **Duration**: 1 hour

**Afternoon (4 hours)**

**Task 2.3**: C
- **Agent**: SRE
- **Duration**: 1 hour
";

fn load(text: &str, format: Format) -> CompiledPlan {
    load_text(text, "w.md", format, &Catalogue::builtin()).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn deps<'a>(plan: &'a CompiledPlan, id: &str) -> Vec<&'a str> {
    let i = plan.index_of(id).expect("task exists");
    let mut ids: Vec<&str> = plan.tasks[i]
        .deps
        .iter()
        .map(|&d| plan.plan.tasks[d].id.as_str())
        .collect();
    ids.sort_unstable();
    ids
}

#[test]
fn windows_are_laid_end_to_end_with_their_checklists() {
    let plan = load(PLAN, Format::Markdown);
    let day = &plan.plan.days[0];
    let laid: Vec<(&str, u64, u64)> = day
        .windows
        .iter()
        .map(|w| {
            (
                w.name.as_str(),
                w.offset.secs() / 60,
                w.duration.secs() / 60,
            )
        })
        .collect();
    assert_eq!(
        laid,
        [
            ("Morning", 0, 120),
            ("Checklist", 120, 60),
            ("Afternoon", 180, 180)
        ]
    );
    let checklist = &day.windows[1].checklist;
    assert_eq!(checklist.len(), 2);
    assert_eq!(
        (checklist[0].text.as_str(), checklist[0].done),
        ("Stakeholders told", false)
    );
    assert_eq!(checklist[1].check.as_deref(), Some("test -f rollback.sh"));
    let window = |id: &str| plan.plan.tasks[plan.index_of(id).unwrap()].window;
    assert_eq!(
        [window("1.1"), window("1.2"), window("1.3"), window("2.3")],
        [None, Some(0), Some(2), Some(1)]
    );
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
}

#[test]
fn a_task_without_dependencies_waits_for_the_nearest_earlier_window_with_tasks() {
    let plan = load(PLAN, Format::Markdown);
    // The part of the day before its first window counts as a section.
    assert_eq!(deps(&plan, "1.2"), ["1.1"]);
    // The checklist window has no tasks: the morning's are the nearest.
    assert_eq!(deps(&plan, "1.3"), ["1.2"]);
    // An explicit None is no dependency at all.
    assert!(deps(&plan, "1.4").is_empty());
    // The first window with tasks waits for the whole previous day.
    assert_eq!(deps(&plan, "2.1"), ["1.1", "1.2", "1.3", "1.4"]);
    assert_eq!(deps(&plan, "2.2"), ["1.1", "1.2", "1.3", "1.4"]);
    assert_eq!(deps(&plan, "2.3"), ["2.1", "2.2"]);
}

#[test]
fn windows_round_trip_through_markdown_and_toml() {
    let plan = load(PLAN, Format::Markdown);
    let md = markdown::write(&plan.plan);
    assert!(
        md.contains("\n**Checklist (1 hour)**\n- [ ] Stakeholders told\n"),
        "{md}"
    );
    assert_eq!(load(&md, Format::Markdown).plan, plan.plan);
    let toml = toml_form::write(&plan.plan);
    assert!(toml.contains("[[day.window]]"), "{toml}");
    assert!(toml.contains("window = \"Afternoon\""), "{toml}");
    let back = load(&toml, Format::Toml);
    assert_eq!(back.plan, plan.plan);
    assert_eq!(back.tasks, plan.tasks);
}

#[test]
fn a_repeated_window_name_is_written_as_its_position() {
    let text = PLAN.replace("**Afternoon (3 hours)**", "**Morning (3 hours)**");
    let plan = load(&text, Format::Markdown);
    let toml = toml_form::write(&plan.plan);
    assert!(toml.contains("window = 3\n"), "{toml}");
    assert_eq!(load(&toml, Format::Toml).plan, plan.plan);
}

#[test]
fn a_toml_task_naming_a_missing_window_is_an_error_at_its_line() {
    let toml = "name = \"t\"\n\n[[day]]\nnumber = 1\n\n[[day.window]]\nname = \"Morning\"\nduration = \"4 hours\"\n\n[[task]]\nid = \"1.1\"\nday = 1\nwindow = \"Evening\"\nagent = \"SRE\"\nduration = \"1 hour\"\n";
    let err =
        load_text(toml, "w.toml", Format::Toml, &Catalogue::builtin()).expect_err("no such window");
    assert!(
        err.to_string().contains("w.toml:11: error: task 1.1 names window 'Evening', which day 1 does not have; its windows are 'Morning'"),
        "{err}"
    );
    let no_length = toml.replace("duration = \"4 hours\"\n", "");
    let err = load_text(&no_length, "w.toml", Format::Toml, &Catalogue::builtin())
        .expect_err("no length");
    assert!(
        err.to_string()
            .contains("w.toml:7: error: window 'Morning' has no duration"),
        "{err}"
    );
}

#[test]
fn only_a_bold_line_with_a_length_opens_a_window() {
    let text = PLAN
        .replace("**Morning (2 hours)**", "**Morning Sprint** (2 hours)")
        .replace("**Afternoon (3 hours)**", "**Launch (final)**");
    let plan = load(&text, Format::Markdown);
    assert!(plan.plan.days[0].windows.len() == 1, "only the checklist");
    let bad = PLAN.replace("(2 hours)**", "(2 hourz)**");
    let parsed = parse(&bad, "w.md", Format::Markdown);
    let errors: Vec<String> = parsed.diagnostics.iter().map(ToString::to_string).collect();
    assert!(
        errors.iter().any(
            |e| e.starts_with("w.md:10: error: window 'Morning': malformed duration '2 hourz'")
        ),
        "{errors:?}"
    );
}

#[test]
fn windows_longer_than_their_day_are_a_warning() {
    let text = PLAN.replace("**Afternoon (3 hours)**", "**Afternoon (6 hours)**");
    let plan = load(&text, Format::Markdown);
    let warnings: Vec<String> = plan.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with(
            "w.md:3: warning: day 1's windows add up to 9 hours, more than the day's 8 hours"
        ),
        "{warnings:?}"
    );
}
