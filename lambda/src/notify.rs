//! Approval notifications (`SFNGEN_MODE=approval_notify`): the approvals queue's event source mapping (with
//! `ReportBatchItemFailures`) hands this function the messages an approval step sent with its task token. For
//! each, the function keeps the token in the approvals table under a new opaque id, makes the link (id,
//! expiry, KMS MAC: see [`link`]) and sends the notification on the step's channel. The token stays in
//! AWS: it is in no notification, no link and no log line; the step's input is in no notification either (the
//! page shows it, to whoever holds the link).
//!
//! A message that fails goes into `batchItemFailures`: SQS delivers it again, and after the queue's
//! maxReceiveCount its dead-letter queue's mapping fails the task with `sfngen.DeadLettered`.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::MacAlgorithmSpec;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::answer;
use crate::json::{self, Kind, Raw};
use crate::link;
use crate::log;
use crate::request::{self, Invalid, Members};

/// `SFNGEN_APPROVAL_TABLE`: the approvals table's name.
pub const TABLE_VARIABLE: &str = "SFNGEN_APPROVAL_TABLE";
/// `SFNGEN_APPROVAL_KEY_ID`: the HMAC KMS key's ARN.
pub const KEY_VARIABLE: &str = "SFNGEN_APPROVAL_KEY_ID";
/// `SFNGEN_APPROVAL_PAGE_URL`: the page function's URL.
pub const PAGE_URL_VARIABLE: &str = "SFNGEN_APPROVAL_PAGE_URL";
/// The most bytes of the step's input the table keeps for the page (cut at a character boundary): far below
/// DynamoDB's item size, 400 KB with attribute names
/// (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html#limits-items>),
/// and a page a person can read.
pub const MAX_INPUT_BYTES: usize = 16 * 1024;
/// DynamoDB's item size limit, 400 KB (1 KB = 1024 bytes), attribute names and values together
/// (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html#limits-items>).
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
/// An SNS Subject: "UTF-8 text with no line breaks or control characters, and less than 100 characters long"
/// (<https://docs.aws.amazon.com/sns/latest/api/API_Publish.html>); kept to printable ASCII, as email
/// subjects are safest.
pub const MAX_SUBJECT_CHARS: usize = 99;
/// An SNS message: at most 256 KB, 262,144 bytes (<https://docs.aws.amazon.com/sns/latest/api/API_Publish.html>).
pub const MAX_SNS_MESSAGE_BYTES: usize = 262_144;
/// An SQS message body: at most 1 MiB, 1,048,576 bytes
/// (<https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html>).
pub const MAX_SQS_MESSAGE_BYTES: usize = 1_048_576;
/// A PutEvents entry: at most 256 KB, counting Source, DetailType and Detail as UTF-8 bytes
/// (<https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html>).
pub const MAX_EVENT_ENTRY_BYTES: usize = 262_144;
/// A message group id (SQS, SNS): up to 128 characters
/// (<https://docs.aws.amazon.com/sns/latest/api/API_Publish.html>, MessageGroupId); the SHA-256 of the
/// execution ARN in hex is 64.
pub const MAX_GROUP_ID_CHARS: usize = 128;
/// KMS GenerateMac's message: up to 4,096 bytes
/// (<https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateMac.html>).
pub const MAX_MAC_MESSAGE_BYTES: usize = 4096;
/// The longest wait an approval can have: a standard execution runs at most one year
/// (<https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html>), 31,536,000 seconds.
pub const MAX_TIMEOUT_SECONDS: u64 = 31_536_000;
/// The status of an approval nobody decided yet.
pub const PENDING: &str = "pending";
/// SQS message ids are UUIDs; anything much longer is not one.
const MAX_MESSAGE_ID_CHARS: usize = 128;

/// The notify function's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The approvals table.
    pub table: String,
    /// The HMAC key.
    pub key_id: String,
    /// The page's URL.
    pub page_url: String,
}

impl Settings {
    /// Reads the settings from an environment lookup.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let required = |name: &str| {
            var(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("{name} is unset"))
        };
        let page_url = required(PAGE_URL_VARIABLE)?;
        if let Some(problem) = link::page_url_problem(&page_url) {
            return Err(format!("{PAGE_URL_VARIABLE}: {problem}"));
        }
        Ok(Settings {
            table: required(TABLE_VARIABLE)?,
            key_id: required(KEY_VARIABLE)?,
            page_url,
        })
    }
}

