//! What is posted for an event: `json`, the event exactly as `swarmctl
//! events --json` prints it (the same function makes both); `slack`, an
//! incoming-webhook message whose text names the event, the plan, the
//! task and links to the web view.

use swarm_memory::state::EventRow;

use super::entry::Format;

/// A body and its content type.
pub struct Body {
    /// `application/json` (both formats are JSON).
    pub content_type: &'static str,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// The body that posts `e` in `format`; `plan` is its plan's name, `web`
/// the web view's address (`None`: swarmd serves none).
pub fn body(format: Format, e: &EventRow, plan: Option<&str>, web: Option<&str>) -> Body {
    let value = match format {
        Format::Json => {
            swarm_client::event_json::event_json(&crate::edge::grpc::convert::event_to(e))
        }
        Format::Slack => serde_json::json!({ "text": slack_text(e, plan, web) }),
    };
    Body {
        content_type: "application/json",
        bytes: value.to_string().into_bytes(),
    }
}

/// The Slack message: `swarmd: KIND — plan "P", task T (attempt N) on
/// AGENT: MESSAGE (by ACTOR)`, then the web view's link (or that there is
/// none).
/// `&`, `<` and `>` of what swarmd did not write are escaped, as Slack
/// asks, so a message cannot make links or mentions.
pub fn slack_text(e: &EventRow, plan: Option<&str>, web: Option<&str>) -> String {
    let mut about = Vec::new();
    if let Some(plan) = plan {
        about.push(format!("plan \"{}\"", escape(plan)));
    }
    if let Some(task) = &e.task_id {
        let mut t = format!("task {}", escape(task));
        if let Some(n) = e.number {
            t.push_str(&format!(" (attempt {n})"));
        }
        if let Some(agent) = &e.agent_id {
            t.push_str(&format!(" on {}", escape(agent)));
        }
        about.push(t);
    }
    let mut text = format!("swarmd: {}", e.kind);
    if !about.is_empty() {
        text.push_str(&format!(" — {}", about.join(", ")));
    }
    if !e.message.is_empty() {
        text.push_str(&format!(": {}", escape(&e.message)));
    }
    if let Some(actor) = &e.actor {
        text.push_str(&format!(" (by {})", escape(actor)));
    }
    match web {
        Some(url) => text.push_str(&format!("\nWeb view: <{url}>")),
        None => text.push_str("\nNo web view (swarmd's HTTP listener is off)"),
    }
    text
}

/// Slack's three control characters, escaped.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed() -> EventRow {
        EventRow {
            seq: 12,
            at: 1_700_000_000_000,
            kind: "task.failed".into(),
            plan_id: Some(1),
            task_id: Some("2.3".into()),
            attempt: Some(40),
            number: Some(2),
            agent_id: Some("sre-1".into()),
            message: "exit 3 <after> retries & all".into(),
            actor: None,
        }
    }

    #[test]
    fn the_slack_text_names_the_plan_the_task_and_the_web_view() {
        let text = slack_text(&failed(), Some("Release"), Some("http://127.0.0.1:7421/"));
        assert_eq!(
            text,
            "swarmd: task.failed — plan \"Release\", task 2.3 (attempt 2) on sre-1: exit 3 \
             &lt;after&gt; retries &amp; all\nWeb view: <http://127.0.0.1:7421/>"
        );
    }

    #[test]
    fn without_a_task_or_a_web_view_the_text_says_so() {
        let e = EventRow {
            kind: "checkpoint.reported".into(),
            task_id: None,
            number: None,
            agent_id: None,
            message: "Daily Standup, day 1".into(),
            ..failed()
        };
        assert_eq!(
            slack_text(&e, Some("Release"), None),
            "swarmd: checkpoint.reported — plan \"Release\": Daily Standup, day 1\nNo web \
             view (swarmd's HTTP listener is off)"
        );
    }

    #[test]
    fn an_operators_action_names_the_operator() {
        let e = EventRow {
            kind: "gate.opened".into(),
            task_id: None,
            number: None,
            agent_id: None,
            message: "Day 1 exit criteria: approved by an operator".into(),
            actor: Some("admin (as Ann)".into()),
            ..failed()
        };
        assert_eq!(
            slack_text(&e, None, Some("http://h:1/")),
            "swarmd: gate.opened: Day 1 exit criteria: approved by an operator (by admin (as \
             Ann))\nWeb view: <http://h:1/>"
        );
    }

    #[test]
    fn both_formats_are_json_and_json_is_the_events_own_object() {
        let e = failed();
        let json = body(Format::Json, &e, Some("Release"), None);
        let v: serde_json::Value = serde_json::from_slice(&json.bytes).expect("json");
        assert_eq!(v["seq"], 12);
        assert_eq!(v["kind"], "task.failed");
        assert_eq!(v["task_id"], "2.3");
        assert_eq!(v["attempt"], 2);
        assert_eq!(v["fence"], 40);
        let slack = body(Format::Slack, &e, Some("Release"), None);
        let v: serde_json::Value = serde_json::from_slice(&slack.bytes).expect("json");
        assert!(v["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("swarmd: task.failed")));
    }
}
