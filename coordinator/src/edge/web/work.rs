//! A task's work in the plan's repository, in the web view's task panel:
//! each attempt's branch, commits, merge and files.

use std::fmt::Write as _;

use swarm_core::views::TaskDetail;

use super::html::esc;

/// The task's work in the plan's repository, when it works in one: each
/// attempt's branch, commits, merge and files.
pub(super) fn work(out: &mut String, d: &TaskDetail) {
    if d.repo.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<h4>Work in {} (integration branch <code>{}</code>)</h4><table class=\"work\"><thead><tr><th>#</th><th>Branch</th><th>Commits</th><th>Merge</th><th>Files</th></tr></thead><tbody>",
        esc(&d.repo),
        esc(&d.integration)
    );
    for a in &d.attempts {
        let Some(w) = &a.work else { continue };
        let short = |c: &String| swarm_text::short_commit(c).to_string();
        let merge = match w.merge.as_str() {
            "merged" => format!("merged as {}", short(&w.merged_commit)),
            "" if a.state.name() == "succeeded" && w.commits.is_empty() => "changed nothing".into(),
            "" => String::new(),
            other => format!("{other}: {}", w.note),
        };
        let _ = write!(
            out,
            r#"<tr data-merge="{m}"><td>{n}</td><td><code>{b}</code></td><td>{c}</td><td>{merge}</td><td>{f}</td></tr>"#,
            m = esc(&w.merge),
            n = a.number,
            b = esc(&w.branch),
            c = esc(&w.commits.iter().map(short).collect::<Vec<_>>().join(", ")),
            merge = esc(&merge),
            f = esc(&w.files.join(", ")),
        );
    }
    out.push_str("</tbody></table>");
}

#[cfg(test)]
mod tests {
    use super::super::panels::task;
    use swarm_core::views::TaskDetail;

    #[test]
    fn a_task_in_a_repository_shows_each_attempts_work() {
        use swarm_core::model::{AttemptState, TaskState};
        use swarm_core::views::{AttemptView, AttemptWork, TaskView};
        let attempt = |n: u32, state: AttemptState, work: AttemptWork| AttemptView {
            attempt: u64::from(n) + 10,
            number: n,
            agents: vec!["sre-1".into()],
            roles: vec!["sre".into()],
            state,
            created_at: 0,
            ended_at: 0,
            exit_code: None,
            message: String::new(),
            output_dropped: 0,
            usage: None,
            session_id: String::new(),
            work: Some(work),
        };
        let d = TaskDetail {
            task: TaskView {
                id: "1.5".into(),
                title: "Limits".into(),
                state: TaskState::Succeeded,
                attempts: 2,
                agents: vec![],
                priority: "P0".into(),
                duration_hours: 1.0,
                roles: vec!["sre".into()],
                reason: String::new(),
                day: 1,
                updated_at: 0,
                waits_for_operator: false,
            },
            attempts: vec![
                attempt(
                    1,
                    AttemptState::Succeeded,
                    AttemptWork {
                        branch: "swarm/p-1/attempts/1.5/a1".into(),
                        commits: vec!["aaaaaaa1111".into()],
                        merge: "conflict".into(),
                        files: vec!["config/limits.txt".into()],
                        note: "merge conflict in config/limits.txt, changed by task <1.6>".into(),
                        ..AttemptWork::default()
                    },
                ),
                attempt(
                    2,
                    AttemptState::Succeeded,
                    AttemptWork {
                        branch: "swarm/p-1/attempts/1.5/a2".into(),
                        commits: vec!["bbbbbbb2222".into()],
                        merge: "merged".into(),
                        merged_commit: "ccccccc3333".into(),
                        files: vec!["config/limits.txt".into()],
                        ..AttemptWork::default()
                    },
                ),
            ],
            depends_on: vec![],
            run: String::new(),
            checks: vec![],
            image: String::new(),
            repo: "/srv/app".into(),
            integration: "swarm/p-1/integration".into(),
            spend: Default::default(),
        };
        let html = task(&d, "");
        assert!(
            html.contains("integration branch <code>swarm/p-1/integration</code>"),
            "{html}"
        );
        assert!(html.contains(r#"<tr data-merge="conflict"><td>1</td><td><code>swarm/p-1/attempts/1.5/a1</code></td><td>aaaaaaa</td>"#), "{html}");
        assert!(html.contains("changed by task &lt;1.6&gt;"), "{html}");
        assert!(html.contains("merged as ccccccc"), "{html}");
    }
}
