//! What an attempt spent, as the agent reads it: Claude Code's result
//! object (`claude -p … --output-format json`, or the last line of
//! `stream-json`) on the task's standard output, or the JSON file a task
//! writes to `$SWARM_USAGE`, which wins when present.
//!
//! The result object is the last line of standard output that parses as
//! a JSON object with `"type": "result"`: its `result` text becomes the
//! task's result (unless the task wrote `$SWARM_RESULT`), and `is_error`
//! fails the attempt with that text. Nothing needs configuring: output
//! without such a line spends nothing.

use std::path::Path;

use serde_json::Value;

use crate::exec::Outcome;

/// The longest stdout line looked at; longer lines are skipped whole.
const MAX_LINE: usize = 2 * 1024 * 1024;

/// The largest `$SWARM_USAGE` file read.
const MAX_USAGE_FILE: u64 = 64 * 1024;

/// Cost, tokens, turns and session of one attempt (on one agent).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    /// US dollars.
    pub cost_usd: f64,
    /// Input tokens, cache reads and writes not included.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Input tokens written to the prompt cache.
    pub cache_creation_tokens: u64,
    /// Input tokens read from the prompt cache.
    pub cache_read_tokens: u64,
    /// Conversation turns.
    pub turns: u32,
    /// The AI CLI's session id, for `--resume`.
    pub session_id: String,
    /// The model, when said.
    pub model: String,
}

/// Claude Code's result object, as far as the agent uses it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResultObject {
    /// `subtype`: `success`, `error_max_turns`, ...
    pub subtype: String,
    /// `is_error`.
    pub is_error: bool,
    /// `result`: the final answer (or the error's text).
    pub result: Option<String>,
    /// Cost and tokens.
    pub usage: Usage,
}

impl ResultObject {
    /// What failed, for the attempt's message: its text, else its subtype.
    pub fn error_text(&self) -> String {
        match self.result.as_deref().map(str::trim) {
            Some(text) if !text.is_empty() => text.to_string(),
            _ => format!("the AI CLI reported an error ({})", self.subtype),
        }
    }
}

/// Scans an attempt's standard output, chunk by chunk, for the last
/// result object. Memory is bounded by [`MAX_LINE`].
#[derive(Debug, Default)]
pub struct ResultScanner {
    line: Vec<u8>,
    /// The current line outgrew [`MAX_LINE`]: skip to its end.
    skipping: bool,
    last: Option<ResultObject>,
}

impl ResultScanner {
    /// Reads a chunk of standard output.
    pub fn feed(&mut self, mut data: &[u8]) {
        while let Some(end) = data.iter().position(|&b| b == b'\n') {
            self.push(&data[..end]);
            self.end_line();
            data = &data[end + 1..];
        }
        self.push(data);
    }

    /// The last result object seen, the unterminated last line included.
    pub fn finish(mut self) -> Option<ResultObject> {
        self.end_line();
        self.last
    }

    fn push(&mut self, bytes: &[u8]) {
        if self.skipping {
            return;
        }
        if self.line.len() + bytes.len() > MAX_LINE {
            self.skipping = true;
            self.line = Vec::new();
            return;
        }
        self.line.extend_from_slice(bytes);
    }

    fn end_line(&mut self) {
        let line = std::mem::take(&mut self.line);
        if !std::mem::replace(&mut self.skipping, false) {
            if let Some(found) = parse_result_line(&line) {
                self.last = Some(found);
            }
        }
    }
}

/// How an attempt ended once its output is read: the executor's outcome
/// (a result object with `is_error` fails a run that exited 0), the
/// task's result (`$SWARM_RESULT`, else the result object's text) and
/// what it spent (`$SWARM_USAGE`, else the result object's).
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    /// How it ended.
    pub outcome: Outcome,
    /// On success, the task's result, if it has one of its own.
    pub result: Option<String>,
    /// What it spent, when it said.
    pub usage: Option<Usage>,
}

/// What the task left besides its output: the files it wrote to
/// `$SWARM_RESULT`, `$SWARM_USAGE` and `$SWARM_RETRY_AFTER` (a bad usage
/// or retry file is ignored; the caller shows why in the attempt's
/// output), and the time it ended, wall ms.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeftBehind {
    /// `$SWARM_RESULT`.
    pub written: Option<String>,
    /// `$SWARM_USAGE`, read.
    pub usage_file: Option<Result<Usage, String>>,
    /// `$SWARM_RETRY_AFTER`, as the wall ms to retry at.
    pub retry_after: Option<Result<i64, String>>,
    /// When the attempt ended, wall ms.
    pub now_ms: i64,
}

