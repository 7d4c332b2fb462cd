//! `**Workspace**` and `**Touches**`: read from markdown and TOML, written
//! back by both writers, and bad claims refused at their line.

use swarm_plan::{markdown, parse, toml_form, Format, Workspace};

const PLAN: &str = "# Repo\n\n### Day 1: Code\n\n**Task 1.1**: Backup script\n- **Agent**: SRE\n- **Priority**: P0\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Touches**: `scripts/backup/**`, docs/backup.md\n\n**Task 1.2**: Rotate keys\n- **Agent**: Security\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Workspace**: none\n";

#[test]
fn workspace_and_touches_are_read_and_written_back_in_both_forms() {
    let parsed = parse(PLAN, "plan.md", Format::Markdown);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let tasks = &parsed.plan.tasks;
    assert_eq!(tasks[0].touches, ["scripts/backup/**", "docs/backup.md"]);
    assert_eq!(tasks[0].workspace, Workspace::Repo);
    assert_eq!(tasks[1].workspace, Workspace::None);
    assert!(tasks[1].touches.is_empty());

    let md = markdown::write(&parsed.plan);
    let again = parse(&md, "again.md", Format::Markdown);
    assert_eq!(again.plan.tasks[0].touches, tasks[0].touches, "{md}");
    assert_eq!(again.plan.tasks[1].workspace, Workspace::None, "{md}");

    let toml = toml_form::write(&parsed.plan);
    assert!(toml.contains("workspace = \"none\""), "{toml}");
    let from_toml = parse(&toml, "plan.toml", Format::Toml);
    assert!(
        from_toml.diagnostics.is_empty(),
        "{:?}",
        from_toml.diagnostics
    );
    assert_eq!(from_toml.plan.tasks[0].touches, tasks[0].touches, "{toml}");
    assert_eq!(from_toml.plan.tasks[1].workspace, Workspace::None, "{toml}");
}

#[test]
fn a_claim_outside_the_repository_is_an_error_at_its_line() {
    let bad = PLAN.replace("docs/backup.md", "../outside.md");
    let parsed = parse(&bad, "plan.md", Format::Markdown);
    let line = bad
        .lines()
        .position(|l| l.contains("**Touches**"))
        .map(|i| i + 1);
    let found: Vec<String> = parsed.diagnostics.iter().map(ToString::to_string).collect();
    assert!(
        parsed
            .diagnostics
            .iter()
            .any(|d| d.to_string().contains("leaves the repository") && Some(d.line) == line),
        "{found:?}"
    );
    let bad = PLAN.replace("- **Workspace**: none", "- **Workspace**: sometimes");
    let parsed = parse(&bad, "plan.md", Format::Markdown);
    assert!(
        parsed
            .diagnostics
            .iter()
            .any(|d| d.to_string().contains("unknown workspace 'sometimes'")),
        "{:?}",
        parsed.diagnostics
    );
}
