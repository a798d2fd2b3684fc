//! A JSON Schema of `sfngen.toml`, for editors (taplo, Even Better TOML) and CI linters.
//!
//! It states what a schema can: keys, types, patterns, enumerations and ranges. Rules across keys
//! (heartbeat below timeout, every queue used, durations within range) are `sfngen check`'s.

use serde_json::{Value, json};

use crate::resolve::LOG_RETENTION_DAYS;

const NAME_PATTERN: &str = "^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$";
const DURATION_PATTERN: &str = "^[0-9]+[smhd]$";
const STATE_NAME_PATTERN: &str = "^[^<>{}\\[\\]?*\"#%\\\\^|~`$&,;:/\\u0000-\\u001f\\u007f-\\u009f]{1,80}$";

fn duration(description: &str) -> Value {
    json!({
        "type": "string",
        "pattern": DURATION_PATTERN,
        "description": format!("{description} An integer followed by s, m, h or d, such as \"90s\", \"5m\", \"1h\", \"7d\"."),
    })
}

fn retention(description: &str) -> Value {
    json!({ "type": "integer", "enum": LOG_RETENTION_DAYS, "default": 30, "description": description })
}

fn error_names() -> Value {
    json!({
        "type": "array",
        "minItems": 1,
        "items": { "type": "string", "minLength": 1, "maxLength": 256 },
        "default": ["States.ALL"],
        "description": "Error names (ErrorEquals), such as \"States.Timeout\", \"States.HeartbeatTimeout\" or a worker's own error.",
    })
}

