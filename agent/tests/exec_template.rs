//! The template and manual executors through the public `exec::execute`.

use std::path::Path;
use std::time::Duration;

use swarm_agent::exec::{execute, kind_of, ExecSpec, Kind, Outcome};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const NASTY_TITLE: &str = "it's \"$(touch pwned1)\" `touch pwned2` ; touch pwned3 \\";

fn templated(dir: &Path, template: &str) -> ExecSpec {
    ExecSpec {
        task_id: "d2.review".into(),
        attempt: 9,
        attempt_no: 3,
        role: "reviewer".into(),
        title: NASTY_TITLE.into(),
        brief: "# Review d2\n\nRead the diff; say what's wrong.\n".into(),
        workdir: dir.to_path_buf(),
        template: Some(template.into()),
        ..ExecSpec::default()
    }
}

async fn run(spec: ExecSpec) -> Outcome {
    let (tx, _rx) = mpsc::channel(64);
    execute(spec, tx, CancellationToken::new()).await
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[tokio::test]
async fn template_gets_the_brief_on_stdin_and_safe_placeholders() {
    let dir = tempfile::tempdir().unwrap();
    let template = "cat > brief.txt; printf '%s\\n' {role} {task} {title} {attempt} > args.txt";
    let spec = templated(dir.path(), template);
    assert_eq!(kind_of(&spec), Kind::Template);
    let brief = spec.brief.clone();
    assert_eq!(run(spec).await, Outcome::Succeeded);
    assert_eq!(read(dir.path(), "brief.txt"), brief);
    assert_eq!(
        read(dir.path(), "args.txt"),
        format!("reviewer\nd2.review\n{NASTY_TITLE}\n3\n")
    );
    for marker in ["pwned1", "pwned2", "pwned3"] {
        assert!(
            !dir.path().join(marker).exists(),
            "{marker}: title was executed"
        );
    }
}

#[tokio::test]
async fn placeholders_inside_template_quotes_stay_literal() {
    let dir = tempfile::tempdir().unwrap();
    let template = r#"printf '%s\n' "title: {title}" 'again: {title}' > args.txt"#;
    assert_eq!(
        run(templated(dir.path(), template)).await,
        Outcome::Succeeded
    );
    assert_eq!(
        read(dir.path(), "args.txt"),
        format!("title: {NASTY_TITLE}\nagain: {NASTY_TITLE}\n")
    );
    assert!(!dir.path().join("pwned1").exists());
}

#[tokio::test]
async fn template_ignoring_a_large_brief_still_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = templated(dir.path(), "exit 0");
    spec.brief = "x".repeat(1 << 20);
    assert_eq!(run(spec).await, Outcome::Succeeded);
}

#[tokio::test]
async fn template_failure_and_checks() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = templated(dir.path(), "exit 5");
    spec.checks = vec!["touch checked".into()];
    match run(spec).await {
        Outcome::Failed {
            exit_code: Some(5),
            message,
        } => {
            assert_eq!(message, "template command exited with code 5")
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert!(!dir.path().join("checked").exists());

    let mut spec = templated(dir.path(), "cat > /dev/null");
    spec.checks = vec!["touch checked".into(), "exit 1".into()];
    match run(spec).await {
        Outcome::Failed {
            exit_code: Some(1),
            message,
        } => {
            assert_eq!(message, "check 2: exit 1 exited with code 1")
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert!(dir.path().join("checked").exists());
}

#[tokio::test]
async fn manual_waits_for_cancel() {
    let dir = tempfile::tempdir().unwrap();
    let spec = ExecSpec {
        task_id: "d3.signoff".into(),
        workdir: dir.path().to_path_buf(),
        checks: vec!["touch checked".into()],
        ..ExecSpec::default()
    };
    assert_eq!(kind_of(&spec), Kind::Manual);
    let (tx, _rx) = mpsc::channel(4);
    let cancel = CancellationToken::new();
    let mut task = tokio::spawn(execute(spec, tx, cancel.clone()));
    // Still waiting a while later: nothing resolves a manual task but the token.
    assert!(tokio::time::timeout(Duration::from_millis(200), &mut task)
        .await
        .is_err());
    cancel.cancel();
    assert_eq!(task.await.unwrap(), Outcome::Cancelled);
    assert!(!dir.path().join("checked").exists());
}
