//! What a task's attempts spent, in the web view's task panel: each
//! attempt's cost and tokens in its row of the attempts table, and the
//! task's sum under it.

use std::fmt::Write as _;

use swarm_core::views::{AttemptView, Tally, TaskDetail};

use super::html::esc;

/// The attempts table's head, with the cost and tokens columns.
pub(super) const ATTEMPTS_HEAD: &str = "<table class=\"attempts\"><thead><tr><th>#</th><th>State</th><th>Agents</th><th>Exit</th><th>Cost</th><th>Tokens</th><th>Message</th></tr></thead><tbody>";

/// The cost and tokens cells of an attempt's row: empty when nobody
/// said what it spent.
pub(super) fn cells(a: &AttemptView) -> String {
    let Some(u) = &a.usage else {
        return "<td class=\"cost\"></td><td class=\"tokens\"></td>".to_string();
    };
    format!(
        "<td class=\"cost\" data-cost-usd=\"{c}\">{cost}</td><td class=\"tokens\">{t}</td>",
        c = u.cost_usd,
        cost = esc(&dollars(u.cost_usd)),
        t = esc(&tokens(u)),
    )
}

/// The task's sum over its attempts, when any said what it spent.
pub(super) fn total(out: &mut String, d: &TaskDetail) {
    let s = &d.spend;
    if s.reports == 0 {
        return;
    }
    let _ = write!(
        out,
        "<p class=\"spend\" data-task-cost-usd=\"{c}\"><b>Spent:</b> {cost} · {t}</p>",
        c = s.cost_usd,
        cost = esc(&dollars(s.cost_usd)),
        t = esc(&tokens(s)),
    );
}

/// Dollars to the cent, or to the hundredth of a cent under a dollar.
fn dollars(usd: f64) -> String {
    if usd >= 1.0 {
        format!("${usd:.2}")
    } else {
        format!("${usd:.4}")
    }
}

/// Input and output tokens, and the prompt cache's when it was used.
fn tokens(u: &Tally) -> String {
    let mut text = format!("{} in, {} out", u.input_tokens, u.output_tokens);
    if u.cache_creation_tokens > 0 || u.cache_read_tokens > 0 {
        let _ = write!(
            text,
            "; cache {} written, {} read",
            u.cache_creation_tokens, u.cache_read_tokens
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::super::panels::task;
    use swarm_core::model::{AttemptState, TaskState};
    use swarm_core::views::{AttemptView, Tally, TaskDetail, TaskView};

    fn attempt(n: u32, usage: Option<Tally>) -> AttemptView {
        AttemptView {
            attempt: u64::from(n) + 10,
            number: n,
            agents: vec!["ai-1".into()],
            roles: vec!["coder".into()],
            state: AttemptState::Failed,
            created_at: 0,
            ended_at: 0,
            exit_code: Some(1),
            message: String::new(),
            output_dropped: 0,
            usage,
            session_id: String::new(),
            work: None,
        }
    }

    fn detail(attempts: Vec<AttemptView>, spend: Tally) -> TaskDetail {
        TaskDetail {
            task: TaskView {
                id: "2.1".into(),
                title: "Code".into(),
                state: TaskState::Succeeded,
                attempts: attempts.len() as u32,
                agents: vec![],
                priority: "P1".into(),
                duration_hours: 1.0,
                roles: vec!["coder".into()],
                reason: String::new(),
                day: 1,
                updated_at: 0,
                waits_for_operator: false,
            },
            attempts,
            depends_on: vec![],
            run: String::new(),
            checks: vec![],
            image: String::new(),
            repo: String::new(),
            integration: String::new(),
            spend,
        }
    }

    #[test]
    fn each_attempt_shows_its_cost_and_tokens_and_the_task_its_sum() {
        let first = Tally {
            cost_usd: 0.0123,
            input_tokens: 1200,
            output_tokens: 340,
            reports: 1,
            ..Tally::default()
        };
        let second = Tally {
            cost_usd: 1.5,
            input_tokens: 10,
            output_tokens: 20,
            cache_creation_tokens: 5,
            cache_read_tokens: 7000,
            reports: 1,
        };
        let sum = Tally {
            cost_usd: 1.5123,
            input_tokens: 1210,
            output_tokens: 360,
            cache_creation_tokens: 5,
            cache_read_tokens: 7000,
            reports: 2,
        };
        let attempts = vec![
            attempt(1, Some(first)),
            attempt(2, None),
            attempt(3, Some(second)),
        ];
        let html = task(&detail(attempts, sum), "");
        assert!(html.contains("<th>Cost</th><th>Tokens</th>"), "{html}");
        assert!(
            html.contains(r#"<td class="cost" data-cost-usd="0.0123">$0.0123</td><td class="tokens">1200 in, 340 out</td>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<td>2</td><td>failed</td><td>ai-1</td><td>1</td><td class="cost"></td><td class="tokens"></td>"#),
            "an attempt that said nothing shows nothing: {html}"
        );
        assert!(
            html.contains(
                "$1.50</td><td class=\"tokens\">10 in, 20 out; cache 5 written, 7000 read</td>"
            ),
            "{html}"
        );
        assert!(
            html.contains("<b>Spent:</b> $1.51 · 1210 in, 360 out; cache 5 written, 7000 read"),
            "{html}"
        );
    }

    #[test]
    fn a_task_that_spent_nothing_says_nothing() {
        let html = task(&detail(vec![attempt(1, None)], Tally::default()), "");
        assert!(!html.contains("Spent:"), "{html}");
        assert!(html.contains("<th>Cost</th>"), "{html}");
    }
}