/// The schema, pretty-printed.
pub fn json_schema() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// The schema as a JSON value.
pub fn schema() -> Value {
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "sfngen.toml",
        "description": "An AWS Step Functions callback pattern, rendered by `sfngen render` into a Terraform module.",
        "type": "object",
        "additionalProperties": false,
        "required": ["name", "steps", "queues"],
        "properties": {
            "name": {
                "type": "string",
                "pattern": NAME_PATTERN,
                "description": "Prefix of every AWS resource name: 1-32 lowercase letters, digits or '-', starting with a letter, not ending in '-'.",
            },
            "tags": {
                "type": "object",
                "description": "Tags merged into every taggable resource (after the module's own tags).",
                "propertyNames": { "minLength": 1, "maxLength": 128, "not": { "pattern": "^[aA][wW][sS]:" } },
                "additionalProperties": { "type": "string", "maxLength": 256 },
            },
            "state_machine": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "timeout": duration("Execution TimeoutSeconds, at most 365d. Default \"1h\"."),
                    "log_level": {
                        "type": "string",
                        "enum": ["OFF", "ALL", "ERROR", "FATAL"],
                        "default": "ERROR",
                        "description": "Execution logging; anything but OFF creates a log group.",
                    },
                    "include_execution_data": {
                        "type": "boolean",
                        "default": false,
                        "description": "Log execution input and output (it can hold personal data).",
                    },
                    "tracing": { "type": "boolean", "default": false, "description": "X-Ray tracing." },
                    "log_retention_days": retention("Retention of the execution log group, in days."),
                },
            },
            "steps": {
                "type": "array",
                "minItems": 1,
                "description": "The callback Task states, in execution order.",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["name", "queue"],
                    "properties": {
                        "name": {
                            "type": "string",
                            "pattern": STATE_NAME_PATTERN,
                            "description": "ASL state name: 1-80 characters, unique, none of < > { } [ ] ? * \" # % \\ ^ | ~ ` $ & , ; : / or control characters.",
                        },
                        "queue": {
                            "type": "string",
                            "pattern": NAME_PATTERN,
                            "description": "Key of a [queues.*] table.",
                        },
                        "timeout": duration("The Task's TimeoutSeconds."),
                        "heartbeat": duration("The Task's HeartbeatSeconds; shorter than its timeout and the execution timeout."),
                        "input_path": {
                            "type": "string",
                            "pattern": "^\\$",
                            "default": "$",
                            "description": "JSONPath of the state input sent as the message's `input`.",
                        },
                        "message": {
                            "type": "object",
                            "description": "Static fields added to the message body; `input` and `token` are sfngen's own.",
                            "propertyNames": { "not": { "anyOf": [{ "enum": ["input", "token"] }, { "pattern": "\\.\\$$" }] } },
                        },
                        "retry": {
                            "type": "array",
                            "description": "Retriers, in order ([[steps.retry]]).",
                            "items": {
                                "type": "object",
                                "additionalProperties": false,
                                "properties": {
                                    "errors": error_names(),
                                    "attempts": { "type": "integer", "minimum": 0, "maximum": 99, "default": 3 },
                                    "interval": duration("IntervalSeconds. Default \"1s\"."),
                                    "backoff_rate": { "type": "number", "minimum": 1.0, "maximum": 100.0, "default": 2.0 },
                                    "max_delay": duration("MaxDelaySeconds: the longest wait between attempts."),
                                    "jitter": { "type": "boolean", "default": false, "description": "JitterStrategy FULL." },
                                },
                            },
                        },
                        "catch": {
                            "type": "array",
                            "description": "Catchers, in order ([[steps.catch]]): go to a later step, or end in a Fail state.",
                            "items": {
                                "type": "object",
                                "additionalProperties": false,
                                "properties": {
                                    "errors": error_names(),
                                    "next": { "type": "string", "description": "The name of a later step." },
                                    "fail": {
                                        "type": "object",
                                        "additionalProperties": false,
                                        "required": ["error"],
                                        "properties": {
                                            "error": { "type": "string", "minLength": 1, "maxLength": 256 },
                                            "cause": { "type": "string" },
                                        },
                                    },
                                },
                                "oneOf": [{ "required": ["next"] }, { "required": ["fail"] }],
                            },
                        },
                    },
                },
            },
            "queues": {
                "type": "object",
                "minProperties": 1,
                "description": "One table per queue; every queue must be used by a step.",
                "propertyNames": { "pattern": NAME_PATTERN },
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "visibility_timeout": duration("VisibilityTimeout, 0s to 12h. Default \"5m\"."),
                        "retention": duration("MessageRetentionPeriod, 60s to 14d. Default \"4d\"."),
                        "fifo": { "type": "boolean", "default": false, "description": "A FIFO queue (name ends in .fifo)." },
                        "encryption": {
                            "type": "string",
                            "default": "sqs",
                            "description": "\"sqs\" (SSE-SQS), \"kms\" (a key the module creates), a KMS key ARN, or \"alias/...\".",
                            "anyOf": [
                                { "enum": ["sqs", "kms"] },
                                { "pattern": "^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$" },
                                { "pattern": "^alias/[A-Za-z0-9/_-]+$" },
                            ],
                        },
                        "dead_letter": {
                            "description": "A dead-letter queue (default on, max_receives = 5), or false.",
                            "anyOf": [
                                { "type": "boolean" },
                                {
                                    "type": "object",
                                    "additionalProperties": false,
                                    "properties": {
                                        "max_receives": { "type": "integer", "minimum": 1, "maximum": 1000, "default": 5 },
                                    },
                                },
                            ],
                        },
                    },
                },
            },
            "logs": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "encryption": {
                        "type": "string",
                        "enum": ["cloudwatch", "kms"],
                        "default": "cloudwatch",
                        "description": "\"cloudwatch\" (CloudWatch Logs' own encryption) or \"kms\" (the key this module creates).",
                    },
                },
            },
            "alarms": {
                "type": "object",
                "additionalProperties": false,
                "description": "CloudWatch alarms (present: on), notifying var.alarm_actions.",
                "properties": {
                    "period": duration("Evaluation period: 60s or a multiple of 60s, at most 1d. Default \"5m\"."),
                    "evaluation_periods": { "type": "integer", "minimum": 1, "maximum": 100, "default": 1 },
                },
            },
            "callback": {
                "type": "object",
                "additionalProperties": false,
                "description": "The Lambda that answers with the task token.",
                "properties": {
                    "memory_mb": { "type": "integer", "minimum": 128, "maximum": 10240, "default": 128 },
                    "timeout": duration("1s to 15m. Default \"10s\"."),
                    "architecture": { "type": "string", "enum": ["arm64", "x86_64"], "default": "arm64" },
                    "reserved_concurrency": { "type": "integer", "minimum": 1 },
                    "log_retention_days": retention("Retention of the callback's log group, in days."),
                },
            },
        },
    })
}
