//! The callback event: parsed and validated before any AWS call, never panicking on any input.
//!
//! `{"token": "..."}` alone answers success with output `{}`, as the seed sample's function does.
//! Optional: `"status": "success" | "failure" | "heartbeat"`, `"output"` (any JSON, success only),
//! `"error"` and `"cause"` (failure only).

use std::collections::BTreeMap;

use crate::json::{self, Kind, Raw};

/// Step Functions' limits on SendTask* arguments
/// (<https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html>,
/// <https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskFailure.html>): `taskToken`.
pub const MAX_TOKEN_CHARS: usize = 2048;
/// `output` of SendTaskSuccess, in bytes of UTF-8 as sent.
pub const MAX_OUTPUT_BYTES: usize = 262_144;
/// `error` of SendTaskFailure.
pub const MAX_ERROR_CHARS: usize = 256;
/// `cause` of SendTaskFailure.
pub const MAX_CAUSE_CHARS: usize = 32_768;

/// Error-name prefixes a worker may not send. Step Functions names its own errors `States.*` (a catch on
/// `States.Timeout` or `States.TaskFailed` routes on them:
/// <https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html>); the module names
/// its own `sfngen.*` (`sfngen.DeadLettered`, which only the dead-letter function sends). A worker sending
/// one would steer a catch meant for something else.
pub const RESERVED_ERROR_PREFIXES: &[(&str, &str)] = &[
    ("States.", "Step Functions' own errors"),
    ("sfngen.", "this module's own errors, such as sfngen.DeadLettered"),
];

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
    /// SendTaskSuccess with this output: the worker's JSON text, numbers and strings as written, without
    /// the whitespace between tokens.
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

impl From<json::Problem> for Invalid {
    fn from(problem: json::Problem) -> Invalid {
        Invalid(problem.to_string())
    }
}

fn invalid<T>(message: impl Into<String>) -> Result<T, Invalid> {
    Err(Invalid(message.into()))
}

/// An object's members by key, each as written.
pub type Members<'a> = BTreeMap<String, Raw<'a>>;

/// Reads an event's text strictly ([`json::read`]): its members, when it is an object.
pub fn members(event: &str) -> Result<Option<Members<'_>>, Invalid> {
    Ok(json::read(event)?.members())
}

/// Validates a worker's callback: the event's text.
pub fn parse(event: &str) -> Result<Request, Invalid> {
    let raw = json::read(event)?;
    let Some(fields) = raw.members() else {
        return invalid(format!(
            "the event must be a JSON object such as {{\"token\": \"...\"}}, not {}",
            raw.kind.described()
        ));
    };
    from_members(&fields)
}

/// Validates a worker's callback from the event's members.
pub fn from_members(fields: &Members<'_>) -> Result<Request, Invalid> {
    if let Some(unknown) = fields.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return invalid(format!(
            "unknown field {}: the event takes {}",
            quoted(unknown, 40),
            FIELDS.join(", ")
        ));
    }
    let token = token(fields)?;
    let status = optional_string(fields, "status")?.unwrap_or_else(|| "success".into());
    let answer = match status.as_str() {
        "success" => {
            reject(fields, &["error", "cause"], "success")?;
            Answer::Success {
                output: output(fields)?,
            }
        }
        "failure" => {
            reject(fields, &["output"], "failure")?;
            Answer::Failure {
                error: error(fields)?,
                cause: bounded(fields, "cause", MAX_CAUSE_CHARS)?,
            }
        }
        "heartbeat" => {
            reject(fields, &["output", "error", "cause"], "heartbeat")?;
            Answer::Heartbeat
        }
        other => {
            return invalid(format!(
                "status {} is not one of \"success\", \"failure\", \"heartbeat\"",
                quoted(other, 40)
            ));
        }
    };
    Ok(Request { token, answer })
}

/// The `token` field: a string of 1..=2048 characters.
pub fn token(fields: &Members<'_>) -> Result<String, Invalid> {
    let Some(raw) = fields.get("token").filter(|r| r.kind != Kind::Null) else {
        return invalid("the event has no \"token\": pass the task token from the SQS message");
    };
    let Some(token) = raw.string() else {
        return invalid(format!("\"token\" must be a string, not {}", raw.kind.described()));
    };
    let count = token.chars().count();
    if count == 0 {
        return invalid("\"token\" is empty: pass the task token from the SQS message");
    }
    if count > MAX_TOKEN_CHARS {
        return invalid(format!(
            "\"token\" has {count} characters; a task token has at most {MAX_TOKEN_CHARS}"
        ));
    }
    Ok(token)
}

