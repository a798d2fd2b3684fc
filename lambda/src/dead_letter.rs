//! Dead letters: the module maps each dead-letter queue to this function (an SQS event source mapping
//! with `ReportBatchItemFailures`). A task message there was never answered, so its execution would
//! wait until the step's timeout; the function fails the task at once with `sfngen.DeadLettered` instead,
//! so that the execution fails within seconds and a step's `catch` can route the error.
//!
//! A record's body is a task message `{"input": ..., "token": ..., ...}` (a queue's dead-letter queue), or
//! an EventBridge event whose `detail` is one (the dead-letter queue of a bus rule's targets: EventBridge
//! puts there the event it could not deliver, see [`EVENT_FIELDS`]).
//! A topic's dead-letter queue holds what SNS could not deliver to a subscriber: the task message itself
//! when the subscription delivers raw messages, or else SNS's notification envelope
//! (`{"Type": "Notification", "TopicArn": ..., "Message": "<the task message>", ...}`), whose `Message` is
//! read as strictly as a body.
//!
//! Each record ends one of four ways:
//! - `dead_lettered`: SendTaskFailure went through;
//! - `token_spent`: the execution already moved on (timed out, or answered late): nothing to do;
//! - `unusable`: the body is not a task message, or Step Functions rejected the failure as malformed. It
//!   can never succeed, so it is logged and reported as handled (SQS deletes it) rather than redriven
//!   until the dead-letter queue's retention runs out;
//! - `failed`: throttling, 5xx or network after the SDK's retries: its `messageId` goes into
//!   `batchItemFailures` and SQS delivers it again after the dead-letter queue's visibility timeout.
//!
//! A permission fault (the role may not call SendTaskFailure) fails the whole invocation: it is the
//! deployment's fault, it fails every record alike, and the Lambda `Errors` metric is what the module's
//! alarm watches. Every record comes back and is retried once the role is fixed.

use aws_sdk_sfn::Client;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::answer::{self, Failed, Fault, Refusal};
use crate::json::{self, Kind, Raw};
use crate::log;
use crate::request::{self, Answer, Invalid, Members};

/// The error every dead-lettered task fails with.
pub const ERROR: &str = "sfngen.DeadLettered";
/// The largest batch an SQS event source mapping sends.
pub const MAX_RECORDS: usize = 10_000;
/// SQS message IDs are UUIDs; anything much longer is not one.
pub const MAX_MESSAGE_ID_CHARS: usize = 128;
/// SQS queue names have 1..=80 characters.
pub const MAX_QUEUE_NAME_CHARS: usize = 80;
/// Records of a standard queue answered at once.
pub const CONCURRENCY: usize = 10;
/// An SNS topic ARN: `arn:PARTITION:sns:REGION:ACCOUNT:` and a name of at most 256 characters.
pub const MAX_TOPIC_ARN_CHARS: usize = 350;
/// The `Type` of the notification envelope SNS wraps a message in (no raw message delivery).
pub const NOTIFICATION_TYPE: &str = "Notification";
/// The top-level fields an EventBridge event may have: its metadata, `detail` (the task message the step put
/// in `Detail`) and `replay-name` on a replayed event
/// (https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html). A body with any other
/// field is not an event EventBridge dead-lettered.
pub const EVENT_FIELDS: [&str; 10] = [
    "version",
    "id",
    "detail-type",
    "source",
    "account",
    "time",
    "region",
    "resources",
    "detail",
    "replay-name",
];
/// EventBridge event IDs are UUIDs; anything much longer is not one.
pub const MAX_EVENT_ID_CHARS: usize = 128;
/// The longest `ERROR_CODE` message attribute kept for the cause (EventBridge's codes are a few words, such
/// as `SQS_PERMISSION_DENIED`); a longer one is left out.
pub const MAX_ERROR_CODE_CHARS: usize = 64;

/// A batch of dead letters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// In the order SQS sent them.
    pub records: Vec<Record>,
}

/// One dead-lettered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// `messageId`, which `batchItemFailures` names.
    pub message_id: String,
    /// The dead-letter queue's name, from `eventSourceARN`.
    pub queue: String,
    /// `attributes.ApproximateReceiveCount`, when it is a number.
    pub receive_count: Option<u64>,
    /// The task token, or why the body is not a task message.
    pub task: Result<String, String>,
    /// The topic whose notification envelope held the task message (`TopicArn`); `None` for a bare task
    /// message.
    pub topic: Option<String>,
    /// When the body is an EventBridge event: its `id` and the `ERROR_CODE` EventBridge gave the message.
    pub event: Option<Undelivered>,
}

/// An EventBridge event that a bus rule could not deliver to one of its targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undelivered {
    /// The event's `id`.
    pub id: String,
    /// The message attribute `ERROR_CODE` (why delivery failed), when it is a short string.
    pub error_code: Option<String>,
}

impl Record {
    /// A FIFO queue's records are answered in order, and the first failure stops the batch.
    fn fifo(&self) -> bool {
        self.queue.ends_with(".fifo")
    }

