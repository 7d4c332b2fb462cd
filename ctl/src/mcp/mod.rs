//! `swarmctl mcp`: the Model Context Protocol over standard input and
//! output, for AI assistants. Each tool is a thin call of the code the
//! commands run, so the coordinator URL, TLS flags, token discovery and
//! error messages are the command line's. A call that fails — a refused
//! token, an unreachable daemon, no such task — is a tool result marked
//! as an error with the message swarmctl would print, never a protocol
//! error; standard output carries JSON-RPC and nothing else.

mod params;
mod tools;

use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::ServiceExt as _;
use serde_json::Value;

use crate::exit;
use crate::remote::{Failure, Result, Target};

/// Serves the tools until the client closes standard input.
pub(crate) async fn serve(target: Target) -> Result<()> {
    let failed = |e: &dyn std::fmt::Display| Failure(exit::FAILED, format!("mcp: {e}"));
    let service = tools::Swarm::new(target)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| failed(&e))?;
    service.waiting().await.map_err(|e| failed(&e))?;
    Ok(())
}

/// Awaits a command's call and answers what its `--json` prints.
async fn answer<T>(
    call: impl std::future::Future<Output = Result<T>>,
    to_json: impl FnOnce(&T) -> Value,
) -> CallToolResult {
    reply(call.await.map(|t| to_json(&t)))
}

/// A tool's answer: the JSON the command prints with `--json` (as
/// structured content too when it is an object), or the failure's message.
fn reply(result: Result<Value>) -> CallToolResult {
    match result {
        Ok(value @ Value::Object(_)) => CallToolResult::structured(value),
        Ok(value) => CallToolResult::success(vec![ContentBlock::text(value.to_string())]),
        Err(failure) => CallToolResult::error(vec![ContentBlock::text(failure.message())]),
    }
}

/// A successful answer and, when there is one, a note after it in a text
/// block of its own (a list cut short says how to get the rest).
fn noted(value: Value, note: Option<String>) -> CallToolResult {
    let mut result = reply(Ok(value));
    if let Some(note) = note {
        result.content.push(ContentBlock::text(note));
    }
    result
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn text(result: &CallToolResult) -> String {
        result
            .content
            .iter()
            .filter_map(|c| c.as_text().map(|t| t.text.clone()))
            .collect()
    }

    #[test]
    fn an_answer_is_the_json_and_a_failure_its_message() {
        let object = reply(Ok(json!({"id": "1.1", "state": "succeeded"})));
        assert_eq!(object.is_error, Some(false));
        assert_eq!(
            object.structured_content,
            Some(json!({"id": "1.1", "state": "succeeded"}))
        );
        assert_eq!(text(&object), r#"{"id":"1.1","state":"succeeded"}"#);

        // A list is not structured content (which must be an object).
        let list = reply(Ok(json!([{"id": "1.1"}])));
        assert_eq!(
            (list.is_error, list.structured_content.is_none()),
            (Some(false), true)
        );
        assert_eq!(text(&list), r#"[{"id":"1.1"}]"#);

        let failed = reply(Err(Failure(exit::NOT_FOUND, "no task 9.9".into())));
        assert_eq!(failed.is_error, Some(true));
        assert_eq!(text(&failed), "no task 9.9");
    }
}