/// The output as the worker wrote it (`{}` when absent), within Step Functions' size.
fn output(fields: &Members<'_>) -> Result<String, Invalid> {
    let text = fields
        .get("output")
        .map_or_else(|| "{}".to_string(), |raw| json::minified(raw.text));
    if text.len() > MAX_OUTPUT_BYTES {
        return invalid(format!(
            "\"output\" is {} bytes (whitespace between tokens left out); Step Functions accepts at most {MAX_OUTPUT_BYTES}",
            text.len()
        ));
    }
    Ok(text)
}

/// The failure's `error`: bounded, and not a name Step Functions or the module reserves.
fn error(fields: &Members<'_>) -> Result<Option<String>, Invalid> {
    let error = bounded(fields, "error", MAX_ERROR_CHARS)?;
    if let Some(name) = &error
        && let Some((prefix, whose)) = RESERVED_ERROR_PREFIXES.iter().find(|(p, _)| name.starts_with(p))
    {
        return invalid(format!(
            "\"error\" {} starts with \"{prefix}\", the prefix of {whose}: a step's catch on that name would take \
             this failure for one of them; name your error without it (\"OrderRejected\")",
            quoted(name, 60)
        ));
    }
    Ok(error)
}

fn optional_string(fields: &Members<'_>, name: &str) -> Result<Option<String>, Invalid> {
    match fields.get(name) {
        None => Ok(None),
        Some(raw) if raw.kind == Kind::Null => Ok(None),
        Some(raw) => match raw.string() {
            Some(text) => Ok(Some(text)),
            None => invalid(format!("\"{name}\" must be a string, not {}", raw.kind.described())),
        },
    }
}

fn bounded(fields: &Members<'_>, name: &str, max: usize) -> Result<Option<String>, Invalid> {
    let Some(text) = optional_string(fields, name)? else {
        return Ok(None);
    };
    let count = text.chars().count();
    if count > max {
        return invalid(format!(
            "\"{name}\" has {count} characters; Step Functions accepts at most {max}"
        ));
    }
    Ok(Some(text))
}

fn reject(fields: &Members<'_>, names: &[&str], status: &str) -> Result<(), Invalid> {
    match names.iter().find(|n| fields.contains_key(**n)) {
        Some(name) => invalid(format!("\"{name}\" does not go with status \"{status}\"")),
        None => Ok(()),
    }
}