    /// The cause SendTaskFailure carries: which queue, which message, how often it was received.
    pub fn cause(&self) -> String {
        if let Some(event) = &self.event {
            let code = match &event.error_code {
                Some(code) => format!(" ({code})"),
                None => String::new(),
            };
            return format!(
                "the event {} holding the task message reached the dead-letter queue {}: EventBridge could not \
                 deliver it to a target of the bus's rule{code}",
                event.id, self.queue
            );
        }
        let count = match self.receive_count {
            Some(n) => format!(", ApproximateReceiveCount {n}"),
            None => String::new(),
        };
        match &self.topic {
            Some(topic) => format!(
                "the task message {} reached the dead-letter queue {}{count}: SNS could not deliver it from \
                 topic {topic} to a subscriber",
                self.message_id, self.queue
            ),
            None => format!(
                "the task message {} reached the dead-letter queue {}{count}: no worker answered it before its \
                 queue's maxReceiveCount ran out, or SNS could not deliver it to a subscriber",
                self.message_id, self.queue
            ),
        }
    }
}

fn invalid<T>(message: impl Into<String>) -> Result<T, Invalid> {
    Err(Invalid(message.into()))
}

/// Validates an SQS event's text ([`json::read`]'s strict reading first).
pub fn parse_event(event: &str) -> Result<Batch, Invalid> {
    let raw = json::read(event)?;
    match raw.members() {
        Some(fields) => parse(&fields),
        None => invalid(format!(
            "an SQS event must be a JSON object {{\"Records\": [...]}}, not {}",
            raw.kind.described()
        )),
    }
}

/// Validates an SQS event's members. A record that does not look like SQS's own fails the whole event; a
/// body that is not a task message is only that record's problem.
pub fn parse(fields: &Members<'_>) -> Result<Batch, Invalid> {
    if let Some(unknown) = fields.keys().find(|k| *k != "Records") {
        return invalid(format!(
            "unknown field {}: an SQS event has only \"Records\"",
            request::quoted(unknown, 40)
        ));
    }
    let records = match fields.get("Records") {
        Some(raw) => match raw.elements() {
            Some(records) => records,
            None => return invalid(format!("\"Records\" must be an array, not {}", raw.kind.described())),
        },
        None => return invalid("an SQS event needs \"Records\""),
    };
    if records.is_empty() {
        return invalid("\"Records\" is empty");
    }
    if records.len() > MAX_RECORDS {
        return invalid(format!(
            "\"Records\" has {} records; an SQS event source mapping sends at most {MAX_RECORDS}",
            records.len()
        ));
    }
    let records = records
        .iter()
        .enumerate()
        .map(|(i, r)| record(r).map_err(|e| Invalid(format!("Records[{i}]: {e}"))))
        .collect::<Result<_, _>>()?;
    Ok(Batch { records })
}

fn record(value: &Raw<'_>) -> Result<Record, Invalid> {
    let Some(fields) = value.members() else {
        return invalid(format!(
            "a record must be a JSON object, not {}",
            value.kind.described()
        ));
    };
    match fields.get("eventSource").and_then(Raw::string) {
        Some(s) if s == "aws:sqs" => {}
        Some(s) => {
            return invalid(format!(
                "eventSource is {}: this function takes records from SQS (\"aws:sqs\") only",
                request::quoted(&s, 40)
            ));
        }
        None => return invalid("\"eventSource\" must be \"aws:sqs\""),
    }
    let (task, topic, event_id) = match body(fields.get("body")) {
        Ok(read) => read,
        Err(reason) => (Err(reason), None, None),
    };
    let event = event_id.map(|id| Undelivered {
        id,
        error_code: error_code(&fields),
    });
    Ok(Record {
        message_id: message_id(&fields)?,
        queue: queue_name(&fields)?,
        receive_count: receive_count(&fields),
        task,
        topic,
        event,
    })
}

fn message_id(fields: &Members<'_>) -> Result<String, Invalid> {
    let Some(raw) = fields.get("messageId") else {
        return invalid("the record has no \"messageId\"");
    };
    match raw.string() {
        Some(id) if id.is_empty() => invalid("\"messageId\" is empty"),
        Some(id) if id.chars().count() > MAX_MESSAGE_ID_CHARS => invalid(format!(
            "\"messageId\" has {} characters; an SQS message ID has at most {MAX_MESSAGE_ID_CHARS}",
            id.chars().count()
        )),
        Some(id) => Ok(id),
        None => invalid(format!("\"messageId\" must be a string, not {}", raw.kind.described())),
    }
}

/// The queue name of `arn:PARTITION:sqs:REGION:ACCOUNT:NAME`.
fn queue_name(fields: &Members<'_>) -> Result<String, Invalid> {
    let Some(arn) = fields.get("eventSourceARN").and_then(Raw::string) else {
        return invalid("\"eventSourceARN\" must be the queue's ARN");
    };
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", partition, "sqs", _, _, name]
            if !partition.is_empty() && !name.is_empty() && name.chars().count() <= MAX_QUEUE_NAME_CHARS =>
        {
            Ok(name.to_string())
        }
        _ => invalid(format!(
            "\"eventSourceARN\" {} is not an SQS queue ARN (arn:PARTITION:sqs:REGION:ACCOUNT:NAME)",
            request::quoted(&arn, 120)
        )),
    }
}

