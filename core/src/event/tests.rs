//! The event kinds' names, their round trips and their filters.

use super::*;

#[test]
fn every_name_parses_back_to_its_kind() {
    for k in EventKind::ALL {
        assert_eq!(k.name().parse::<EventKind>(), Ok(k), "{}", k.name());
    }
    let mut names: Vec<&str> = EventKind::ALL.iter().map(|k| k.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), EventKind::ALL.len(), "a name is used twice");
    assert!("task.nonsense".parse::<EventKind>().is_err());
}

#[test]
fn the_readme_lists_every_kind() {
    let readme = include_str!("../../../README.md");
    for k in EventKind::ALL {
        assert!(
            readme.contains(&format!("`{}`", k.name())),
            "README.md does not list {}",
            k.name()
        );
    }
}

#[test]
fn a_bad_kind_names_itself_and_the_valid_ones() {
    let err = "task.nonsense".parse::<EventKind>().expect_err("unknown");
    assert_eq!(err.what, "event kind");
    assert_eq!(err.value, "task.nonsense");
    assert_eq!(err.valid.len(), EventKind::ALL.len());
    assert!(err.to_string().contains("task.failed"), "{err}");
    assert_eq!(EventKind::AgentGone.to_string(), "agent.gone");
}

#[test]
fn every_kind_is_in_the_family_its_name_begins_with() {
    for k in EventKind::ALL {
        let family = k.family().name();
        assert!(k.name().starts_with(&format!("{family}.")), "{}", k.name());
    }
    for f in EventFamily::ALL {
        assert!(
            EventKind::ALL.iter().any(|k| k.family() == f),
            "{f:?} is empty"
        );
    }
}

#[test]
fn a_filter_is_a_kind_or_a_family_and_a_bad_one_is_refused() {
    let kind: KindFilter = "task.failed".parse().expect("a kind");
    assert_eq!(kind, KindFilter::Kind(EventKind::Task(TaskState::Failed)));
    assert!(kind.passes("task.failed"));
    assert!(!kind.passes("task.failed.x"));
    assert!(!kind.passes("task.succeeded"));
    let family: KindFilter = "task".parse().expect("a family");
    assert_eq!(family, KindFilter::Family(EventFamily::Task));
    assert!(family.passes("task.blocked"));
    assert!(!family.passes("attempt.failed"));
    assert!(!family.passes("task"));
    let err = "tasks".parse::<KindFilter>().expect_err("neither");
    assert_eq!(err.what, "event kind or family");
    assert_eq!(err.value, "tasks");
    assert!(err.valid.contains(&"task") && err.valid.contains(&"task.failed"));
}

#[test]
fn only_attempt_endings_end_an_attempt() {
    for k in EventKind::ALL {
        assert_eq!(
            KindFilter::EndsAttempt.passes(k.name()),
            matches!(k, EventKind::AttemptEnded(_)),
            "{}",
            k.name()
        );
    }
    assert!(!KindFilter::EndsAttempt.passes("attempt.nonsense"));
}