/// The channel that carries an approval's notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// An SQS queue (target: its URL).
    Queue,
    /// An SNS topic (target: its ARN).
    Topic,
    /// An EventBridge bus (target: its ARN).
    Bus,
}

impl Channel {
    fn name(self) -> &'static str {
        match self {
            Channel::Queue => "queue",
            Channel::Topic => "topic",
            Channel::Bus => "bus",
        }
    }
}

/// The message's `approval` object: where the notification goes, and for how long the link lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// The channel.
    pub channel: Channel,
    /// The queue URL, topic ARN or bus ARN.
    pub target: String,
    /// Whether the queue or topic is FIFO.
    pub fifo: bool,
    /// The step's timeout.
    pub timeout_seconds: u64,
    /// The event's source (bus).
    pub source: Option<String>,
    /// The event's detail-type (bus).
    pub detail_type: Option<String>,
}

/// An approval step's message.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    /// The task token.
    pub token: String,
    /// The execution's ARN.
    pub execution: String,
    /// The state's name.
    pub state: String,
    /// The fan-out item's index, for a step inside a Map.
    pub item_index: Option<u64>,
    /// The step's input as JSON text, cut to [`MAX_INPUT_BYTES`].
    pub input: String,
    /// Whether the input was cut.
    pub input_cut: bool,
    /// Where the notification goes.
    pub approval: Approval,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("token_id", &log::token_id(&self.token))
            .field("execution", &self.execution)
            .field("state", &self.state)
            .field("approval", &self.approval)
            .finish_non_exhaustive()
    }
}

/// One record of the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// `messageId`, which `batchItemFailures` names.
    pub message_id: String,
    /// The message, or why the body is not an approval message.
    pub message: Result<Message, String>,
}

/// Reads an SQS event: `Err` when it is not one (then no record is handled).
pub fn parse_batch(event: &str) -> Result<Vec<Record>, Invalid> {
    let value: Value = serde_json::from_str(event).map_err(|_| Invalid("the event is not JSON".into()))?;
    let Some(records) = value.get("Records").and_then(Value::as_array) else {
        return Err(Invalid(
            "this function takes SQS batches from the approvals queue ({\"Records\": [...]})".into(),
        ));
    };
    records
        .iter()
        .enumerate()
        .map(|(i, r)| record(r).map_err(|reason| Invalid(format!("Records[{i}]: {reason}"))))
        .collect()
}

fn record(value: &Value) -> Result<Record, String> {
    if value.get("eventSource").and_then(Value::as_str) != Some("aws:sqs") {
        return Err("eventSource must be \"aws:sqs\"".into());
    }
    let message_id = value
        .get("messageId")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty() && id.chars().count() <= MAX_MESSAGE_ID_CHARS)
        .ok_or("the record has no messageId")?
        .to_string();
    let message = match value.get("body").and_then(Value::as_str) {
        Some(body) => parse_message(body),
        None => Err("the record has no body".into()),
    };
    Ok(Record { message_id, message })
}

/// Reads an approval step's message, strictly ([`json::read`]).
pub fn parse_message(body: &str) -> Result<Message, String> {
    let raw = json::read(body).map_err(|p| format!("the body is not an approval message: {p}"))?;
    let fields = raw
        .members()
        .ok_or_else(|| format!("the body is {}, not an approval message", raw.kind.described()))?;
    let token = request::token(&fields).map_err(|Invalid(reason)| reason)?;
    let context = object(&fields, "context")?;
    let (input, input_cut) = match fields.get("input") {
        Some(raw) => cut(&json::minified(raw.text), MAX_INPUT_BYTES),
        None => ("null".to_string(), false),
    };
    Ok(Message {
        token,
        execution: string(&context, "context.execution", "execution")?,
        state: string(&context, "context.state", "state")?,
        item_index: match context.get("item_index") {
            None => None,
            Some(raw) => Some(
                raw.text
                    .parse::<u64>()
                    .ok()
                    .filter(|_| raw.kind == Kind::Number)
                    .ok_or("context.item_index must be a whole number")?,
            ),
        },
        input,
        input_cut,
        approval: approval(&object(&fields, "approval")?)?,
    })
}

