//! `plan simulate --actual FILE`: the hours each task really took, as a
//! JSON object of task id → hours; tasks it leaves out take their planned
//! time.

use std::path::Path;

use swarm_plan::CompiledPlan;

/// The longest a task may take in a replay, hours (ten years of work).
const MOST_HOURS: f64 = 87_600.0;

/// Per task of `plan`, the seconds it takes, from the file at `path`.
pub(super) fn read(path: &Path, plan: &CompiledPlan) -> Result<Vec<u64>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("--actual: cannot read {}: {e}", path.display()))?;
    parse(&text, plan).map_err(|why| format!("--actual: {}: {why}", path.display()))
}

fn parse(text: &str, plan: &CompiledPlan) -> Result<Vec<u64>, String> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("not JSON (line {}, column {}): {e}", e.line(), e.column()))?;
    let object = value
        .as_object()
        .ok_or("it must be one JSON object of task id → hours, like {\"1.1\": 2.5, \"1.2\": 4}")?;
    let mut secs: Vec<u64> = plan.plan.tasks.iter().map(|t| t.duration.secs()).collect();
    for (id, hours) in object {
        let Some(i) = plan.index_of(id) else {
            return Err(format!("task '{id}' is not in the plan"));
        };
        let h = hours
            .as_f64()
            .filter(|h| h.is_finite() && (0.0..=MOST_HOURS).contains(h))
            .ok_or_else(|| {
                format!("task {id}: '{hours}' is not a number of hours from 0 to {MOST_HOURS}")
            })?;
        secs[i] = (h * 3600.0).round() as u64;
    }
    Ok(secs)
}

#[cfg(test)]
mod tests {
    use super::parse;

    fn plan() -> swarm_plan::CompiledPlan {
        let text = "# P\n\n### Day 1: D\n\n**Task 1.1**: A\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 2 hours\n- **Dependencies**: None\n\n**Task 1.2**: B\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n";
        swarm_plan::load_text(
            text,
            "p.md",
            swarm_plan::Format::Markdown,
            &swarm_plan::Catalogue::builtin(),
        )
        .expect("loads")
    }

    #[test]
    fn hours_per_task_and_the_plan_for_the_rest() {
        assert_eq!(parse(r#"{"1.2": 2.5}"#, &plan()), Ok(vec![7200, 9000]));
        assert_eq!(parse("{}", &plan()), Ok(vec![7200, 3600]));
    }

    #[test]
    fn bad_input_says_what_and_where() {
        let p = plan();
        let err = |t: &str| parse(t, &p).expect_err(t);
        assert!(err(r#"{"9.9": 1}"#).contains("task '9.9' is not in the plan"));
        assert!(err(r#"{"1.1": -1}"#).contains("task 1.1"));
        assert!(err(r#"{"1.1": "two"}"#).contains("not a number of hours"));
        assert!(err("[1, 2]").contains("one JSON object"));
        assert!(err("{\n\"1.1\": }").contains("line 2"));
    }
}