/// `attributes.ApproximateReceiveCount` (a decimal string); informational, so anything else is unknown.
fn receive_count(fields: &Members<'_>) -> Option<u64> {
    let count = fields
        .get("attributes")?
        .members()?
        .get("ApproximateReceiveCount")?
        .string()?;
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    count.parse().ok()
}

/// The body's task token (or why it is not a task message) and, for SNS's notification envelope, its topic,
/// or, for an EventBridge event, its id: `Err` when the body is no JSON object at all.
fn body(body: Option<&Raw<'_>>) -> Result<Read, String> {
    let text = match body {
        Some(raw) if raw.kind == Kind::String => raw.string().unwrap_or_default(),
        Some(raw) => return Err(format!("the body is {}, not a string", raw.kind.described())),
        None => return Err("the record has no body".into()),
    };
    let message = object(&text, "the body")?;
    let fields = message.members().unwrap_or_default();
    if let Some((inner, topic)) = envelope(&fields) {
        return Ok((task(&inner, "the notification's Message"), Some(topic), None));
    }
    if !fields.contains_key("token") && fields.contains_key("detail-type") {
        return Ok(match event_task(&fields) {
            Ok((token, id)) => (Ok(token), None, id),
            Err(reason) => (Err(reason), None, None),
        });
    }
    Ok((task(&text, "the body"), None, None))
}

/// What [`body`] reads: the task token (or why there is none), the topic of SNS's envelope, the id of an
/// EventBridge event.
type Read = (Result<String, String>, Option<String>, Option<String>);

/// `text` read strictly as a JSON object; `what` names it in the reason it is not one.
fn object<'t>(text: &'t str, what: &str) -> Result<Raw<'t>, String> {
    let message = json::read(text).map_err(|problem| match problem {
        json::Problem::NotJson { .. } => format!("{what} is not JSON, so not a task message"),
        other => format!(
            "{what} is not a task message: {}",
            other.to_string().replacen("the event", "it", 1)
        ),
    })?;
    if message.members().is_none() {
        return Err(format!(
            "{what} is {}, not a task message {{\"input\": ..., \"token\": ...}}",
            message.kind.described()
        ));
    }
    Ok(message)
}

/// The task message SNS's notification envelope holds (its `Message`), and the envelope's `TopicArn`: `None`
/// when the fields are not an envelope (a task message has a `token`; an envelope has `Type` "Notification",
/// a string `Message` and the topic's ARN).
fn envelope(fields: &Members<'_>) -> Option<(String, String)> {
    if fields.contains_key("token") {
        return None;
    }
    let kind = fields.get("Type")?.string()?;
    let message = fields.get("Message")?.string()?;
    let topic = fields.get("TopicArn")?.string()?;
    let is_topic = topic.starts_with("arn:")
        && topic.split(':').nth(2) == Some("sns")
        && topic.chars().count() <= MAX_TOPIC_ARN_CHARS;
    (kind == NOTIFICATION_TYPE && is_topic).then_some((message, topic))
}

/// The token of a task message `{"input": ..., "token": ...}` (plus any static fields), read as strictly as
/// a worker's event; `what` names the text in the reason it is not one.
fn task(text: &str, what: &str) -> Result<String, String> {
    let message = object(text, what)?;
    let fields = message.members().unwrap_or_default();
    request::token(&fields).map_err(|Invalid(reason)| format!("{what} is not a task message: {reason}"))
}

/// `messageAttributes.ERROR_CODE.stringValue`, which EventBridge sets on what it dead-letters; informational,
/// so anything else (or a long value) is unknown.
fn error_code(fields: &Members<'_>) -> Option<String> {
    let code = fields
        .get("messageAttributes")?
        .members()?
        .get("ERROR_CODE")?
        .members()?
        .get("stringValue")?
        .string()?;
    let printable = code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (printable && !code.is_empty() && code.chars().count() <= MAX_ERROR_CODE_CHARS).then_some(code)
}

/// The token of the task message in an EventBridge event's `detail`, and the event's `id`: the body must be
/// an event (only [`EVENT_FIELDS`], with `id`, `source`, `detail-type` and an object `detail`).
fn event_task(fields: &Members<'_>) -> Result<(String, Option<String>), String> {
    let not_event = |reason: String| format!("the body is not an EventBridge event holding a task message: {reason}");
    if let Some(unknown) = fields.keys().find(|k| !EVENT_FIELDS.contains(&k.as_str())) {
        return Err(not_event(format!("unknown field {}", request::quoted(unknown, 40))));
    }
    for required in ["source", "detail-type"] {
        match fields.get(required) {
            Some(raw) if raw.string().is_some_and(|s| !s.is_empty()) => {}
            _ => return Err(not_event(format!("\"{required}\" must be a non-empty string"))),
        }
    }
    let id = match fields.get("id").and_then(Raw::string) {
        Some(id) if !id.is_empty() && id.chars().count() <= MAX_EVENT_ID_CHARS => id,
        _ => {
            return Err(not_event(format!(
                "\"id\" must be a string of 1 to {MAX_EVENT_ID_CHARS} characters"
            )));
        }
    };
    let detail = match fields.get("detail") {
        Some(raw) => match raw.members() {
            Some(detail) => detail,
            None => {
                return Err(not_event(format!(
                    "\"detail\" is {}, not an object",
                    raw.kind.described()
                )));
            }
        },
        None => return Err(not_event("it has no \"detail\"".into())),
    };
    request::token(&detail)
        .map(|token| (token, Some(id)))
        .map_err(|Invalid(reason)| not_event(format!("its detail: {reason}")))
}