fn object<'a>(fields: &Members<'a>, name: &str) -> Result<Members<'a>, String> {
    fields
        .get(name)
        .and_then(Raw::members)
        .ok_or_else(|| format!("the message has no \"{name}\" object"))
}

fn string(fields: &Members<'_>, path: &str, name: &str) -> Result<String, String> {
    fields
        .get(name)
        .and_then(Raw::string)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("{path} must be a non-empty string"))
}

fn approval(fields: &Members<'_>) -> Result<Approval, String> {
    let channel = match string(fields, "approval.channel", "channel")?.as_str() {
        "queue" => Channel::Queue,
        "topic" => Channel::Topic,
        "bus" => Channel::Bus,
        _ => return Err("approval.channel must be \"queue\", \"topic\" or \"bus\"".into()),
    };
    let target = string(fields, "approval.target", "target")?;
    let arn_of = |service: &str| target.starts_with("arn:") && target.split(':').nth(2) == Some(service);
    let target_fits = match channel {
        Channel::Queue => target.starts_with("https://") || target.starts_with("http://"),
        Channel::Topic => arn_of("sns"),
        Channel::Bus => arn_of("events"),
    };
    if !target_fits {
        return Err(format!(
            "approval.target is not a {} {}",
            channel.name(),
            if channel == Channel::Queue { "URL" } else { "ARN" }
        ));
    }
    let fifo = match fields.get("fifo") {
        None => false,
        Some(raw) if raw.text == "true" => true,
        Some(raw) if raw.text == "false" => false,
        Some(_) => return Err("approval.fifo must be true or false".into()),
    };
    let timeout_seconds = fields
        .get("timeout_seconds")
        .filter(|raw| raw.kind == Kind::Number)
        .and_then(|raw| raw.text.parse::<u64>().ok())
        .filter(|t| (1..=MAX_TIMEOUT_SECONDS).contains(t))
        .ok_or_else(|| {
            format!("approval.timeout_seconds must be a whole number of seconds, 1 to {MAX_TIMEOUT_SECONDS}")
        })?;
    let (source, detail_type) = if channel == Channel::Bus {
        (
            Some(string(fields, "approval.source", "source")?),
            Some(string(fields, "approval.detail_type", "detail_type")?),
        )
    } else {
        (None, None)
    };
    Ok(Approval {
        channel,
        target,
        fifo,
        timeout_seconds,
        source,
        detail_type,
    })
}

