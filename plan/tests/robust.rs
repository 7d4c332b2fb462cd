//! No input makes the parsers panic or hang: arbitrary strings, markdown
//! made of the plan's own line shapes, 10 MB of text, deep nesting.

use proptest::prelude::*;
use swarm_plan::{analyse, compile, markdown, parse, Catalogue, Format};

/// Parses, compiles and (when valid) analyses; checks the invariants that
/// hold for every valid plan.
fn exercise(text: &str, format: Format) {
    let catalogue = Catalogue::builtin();
    let parsed = parse(text, "fuzz.md", format);
    for d in &parsed.diagnostics {
        assert!(d.line >= 1, "{d}");
    }
    if let Ok(plan) = compile(parsed, &catalogue) {
        let a = analyse(&plan);
        assert_eq!(plan.order.len(), plan.tasks.len());
        for i in 0..plan.tasks.len() {
            assert!(a.latest_start[i] >= a.earliest_start[i]);
            assert!(a.rank[i] <= a.makespan);
        }
        if format == Format::Markdown {
            let again = parse(&markdown::write(&plan.plan), "again.md", Format::Markdown);
            assert_eq!(again.plan, plan.plan, "markdown round trip");
        }
    }
}

/// Lines in the shapes the markdown parser looks for, plus noise.
fn plan_line() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u32..5, "[a-zA-Z ]{0,12}").prop_map(|(d, t)| format!("### Day {d}: {t}")),
        (1u32..5, 1u32..4).prop_map(|(d, t)| format!("**Task {d}.{t}**: Title")),
        Just("- **Agent**: DevOps Engineer + SRE".to_string()),
        Just("- **Agent**: Full Swarm (2-3 agents)".to_string()),
        Just("- **Agent**: Wizard".to_string()),
        "(P[0-5]|urgent)".prop_map(|p| format!("- **Priority**: {p}")),
        "([0-9]{1,2}(\\.5)? ?(hours|h|min|m)|soon)".prop_map(|d| format!("- **Duration**: {d}")),
        (1u32..5, 1u32..4).prop_map(|(d, t)| format!("- **Dependencies**: Task {d}.{t}")),
        (1u32..5, 1u32..5).prop_map(|(a, b)| format!("- **Dependencies**: Days {a}-{b}")),
        Just("- **Dependencies**: None (parallel)".to_string()),
        Just("- **Deliverables**:".to_string()),
        "( {0,8})- [a-z ]{0,10}".prop_map(|s| s),
        Just("- **Run**: `echo hi`".to_string()),
        Just("```".to_string()),
        (1u32..5).prop_map(|d| format!("**Day {d} Exit Criteria**:")),
        (
            "(Morning|Sprint|Morning \\(A\\)|)",
            "([0-9]{1,2}(\\.5)? ?(hours?|h|min)|[0-9] hourz|final)"
        )
            .prop_map(|(n, d)| format!("**{n} ({d})**")),
        "- \\[[ x]\\] [a-z]{0,8}".prop_map(|s| s),
        Just("## Coordination Protocol".to_string()),
        "### [A-Za-z]{1,8} \\(([0-9]{1,2}:00 (AM|PM)|noon)\\)".prop_map(|s| s),
        Just("## Appendix: Agent Allocation Matrix".to_string()),
        Just("| Day | Phase | Agents Required | Specializations |".to_string()),
        (1u32..5).prop_map(|d| format!("| {d} | P | 2 | DevOps (1), SRE (1) |")),
        Just(String::new()),
        ".{0,20}".prop_map(|s| s),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings_never_panic(text in "\\PC{0,400}") {
        exercise(&text, Format::Markdown);
        exercise(&text, Format::Toml);
    }

    #[test]
    fn plan_shaped_markdown_never_panics(lines in proptest::collection::vec(plan_line(), 0..60)) {
        exercise(&lines.join("\n"), Format::Markdown);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let text = String::from_utf8_lossy(&bytes);
        exercise(&text, Format::Markdown);
    }
}

#[test]
fn ten_megabytes_of_tasks_is_refused_not_hung() {
    let mut text = String::from("# Big\n");
    let mut task = 0usize;
    for day in 1..=2 {
        text.push_str(&format!("### Day {day}: Wide\n"));
        while text.len() < day * 5_000_000 {
            task += 1;
            text.push_str(&format!(
                "**Task {day}.{task}**: t\n- **Agent**: SRE\n- **Duration**: 1h\n"
            ));
        }
    }
    assert!(text.len() >= 10_000_000);
    let result = compile(
        parse(&text, "big.md", Format::Markdown),
        &Catalogue::builtin(),
    );
    let errors = result.expect_err("too many edges");
    assert!(
        errors.to_string().contains("dependency edges"),
        "{}",
        errors.0[0]
    );
}

#[test]
fn ten_megabytes_of_noise_parses() {
    let line = "- **Deliverables**: ((((( [[[ **** ``` ~~~ | | | ### Day x\n";
    let text = line.repeat(10_000_000 / line.len() + 1);
    exercise(&text, Format::Markdown);
    let long_line = "(".repeat(5_000_000) + "Task 1.1";
    exercise(&format!("**Task 1.1**: t\n- **Agent**: SRE\n- **Duration**: 1h\n- **Dependencies**: {long_line}\n"), Format::Markdown);
}

#[test]
fn deeply_nested_lists_parse() {
    let mut text = String::from(
        "**Task 1.1**: Deep\n- **Agent**: SRE\n- **Duration**: 1h\n- **Deliverables**:\n",
    );
    for depth in 1..3000 {
        text.push_str(&" ".repeat(depth * 2));
        text.push_str("- item\n");
    }
    exercise(&text, Format::Markdown);
    let plan = compile(
        parse(&text, "deep.md", Format::Markdown),
        &Catalogue::builtin(),
    )
    .expect("valid");
    assert_eq!(plan.plan.tasks[0].deliverables.len(), 2999);
}

#[test]
fn deeply_nested_toml_is_an_error_not_a_crash() {
    let text = format!("name = {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let parsed = parse(&text, "deep.toml", Format::Toml);
    assert!(!parsed.diagnostics.is_empty());
}

#[test]
fn a_run_or_check_over_64_kib_is_refused_at_its_task() {
    let long = "x".repeat(swarm_plan::MAX_COMMAND_BYTES + 1);
    let plan = format!(
        "# Big\n\n### Day 1: Work\n\n**Task 1.1**: Fine\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Run**: `true`\n\n**Task 1.2**: Too long\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Run**: `echo {long}`\n- **Check**: `true`\n- **Check**: `echo {long}`\n"
    );
    let err = swarm_plan::load_text(&plan, "big.md", Format::Markdown, &Catalogue::builtin())
        .expect_err("refused");
    let text = err.to_string();
    assert!(
        text.contains("big.md:11: error: task 1.2: its Run command is 65542 bytes; at most 65536"),
        "{text}"
    );
    assert!(text.contains("its Check command is 65542 bytes"), "{text}");
    let fine = plan.replace(&long, "ok");
    swarm_plan::load_text(&fine, "big.md", Format::Markdown, &Catalogue::builtin())
        .expect("a short command is fine");
}
