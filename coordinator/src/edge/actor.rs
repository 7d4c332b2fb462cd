//! Who a control request comes from, for the event log: the name its
//! credentials give and the human name a client may add beside it
//! (`swarmctl --as NAME` sends it as `x-swarm-as` metadata, or
//! `x-swarm-as-bin` when it is not ASCII).

use swarm_core::actor::Actor;
use tonic::Request;

use super::auth::Holder;

/// The metadata key of the human name (ASCII).
pub const AS_KEY: &str = "x-swarm-as";
/// The metadata key of the human name (any UTF-8, binary metadata).
pub const AS_BIN_KEY: &str = "x-swarm-as-bin";

/// The actor of a request `holder` made.
pub fn actor_of<T>(req: &Request<T>, holder: &Holder) -> Actor {
    let name = match holder {
        Holder::Admin => "admin".to_string(),
        Holder::Agent => "agent".to_string(),
        Holder::Attempt(g) => format!("task:{}", g.task_id),
    };
    Actor::new(name).with_as(human_name(req).as_deref())
}

/// The human name the client added, if any.
fn human_name<T>(req: &Request<T>) -> Option<String> {
    let md = req.metadata();
    if let Some(v) = md.get_bin(AS_BIN_KEY) {
        return v
            .to_bytes()
            .ok()
            .and_then(|b| String::from_utf8(b.to_vec()).ok());
    }
    md.get(AS_KEY)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_holder_and_the_human() {
        let mut req = Request::new(());
        assert_eq!(actor_of(&req, &Holder::Admin).to_string(), "admin");
        req.metadata_mut()
            .insert(AS_KEY, "Ann".parse().expect("ascii"));
        assert_eq!(actor_of(&req, &Holder::Admin).to_string(), "admin (as Ann)");
        let mut req = Request::new(());
        req.metadata_mut().insert_bin(
            AS_BIN_KEY,
            tonic::metadata::MetadataValue::from_bytes("Zoë".as_bytes()),
        );
        assert_eq!(actor_of(&req, &Holder::Admin).to_string(), "admin (as Zoë)");
    }
}