/// `text` cut to at most `max` bytes at a character boundary, and whether it was cut.
pub fn cut(text: &str, max: usize) -> (String, bool) {
    if text.len() <= max {
        return (text.to_string(), false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (text[..end].to_string(), true)
}

/// The execution's name: the last part of its ARN.
pub fn execution_name(execution: &str) -> &str {
    execution.rsplit(':').next().unwrap_or(execution)
}

/// The ARN of the state machine that runs an execution, from the execution's ARN
/// (`arn:PARTITION:states:REGION:ACCOUNT:execution:MACHINE:NAME` → `arn:PARTITION:states:REGION:ACCOUNT:stateMachine:MACHINE`,
/// <https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html#awsstepfunctions-resources-for-iam-policies>).
/// A bus notification carries it in `resources`, as Step Functions' own events do: the module's rule on a bus that
/// other instances share matches it. `None` for anything else.
pub fn state_machine_arn(execution: &str) -> Option<String> {
    let parts: Vec<&str> = execution.split(':').collect();
    match parts.as_slice() {
        ["arn", partition, "states", region, account, "execution", machine, name]
            if [partition, region, account, machine, name]
                .iter()
                .all(|p| !p.is_empty()) =>
        {
            Some(format!(
                "arn:{partition}:states:{region}:{account}:stateMachine:{machine}"
            ))
        }
        _ => None,
    }
}

/// What a notification tells, without the token or the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The approval id.
    pub id: String,
    /// The link.
    pub url: String,
    /// Expiry, unix seconds.
    pub expires_at: i64,
    /// The state.
    pub state: String,
    /// The execution's ARN.
    pub execution: String,
}

impl Notice {
    /// The JSON a queue's message body and a bus event's detail carry.
    pub fn json(&self) -> String {
        json!({"approval": {
            "id": self.id,
            "url": self.url,
            "expires_at": link::rfc3339(self.expires_at),
            "state": self.state,
            "execution": self.execution,
        }})
        .to_string()
    }

    /// An SNS Subject: `Approval requested: {state}`, printable ASCII, under [`MAX_SUBJECT_CHARS`].
    pub fn subject(&self) -> String {
        let subject: String = format!("Approval requested: {}", self.state)
            .chars()
            .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' })
            .collect();
        request::truncate(&subject, MAX_SUBJECT_CHARS)
    }

    /// An SNS message's text: what waits, the link, when it expires.
    pub fn text(&self) -> String {
        format!(
            "An approval is waiting.\n\nStep: {}\nExecution: {}\nLink expires: {} UTC\n\nOpen the link to see the \
             request, then approve or reject it:\n\n{}\n\nOpening the link changes nothing; the first Approve or \
             Reject decides, once. Anyone holding the link can decide: do not forward it.\n",
            self.state,
            execution_name(&self.execution),
            link::rfc3339(self.expires_at)
                .replacen('T', " ", 1)
                .trim_end_matches('Z'),
            self.url
        )
    }

    /// A FIFO message group: the execution's, so that one execution's approvals keep their order.
    pub fn group_id(&self) -> String {
        let hex: String = Sha256::digest(self.execution.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        request::truncate(&hex, MAX_GROUP_ID_CHARS)
    }
}

/// The item the table keeps for an approval, by attribute: the token among them (only the page function
/// reads it back, in the write that decides).
pub fn item(message: &Message, id: &str, expires_at: i64, now: i64) -> Vec<(&'static str, AttributeValue)> {
    let mut item = vec![
        ("id", AttributeValue::S(id.to_string())),
        ("token", AttributeValue::S(message.token.clone())),
        ("expires_at", AttributeValue::N(expires_at.to_string())),
        ("status", AttributeValue::S(PENDING.into())),
        ("created_at", AttributeValue::S(link::rfc3339(now))),
        ("execution", AttributeValue::S(message.execution.clone())),
        ("state", AttributeValue::S(message.state.clone())),
        ("input", AttributeValue::S(message.input.clone())),
    ];
    if let Some(index) = message.item_index {
        item.push(("item_index", AttributeValue::N(index.to_string())));
    }
    if message.input_cut {
        item.push(("input_cut", AttributeValue::Bool(true)));
    }
    item
}

/// An item's size as DynamoDB counts it, near enough: names and string values in UTF-8 bytes, numbers at
/// most 21 bytes, booleans 1.
pub fn item_bytes(item: &[(&str, AttributeValue)]) -> usize {
    item.iter()
        .map(|(name, value)| {
            name.len()
                + match value {
                    AttributeValue::S(s) => s.len(),
                    AttributeValue::N(_) => 21,
                    _ => 1,
                }
        })
        .sum()
}

/// The notify function: its clients and settings.
pub struct Notifier {
    /// DynamoDB.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// KMS.
    pub kms: aws_sdk_kms::Client,
    /// SNS.
    pub sns: aws_sdk_sns::Client,
    /// SQS.
    pub sqs: aws_sdk_sqs::Client,
    /// EventBridge.
    pub eventbridge: aws_sdk_eventbridge::Client,
    /// Settings.
    pub settings: Settings,
}

/// Why a record failed: where, and what the service said.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Failure {
    step: &'static str,
    detail: String,
}

/// Maps an SDK error to a [`Failure`] at `step`, scrubbed of the token.
fn failure<E, R>(step: &'static str, token: &str) -> impl FnOnce(SdkError<E, R>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let token = token.to_string();
    move |e| {
        let (code, message) = answer::describe(e);
        let detail = log::scrub(
            &format!("{}: {message}", code.unwrap_or_else(|| "network".into())),
            &token,
        );
        Failure { step, detail }
    }
}

impl Notifier {
    /// Handles a batch: `{"batchItemFailures": [...]}` names the records SQS should deliver again.
    pub async fn handle(&self, event: &str, request_id: &str) -> Result<Value, Invalid> {
        let records = parse_batch(event)?;
        let mut failures = Vec::new();
        for record in records {
            if !self.notify(&record, request_id).await {
                failures.push(json!({"itemIdentifier": record.message_id}));
            }
        }
        Ok(json!({"batchItemFailures": failures}))
    }

    /// Handles one record and logs how it ended; `false` when SQS should deliver it again.
    async fn notify(&self, record: &Record, request_id: &str) -> bool {
        let base = json!({"event": "approval_notify", "request_id": request_id, "message_id": record.message_id});
        let message = match &record.message {
            Ok(message) => message,
            Err(reason) => {
                log::emit(
                    "ERROR",
                    "the message is not an approval message",
                    log::with(base, json!({"outcome": "unusable", "reason": reason})),
                );
                return false;
            }
        };
        let fields = log::with(
            base,
            json!({
                "state": message.state,
                "execution": message.execution,
                "channel": message.approval.channel.name(),
                "token_id": log::token_id(&message.token),
            }),
        );
        let id = match link::new_id() {
            Ok(id) => id,
            Err(reason) => {
                log::emit(
                    "ERROR",
                    "could not make an approval id",
                    log::with(fields, json!({"outcome": "failed", "reason": reason})),
                );
                return false;
            }
        };
        let fields = log::with(fields, json!({"id": id}));
        match self.deliver(message, &id, link::unix_now()).await {
            Ok(expires_at) => {
                log::emit(
                    "INFO",
                    "sent the approval notification",
                    log::with(
                        fields,
                        json!({"outcome": "sent", "expires_at": link::rfc3339(expires_at)}),
                    ),
                );
                true
            }
            Err(f) => {
                log::emit(
                    "ERROR",
                    "could not send the approval notification",
                    log::with(
                        fields,
                        json!({"outcome": "failed", "failed_step": f.step, "detail": f.detail}),
                    ),
                );
                false
            }
        }
    }

    /// MAC, item, notification; the expiry when all went through.
    async fn deliver(&self, message: &Message, id: &str, now: i64) -> Result<i64, Failure> {
        let expires_at = now.saturating_add(i64::try_from(message.approval.timeout_seconds).unwrap_or(i64::MAX));
        let mac_message = link::mac_message(id, expires_at);
        if mac_message.len() > MAX_MAC_MESSAGE_BYTES {
            return Err(Failure {
                step: "mac",
                detail: "the MAC's message is over KMS's 4096 bytes".into(),
            });
        }
        let mac = self
            .kms
            .generate_mac()
            .key_id(&self.settings.key_id)
            .mac_algorithm(MacAlgorithmSpec::HmacSha256)
            .message(Blob::new(mac_message.into_bytes()))
            .send()
            .await
            .map_err(failure("kms:GenerateMac", &message.token))?;
        let mac = mac.mac().map(|b| b.as_ref().to_vec()).unwrap_or_default();
        if mac.len() != link::MAC_BYTES {
            return Err(Failure {
                step: "kms:GenerateMac",
                detail: format!("KMS gave a MAC of {} bytes, not {}", mac.len(), link::MAC_BYTES),
            });
        }
        self.put(message, id, expires_at, now).await?;
        let notice = Notice {
            id: id.to_string(),
            url: link::url(&self.settings.page_url, id, expires_at, &mac),
            expires_at,
            state: message.state.clone(),
            execution: message.execution.clone(),
        };
        self.send(&message.approval, &notice, &message.token).await?;
        Ok(expires_at)
    }

    async fn put(&self, message: &Message, id: &str, expires_at: i64, now: i64) -> Result<(), Failure> {
        let item = item(message, id, expires_at, now);
        if item_bytes(&item) > MAX_ITEM_BYTES {
            return Err(Failure {
                step: "dynamodb:PutItem",
                detail: format!("the item would be over DynamoDB's {MAX_ITEM_BYTES} bytes"),
            });
        }
        self.dynamodb
            .put_item()
            .table_name(&self.settings.table)
            .set_item(Some(item.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
            .condition_expression("attribute_not_exists(id)")
            .send()
            .await
            .map_err(failure("dynamodb:PutItem", &message.token))?;
        Ok(())
    }

    async fn send(&self, approval: &Approval, notice: &Notice, token: &str) -> Result<(), Failure> {
        let too_big = |step, limit| Failure {
            step,
            detail: format!("the notification is over the channel's {limit} bytes"),
        };
        match approval.channel {
            Channel::Topic => {
                let text = notice.text();
                if text.len() > MAX_SNS_MESSAGE_BYTES {
                    return Err(too_big("sns:Publish", MAX_SNS_MESSAGE_BYTES));
                }
                let mut publish = self
                    .sns
                    .publish()
                    .topic_arn(&approval.target)
                    .subject(notice.subject())
                    .message(text);
                if approval.fifo {
                    publish = publish
                        .message_group_id(notice.group_id())
                        .message_deduplication_id(&notice.id);
                }
                publish.send().await.map_err(failure("sns:Publish", token))?;
            }
            Channel::Queue => {
                let body = notice.json();
                if body.len() > MAX_SQS_MESSAGE_BYTES {
                    return Err(too_big("sqs:SendMessage", MAX_SQS_MESSAGE_BYTES));
                }
                let mut send = self.sqs.send_message().queue_url(&approval.target).message_body(body);
                if approval.fifo {
                    send = send
                        .message_group_id(notice.group_id())
                        .message_deduplication_id(&notice.id);
                }
                send.send().await.map_err(failure("sqs:SendMessage", token))?;
            }
            Channel::Bus => {
                let detail = notice.json();
                let source = approval.source.clone().unwrap_or_default();
                let detail_type = approval.detail_type.clone().unwrap_or_default();
                if detail.len() + source.len() + detail_type.len() > MAX_EVENT_ENTRY_BYTES {
                    return Err(too_big("events:PutEvents", MAX_EVENT_ENTRY_BYTES));
                }
                let Some(machine) = state_machine_arn(&notice.execution) else {
                    return Err(Failure {
                        step: "events:PutEvents",
                        detail: "context.execution is not an execution's ARN: the event could name no state machine"
                            .into(),
                    });
                };
                let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                    .event_bus_name(&approval.target)
                    .source(source)
                    .detail_type(detail_type)
                    .detail(detail)
                    .resources(machine)
                    .build();
                let out = self
                    .eventbridge
                    .put_events()
                    .entries(entry)
                    .send()
                    .await
                    .map_err(failure("events:PutEvents", token))?;
                if out.failed_entry_count() > 0 {
                    let entry = out.entries().first();
                    return Err(Failure {
                        step: "events:PutEvents",
                        detail: format!(
                            "{}: {}",
                            entry.and_then(|e| e.error_code()).unwrap_or("failed"),
                            entry.and_then(|e| e.error_message()).unwrap_or("the entry was not put")
                        ),
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "AAAAKgAAAAIAAAAAAAAAAV3/example+approval+token+that+is+long==";
    const EXECUTION: &str = "arn:aws:states:us-east-1:123456789012:execution:d-main:order-42";

    fn body(approval: Value) -> String {
        json!({
            "input": {"order": 42, "amount": 123456789012345678901234567890_u128.to_string()},
            "token": TOKEN,
            "context": {"execution": EXECUTION, "state": "ApproveRefund", "entered_time": "2026-12-03T12:00:00.000Z",
                        "retry_count": 0, "redrive_count": 0},
            "team": "payments",
            "approval": approval
        })
        .to_string()
    }

    fn topic() -> Value {
        json!({"channel": "topic", "target": "arn:aws:sns:us-east-1:123456789012:d-approvals", "fifo": false,
               "timeout_seconds": 259200})
    }

    fn notice() -> Notice {
        Notice {
            id: "AAECAwQFBgcICQoLDA0ODw".into(),
            url: "https://abc.lambda-url.us-east-1.on.aws/?id=AAECAwQFBgcICQoLDA0ODw&exp=1796558400&mac=MACMACMAC"
                .into(),
            expires_at: 1_796_558_400,
            state: "ApproveRefund".into(),
            execution: EXECUTION.into(),
        }
    }

    #[test]
    fn an_approval_message_is_read() {
        let m = parse_message(&body(topic())).unwrap();
        assert_eq!(m.token, TOKEN);
        assert_eq!((m.execution.as_str(), m.state.as_str()), (EXECUTION, "ApproveRefund"));
        assert_eq!(m.item_index, None);
        assert_eq!(m.input, r#"{"amount":"123456789012345678901234567890","order":42}"#);
        assert_eq!(
            m.approval,
            Approval {
                channel: Channel::Topic,
                target: "arn:aws:sns:us-east-1:123456789012:d-approvals".into(),
                fifo: false,
                timeout_seconds: 259_200,
                source: None,
                detail_type: None
            }
        );
        // A Debug print names the token by its id only.
        assert!(!format!("{m:?}").contains("example+approval"));
        let bus = json!({"channel": "bus", "target": "arn:aws:events:us-east-1:123456789012:event-bus/b",
                         "timeout_seconds": 60, "source": "sfngen.d", "detail_type": "Approval"});
        let m = parse_message(&body(bus)).unwrap();
        assert_eq!(m.approval.source.as_deref(), Some("sfngen.d"));
        let mut with_index: Value = serde_json::from_str(&body(topic())).unwrap();
        with_index["context"]["item_index"] = json!(3);
        assert_eq!(parse_message(&with_index.to_string()).unwrap().item_index, Some(3));
    }

    #[test]
    fn a_broken_approval_object_is_said() {
        for (approval, why) in [
            (
                json!({"channel": "mail", "target": "x", "timeout_seconds": 1}),
                "approval.channel",
            ),
            (
                json!({"channel": "topic", "target": "https://sqs", "timeout_seconds": 1}),
                "not a topic ARN",
            ),
            (
                json!({"channel": "queue", "target": "arn:aws:sqs:x", "timeout_seconds": 1}),
                "not a queue URL",
            ),
            (
                json!({"channel": "topic", "target": "arn:aws:sns:r:1:t", "timeout_seconds": 0}),
                "timeout_seconds",
            ),
            (
                json!({"channel": "topic", "target": "arn:aws:sns:r:1:t", "timeout_seconds": 1.5}),
                "timeout_seconds",
            ),
            (
                json!({"channel": "topic", "target": "arn:aws:sns:r:1:t", "timeout_seconds": 31_536_001}),
                "timeout_seconds",
            ),
            (
                json!({"channel": "topic", "target": "arn:aws:sns:r:1:t", "timeout_seconds": 1, "fifo": "yes"}),
                "fifo",
            ),
            (
                json!({"channel": "bus", "target": "arn:aws:events:r:1:event-bus/b", "timeout_seconds": 1}),
                "approval.source",
            ),
        ] {
            let problem = parse_message(&body(approval)).unwrap_err();
            assert!(problem.contains(why), "{problem}");
            assert!(!problem.contains("example+approval"), "{problem}");
        }
        assert!(parse_message(r#"{"token": "t"}"#).unwrap_err().contains("\"context\""));
        assert!(parse_message("[]").unwrap_err().contains("an array"));
        assert!(parse_message(r#"{"input": 1}"#).unwrap_err().contains("no \"token\""));
    }

    #[test]
    fn the_input_is_cut_at_16_kib_on_a_character_boundary() {
        assert_eq!(cut("abc", 3), ("abc".into(), false));
        assert_eq!(cut("abcd", 3), ("abc".into(), true));
        assert_eq!(cut("aé", 2), ("a".into(), true));
        let big = json!({"input": "é".repeat(10_000), "token": TOKEN,
                         "context": {"execution": EXECUTION, "state": "S"}, "approval": topic()});
        let m = parse_message(&big.to_string()).unwrap();
        assert!(m.input_cut);
        assert!(m.input.len() <= MAX_INPUT_BYTES && m.input.len() > MAX_INPUT_BYTES - 2);
        let item = item(&m, "id", 1, 0);
        assert!(item.contains(&("input_cut", AttributeValue::Bool(true))));
        assert!(item_bytes(&item) < MAX_ITEM_BYTES);
    }

    #[test]
    fn the_item_holds_the_token_status_and_expiry() {
        let m = parse_message(&body(topic())).unwrap();
        let item = item(&m, "AAECAwQFBgcICQoLDA0ODw", 1_796_558_400, 1_796_299_200);
        let get = |k: &str| item.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
        assert_eq!(get("token"), Some(AttributeValue::S(TOKEN.into())));
        assert_eq!(get("expires_at"), Some(AttributeValue::N("1796558400".into())));
        assert_eq!(get("status"), Some(AttributeValue::S("pending".into())));
        assert_eq!(
            get("created_at"),
            Some(AttributeValue::S("2026-12-03T12:00:00Z".into()))
        );
        assert_eq!(get("execution"), Some(AttributeValue::S(EXECUTION.into())));
        assert_eq!(get("state"), Some(AttributeValue::S("ApproveRefund".into())));
        assert_eq!(get("item_index"), None);
    }

    #[test]
    fn notifications_carry_the_link_but_no_token_or_input() {
        let n = notice();
        let queue: Value = serde_json::from_str(&n.json()).unwrap();
        assert_eq!(
            queue,
            json!({"approval": {"id": "AAECAwQFBgcICQoLDA0ODw", "url": n.url, "expires_at": "2026-12-06T12:00:00Z",
                                "state": "ApproveRefund", "execution": EXECUTION}})
        );
        let text = n.text();
        assert!(
            text.contains("Step: ApproveRefund\nExecution: order-42\nLink expires: 2026-12-06 12:00:00 UTC"),
            "{text}"
        );
        assert!(text.contains(&n.url));
        for sent in [n.json(), text, n.subject()] {
            assert!(!sent.contains("example+approval"), "{sent}");
            assert!(!sent.contains("order\":42"), "{sent}");
        }
        assert_eq!(n.subject(), "Approval requested: ApproveRefund");
    }

    #[test]
    fn the_subject_is_printable_ascii_under_100_characters() {
        let mut n = notice();
        n.state = format!("Ré\nview {}", "x".repeat(200));
        let subject = n.subject();
        assert_eq!(subject.chars().count(), MAX_SUBJECT_CHARS);
        assert!(subject.starts_with("Approval requested: R?"), "{subject}");
        assert!(subject.chars().all(|c| c.is_ascii_graphic() || c == ' '));
    }

    #[test]
    fn a_bus_notification_names_the_state_machine_of_its_execution() {
        assert_eq!(
            state_machine_arn(EXECUTION).as_deref(),
            Some("arn:aws:states:us-east-1:123456789012:stateMachine:d-main")
        );
        assert_eq!(
            state_machine_arn("arn:aws-us-gov:states:us-gov-west-1:123456789012:execution:m:e").as_deref(),
            Some("arn:aws-us-gov:states:us-gov-west-1:123456789012:stateMachine:m")
        );
        for not_one in [
            "",
            "order-42",
            "arn:aws:states:us-east-1:123456789012:stateMachine:d-main",
            "arn:aws:states:us-east-1:123456789012:execution:d-main",
            "arn:aws:states:us-east-1:123456789012:execution::e",
            "arn:aws:states:us-east-1:123456789012:execution:m:e:x",
        ] {
            assert_eq!(state_machine_arn(not_one), None, "{not_one}");
        }
    }

    #[test]
    fn fifo_groups_are_the_executions() {
        let n = notice();
        assert_eq!(n.group_id().len(), 64);
        let mut other = notice();
        other.execution.push('x');
        assert_ne!(n.group_id(), other.group_id());
        assert_eq!(execution_name(EXECUTION), "order-42");
        assert_eq!(execution_name("plain"), "plain");
    }

    #[test]
    fn a_batch_is_read_record_by_record() {
        let event = json!({"Records": [
            {"messageId": "m1", "eventSource": "aws:sqs", "body": body(topic())},
            {"messageId": "m2", "eventSource": "aws:sqs", "body": "not json"}
        ]})
        .to_string();
        let records = parse_batch(&event).unwrap();
        assert_eq!(records.len(), 2);
        assert!(records[0].message.is_ok());
        assert!(
            records[1]
                .message
                .as_ref()
                .unwrap_err()
                .contains("not an approval message")
        );
        assert!(parse_batch(r#"{"token": "t"}"#).unwrap_err().0.contains("SQS batches"));
        assert!(
            parse_batch(r#"{"Records": [{"messageId": "m"}]}"#)
                .unwrap_err()
                .0
                .contains("eventSource")
        );
    }

    #[test]
    fn settings_need_table_key_and_an_https_page() {
        let vars = |page: &'static str| {
            move |n: &str| {
                [
                    ("SFNGEN_APPROVAL_TABLE", "d-approvals"),
                    ("SFNGEN_APPROVAL_KEY_ID", "arn:aws:kms:us-east-1:1:key/k"),
                    ("SFNGEN_APPROVAL_PAGE_URL", page),
                ]
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.to_string())
            }
        };
        assert!(Settings::from_env(vars("https://abc.lambda-url.us-east-1.on.aws/")).is_ok());
        assert!(
            Settings::from_env(vars("abc"))
                .unwrap_err()
                .contains("SFNGEN_APPROVAL_PAGE_URL")
        );
        assert!(Settings::from_env(|_| None).is_err());
    }
}
