//! The operator's forms in the web view's panels ([`super::actions`]
//! receives them): the plan's (pause or resume, run a checkpoint,
//! approve a day's gate) and a task's (done or failed with a note,
//! retry, skip, cancel — the ones its state allows). They carry no
//! secret: the page's script adds the session's CSRF token to each post.
//! Viewers get the same panels; the page hides the forms from them.

use std::fmt::Write;

use super::html::esc;
use swarm_core::model::{PlanState, StatusState, TaskState};
use swarm_core::views::Status;

/// The plan's controls, for the summary panel (none while idle).
pub fn plan(s: &Status) -> String {
    let StatusState::Plan(state) = s.state else {
        return String::new();
    };
    let (path, label) = match state {
        PlanState::Paused => ("/act/resume", "Resume"),
        PlanState::Running => ("/act/pause", "Pause"),
        PlanState::Succeeded | PlanState::Failed | PlanState::Cancelled => ("", ""),
    };
    let mut out = String::from(r#"<div class="act plan-actions">"#);
    if !path.is_empty() {
        let _ = write!(
            out,
            r#"<form class="act" method="post" action="{path}"><button type="submit" data-act="{act}">{label}</button></form>"#,
            act = label.to_lowercase(),
        );
    }
    out.push_str(r#"<form class="act" method="post" action="/act/standup"><button type="submit" data-act="standup">Run a checkpoint now</button></form>"#);
    if !s.gates.is_empty() {
        out.push_str(r#"<form class="act" method="post" action="/act/gate"><label>Approve the gates of day <input type="number" name="day" min="1" required></label><button type="submit" data-act="gate">Approve</button></form>"#);
    }
    out.push_str("</div>");
    out
}

/// The actions task `id` in `state` allows, with a note field.
pub fn task(id: &str, state: TaskState) -> String {
    let actions: &[(&str, &str)] = match state {
        TaskState::Running => &[("done", "Done"), ("fail", "Failed"), ("cancel", "Cancel")],
        TaskState::Pending | TaskState::Ready => &[("skip", "Skip"), ("cancel", "Cancel")],
        TaskState::Failed | TaskState::Blocked | TaskState::Cancelled => {
            &[("retry", "Retry"), ("skip", "Skip")]
        }
        TaskState::Merging | TaskState::Succeeded | TaskState::Skipped | TaskState::Removed => &[],
    };
    if actions.is_empty() {
        return String::new();
    }
    let path: String = id
        .bytes()
        .map(|b| match b {
            b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let mut out = format!(
        r#"<form class="act task-actions" method="post" action="/act/task/{path}" data-task-actions="{id}"><input type="text" name="note" maxlength="2000" placeholder="note: what was done, or why">"#,
        path = esc(&path),
        id = esc(id),
    );
    for (action, label) in actions {
        let _ = write!(
            out,
            r#"<button type="submit" name="action" value="{action}" data-act="{action}">{label}</button>"#
        );
    }
    out.push_str("</form>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_task_can_be_marked_done_and_a_finished_one_not() {
        let f = task("1.2", TaskState::Running);
        assert!(f.contains(r#"action="/act/task/1.2""#), "{f}");
        assert!(f.contains(r#"value="done""#) && f.contains(r#"value="fail""#));
        assert!(!f.contains(r#"value="retry""#));
        assert!(task("1.2", TaskState::Succeeded).is_empty());
        let odd = task("a b\"<", TaskState::Failed);
        assert!(odd.contains("/act/task/a%20b%22%3C"), "{odd}");
        assert!(
            odd.contains(r#"data-task-actions="a b&quot;&lt;""#),
            "{odd}"
        );
    }

    #[test]
    fn the_plan_offers_pause_or_resume_and_gates_when_closed() {
        let mut s = Status {
            plan: "P".into(),
            state: StatusState::Plan(PlanState::Running),
            ..Status::default()
        };
        let f = plan(&s);
        assert!(f.contains("/act/pause") && !f.contains("/act/gate"), "{f}");
        s.state = StatusState::Plan(PlanState::Paused);
        s.gates = vec!["Day 1 exit criteria is closed".into()];
        let f = plan(&s);
        assert!(f.contains("/act/resume") && f.contains("/act/gate"), "{f}");
        assert!(plan(&Status::default()).is_empty());
    }
}