/// The first `max` characters of `text`.
pub fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// `text` as a JSON string (quoted, escaped), cut to `max` characters: for messages that repeat what the
/// sender wrote.
pub fn quoted(text: &str, max: usize) -> String {
    serde_json::Value::String(truncate(text, max)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn ok(event: Value) -> Request {
        ok_text(&event.to_string())
    }

    fn ok_text(event: &str) -> Request {
        parse(event).unwrap_or_else(|e| panic!("{event}: {e}"))
    }

    fn err(event: Value) -> String {
        err_text(&event.to_string())
    }

    fn err_text(event: &str) -> String {
        parse(event).expect_err(event).0
    }

    fn output(event: &str) -> String {
        match ok_text(event).answer {
            Answer::Success { output } => output,
            other => panic!("{event}: {other:?}"),
        }
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
        assert_eq!(output(r#"{"token": "t", "output": "text"}"#), "\"text\"");
        assert_eq!(output(r#"{"token": "t", "output": null}"#), "null");
    }

    #[test]
    fn output_is_what_the_worker_wrote() {
        // The issue's example: a float would make it 1.2345678901234568e+29.
        assert_eq!(
            output(r#"{"token": "t", "output": {"amount": 123456789012345678901234567890}}"#),
            r#"{"amount":123456789012345678901234567890}"#
        );
        for number in [
            "1.10",
            "-0",
            "1E+2",
            "1e-400",
            "-1e400",
            "0.30000000000000004",
            "18446744073709551616",
        ] {
            assert_eq!(
                output(&format!(r#"{{"token": "t", "output": [{number}]}}"#)),
                format!("[{number}]")
            );
        }
        // Strings as written, escapes included; only whitespace between tokens goes.
        assert_eq!(
            output("{\"token\": \"t\", \"output\": {\n  \"a\" : \"\\u00e9 \\\" x\" ,\n  \"b\": [ 1 , 2 ]\n}}"),
            "{\"a\":\"\\u00e9 \\\" x\",\"b\":[1,2]}"
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
        assert!(err(json!([])).contains("not an array"));
        assert!(err(json!({"tokne": "t"})).contains("unknown field \"tokne\""));
        assert!(err(json!({"Records": []})).contains("unknown field \"Records\""));
    }

    #[test]
    fn an_event_that_is_not_json_is_invalid() {
        assert_eq!(
            err_text("token=abc"),
            "the event is not JSON: expected a value at line 1, column 1"
        );
        assert!(err_text("{\"token\": \"t\"").contains("expected ',' or '}' in an object"));
        assert!(err_text("").contains("found the end"));
    }

    #[test]
    fn a_key_given_twice_is_invalid_not_the_last_one_wins() {
        assert!(
            err_text(r#"{"token": "first", "token": "second"}"#).starts_with("the event gives the key \"token\" twice")
        );
        assert!(
            err_text(r#"{"token": "t", "output": {"a": 1, "a": 2}}"#)
                .starts_with("\"output\" gives the key \"a\" twice")
        );
    }

    #[test]
    fn output_nesting_at_and_past_the_bound() {
        // The event is one level: the output may nest MAX_DEPTH - 1 more.
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let event = |depth: usize| format!(r#"{{"token": "t", "output": {}}}"#, nested(depth));
        assert_eq!(output(&event(json::MAX_DEPTH - 1)), nested(json::MAX_DEPTH - 1));
        assert!(err_text(&event(json::MAX_DEPTH)).contains("deeper than 64 levels"));
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
        assert!(parse(&json!({"token": "é".repeat(MAX_TOKEN_CHARS)}).to_string()).is_ok());
        // Decoded: an escaped character is one.
        assert_eq!(ok_text(r#"{"token": "\u0041B"}"#).token, "AB");
    }

    #[test]
    fn output_size_at_and_past_the_limit() {
        // A JSON string of n characters is n + 2 bytes.
        let at = "a".repeat(MAX_OUTPUT_BYTES - 2);
        assert!(parse(&json!({"token": "t", "output": at}).to_string()).is_ok());
        let past = "a".repeat(MAX_OUTPUT_BYTES - 1);
        assert!(err(json!({"token": "t", "output": past})).contains("262145 bytes"));
        // Whitespace between tokens is not sent, so it does not count.
        let spaced = format!(
            r#"{{"token": "t", "output":   [  "{}"  ]   }}"#,
            "a".repeat(MAX_OUTPUT_BYTES - 4)
        );
        assert_eq!(output(&spaced).len(), MAX_OUTPUT_BYTES);
    }

    #[test]
    fn error_and_cause_lengths_at_and_past_the_limits() {
        let event =
            |error: String, cause: String| json!({"token": "t", "status": "failure", "error": error, "cause": cause});
        assert!(parse(&event("e".repeat(MAX_ERROR_CHARS), "c".repeat(MAX_CAUSE_CHARS)).to_string()).is_ok());
        assert!(err(event("e".repeat(MAX_ERROR_CHARS + 1), String::new())).contains("\"error\" has 257 characters"));
        assert!(err(event(String::new(), "c".repeat(MAX_CAUSE_CHARS + 1))).contains("\"cause\" has 32769 characters"));
        assert!(err(json!({"token": "t", "status": "failure", "error": 5})).contains("\"error\" must be a string"));
    }

    #[test]
    fn errors_named_as_step_functions_or_the_module_name_theirs_are_refused() {
        let failure = |error: &str| json!({"token": "t", "status": "failure", "error": error});
        let message = err(failure("States.Timeout"));
        assert!(
            message.starts_with(
                "\"error\" \"States.Timeout\" starts with \"States.\", the prefix of Step Functions' own errors"
            ),
            "{message}"
        );
        assert!(message.contains("catch"), "{message}");
        assert!(
            err(failure("sfngen.DeadLettered"))
                .contains("starts with \"sfngen.\", the prefix of this module's own errors")
        );
        assert!(err(failure("States.")).contains("starts with"));
        // Only the exact prefixes: a catch matches error names exactly.
        for allowed in [
            "OrderRejected",
            "states.Timeout",
            "StatesTimeout",
            "Sfngen.X",
            "my.States.Timeout",
            "",
        ] {
            assert!(parse(&failure(allowed).to_string()).is_ok(), "{allowed}");
        }
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
