//! The callback event: parsed and validated before any AWS call, never panicking on any input.
//!
//! `{"token": "..."}` alone answers success with output `{}`, as the seed sample's function does.
//! Optional: `"status": "success" | "failure" | "heartbeat"`, `"output"` (any JSON, success only),
//! `"error"` and `"cause"` (failure only).

use serde_json::{Map, Value};

/// Step Functions' limits on SendTask* arguments.
pub const MAX_TOKEN_CHARS: usize = 2048;
/// `output` of SendTaskSuccess, serialized.
pub const MAX_OUTPUT_BYTES: usize = 262_144;
/// `error` of SendTaskFailure.
pub const MAX_ERROR_CHARS: usize = 256;
/// `cause` of SendTaskFailure.
pub const MAX_CAUSE_CHARS: usize = 32_768;

const FIELDS: &[&str] = &["token", "status", "output", "error", "cause"];

/// A validated answer to one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The task token.
    pub token: String,
    /// What to tell Step Functions.
    pub answer: Answer,
}

/// What to tell Step Functions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// SendTaskSuccess with this output (serialized JSON).
    Success { output: String },
    /// SendTaskFailure.
    Failure {
        error: Option<String>,
        cause: Option<String>,
    },
    /// SendTaskHeartbeat.
    Heartbeat,
}

impl Answer {
    /// `success`, `failure` or `heartbeat`.
    pub fn status(&self) -> &'static str {
        match self {
            Answer::Success { .. } => "success",
            Answer::Failure { .. } => "failure",
            Answer::Heartbeat => "heartbeat",
        }
    }
}

/// Why an event was rejected; the message says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn invalid<T>(message: impl Into<String>) -> Result<T, Invalid> {
    Err(Invalid(message.into()))
}

/// Validates an event.
pub fn parse(event: &Value) -> Result<Request, Invalid> {
    let Value::Object(fields) = event else {
        return invalid(format!(
            "the event must be a JSON object such as {{\"token\": \"...\"}}, not {}",
            kind(event)
        ));
    };
    if let Some(unknown) = fields.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return invalid(format!(
            "unknown field \"{unknown}\": the event takes {}",
            FIELDS.join(", ")
        ));
    }
    let token = token(fields)?;
    let status = optional_string(fields, "status")?.unwrap_or("success");
    let answer = match status {
        "success" => {
            reject(fields, &["error", "cause"], "success")?;
            Answer::Success {
                output: output(fields)?,
            }
        }
        "failure" => {
            reject(fields, &["output"], "failure")?;
            Answer::Failure {
                error: bounded(fields, "error", MAX_ERROR_CHARS)?,
                cause: bounded(fields, "cause", MAX_CAUSE_CHARS)?,
            }
        }
        "heartbeat" => {
            reject(fields, &["output", "error", "cause"], "heartbeat")?;
            Answer::Heartbeat
        }
        other => {
            return invalid(format!(
                "status \"{}\" is not one of \"success\", \"failure\", \"heartbeat\"",
                truncate(other, 40)
            ));
        }
    };
    Ok(Request { token, answer })
}

/// The `token` field: a string of 1..=2048 characters.
pub fn token(fields: &Map<String, Value>) -> Result<String, Invalid> {
    match fields.get("token") {
        None | Some(Value::Null) => invalid("the event has no \"token\": pass the task token from the SQS message"),
        Some(Value::String(t)) if t.is_empty() => {
            invalid("\"token\" is empty: pass the task token from the SQS message")
        }
        Some(Value::String(t)) if t.chars().count() > MAX_TOKEN_CHARS => invalid(format!(
            "\"token\" has {} characters; a task token has at most {MAX_TOKEN_CHARS}",
            t.chars().count()
        )),
        Some(Value::String(t)) => Ok(t.clone()),
        Some(other) => invalid(format!("\"token\" must be a string, not {}", kind(other))),
    }
}

fn output(fields: &Map<String, Value>) -> Result<String, Invalid> {
    let text = match fields.get("output") {
        None => "{}".to_string(),
        Some(value) => {
            serde_json::to_string(value).map_err(|e| Invalid(format!("\"output\" cannot be serialized: {e}")))?
        }
    };
    if text.len() > MAX_OUTPUT_BYTES {
        return invalid(format!(
            "\"output\" is {} bytes serialized; Step Functions accepts at most {MAX_OUTPUT_BYTES}",
            text.len()
        ));
    }
    Ok(text)
}

fn optional_string<'a>(fields: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, Invalid> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => invalid(format!("\"{name}\" must be a string, not {}", kind(other))),
    }
}

fn bounded(fields: &Map<String, Value>, name: &str, max: usize) -> Result<Option<String>, Invalid> {
    let Some(text) = optional_string(fields, name)? else {
        return Ok(None);
    };
    let count = text.chars().count();
    if count > max {
        return invalid(format!(
            "\"{name}\" has {count} characters; Step Functions accepts at most {max}"
        ));
    }
    Ok(Some(text.to_string()))
}