/// Settles an attempt: see [`Settled`]; rate limits as
/// [`crate::ratelimit`] reads them.
pub fn settle(outcome: Outcome, found: Option<ResultObject>, left: LeftBehind) -> Settled {
    let from_file = left.usage_file.and_then(Result::ok);
    let outcome = rate_limited(outcome, found.as_ref(), left.retry_after, left.now_ms);
    let written = left.written;
    let Some(found) = found else {
        return Settled {
            outcome,
            result: written,
            usage: from_file,
        };
    };
    let outcome = match outcome {
        Outcome::Succeeded if found.is_error => Outcome::Failed {
            exit_code: None,
            message: format!("the AI CLI reported an error: {}", found.error_text()),
        },
        Outcome::Failed { exit_code, message } if found.is_error => Outcome::Failed {
            exit_code,
            message: format!(
                "the AI CLI reported an error: {} ({message})",
                found.error_text()
            ),
        },
        other => other,
    };
    let result = written.or_else(|| found.result.clone().filter(|r| !r.trim().is_empty()));
    Settled {
        outcome,
        result,
        usage: Some(from_file.unwrap_or(found.usage)),
    }
}

/// The outcome, made [`Outcome::RateLimited`] when the attempt says it
/// was: a valid `$SWARM_RETRY_AFTER` (after a run that succeeded or
/// failed), exit code 75, or an error result object about a limit.
fn rate_limited(
    outcome: Outcome,
    found: Option<&ResultObject>,
    retry_after: Option<Result<i64, String>>,
    now_ms: i64,
) -> Outcome {
    use crate::ratelimit::{is_rate_limit, reset_in_text, EX_TEMPFAIL};
    let ran = matches!(outcome, Outcome::Succeeded | Outcome::Failed { .. });
    let text = found.filter(|f| f.is_error).map(ResultObject::error_text);
    let from_text = text.as_deref().and_then(|t| reset_in_text(t, now_ms));
    if let (true, Some(Ok(at))) = (ran, &retry_after) {
        return Outcome::RateLimited {
            reset_at_ms: Some(*at),
            message: "rate limited: the task wrote $SWARM_RETRY_AFTER".into(),
        };
    }
    match outcome {
        Outcome::Failed {
            exit_code: Some(EX_TEMPFAIL),
            message,
        } => Outcome::RateLimited {
            reset_at_ms: from_text,
            message: format!("rate limited: exit code 75 ({message})"),
        },
        Outcome::Succeeded | Outcome::Failed { .. }
            if text.as_deref().is_some_and(is_rate_limit) =>
        {
            Outcome::RateLimited {
                reset_at_ms: from_text,
                message: format!("rate limited: {}", text.unwrap_or_default()),
            }
        }
        other => other,
    }
}

/// A line's result object, if it is one.
pub fn parse_result_line(line: &[u8]) -> Option<ResultObject> {
    let text = line.trim_ascii();
    if !text.starts_with(b"{") {
        return None;
    }
    let v: Value = serde_json::from_slice(text).ok()?;
    if v.get("type")?.as_str()? != "result" {
        return None;
    }
    let tokens = |key: &str| {
        v.get("usage")
            .and_then(|u| u.get(key))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    Some(ResultObject {
        subtype: str_of(&v, "subtype"),
        is_error: v.get("is_error").and_then(Value::as_bool).unwrap_or(false),
        result: v.get("result").and_then(Value::as_str).map(str::to_string),
        usage: Usage {
            cost_usd: cost(v.get("total_cost_usd")),
            input_tokens: tokens("input_tokens"),
            output_tokens: tokens("output_tokens"),
            cache_creation_tokens: tokens("cache_creation_input_tokens"),
            cache_read_tokens: tokens("cache_read_input_tokens"),
            turns: v
                .get("num_turns")
                .and_then(Value::as_u64)
                .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)),
            session_id: str_of(&v, "session_id"),
            model: str_of(&v, "model"),
        },
    })
}

/// What a task wrote to its `$SWARM_USAGE` file (`cost_usd`,
/// `input_tokens`, `output_tokens`, `model`, `session_id`), if it wrote
/// one; the file is removed. A file that is not such an object is
/// reported as the error.
pub fn take_usage_file(path: &Path) -> Option<Result<Usage, String>> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    let read = file.take(MAX_USAGE_FILE).read_to_end(&mut bytes);
    let _ = std::fs::remove_file(path);
    if let Err(e) = read {
        return Some(Err(format!("cannot read $SWARM_USAGE: {e}")));
    }
    Some(usage_from_file(&bytes))
}

fn usage_from_file(bytes: &[u8]) -> Result<Usage, String> {
    let v: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("$SWARM_USAGE is not JSON: {e}"))?;
    if !v.is_object() {
        return Err("$SWARM_USAGE must hold a JSON object such as {\"cost_usd\": 0.12}".into());
    }
    let tokens = |key: &str| v.get(key).and_then(Value::as_u64).unwrap_or(0);
    Ok(Usage {
        cost_usd: cost(v.get("cost_usd")),
        input_tokens: tokens("input_tokens"),
        output_tokens: tokens("output_tokens"),
        session_id: str_of(&v, "session_id"),
        model: str_of(&v, "model"),
        ..Usage::default()
    })
}

/// A cost: a finite, non-negative number of dollars, else 0.
fn cost(v: Option<&Value>) -> f64 {
    v.and_then(Value::as_f64)
        .filter(|c| c.is_finite() && *c >= 0.0)
        .unwrap_or(0.0)
}

fn str_of(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
#[path = "usage_tests.rs"]
mod tests;
