//! One event as a JSON object, the way `swarmctl events --json` prints
//! it (one object a line) and swarmd's notifier posts it (`format =
//! "json"`): made here and nowhere else, so the two never drift apart.

use serde_json::json;
use swarm_proto::v1 as pb;

/// `{"seq", "at_ms", "kind", "task_id", "attempt", "fence", "agent_id",
/// "message", "actor"}`: `attempt` is the attempt's number within its
/// task and `fence` its fencing number (0 and "" when the event has
/// none); `actor` who made the operator action the event records (null
/// when none did).
pub fn event_json(e: &pb::Event) -> serde_json::Value {
    let actor = (!e.actor.is_empty()).then_some(&e.actor);
    json!({
        "seq": e.seq,
        "at_ms": e.at_ms,
        "kind": e.kind,
        "task_id": e.task_id,
        "attempt": e.number,
        "fence": e.attempt,
        "agent_id": e.agent_id,
        "message": e.message,
        "actor": actor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_its_name() {
        let e = pb::Event {
            seq: 7,
            at_ms: 1_000,
            kind: "task.failed".into(),
            task_id: "1.2".into(),
            attempt: 9,
            number: 2,
            agent_id: "sre-1".into(),
            message: "exit 3".into(),
            actor: String::new(),
        };
        assert_eq!(
            event_json(&e).to_string(),
            r#"{"actor":null,"agent_id":"sre-1","at_ms":1000,"attempt":2,"fence":9,"kind":"task.failed","message":"exit 3","seq":7,"task_id":"1.2"}"#
        );
        let by = pb::Event {
            actor: "admin (as Ann)".into(),
            ..e
        };
        assert_eq!(event_json(&by)["actor"], "admin (as Ann)");
    }
}
