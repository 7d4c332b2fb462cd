//! `**Pool**` (TOML `pool`): read from markdown and TOML, written back by
//! both writers, and a malformed name refused at its line.

use swarm_plan::{markdown, parse, toml_form, Format};

const PLAN: &str = "# Pools\n\n### Day 1: Code\n\n**Task 1.1**: Review the API\n- **Agent**: SRE\n- **Priority**: P0\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Pool**: anthropic\n\n**Task 1.2**: Rotate keys\n- **Agent**: Security\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n";

#[test]
fn a_pool_is_read_and_written_back_in_both_forms() {
    let parsed = parse(PLAN, "plan.md", Format::Markdown);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let tasks = &parsed.plan.tasks;
    assert_eq!(tasks[0].pool.as_deref(), Some("anthropic"));
    assert_eq!(tasks[1].pool, None);
    let md = markdown::write(&parsed.plan);
    let again = parse(&md, "again.md", Format::Markdown);
    assert_eq!(
        again.plan.tasks[0].pool.as_deref(),
        Some("anthropic"),
        "{md}"
    );
    let toml = toml_form::write(&parsed.plan);
    assert!(toml.contains("pool = \"anthropic\""), "{toml}");
    let from_toml = parse(&toml, "plan.toml", Format::Toml);
    assert!(
        from_toml.diagnostics.is_empty(),
        "{:?}",
        from_toml.diagnostics
    );
    assert_eq!(from_toml.plan.tasks[0].pool.as_deref(), Some("anthropic"));
    assert_eq!(from_toml.plan.tasks[1].pool, None);
}

#[test]
fn a_malformed_pool_is_an_error_at_its_line() {
    let bad = PLAN.replace("anthropic", "the big one");
    let parsed = parse(&bad, "plan.md", Format::Markdown);
    let line = bad
        .lines()
        .position(|l| l.contains("**Pool**"))
        .map(|i| i + 1);
    assert!(
        parsed
            .diagnostics
            .iter()
            .any(|d| d.to_string().contains("malformed pool 'the big one'") && Some(d.line) == line),
        "{:?}",
        parsed.diagnostics
    );
}
