//! A task's work in the plan's repository: what `task show` adds about
//! each attempt's branch, commits and merge, and `task diff`.

use serde_json::{json, Value};
use swarm_proto::v1 as pb;
use swarm_text::short_commit as short;

use super::{clock, print_json, Result, Target};

/// An attempt's work for `task show --json` (`None`: not in a repository).
pub(crate) fn attempt_json(a: &pb::AttemptInfo) -> Option<Value> {
    if a.branch.is_empty() {
        return None;
    }
    Some(json!({
        "branch": a.branch, "commits": a.commits, "merge": a.merge,
        "merged_commit": a.merged_commit, "files": a.files,
        "merged_at_ms": a.merged_at_ms, "note": a.merge_note,
    }))
}

/// `task show`'s lines about the repository: where its work is, one line
/// per attempt that has a branch.
pub(crate) fn lines(d: &pb::TaskDetail) -> Vec<String> {
    if d.repo.is_empty() {
        return Vec::new();
    }
    let mut out = vec![format!(
        "repository: {} · integration branch {}",
        d.repo, d.integration_branch
    )];
    for a in &d.attempts {
        let mut line = format!("attempt {}: branch {}", a.number, a.branch);
        if !a.commits.is_empty() {
            let shown: Vec<&str> = a.commits.iter().map(|c| short(c)).collect();
            line.push_str(&format!(" · commit {}", shown.join(", ")));
        } else if a.state == "succeeded" {
            line.push_str(" · changed nothing");
        }
        match a.merge.as_str() {
            "merged" => line.push_str(&format!(
                " · merged as {} at {} · {}: {}",
                short(&a.merged_commit),
                clock(a.merged_at_ms),
                crate::plural::count(a.files.len() as u64, "file"),
                a.files.join(", ")
            )),
            "queued" => line.push_str(" · waiting to be merged"),
            "" => {}
            other => line.push_str(&format!(" · {other}: {}", a.merge_note)),
        }
        out.push(super::printable(&line).into_owned());
    }
    out
}

/// `task diff ID [--attempt N] [--json]`.
pub(crate) async fn diff(
    target: &Target,
    id: String,
    attempt: Option<u32>,
    as_json: bool,
) -> Result<()> {
    let mut client = target.control().await?;
    let reply = client
        .task_diff(pb::TaskDiffRequest {
            id: id.clone(),
            number: attempt.unwrap_or(0),
        })
        .await?
        .into_inner();
    if as_json {
        print_json(
            &json!({"id": id, "attempt": reply.number, "what": reply.what, "diff": reply.diff}),
        );
    } else {
        crate::outln!(
            "task {id}, attempt {}: {}",
            reply.number,
            super::printable(&reply.what)
        );
        crate::out!("{}", swarm_client::printable::printable_text(&reply.diff));
    }
    Ok(())
}
