use super::super::{load_traced, Flags, Source};
use swarm_core::config::Verify;

fn loaded(text: &str, env: &[(&str, &str)], flags: &Flags) -> Result<super::super::Loaded, String> {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("swarmd.toml");
    std::fs::write(&file, text).expect("write");
    let env = |k: &str| {
        env.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    };
    load_traced(Some(&file), &env, flags).map_err(|e| e.to_string())
}

#[test]
fn the_table_sets_the_repository_and_flags_and_the_environment_override_it() {
    let text = "workdir = \"/srv/plan\"\n[workspace]\nrepo = \"code\"\nbase = \"trunk\"\nverify = \"merged\"\nmax_conflicts = 5\n";
    let l = loaded(text, &[], &Flags::default()).expect("valid");
    let w = l.config.core.workspace.clone().expect("a workspace");
    // A relative path is the workdir's.
    assert_eq!(w.repo, "/srv/plan/code");
    assert_eq!(
        (w.base.as_str(), w.verify, w.max_conflicts),
        ("trunk", Verify::Merged, 5)
    );
    assert_eq!(l.origin("workspace.repo"), Source::File);
    let l = loaded(
        text,
        &[("SWARM_REPO", "git@example.org:team/app.git")],
        &Flags::default(),
    )
    .expect("valid");
    let w = l.config.core.workspace.clone().expect("a workspace");
    assert_eq!(w.repo, "git@example.org:team/app.git");
    let flags = Flags::default().with("workspace.repo", "https://example.org/app.git");
    let l = loaded(text, &[], &flags).expect("valid");
    assert_eq!(l.origin("workspace.repo"), Source::Flag);
    assert_eq!(
        l.config.core.workspace.expect("set").repo,
        "https://example.org/app.git"
    );
    // Nothing set: no workspace.
    let l = loaded("", &[], &Flags::default()).expect("valid");
    assert!(l.config.core.workspace.is_none());
}

#[test]
fn a_table_without_a_repository_or_with_bad_values_is_refused_by_name() {
    let none = Flags::default();
    let err = loaded("[workspace]\nbase = \"trunk\"\n", &[], &none).unwrap_err();
    assert!(err.contains("workspace.repo is not"), "{err}");
    let err = loaded(
        "[workspace]\nrepo = \"/r\"\nverify = \"later\"\n",
        &[],
        &none,
    )
    .unwrap_err();
    assert!(
        err.contains("verify 'later' must be branch or merged"),
        "{err}"
    );
    let err = loaded("[workspace]\nrepo = \"/r\"\nbase = \"\"\n", &[], &none).unwrap_err();
    assert!(err.contains("workspace.base is empty"), "{err}");
    let err = loaded("[workspace]\nrepo = \"/r\"\nbranch = \"x\"\n", &[], &none).unwrap_err();
    assert!(err.contains("unknown key `branch` in [workspace]"), "{err}");
}