/// How one record ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Settled {
    /// Nothing more to do: SQS may delete it.
    Handled,
    /// A transient failure: SQS delivers it again.
    Retry,
    /// The function may not answer: the invocation fails.
    Denied(Failed),
}

/// Fails the task of every record; returns the `batchItemFailures` response, or the permission fault
/// that fails the whole invocation.
pub async fn answer(client: &Client, batch: Batch, request_id: &str) -> Result<Value, Failed> {
    let fifo = batch.records.first().is_some_and(Record::fifo);
    let settled = if fifo {
        in_order(client, batch.records, request_id).await
    } else {
        concurrently(client, batch.records, request_id).await
    };
    let mut failures = Vec::new();
    for (message_id, outcome) in settled {
        match outcome {
            Settled::Handled => {}
            Settled::Retry => failures.push(json!({"itemIdentifier": message_id})),
            Settled::Denied(failed) => return Err(failed),
        }
    }
    Ok(json!({"batchItemFailures": failures}))
}

/// FIFO: one at a time; after the first record that is not handled, the rest are left for SQS to
/// deliver again, in order.
async fn in_order(client: &Client, records: Vec<Record>, request_id: &str) -> Vec<(String, Settled)> {
    let mut settled = Vec::with_capacity(records.len());
    let mut stopped = false;
    for record in records {
        let id = record.message_id.clone();
        if stopped {
            settled.push((id, Settled::Retry));
            continue;
        }
        let outcome = settle(client, record, request_id).await;
        stopped = outcome != Settled::Handled;
        settled.push((id, outcome));
    }
    settled
}

/// Standard queues: up to [`CONCURRENCY`] records at once.
async fn concurrently(client: &Client, records: Vec<Record>, request_id: &str) -> Vec<(String, Settled)> {
    let mut settled = Vec::with_capacity(records.len());
    let mut running = JoinSet::new();
    for record in records {
        if running.len() >= CONCURRENCY
            && let Some(done) = running.join_next().await
        {
            settled.push(done.expect("a record's task panicked"));
        }
        let (client, request_id) = (client.clone(), request_id.to_string());
        running.spawn(async move {
            let id = record.message_id.clone();
            (id, settle(&client, record, &request_id).await)
        });
    }
    while let Some(done) = running.join_next().await {
        settled.push(done.expect("a record's task panicked"));
    }
    settled
}

