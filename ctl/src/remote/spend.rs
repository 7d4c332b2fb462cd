//! What plans, tasks and attempts spent, as `status`, `task show` and
//! their `--json` show it.

use serde_json::{json, Value};
use swarm_proto::v1 as pb;

/// Sums as JSON: dollars, tokens by kind, and how many reports said.
pub(crate) fn spent_json(s: &pb::Spent) -> Value {
    json!({
        "cost_usd": s.cost_usd,
        "tokens": {
            "input": s.input_tokens,
            "output": s.output_tokens,
            "cache_creation": s.cache_creation_tokens,
            "cache_read": s.cache_read_tokens,
        },
        "reports": s.reports,
    })
}

/// A plan's spend as JSON.
pub(crate) fn spend_json(s: &pb::Spend) -> Value {
    let lines = |v: &[pb::SpendLine]| -> Value {
        v.iter()
            .map(|l| (l.name.clone(), spent_json(&l.spent.unwrap_or_default())))
            .collect::<serde_json::Map<String, Value>>()
            .into()
    };
    json!({
        "total": spent_json(&s.total.unwrap_or_default()),
        "today": spent_json(&s.today.unwrap_or_default()),
        "usd_per_plan_hour": s.usd_per_plan_hour,
        "by_role": lines(&s.by_role),
        "by_day": lines(&s.by_day),
        "by_agent": lines(&s.by_agent),
    })
}

/// Dollars as people read them: `$0.0421`, `$12.35`.
pub(crate) fn usd(v: f64) -> String {
    if v != 0.0 && v.abs() < 1.0 {
        format!("${v:.4}")
    } else {
        format!("${v:.2}")
    }
}

/// All tokens of a sum.
fn tokens(s: &pb::Spent) -> u64 {
    s.input_tokens + s.output_tokens + s.cache_creation_tokens + s.cache_read_tokens
}

/// A sum in a few words: `$0.0421 · 5,330 tokens`.
pub(crate) fn spent_words(s: &pb::Spent) -> String {
    format!(
        "{} · {}",
        usd(s.cost_usd),
        crate::plural::count(tokens(s), "token")
    )
}

/// Status's spend line; none while nothing has said what it spent.
pub(crate) fn status_line(s: &pb::Spend) -> Option<String> {
    let total = s.total.unwrap_or_default();
    if total.reports == 0 {
        return None;
    }
    let today = s.today.unwrap_or_default();
    Some(format!(
        "spend: {} today, {} in all ({} per plan hour)",
        spent_words(&today),
        spent_words(&total),
        usd(s.usd_per_plan_hour)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spent(cost: f64, input: u64) -> pb::Spent {
        pb::Spent {
            cost_usd: cost,
            input_tokens: input,
            output_tokens: 10,
            reports: 1,
            ..Default::default()
        }
    }

    #[test]
    fn status_says_today_all_and_the_rate() {
        let s = pb::Spend {
            total: Some(spent(12.345, 1990)),
            today: Some(spent(0.0421, 990)),
            usd_per_plan_hour: 1.5,
            by_role: vec![pb::SpendLine {
                name: "sre".into(),
                spent: Some(spent(12.345, 1990)),
            }],
            ..Default::default()
        };
        assert_eq!(
            status_line(&s).as_deref(),
            Some("spend: $0.0421 · 1000 tokens today, $12.35 · 2000 tokens in all ($1.50 per plan hour)")
        );
        let j = spend_json(&s);
        assert_eq!(j["by_role"]["sre"]["cost_usd"], 12.345);
        assert_eq!(j["total"]["tokens"]["input"], 1990);
        assert_eq!(status_line(&pb::Spend::default()), None);
    }
}
