use super::{ref_part, slug};

#[test]
fn plan_names_become_branch_name_parts() {
    assert_eq!(
        slug("Plan A: Execution Timeline (10 days)"),
        "plan-a-execution-timeline-10-days"
    );
    assert_eq!(slug("  ---  "), "plan");
    assert_eq!(slug("Été 2026"), "t-2026");
    assert!(slug(&"x".repeat(100)).len() <= 40);
}

#[test]
fn task_ids_and_roles_become_what_git_allows_in_a_ref() {
    assert_eq!(ref_part("1.1"), "1.1");
    assert_eq!(ref_part("db/migrate"), "db-migrate");
    assert_eq!(ref_part("a..b"), "a.b");
    assert_eq!(ref_part(".hidden"), "hidden");
    assert_eq!(ref_part("x.lock"), "x");
    assert_eq!(ref_part("with space~^:?*["), "with-space------");
    assert_eq!(ref_part(""), "x");
}