fn reject(fields: &Map<String, Value>, names: &[&str], status: &str) -> Result<(), Invalid> {
    match names.iter().find(|n| fields.contains_key(**n)) {
        Some(name) => invalid(format!("\"{name}\" does not go with status \"{status}\"")),
        None => Ok(()),
    }
}

/// What a JSON value is, for messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The first `max` characters of `text`.
pub fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(event: Value) -> Request {
        parse(&event).unwrap_or_else(|e| panic!("{event}: {e}"))
    }

    fn err(event: Value) -> String {
        parse(&event).expect_err(&event.to_string()).0
    }

    #[test]
    fn a_token_alone_is_the_seeds_success() {
        assert_eq!(
            ok(json!({"token": "t"})),
            Request {
                token: "t".into(),
                answer: Answer::Success { output: "{}".into() }
            }
        );
    }

    #[test]
    fn success_carries_any_json_output() {
        let r = ok(json!({"token": "t", "status": "success", "output": [1, {"a": null}]}));
        assert_eq!(
            r.answer,
            Answer::Success {
                output: "[1,{\"a\":null}]".into()
            }
        );
        assert_eq!(
            ok(json!({"token": "t", "output": "text"})).answer,
            Answer::Success {
                output: "\"text\"".into()
            }
        );
    }

    #[test]
    fn failure_and_heartbeat() {
        assert_eq!(
            ok(json!({"token": "t", "status": "failure", "error": "E", "cause": "c"})).answer,
            Answer::Failure {
                error: Some("E".into()),
                cause: Some("c".into())
            }
        );
        assert_eq!(
            ok(json!({"token": "t", "status": "failure"})).answer,
            Answer::Failure {
                error: None,
                cause: None
            }
        );
        assert_eq!(
            ok(json!({"token": "t", "status": "heartbeat"})).answer,
            Answer::Heartbeat
        );
    }

    #[test]
    fn the_event_must_be_an_object_with_known_fields() {
        assert!(err(json!("t")).contains("must be a JSON object"));
        assert!(err(json!(null)).contains("not null"));
        assert!(err(json!({"tokne": "t"})).contains("unknown field \"tokne\""));
    }

    #[test]
    fn token_rules_at_and_past_each_boundary() {
        assert!(err(json!({})).contains("has no \"token\""));
        assert!(err(json!({"token": null})).contains("has no \"token\""));
        assert!(err(json!({"token": ""})).contains("is empty"));
        assert!(err(json!({"token": 7})).contains("must be a string, not a number"));
        assert_eq!(ok(json!({"token": "x"})).token, "x");
        let max = "a".repeat(MAX_TOKEN_CHARS);
        assert_eq!(ok(json!({"token": max})).token.len(), MAX_TOKEN_CHARS);
        assert!(err(json!({"token": "a".repeat(MAX_TOKEN_CHARS + 1)})).contains("at most 2048"));
        // Characters, not bytes.
        assert!(parse(&json!({"token": "é".repeat(MAX_TOKEN_CHARS)})).is_ok());
    }

    #[test]
    fn output_size_at_and_past_the_limit() {
        // A JSON string of n characters serializes to n + 2 bytes.
        let at = "a".repeat(MAX_OUTPUT_BYTES - 2);
        assert!(parse(&json!({"token": "t", "output": at})).is_ok());
        let past = "a".repeat(MAX_OUTPUT_BYTES - 1);
        assert!(err(json!({"token": "t", "output": past})).contains("262145 bytes"));
    }

    #[test]
    fn error_and_cause_lengths_at_and_past_the_limits() {
        let event =
            |error: String, cause: String| json!({"token": "t", "status": "failure", "error": error, "cause": cause});
        assert!(parse(&event("e".repeat(MAX_ERROR_CHARS), "c".repeat(MAX_CAUSE_CHARS))).is_ok());
        assert!(err(event("e".repeat(MAX_ERROR_CHARS + 1), String::new())).contains("\"error\" has 257 characters"));
        assert!(err(event(String::new(), "c".repeat(MAX_CAUSE_CHARS + 1))).contains("\"cause\" has 32769 characters"));
        assert!(err(json!({"token": "t", "status": "failure", "error": 5})).contains("\"error\" must be a string"));
    }

    #[test]
    fn status_must_be_known_and_fields_must_fit_it() {
        assert!(err(json!({"token": "t", "status": "done"})).contains("status \"done\" is not one of"));
        assert!(err(json!({"token": "t", "status": 1})).contains("\"status\" must be a string"));
        assert!(err(json!({"token": "t", "error": "E"})).contains("\"error\" does not go with status \"success\""));
        assert!(err(json!({"token": "t", "status": "failure", "output": {}})).contains("\"output\" does not go"));
        assert!(err(json!({"token": "t", "status": "heartbeat", "cause": "c"})).contains("\"cause\" does not go"));
    }
}
