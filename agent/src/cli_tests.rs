//! Tests of the flags and their checks: what the coordinator would refuse
//! is refused at start, and the clap definition (with its `--help` text)
//! is consistent.

use super::*;
use clap::CommandFactory as _;

#[test]
fn ids_the_coordinator_would_refuse_are_refused_at_start() {
    assert!(validate_id("sre-1").is_ok());
    assert!(validate_id("").unwrap_err().contains("empty"));
    assert!(validate_id("sre 1").unwrap_err().contains("no spaces"));
    assert!(validate_id("sre\u{7}").unwrap_err().contains("control"));
    assert!(validate_id(&"x".repeat(129))
        .unwrap_err()
        .contains("129 bytes"));
}

#[test]
fn role_lists_the_coordinator_would_refuse_are_refused_at_start() {
    let roles = |n: usize| (0..n).map(|i| format!("r{i}")).collect::<Vec<_>>();
    assert!(validate_roles(&roles(64)).is_ok());
    assert!(validate_roles(&roles(65))
        .unwrap_err()
        .contains("at most 64"));
    let blank = vec!["sre".to_string(), " ".to_string()];
    assert!(validate_roles(&blank).unwrap_err().contains("number 2"));
}

#[test]
fn the_definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn help_lists_every_exit_code() {
    let help = Cli::command().render_long_help().to_string();
    for code in Code::ALL {
        let number = format!("  {:<3}  ", code.number());
        assert!(
            help.contains(&number),
            "exit code {code:?} missing:\n{help}"
        );
    }
    assert!(
        help.contains("a second SIGTERM or SIGINT while draining"),
        "{help}"
    );
}
