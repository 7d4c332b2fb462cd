//! `swarmctl roles`: every role the daemon knows, its phrases, and where
//! its profile (prompt, exec, model, tools) came from.

use serde_json::{json, Value};
use swarm_proto::v1 as pb;

use super::{print_json, table, Result, Target};

pub(crate) async fn list(target: &Target, as_json: bool) -> Result<()> {
    let roles = target
        .control()
        .await?
        .list_roles(pb::ListRolesRequest {})
        .await?
        .into_inner()
        .roles;
    if as_json {
        let v: Vec<Value> = roles
            .iter()
            .map(|r| {
                json!({
                    "name": r.name, "description": r.description, "aliases": r.aliases,
                    "profile_sources": r.profile_sources, "prompt_bytes": r.prompt_bytes,
                    "exec": r.exec, "model": r.model, "tools": r.tools, "env_keys": r.env_keys,
                })
            })
            .collect();
        print_json(&Value::Array(v));
        return Ok(());
    }
    let or_dash = |s: String| if s.is_empty() { "-".to_string() } else { s };
    let rows: Vec<Vec<String>> = roles
        .into_iter()
        .map(|r| {
            let mut profile = Vec::new();
            if r.prompt_bytes > 0 {
                profile.push(format!("prompt {} B", r.prompt_bytes));
            }
            if !r.model.is_empty() {
                profile.push(format!("model {}", r.model));
            }
            if !r.exec.is_empty() {
                profile.push("exec".to_string());
            }
            if !r.tools.is_empty() {
                profile.push(format!("tools {}", r.tools.join(",")));
            }
            vec![
                r.name,
                or_dash(r.aliases.join(", ")),
                or_dash(profile.join(", ")),
                or_dash(r.profile_sources.join(", ")),
            ]
        })
        .collect();
    crate::out!("{}", table(&["ROLE", "PHRASES", "PROFILE", "FROM"], &rows));
    Ok(())
}