/// Fails one record's task, and logs how it ended.
async fn settle(client: &Client, record: Record, request_id: &str) -> Settled {
    let mut fields = json!({
        "event": "dead_letter",
        "request_id": request_id,
        "message_id": record.message_id,
        "queue": record.queue,
        "receive_count": record.receive_count,
    });
    if let Some(event) = &record.event {
        fields = log::with(fields, json!({"event_id": event.id, "error_code": event.error_code}));
    }
    let token = match &record.task {
        Ok(token) => token,
        Err(reason) => {
            fields = log::with(fields, json!({"outcome": "unusable", "reason": reason}));
            log::emit(
                "ERROR",
                "a dead-lettered message is not a task message; dropped",
                fields,
            );
            return Settled::Handled;
        }
    };
    fields = log::with(fields, json!({"token_id": log::token_id(token)}));
    let failure = Answer::Failure {
        error: Some(ERROR.into()),
        cause: Some(record.cause()),
    };
    match answer::send(client, token, &failure).await {
        Ok(()) => {
            fields = log::with(fields, json!({"outcome": "dead_lettered", "error": ERROR}));
            log::emit("WARN", "failed the task of a dead-lettered message", fields);
            Settled::Handled
        }
        Err(Refusal::TokenSpent { code, .. }) => {
            fields = log::with(fields, json!({"outcome": "token_spent", "code": code}));
            log::emit("INFO", "a dead-lettered message's task was already over", fields);
            Settled::Handled
        }
        Err(Refusal::Failed(failed)) => {
            let (outcome, settled) = match failed.fault {
                // A token Step Functions never issued is no task message: it can never be failed.
                Fault::Request | Fault::Token => ("unusable", Settled::Handled),
                Fault::Transient => ("failed", Settled::Retry),
                Fault::Permission => ("failed", Settled::Denied(failed.clone())),
            };
            fields = log::with(
                fields,
                json!({
                    "outcome": outcome,
                    "error_type": failed.kind,
                    "retryable": failed.retryable(),
                    "detail": failed.message,
                }),
            );
            log::emit("ERROR", "could not fail the task of a dead-lettered message", fields);
            settled
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(event: &Value) -> Result<Batch, Invalid> {
        parse_event(&event.to_string())
    }

    const ARN: &str = "arn:aws:sqs:us-east-1:123456789012:demo-main-dlq";

    fn sqs_record(body: Value) -> Value {
        json!({
            "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
            "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
            "body": body,
            "attributes": {
                "ApproximateReceiveCount": "6",
                "SentTimestamp": "1545082649183",
                "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                "ApproximateFirstReceiveTimestamp": "1545082649185"
            },
            "messageAttributes": {},
            "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
            "eventSource": "aws:sqs",
            "eventSourceARN": ARN,
            "awsRegion": "us-east-1"
        })
    }

    fn with(field: &str, value: Value) -> Value {
        let mut r = sqs_record(json!(r#"{"input": {}, "token": "t"}"#));
        r[field] = value;
        r
    }

    fn without(field: &str) -> Value {
        let mut r = sqs_record(json!(r#"{"input": {}, "token": "t"}"#));
        r.as_object_mut().unwrap().remove(field);
        r
    }

    fn one(record: Value) -> Result<Record, String> {
        parse(&json!({"Records": [record]}))
            .map(|mut b| b.records.remove(0))
            .map_err(|e| e.0)
    }

    fn body(body: &str) -> Result<String, String> {
        one(sqs_record(json!(body))).expect("a valid record").task
    }

    #[test]
    fn a_dead_lettered_task_message() {
        let r = one(sqs_record(json!(
            r#"{"input": {"order": 1}, "token": "AAAA", "kind": "charge"}"#
        )))
        .unwrap();
        assert_eq!(
            r,
            Record {
                message_id: "059f36b4-87a3-44ab-83d2-661975830a7d".into(),
                queue: "demo-main-dlq".into(),
                receive_count: Some(6),
                task: Ok("AAAA".into()),
                topic: None,
                event: None,
            }
        );
        assert_eq!(
            r.cause(),
            "the task message 059f36b4-87a3-44ab-83d2-661975830a7d reached the dead-letter queue demo-main-dlq, \
             ApproximateReceiveCount 6: no worker answered it before its queue's maxReceiveCount ran out, or SNS \
             could not deliver it to a subscriber"
        );
        assert!(!r.fifo());
    }

    #[test]
    fn an_sqs_event_is_read_strictly() {
        let e = parse_event("{\"Records\": [], \"Records\": []}").unwrap_err().0;
        assert!(e.starts_with("the event gives the key \"Records\" twice"), "{e}");
        assert!(parse_event("Records").unwrap_err().0.contains("not JSON"));
        let mut record = sqs_record(json!("{}"));
        record["eventSource"] = json!("aws:sqs");
        let twice = json!({"Records": [record]}).to_string().replacen(
            "\"eventSource\"",
            "\"eventSource\":\"aws:sns\",\"eventSource\"",
            1,
        );
        assert!(
            parse_event(&twice)
                .unwrap_err()
                .0
                .contains("gives the key \"eventSource\" twice")
        );
    }

    #[test]
    fn the_event_shape() {
        let err = |event: Value| parse(&event).expect_err(&event.to_string()).0;
        assert!(err(json!({"Records": [], "token": "t"})).contains("unknown field \"token\""));
        assert!(err(json!({"token": "t"})).contains("unknown field \"token\""));
        assert!(err(json!({"Records": {}})).contains("must be an array, not an object"));
        assert!(err(json!({"Records": null})).contains("must be an array, not null"));
        assert!(err(json!([])).contains("must be a JSON object {\"Records\": [...]}, not an array"));
        assert!(err(json!({})).contains("needs \"Records\""));
        assert!(err(json!({"Records": []})).contains("is empty"));
        assert!(err(json!({"Records": [7]})).contains("Records[0]: a record must be a JSON object, not a number"));
    }

    #[test]
    fn records_count_at_and_past_the_limit() {
        let record = sqs_record(json!("{}"));
        let at = parse(&json!({"Records": vec![record.clone(); MAX_RECORDS]})).unwrap();
        assert_eq!(at.records.len(), MAX_RECORDS);
        let past = parse(&json!({"Records": vec![record; MAX_RECORDS + 1]})).unwrap_err().0;
        assert!(past.contains("10001 records"), "{past}");
        assert_eq!(
            parse(&json!({"Records": [sqs_record(json!("{}"))]}))
                .unwrap()
                .records
                .len(),
            1
        );
    }

    #[test]
    fn the_error_names_the_bad_record() {
        let good = sqs_record(json!("{}"));
        let bad = with("eventSource", json!("aws:sns"));
        let e = parse(&json!({"Records": [good, bad]})).unwrap_err().0;
        assert!(e.starts_with("Records[1]: eventSource is \"aws:sns\""), "{e}");
    }

    #[test]
    fn only_sqs_records() {
        assert!(
            one(with("eventSource", json!("aws:kinesis")))
                .unwrap_err()
                .contains("SQS (\"aws:sqs\") only")
        );
        assert!(
            one(with("eventSource", json!(1)))
                .unwrap_err()
                .contains("must be \"aws:sqs\"")
        );
        assert!(one(without("eventSource")).unwrap_err().contains("must be \"aws:sqs\""));
    }

    #[test]
    fn message_id_at_and_past_each_boundary() {
        assert!(one(without("messageId")).unwrap_err().contains("no \"messageId\""));
        assert!(one(with("messageId", json!(""))).unwrap_err().contains("is empty"));
        assert!(
            one(with("messageId", json!(5)))
                .unwrap_err()
                .contains("must be a string, not a number")
        );
        assert_eq!(one(with("messageId", json!("m"))).unwrap().message_id, "m");
        let max = "é".repeat(MAX_MESSAGE_ID_CHARS);
        assert_eq!(
            one(with("messageId", json!(max))).unwrap().message_id.chars().count(),
            MAX_MESSAGE_ID_CHARS
        );
        let past = "m".repeat(MAX_MESSAGE_ID_CHARS + 1);
        assert!(
            one(with("messageId", json!(past)))
                .unwrap_err()
                .contains("129 characters")
        );
    }

    #[test]
    fn the_queue_name_comes_from_the_arn() {
        let queue = |arn: &str| one(with("eventSourceARN", json!(arn))).map(|r| r.queue);
        assert_eq!(queue("arn:aws-us-gov:sqs:us-gov-west-1:123456789012:q").unwrap(), "q");
        assert_eq!(
            queue("arn:aws:sqs:us-east-1:123456789012:jobs.fifo").unwrap(),
            "jobs.fifo"
        );
        let max = "q".repeat(MAX_QUEUE_NAME_CHARS);
        assert_eq!(queue(&format!("arn:aws:sqs:r:1:{max}")).unwrap(), max);
        let past = "q".repeat(MAX_QUEUE_NAME_CHARS + 1);
        assert!(
            queue(&format!("arn:aws:sqs:r:1:{past}"))
                .unwrap_err()
                .contains("is not an SQS queue ARN")
        );
        for bad in [
            "arn:aws:sqs:us-east-1:123456789012:",
            "arn:aws:sns:us-east-1:123456789012:topic",
            "arn::sqs:us-east-1:123456789012:q",
            "arn:aws:sqs:us-east-1:q",
            "arn:aws:sqs:us-east-1:123456789012:q:extra",
            "https://sqs.us-east-1.amazonaws.com/123456789012/q",
        ] {
            assert!(queue(bad).unwrap_err().contains("is not an SQS queue ARN"), "{bad}");
        }
        assert!(
            one(with("eventSourceARN", json!(null)))
                .unwrap_err()
                .contains("must be the queue's ARN")
        );
        assert!(
            one(without("eventSourceARN"))
                .unwrap_err()
                .contains("must be the queue's ARN")
        );
    }

    #[test]
    fn the_receive_count_is_informational() {
        let count = |attributes: Value| one(with("attributes", attributes)).unwrap().receive_count;
        assert_eq!(count(json!({"ApproximateReceiveCount": "1"})), Some(1));
        assert_eq!(
            count(json!({"ApproximateReceiveCount": "18446744073709551615"})),
            Some(u64::MAX)
        );
        assert_eq!(count(json!({"ApproximateReceiveCount": "18446744073709551616"})), None);
        for unknown in [
            json!({"ApproximateReceiveCount": ""}),
            json!({"ApproximateReceiveCount": "-1"}),
            json!({"ApproximateReceiveCount": "+1"}),
            json!({"ApproximateReceiveCount": 6}),
            json!({}),
            json!(null),
        ] {
            assert_eq!(count(unknown.clone()), None, "{unknown}");
        }
        let r = one(without("attributes")).unwrap();
        assert_eq!(r.receive_count, None);
        assert!(
            r.cause().contains("dead-letter queue demo-main-dlq: no worker"),
            "{}",
            r.cause()
        );
    }

    #[test]
    fn a_body_that_is_not_a_task_message_is_that_records_problem() {
        assert_eq!(body(r#"{"token": "t"}"#), Ok("t".into()));
        assert!(body("not json").unwrap_err().contains("not JSON"));
        assert!(body("").unwrap_err().contains("not JSON"));
        assert!(
            body("[1]")
                .unwrap_err()
                .contains("the body is an array, not a task message")
        );
        assert!(body(r#""t""#).unwrap_err().contains("the body is a string"));
        assert!(body(r#"{"input": {}}"#).unwrap_err().contains("has no \"token\""));
        assert!(body(r#"{"token": ""}"#).unwrap_err().contains("is empty"));
        assert!(body(r#"{"token": 1}"#).unwrap_err().contains("must be a string"));
        let twice = body(r#"{"input": {}, "token": "a", "token": "b"}"#).unwrap_err();
        assert_eq!(
            twice,
            "the body is not a task message: it gives the key \"token\" twice: send each key once, so that what is answered is what you meant"
        );
        let max = format!(r#"{{"token": "{}"}}"#, "a".repeat(request::MAX_TOKEN_CHARS));
        assert_eq!(body(&max).unwrap().len(), request::MAX_TOKEN_CHARS);
        let past = format!(r#"{{"token": "{}"}}"#, "a".repeat(request::MAX_TOKEN_CHARS + 1));
        assert!(body(&past).unwrap_err().contains("at most 2048"));
        let r = |b: Value| one(with("body", b)).unwrap().task.unwrap_err();
        assert!(r(json!({"token": "t"})).contains("the body is an object, not a string"));
        assert!(one(without("body")).unwrap().task.unwrap_err().contains("no body"));
    }

    /// What SNS puts into a subscription's dead-letter queue without raw message delivery: its notification
    /// envelope, whose Message is the task message as the state machine published it.
    fn envelope(message: &str) -> String {
        json!({
            "Type": "Notification",
            "MessageId": "b3c6a0f2-1d55-5a4c-9f0e-1b3e2b9e8c11",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:demo-alerts",
            "Message": message,
            "Timestamp": "2026-12-03T10:00:00.000Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService.pem",
            "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"
        })
        .to_string()
    }

    #[test]
    fn a_topics_dead_letter_is_the_task_message_or_snss_envelope_of_it() {
        // Raw message delivery: the task message itself.
        let raw = one(sqs_record(json!(r#"{"input": {}, "token": "AAAA"}"#))).unwrap();
        assert_eq!((raw.task, raw.topic), (Ok("AAAA".into()), None));
        // The envelope: the token of its Message, and the topic for the cause.
        let wrapped = one(sqs_record(json!(envelope(
            r#"{"input": {"n": 1}, "token": "BBBB", "context": {}}"#
        ))))
        .unwrap();
        assert_eq!(wrapped.task, Ok("BBBB".into()));
        assert_eq!(
            wrapped.topic.as_deref(),
            Some("arn:aws:sns:us-east-1:123456789012:demo-alerts")
        );
        assert!(
            wrapped.cause().ends_with(
                "SNS could not deliver it from topic arn:aws:sns:us-east-1:123456789012:demo-alerts to a subscriber"
            ),
            "{}",
            wrapped.cause()
        );
        // The envelope's Message is read as strictly as a body.
        let inner = |message: &str| one(sqs_record(json!(envelope(message)))).unwrap().task.unwrap_err();
        assert!(inner("not json").contains("the notification's Message is not JSON"));
        assert!(inner(r#"{"input": {}}"#).contains("the notification's Message is not a task message"));
        assert!(inner(r#"{"token": "a", "token": "b"}"#).contains("gives the key \"token\" twice"));
        // Not an envelope: another Type, no TopicArn, a TopicArn that is no topic's.
        let not = |body: Value| one(sqs_record(json!(body.to_string()))).unwrap();
        for fake in [
            json!({"Type": "SubscriptionConfirmation", "TopicArn": "arn:aws:sns:r:1:t", "Message": "{\"token\": \"t\"}"}),
            json!({"Type": "Notification", "Message": "{\"token\": \"t\"}"}),
            json!({"Type": "Notification", "TopicArn": "arn:aws:sqs:r:1:q", "Message": "{\"token\": \"t\"}"}),
        ] {
            let r = not(fake.clone());
            assert!(r.task.unwrap_err().contains("has no \"token\""), "{fake}");
            assert_eq!(r.topic, None);
        }
        // A task message that also carries envelope-like fields is a task message.
        let both = not(json!({"token": "t", "Type": "Notification", "TopicArn": "arn:aws:sns:r:1:t", "Message": "{}"}));
        assert_eq!((both.task, both.topic), (Ok("t".into()), None));
    }

    #[test]
    fn fifo_dead_letter_queues_are_answered_in_order() {
        let r = one(with(
            "eventSourceARN",
            json!("arn:aws:sqs:us-east-1:123456789012:jobs-dlq.fifo"),
        ))
        .unwrap();
        assert!(r.fifo());
    }

    #[test]
    fn the_failure_fits_step_functions_limits() {
        let longest = Record {
            message_id: "m".repeat(MAX_MESSAGE_ID_CHARS),
            queue: "q".repeat(MAX_QUEUE_NAME_CHARS),
            receive_count: Some(u64::MAX),
            task: Ok("t".into()),
            topic: None,
            event: None,
        };
        assert!(longest.cause().chars().count() <= request::MAX_CAUSE_CHARS);
        let topic = format!("arn:aws:sns:r:1:{}", "t".repeat(MAX_TOPIC_ARN_CHARS - 16));
        let from_topic = Record {
            topic: Some(topic),
            ..longest
        };
        assert!(from_topic.cause().chars().count() <= request::MAX_CAUSE_CHARS);
        let longest_event = Record {
            event: Some(Undelivered {
                id: "e".repeat(MAX_EVENT_ID_CHARS),
                error_code: Some("C".repeat(MAX_ERROR_CODE_CHARS)),
            }),
            ..from_topic
        };
        assert!(longest_event.cause().chars().count() <= request::MAX_CAUSE_CHARS);
        assert!(ERROR.chars().count() <= request::MAX_ERROR_CHARS);
    }

    /// What EventBridge puts in a bus target's dead-letter queue: the event (as moto 5.2.5 and the EventBridge
    /// User Guide show it), the task message in `detail`, and why in the message attributes.
    fn bus_event(detail: Value) -> Value {
        json!({
            "version": "0",
            "id": "7bf73129-1428-4cd3-a780-95db273d1602",
            "detail-type": "approve",
            "source": "sfngen.demo",
            "account": "123456789012",
            "time": "2026-12-03T09:37:27Z",
            "region": "us-east-1",
            "resources": ["arn:aws:states:us-east-1:123456789012:execution:demo:e1"],
            "detail": detail
        })
    }

    fn bus_record(body: &Value, error_code: Option<Value>) -> Value {
        let mut r = sqs_record(json!(body.to_string()));
        r["eventSourceARN"] = json!("arn:aws:sqs:us-east-1:123456789012:demo-partner-bus-dlq");
        if let Some(code) = error_code {
            r["messageAttributes"] = json!({
                "ERROR_CODE": {"stringValue": code, "dataType": "String", "stringListValues": [], "binaryListValues": []},
                "RULE_ARN": {"stringValue": "arn:aws:events:us-east-1:123456789012:rule/demo-partner/demo-partner", "dataType": "String"}
            });
        }
        r
    }

    #[test]
    fn a_dead_lettered_event_fails_the_task_in_its_detail() {
        let event = bus_event(json!({"input": {"order": 1}, "token": "AAAA", "context": {"state": "Approve"}}));
        let r = one(bus_record(&event, Some(json!("SQS_PERMISSION_DENIED")))).unwrap();
        assert_eq!(r.task, Ok("AAAA".into()));
        assert_eq!(
            r.event,
            Some(Undelivered {
                id: "7bf73129-1428-4cd3-a780-95db273d1602".into(),
                error_code: Some("SQS_PERMISSION_DENIED".into()),
            })
        );
        assert_eq!(
            r.cause(),
            "the event 7bf73129-1428-4cd3-a780-95db273d1602 holding the task message reached the dead-letter queue \
             demo-partner-bus-dlq: EventBridge could not deliver it to a target of the bus's rule (SQS_PERMISSION_DENIED)"
        );
        // moto's events carry no `account`; the error code is informational.
        let mut without_account = event.clone();
        without_account.as_object_mut().unwrap().remove("account");
        let r = one(bus_record(&without_account, None)).unwrap();
        assert_eq!(r.task, Ok("AAAA".into()));
        assert_eq!(r.event.unwrap().error_code, None);
        for odd in [
            json!(7),
            json!(""),
            json!("a b"),
            json!("C".repeat(MAX_ERROR_CODE_CHARS + 1)),
        ] {
            let r = one(bus_record(&event, Some(odd.clone()))).unwrap();
            assert_eq!(r.event.unwrap().error_code, None, "{odd}");
        }
    }

    #[test]
    fn an_event_body_is_read_strictly() {
        let problem = |event: Value| one(bus_record(&event, None)).unwrap().task.unwrap_err();
        let task = json!({"input": {}, "token": "t"});
        let mut unknown = bus_event(task.clone());
        unknown["extra"] = json!(1);
        assert!(problem(unknown).contains("unknown field \"extra\""));
        for field in ["source", "detail-type"] {
            let mut e = bus_event(task.clone());
            e[field] = json!("");
            assert!(
                problem(e).contains(&format!("\"{field}\" must be a non-empty string")),
                "{field}"
            );
        }
        let mut no_source = bus_event(task.clone());
        no_source.as_object_mut().unwrap().remove("source");
        assert!(problem(no_source).contains("\"source\" must be"));
        let mut long_id = bus_event(task.clone());
        long_id["id"] = json!("e".repeat(MAX_EVENT_ID_CHARS + 1));
        assert!(problem(long_id).contains("\"id\" must be a string of 1 to 128"));
        let mut at_max = bus_event(task.clone());
        at_max["id"] = json!("e".repeat(MAX_EVENT_ID_CHARS));
        assert_eq!(one(bus_record(&at_max, None)).unwrap().task, Ok("t".into()));
        assert!(problem(bus_event(json!("{\"token\": \"t\"}"))).contains("\"detail\" is a string, not an object"));
        assert!(problem(bus_event(json!({"input": {}}))).contains("its detail: the event has no \"token\""));
        let mut no_detail = bus_event(task);
        no_detail.as_object_mut().unwrap().remove("detail");
        assert!(problem(no_detail).contains("it has no \"detail\""));
        // A task message is read as one even when a static field is called `detail-type`.
        assert_eq!(
            body(r#"{"input": {}, "token": "t", "detail-type": "x"}"#),
            Ok("t".into())
        );
    }
}
