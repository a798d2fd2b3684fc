//! Every key of `sfngen.toml`, declared once: its path, type, default, allowed values and a one-line doc.
//!
//! The reader ([`crate::spec`]) knows a key only if it is listed in [`KEYS`]; [`crate::resolve`] takes
//! defaults and ranges from the constants here; `sfngen schema` ([`crate::schema`]) is generated from
//! [`KEYS`]; the README's key table is [`markdown_table`], and tests hold the `sfngen init` starter to it.
//!
//! A path names a key the way a reader finds it: `.` between a table and its keys, `[]` for every element
//! of an array of tables (`steps[].timeout`), `*` for every entry of a map (`queues.*.retention`).

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::duration::format_seconds;

/// One day, in seconds.
pub const DAY: u64 = 86_400;
/// The longest a Standard execution, or one of its tasks, may run (and so any duration inside one).
pub const MAX_EXECUTION_SECONDS: u64 = 365 * DAY;
/// `name` and queue keys: at most this many characters.
pub const MAX_NAME_CHARS: usize = 32;
/// ASL state names: at most this many characters.
pub const MAX_STATE_NAME_CHARS: usize = 80;
/// Characters an ASL state name may not hold, besides control characters.
pub const FORBIDDEN_STATE_NAME_CHARS: &str = "<>{}[]?*\"#%\\^|~`$&,;:/";
/// An error name (`errors` of a retry or catch, a Fail state's `error`): at most this many characters.
pub const MAX_ERROR_NAME_CHARS: usize = 256;
/// What `errors` means when left out: every error.
pub const ALL_ERRORS: &str = "States.ALL";
/// A KMS key ARN, as `queues.*.encryption` takes one (a regular expression in the syntax RE2, Terraform's
/// `regex()`, and JSON Schema share).
pub const KMS_KEY_ARN_PATTERN: &str = "^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$";
/// A KMS key ARN's form, as messages show it.
pub const KMS_KEY_ARN_FORM: &str = "arn:aws:kms:REGION:ACCOUNT:key/ID";
/// A KMS key alias, as `queues.*.encryption` takes one (see [`KMS_KEY_ARN_PATTERN`]), of at most
/// [`MAX_KMS_ALIAS_CHARS`] characters.
pub const KMS_ALIAS_PATTERN: &str = "^alias/[A-Za-z0-9/_-]+$";
/// A KMS key alias's form, as messages show it.
pub const KMS_ALIAS_FORM: &str = "alias/NAME";
/// A KMS key alias: at most this many characters, `alias/` included.
pub const MAX_KMS_ALIAS_CHARS: usize = 256;
/// An event's `Source`: at most this many characters, and not `aws.` first (PutEventsRequestEntry,
/// <https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsRequestEntry.html>).
pub const MAX_EVENT_SOURCE_CHARS: usize = 256;
/// An event's `DetailType`: at most this many characters (the same page).
pub const MAX_DETAIL_TYPE_CHARS: usize = 128;
/// A Secrets Manager secret ARN, in any partition (`aws`, `aws-cn`, `aws-us-gov`, `aws-iso`...): the regular
/// expression RE2, Terraform's `regex()` and JSON Schema share.
pub const SECRET_ARN_PATTERN: &str = "^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$";
/// A Secrets Manager secret ARN's form, as messages show it.
pub const SECRET_ARN_FORM: &str = "arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf";
/// The values of `callback.endpoint`, each with what it means.
pub const ENDPOINT_AUTHS: [(&str, &str); 2] = [
    ("iam", "SigV4: callers sign with their AWS credentials (AWS_IAM)"),
    (
        "hmac",
        "an HMAC-SHA256 signature over a timestamp and the body, with a shared secret (NONE: the function checks it)",
    ),
];
/// CloudWatch Logs' allowed `retentionInDays` values.
pub const LOG_RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/// One key of the spec: where it is, what it is, and what it may hold. `Key` alone is an entry of
/// [`KEYS`]; `Key<Integer>` and the like are the constants resolve reads its ranges and defaults from.
#[derive(Debug, Clone, Copy)]
pub struct Key<R = Rule> {
    /// Where it is.
    pub path: &'static str,
    /// What it is, in one line.
    pub doc: &'static str,
    /// What it may hold, and its value when left out.
    pub rule: R,
}

/// What a key may hold.
#[derive(Debug, Clone, Copy)]
pub enum Rule {
    /// A table, an array of tables or a map: its keys are listed under its path.
    Table(Table),
    /// A string.
    Text(Text),
    /// A duration string (`"90s"`, `"5m"`, `"1h"`, `"7d"`).
    Duration(Duration),
    /// A whole number in a range.
    Integer(Integer),
    /// A number in a range.
    Number(Number),
    /// `true` or `false`; this value when left out.
    Flag(bool),
    /// One string out of a few.
    Choice(Choice),
    /// A log group's retention in days: one of [`LOG_RETENTION_DAYS`].
    Retention(Retention),
    /// A list of error names (`ErrorEquals`), every error (`["States.ALL"]`) when left out.
    ErrorNames,
}

/// A key holding other keys.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    /// How it holds them.
    pub shape: Shape,
    /// Whether a spec must have it.
    pub required: bool,
}

/// How a [`Table`] key holds its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A table of the keys listed under its path; left out, every one of them has its default.
    Table,
    /// Such a table, or `false` to turn the feature off; on by default.
    TableOrFalse,
    /// An array of tables (`[[steps]]`), each a table of the keys listed under `PATH[]`.
    Tables {
        /// At least this many.
        min_items: usize,
        /// Each table has exactly one of these keys (none: no such rule).
        exactly_one_of: &'static [&'static str],
    },
    /// Keys the user chooses (`[tags]`, `message`, `[queues]`).
    Map(Entries),
}

/// What a [`Shape::Map`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entries {
    /// AWS tags: string keys and values.
    Tags,
    /// Static message fields: any TOML value, sent as JSON.
    Json,
    /// A table of the keys listed under `PATH.*` for each entry, whose key is a resource name.
    Tables {
        /// At least this many.
        min_entries: usize,
    },
}

/// A string key.
#[derive(Debug, Clone, Copy)]
pub struct Text {
    /// Whether a spec must have it.
    pub required: bool,
    /// Its value when left out.
    pub default: Option<&'static str>,
    /// What it may hold.
    pub allows: TextRule,
}

/// What a [`Text`] key may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextRule {
    /// A prefix of AWS names: 1-32 lowercase letters, digits or '-', a letter first, no trailing '-'.
    ResourceName,
    /// An ASL state name.
    StateName,
    /// The key of a `[queues.*]` table.
    QueueKey,
    /// The key of a `[topics.*]` table.
    TopicKey,
    /// The key of a `[buses.*]` table.
    BusKey,
    /// `default` (the account's default bus) or the name of an existing bus.
    BusName,
    /// An event's `Source`: not starting with `aws.`.
    EventSource,
    /// An event's `DetailType`.
    DetailType,
    /// The name of a later step.
    LaterStep,
    /// A JSONPath into the state input.
    JsonPath,
    /// A reference path into the state input: a JSONPath that selects one node.
    ReferencePath,
    /// An error name of 1 to 256 characters.
    ErrorName,
    /// `sqs`, `kms`, a KMS key ARN or `alias/...`.
    Encryption,
    /// `sns`, `kms`, a KMS key ARN or `alias/...`.
    TopicEncryption,
    /// `aws`, `kms`, a KMS key ARN or `alias/...`.
    ExecutionEncryption,
    /// How the HTTPS callback endpoint authenticates a request: `iam` or `hmac`.
    EndpointAuth,
    /// A Secrets Manager secret's ARN ([`SECRET_ARN_PATTERN`]).
    SecretArn,
    /// Any text.
    Any,
}

/// A value from `min` to `max`: a [`Duration`], an [`Integer`] or a [`Number`].
#[derive(Debug, Clone, Copy)]
pub struct Range<T> {
    /// The least.
    pub min: T,
    /// The most.
    pub max: T,
    /// Its value when left out; `None`: unset.
    pub default: Option<T>,
    /// How to fix a value out of range; `{min}` and `{max}` are filled in as a spec writes them, and
    /// `{unset}` (for a key without a default) with how to leave the value unset.
    pub help: &'static str,
}

/// A duration, in seconds.
pub type Duration = Range<u64>;
/// A whole number.
pub type Integer = Range<u32>;
/// A number.
pub type Number = Range<f64>;

/// The help of every duration out of range.
const DURATION_HELP: &str = "use a duration from {min} to {max}";

/// A value of a [`Range`] as a spec writes it.
pub trait Written: Copy + PartialOrd {
    /// As in a message or a table: `5m`, `128`, `2.0`.
    fn written(self) -> String;
    /// As TOML: `"5m"`, `128`, `2.0`.
    fn toml(self) -> String {
        self.written()
    }
}

/// `u64` ranges are durations, in seconds.
impl Written for u64 {
    fn written(self) -> String {
        format_seconds(self)
    }
    fn toml(self) -> String {
        format!("\"{}\"", format_seconds(self))
    }
}

impl Written for u32 {
    fn written(self) -> String {
        self.to_string()
    }
}

impl Written for f64 {
    fn written(self) -> String {
        format!("{self:?}")
    }
}

impl<T: Written> Range<T> {
    /// Whether `value` is allowed.
    pub fn contains(&self, value: T) -> bool {
        self.min <= value && value <= self.max
    }

    /// How to fix a value out of range in a spec.
    pub fn help(&self) -> String {
        self.help_unset("remove the key")
    }

    /// How to fix a value out of range, `unset` saying how to leave it unset.
    fn help_unset(&self, unset: &str) -> String {
        self.help
            .replace("{min}", &self.min.written())
            .replace("{max}", &self.max.written())
            .replace("{unset}", unset)
    }

    /// `min..max`, as a spec writes them.
    pub fn allowed(&self) -> String {
        format!("{}..{}", self.min.written(), self.max.written())
    }
}

impl Integer {
    /// How to fix a module input (a Terraform variable) holding this key's value: as [`Range::help`], null
    /// leaving it unset.
    pub fn input_help(&self) -> String {
        self.help_unset("null")
    }
}

impl Duration {
    /// How to fix a module input holding this key's value in whole seconds.
    pub fn input_help(&self) -> String {
        format!(
            "use a whole number of seconds from {} to {} ({} to {})",
            self.min,
            self.max,
            self.min.written(),
            self.max.written()
        )
    }
}

/// A key holding one of a few strings.
#[derive(Debug, Clone, Copy)]
pub struct Choice {
    /// The allowed values, each with what it means (empty: nothing to add).
    pub values: &'static [(&'static str, &'static str)],
    /// Its value when left out.
    pub default: &'static str,
    /// What a value is called in a message: "unknown {noun} ...".
    pub noun: &'static str,
    /// Added to the list of allowed values in a message.
    pub note: &'static str,
}

impl Choice {
    /// Its values, as a message lists them: `use "a" or "b"`, `use one of "a", "b", "c"`.
    pub fn help(&self) -> String {
        let shown: Vec<String> = self
            .values
            .iter()
            .map(|(value, meaning)| match *meaning {
                "" => format!("{value:?}"),
                meaning => format!("{value:?} ({meaning})"),
            })
            .collect();
        let list = match shown.as_slice() {
            [a, b] => format!("{a} or {b}"),
            _ => format!("one of {}", shown.join(", ")),
        };
        format!("use {list}{}", self.note)
    }
}

/// A log group's retention in days, one of [`LOG_RETENTION_DAYS`].
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Its value when left out.
    pub default: u32,
}

/// `name`.
pub const NAME: Key<Text> = Key {
    path: "name",
    doc: "Prefix of every AWS resource name.",
    rule: Text {
        required: true,
        default: None,
        allows: TextRule::ResourceName,
    },
};
/// `state_machine.timeout`.
pub const STATE_MACHINE_TIMEOUT: Key<Duration> = Key {
    path: "state_machine.timeout",
    doc: "The execution's TimeoutSeconds.",
    rule: Range {
        min: 1,
        max: MAX_EXECUTION_SECONDS,
        default: Some(3_600),
        help: DURATION_HELP,
    },
};
/// `state_machine.log_level`.
pub const LOG_LEVEL: Key<Choice> = Key {
    path: "state_machine.log_level",
    doc: "Execution logging; the log group exists at every level (OFF keeps it, with its logs).",
    rule: Choice {
        values: &[("OFF", ""), ("ALL", ""), ("ERROR", ""), ("FATAL", "")],
        default: "ERROR",
        noun: "log level",
        note: " (upper case)",
    },
};
/// `state_machine.include_execution_data`.
pub const INCLUDE_EXECUTION_DATA: Key = key(
    "state_machine.include_execution_data",
    "Log execution input and output (it can hold personal data).",
    Rule::Flag(false),
);
/// `state_machine.tracing`.
pub const TRACING: Key = key(
    "state_machine.tracing",
    "X-Ray tracing, for the state machine and the callback Lambda.",
    Rule::Flag(false),
);
/// `state_machine.log_retention_days`.
pub const STATE_MACHINE_LOG_RETENTION: Key<Retention> = Key {
    path: "state_machine.log_retention_days",
    doc: "Retention of the execution log group, in days.",
    rule: Retention { default: 30 },
};
/// `state_machine.encryption`.
pub const STATE_MACHINE_ENCRYPTION: Key<Text> = Key {
    path: "state_machine.encryption",
    doc: "Encryption at rest of the definition and execution history; with a customer managed key, whoever \
          starts, reads or answers executions needs kms:Decrypt and kms:GenerateDataKey on it.",
    rule: Text {
        required: false,
        default: Some("aws"),
        allows: TextRule::ExecutionEncryption,
    },
};
/// `steps[].timeout`.
pub const STEP_TIMEOUT: Key<Duration> = Key {
    path: "steps[].timeout",
    doc: "The Task's TimeoutSeconds.",
    rule: Range {
        min: 1,
        max: MAX_EXECUTION_SECONDS,
        default: None,
        help: DURATION_HELP,
    },
};
/// `steps[].heartbeat`.
pub const STEP_HEARTBEAT: Key<Duration> = Key {
    path: "steps[].heartbeat",
    doc: "The Task's HeartbeatSeconds; shorter than its timeout and the execution timeout.",
    rule: STEP_TIMEOUT.rule,
};
/// `steps[].input_path`.
pub const INPUT_PATH: Key<Text> = Key {
    path: "steps[].input_path",
    doc: "JSONPath of the part of the state input sent as the message's `input`.",
    rule: Text {
        required: false,
        default: Some("$"),
        allows: TextRule::JsonPath,
    },
};
/// `steps[].for_each`.
pub const FOR_EACH: Key<Text> = Key {
    path: "steps[].for_each",
    doc: "JSONPath of an array in the state input: the step becomes an inline Map state with one callback task, one \
          message and one token per item (the item is the message's `input`, `input_path` applies within it); its \
          result is the array of answers, in item order.",
    rule: Text {
        required: false,
        default: None,
        allows: TextRule::ReferencePath,
    },
};
/// `steps[].max_concurrency`.
pub const MAX_CONCURRENCY: Key<Integer> = Key {
    path: "steps[].max_concurrency",
    doc: "With `for_each`: MaxConcurrency, the most items waiting at once (inline mode runs at most 40).",
    rule: Range {
        min: 1,
        max: crate::limits::INLINE_MAP_CONCURRENCY.figure as u32,
        default: None,
        help: "use {min} to {max} (an inline Map runs at most {max} items at once), or {unset} for no limit of your own",
    },
};
/// `steps[].max_items`.
pub const MAX_ITEMS: Key<Integer> = Key {
    path: "steps[].max_items",
    doc: "With `for_each`: the most items the array holds, which the execution history estimate counts (not \
          enforced); unset, as many as a 256 KiB state input holds.",
    rule: Range {
        min: 1,
        max: crate::limits::EXECUTION_HISTORY.figure as u32,
        default: None,
        help: "use {min} to {max} (an execution's history holds at most {max} events, and each item adds several), \
               or {unset}",
    },
};
/// `steps[].tolerated_failure_percentage`.
pub const TOLERATED_FAILURE_PERCENTAGE: Key<Integer> = Key {
    path: "steps[].tolerated_failure_percentage",
    doc: "With `for_each`: 0, an item failing (after its retries) fails the step, as an inline Map does; 100, a \
          failed item's place in the result holds `{index, item, error}` and the step goes on.",
    rule: Range {
        min: 0,
        max: 100,
        default: Some(0),
        help: "use {min} or {max}",
    },
};
/// `steps[].retry[].attempts`.
pub const RETRY_ATTEMPTS: Key<Integer> = Key {
    path: "steps[].retry[].attempts",
    doc: "MaxAttempts.",
    rule: Range {
        min: 0,
        max: 99,
        default: Some(3),
        help: "use {min} to {max}",
    },
};
/// `steps[].retry[].interval`.
pub const RETRY_INTERVAL: Key<Duration> = Key {
    path: "steps[].retry[].interval",
    doc: "IntervalSeconds: the wait before the first retry.",
    rule: Range {
        default: Some(1),
        ..STEP_TIMEOUT.rule
    },
};
/// `steps[].retry[].backoff_rate`.
pub const RETRY_BACKOFF_RATE: Key<Number> = Key {
    path: "steps[].retry[].backoff_rate",
    doc: "BackoffRate: each wait is the last one times this.",
    rule: Range {
        min: 1.0,
        max: 100.0,
        default: Some(2.0),
        help: "use a number from {min} (constant interval) to {max}",
    },
};
/// `steps[].retry[].max_delay`.
pub const RETRY_MAX_DELAY: Key<Duration> = Key {
    path: "steps[].retry[].max_delay",
    doc: "MaxDelaySeconds: the longest wait between attempts.",
    rule: STEP_TIMEOUT.rule,
};
/// `queues.*.visibility_timeout`.
pub const VISIBILITY_TIMEOUT: Key<Duration> = Key {
    path: "queues.*.visibility_timeout",
    doc: "VisibilityTimeout: how long a received message stays hidden from other workers.",
    rule: Range {
        min: 0,
        max: 12 * 3_600,
        default: Some(300),
        help: DURATION_HELP,
    },
};
/// `queues.*.retention`.
pub const QUEUE_RETENTION: Key<Duration> = Key {
    path: "queues.*.retention",
    doc: "MessageRetentionPeriod.",
    rule: Range {
        min: 60,
        max: 14 * DAY,
        default: Some(4 * DAY),
        help: DURATION_HELP,
    },
};
/// `queues.*.receive_wait`.
pub const RECEIVE_WAIT: Key<Duration> = Key {
    path: "queues.*.receive_wait",
    doc: "ReceiveMessageWaitTimeSeconds: long polling, how long a worker's ReceiveMessage waits for a message.",
    rule: Range {
        min: 0,
        max: 20,
        default: Some(20),
        help: DURATION_HELP,
    },
};
/// `queues.*.encryption`.
pub const QUEUE_ENCRYPTION: Key<Text> = Key {
    path: "queues.*.encryption",
    doc: "Encryption at rest; a key ARN or alias is used as given, and the roles may use it.",
    rule: Text {
        required: false,
        default: Some("sqs"),
        allows: TextRule::Encryption,
    },
};
/// `topics.*.encryption`.
pub const TOPIC_ENCRYPTION: Key<Text> = Key {
    path: "topics.*.encryption",
    doc: "Encryption at rest; a key ARN or alias is used as given, and the state machine's role may use it.",
    rule: Text {
        required: false,
        default: Some("sns"),
        allows: TextRule::TopicEncryption,
    },
};
/// `topics.*.subscriptions[].protocol`: the protocols that can carry a task message to someone who answers it
/// (`sms`, `application` and `firehose` cannot: resolve says why).
pub const SUBSCRIPTION_PROTOCOL: Key<Choice> = Key {
    path: "topics.*.subscriptions[].protocol",
    doc: "How SNS delivers: `sqs`, `lambda` and `http`/`https` get the task message itself (raw delivery where SNS \
          offers it), `email`/`email-json` a confirmed address.",
    rule: Choice {
        values: &[
            ("sqs", "an SQS queue, by ARN"),
            ("lambda", "a Lambda function, by ARN"),
            ("https", "an HTTPS endpoint, which confirms the subscription"),
            ("http", "an HTTP endpoint, which confirms the subscription"),
            ("email", "an email address, confirmed by its owner"),
            (
                "email-json",
                "an email address (the notification as JSON), confirmed by its owner",
            ),
        ],
        default: "sqs",
        noun: "subscription protocol",
        note: "",
    },
};
/// `topics.*.dead_letter`.
pub const TOPIC_DEAD_LETTER: Key<bool> = Key {
    path: "topics.*.dead_letter",
    doc: "An SQS dead-letter queue every declared subscription's redrive policy names; the dead-letter Lambda reads it \
          and fails each message's task at once with `sfngen.DeadLettered`. `false`: none.",
    rule: true,
};
/// `buses.*.name`.
pub const BUS_NAME: Key<Text> = Key {
    path: "buses.*.name",
    doc: "`default`: the account's default bus; another name: an existing bus. Left out: a bus the module creates, \
          `{name}-{key}`.",
    rule: Text {
        required: false,
        default: None,
        allows: TextRule::BusName,
    },
};
/// `buses.*.source`.
pub const BUS_SOURCE: Key<Text> = Key {
    path: "buses.*.source",
    doc: "The events' Source. Left out: `sfngen.{name}`.",
    rule: Text {
        required: false,
        default: None,
        allows: TextRule::EventSource,
    },
};
/// `buses.*.detail_type`.
pub const BUS_DETAIL_TYPE: Key<Text> = Key {
    path: "buses.*.detail_type",
    doc: "The events' DetailType.",
    rule: Text {
        required: false,
        default: Some("sfngen task"),
        allows: TextRule::DetailType,
    },
};
/// `queues.*.dead_letter.max_receives`.
pub const MAX_RECEIVES: Key<Integer> = Key {
    path: "queues.*.dead_letter.max_receives",
    doc: "maxReceiveCount: receives before a message moves to the dead-letter queue.",
    rule: Range {
        min: 1,
        max: 1_000,
        default: Some(5),
        help: "use a number from {min} to {max}",
    },
};
/// `queues.*.dead_letter.fail_execution`.
pub const FAIL_EXECUTION: Key<bool> = Key {
    path: "queues.*.dead_letter.fail_execution",
    doc: "The dead-letter Lambda (a function of its own, which only event source mappings invoke) reads the \
          dead-letter queue and fails each message's task at once with `sfngen.DeadLettered`, instead of leaving \
          the execution to the step's timeout.",
    rule: true,
};
/// `callback.memory_mb`.
pub const MEMORY_MB: Key<Integer> = Key {
    path: "callback.memory_mb",
    doc: "The Lambda functions' memory, in MB.",
    rule: Range {
        min: 128,
        max: 10_240,
        default: Some(128),
        help: "use a whole number of MB from {min} to {max}",
    },
};
/// `callback.timeout`.
pub const CALLBACK_TIMEOUT: Key<Duration> = Key {
    path: "callback.timeout",
    doc: "The Lambda functions' timeout.",
    rule: Range {
        min: 1,
        max: 15 * 60,
        default: Some(10),
        help: DURATION_HELP,
    },
};
/// `callback.architecture`.
pub const ARCHITECTURE: Key<Choice> = Key {
    path: "callback.architecture",
    doc: "The Lambda functions' CPU architecture.",
    rule: Choice {
        values: &[("arm64", ""), ("x86_64", "")],
        default: "arm64",
        noun: "architecture",
        note: "",
    },
};
/// `callback.reserved_concurrency`.
pub const RESERVED_CONCURRENCY: Key<Integer> = Key {
    path: "callback.reserved_concurrency",
    doc: "The callback's reserved concurrent executions, the workers' alone (the dead-letter Lambda's own are \
          capped by its event source mappings); unset, the callback is unreserved.",
    rule: Range {
        min: 1,
        max: 100_000,
        default: None,
        help: "use a number from {min} up to your account's concurrency limit, or {unset} to leave the function \
               unreserved (0 would stop every callback)",
    },
};
/// `callback.endpoint`.
pub const ENDPOINT: Key<Text> = Key {
    path: "callback.endpoint",
    doc: "An HTTPS callback endpoint (a Lambda function URL) taking the callback's JSON event: `iam` (SigV4, the \
          default to choose) or `hmac` (a signed webhook: secret in Secrets Manager, timestamp within a replay \
          window). Unset: no endpoint.",
    rule: Text {
        required: false,
        default: None,
        allows: TextRule::EndpointAuth,
    },
};
/// `callback.endpoint_secret`.
pub const ENDPOINT_SECRET: Key<Text> = Key {
    path: "callback.endpoint_secret",
    doc: "With `endpoint = \"hmac\"`: the Secrets Manager secret holding the HMAC key (at least 32 bytes). Unset: the \
          module creates `{name}-endpoint-hmac` without a value, and the endpoint refuses every request until you put one.",
    rule: Text {
        required: false,
        default: None,
        allows: TextRule::SecretArn,
    },
};
/// `callback.endpoint_replay_window`.
pub const ENDPOINT_REPLAY_WINDOW: Key<Duration> = Key {
    path: "callback.endpoint_replay_window",
    doc: "With `endpoint = \"hmac\"`: how far a signature's timestamp may be from the function's clock.",
    rule: Range {
        min: 1,
        max: 15 * 60,
        default: Some(300),
        help: DURATION_HELP,
    },
};
/// `callback.endpoint_reserved_concurrency`.
pub const ENDPOINT_RESERVED_CONCURRENCY: Key<Integer> = Key {
    path: "callback.endpoint_reserved_concurrency",
    doc: "With `endpoint`: the endpoint function's reserved concurrency, which throttles the URL (429) beyond it.",
    rule: Range {
        min: 1,
        max: 1_000,
        default: Some(10),
        help: "use a number from {min} to {max}",
    },
};
/// `steps[].approval`.
pub const APPROVAL: Key<bool> = Key {
    path: "steps[].approval",
    doc: "A human approval: the step's channel carries a notification with a link to a confirmation page (Approve, \
          Reject); the task token stays in the module's DynamoDB table, inside AWS. Needs a `timeout` (the link's \
          expiry) and no `heartbeat`.",
    rule: false,
};
/// `callback.log_retention_days`.
pub const CALLBACK_LOG_RETENTION: Key<Retention> = Key {
    path: "callback.log_retention_days",
    doc: "Retention of the Lambda functions' log groups, in days.",
    rule: Retention { default: 30 },
};
/// `logs.encryption`.
pub const LOG_ENCRYPTION: Key<Choice> = Key {
    path: "logs.encryption",
    doc: "Encryption of the module's log groups; the key policy lets CloudWatch Logs use the key for them only.",
    rule: Choice {
        values: &[
            ("cloudwatch", "CloudWatch Logs' own encryption"),
            ("kms", "the key this module creates"),
        ],
        default: "cloudwatch",
        noun: "log encryption",
        note: "",
    },
};
/// `alarms.period`.
pub const ALARM_PERIOD: Key<Duration> = Key {
    path: "alarms.period",
    doc: "The alarms' evaluation period: 60s or a multiple of 60s.",
    rule: Range {
        min: 60,
        max: DAY,
        default: Some(300),
        help: DURATION_HELP,
    },
};
/// `alarms.evaluation_periods`.
pub const EVALUATION_PERIODS: Key<Integer> = Key {
    path: "alarms.evaluation_periods",
    doc: "Periods above its threshold before an alarm fires.",
    rule: Range {
        min: 1,
        max: 100,
        default: Some(1),
        help: "use {min} to {max}",
    },
};

/// `Key<Text>` and the like as an entry of [`KEYS`].
macro_rules! entry {
    ($($rule:ty => $variant:ident),* $(,)?) => {$(
        impl Key<$rule> {
            /// This key as an entry of [`KEYS`].
            pub const fn entry(self) -> Key {
                Key { path: self.path, doc: self.doc, rule: Rule::$variant(self.rule) }
            }
        }
    )*};
}
entry!(bool => Flag, Text => Text, Duration => Duration, Integer => Integer, Number => Number, Choice => Choice, Retention => Retention);

/// A key of no particular rule: a table, a flag, a list of error names, a string.
const fn key(path: &'static str, doc: &'static str, rule: Rule) -> Key {
    Key { path, doc, rule }
}

/// An optional table of the keys listed under its path.
const TABLE: Rule = Rule::Table(Table {
    shape: Shape::Table,
    required: false,
});

/// Optional arrays of tables.
const TABLES: Rule = Rule::Table(Table {
    shape: Shape::Tables {
        min_items: 0,
        exactly_one_of: &[],
    },
    required: false,
});

/// Every key, tables before their keys, each table's keys in the order the messages list them.
pub const KEYS: &[Key] = &[
    NAME.entry(),
    key(
        "tags",
        "Tags on every taggable resource, after the module's own tags.",
        Rule::Table(Table {
            shape: Shape::Map(Entries::Tags),
            required: false,
        }),
    ),
    key("state_machine", "The Standard state machine.", TABLE),
    STATE_MACHINE_TIMEOUT.entry(),
    LOG_LEVEL.entry(),
    INCLUDE_EXECUTION_DATA,
    TRACING,
    STATE_MACHINE_LOG_RETENTION.entry(),
    STATE_MACHINE_ENCRYPTION.entry(),
    key(
        "steps",
        "The callback Task states, in execution order.",
        Rule::Table(Table {
            shape: Shape::Tables {
                min_items: 1,
                exactly_one_of: &["queue", "topic", "bus"],
            },
            required: true,
        }),
    ),
    key(
        "steps[].name",
        "The ASL state name, unique.",
        Rule::Text(Text {
            required: true,
            default: None,
            allows: TextRule::StateName,
        }),
    ),
    key(
        "steps[].queue",
        "The SQS queue it sends its task to (one of `queue`, `topic`, `bus`). Several steps may share a queue.",
        Rule::Text(Text {
            required: false,
            default: None,
            allows: TextRule::QueueKey,
        }),
    ),
    key(
        "steps[].topic",
        "The SNS topic it publishes its task to (one of `queue`, `topic`, `bus`).",
        Rule::Text(Text {
            required: false,
            default: None,
            allows: TextRule::TopicKey,
        }),
    ),
    key(
        "steps[].bus",
        "The EventBridge bus it puts its task on, as an event whose `detail` is the message (one of `queue`, \
         `topic`, `bus`).",
        Rule::Text(Text {
            required: false,
            default: None,
            allows: TextRule::BusKey,
        }),
    ),
    STEP_TIMEOUT.entry(),
    STEP_HEARTBEAT.entry(),
    INPUT_PATH.entry(),
    FOR_EACH.entry(),
    MAX_CONCURRENCY.entry(),
    MAX_ITEMS.entry(),
    TOLERATED_FAILURE_PERCENTAGE.entry(),
    APPROVAL.entry(),
    key(
        "steps[].message",
        "Static fields added to the message, sent as written; `input` and `token` are sfngen's own, and no key at any \
         depth ends in `.$` (Step Functions would read its value as a path).",
        Rule::Table(Table {
            shape: Shape::Map(Entries::Json),
            required: false,
        }),
    ),
    key("steps[].retry", "ASL Retry, in order.", TABLES),
    key(
        "steps[].retry[].errors",
        "ErrorEquals: the errors to retry, such as `States.Timeout` or a worker's own; `States.ALL` alone, in the \
         last retrier.",
        Rule::ErrorNames,
    ),
    RETRY_ATTEMPTS.entry(),
    RETRY_INTERVAL.entry(),
    RETRY_BACKOFF_RATE.entry(),
    RETRY_MAX_DELAY.entry(),
    key("steps[].retry[].jitter", "JitterStrategy FULL.", Rule::Flag(false)),
    key(
        "steps[].catch",
        "ASL Catch, in order; the error lands at $.error of the state input.",
        Rule::Table(Table {
            shape: Shape::Tables {
                min_items: 0,
                exactly_one_of: &["next", "fail"],
            },
            required: false,
        }),
    ),
    key(
        "steps[].catch[].errors",
        "ErrorEquals: the errors to catch, such as `States.HeartbeatTimeout` or a worker's own; `States.ALL` alone, \
         in the last catcher.",
        Rule::ErrorNames,
    ),
    key(
        "steps[].catch[].next",
        "Go on at this later step.",
        Rule::Text(Text {
            required: false,
            default: None,
            allows: TextRule::LaterStep,
        }),
    ),
    key("steps[].catch[].fail", "End the execution in a Fail state.", TABLE),
    key(
        "steps[].catch[].fail.error",
        "The Fail state's Error.",
        Rule::Text(Text {
            required: true,
            default: None,
            allows: TextRule::ErrorName,
        }),
    ),
    key(
        "steps[].catch[].fail.cause",
        "The Fail state's Cause.",
        Rule::Text(Text {
            required: false,
            default: None,
            allows: TextRule::Any,
        }),
    ),
    key(
        "queues",
        "One table per queue, keyed like `name`; every queue must be used by a step.",
        Rule::Table(Table {
            shape: Shape::Map(Entries::Tables { min_entries: 1 }),
            required: false,
        }),
    ),
    key("queues.*", "A queue, and its dead-letter queue.", TABLE),
    VISIBILITY_TIMEOUT.entry(),
    QUEUE_RETENTION.entry(),
    RECEIVE_WAIT.entry(),
    key(
        "queues.*.fifo",
        "A FIFO queue: `.fifo` names, one message group per execution (MessageGroupId = SHA-256 of the execution ARN), content-based deduplication.",
        Rule::Flag(false),
    ),
    QUEUE_ENCRYPTION.entry(),
    key(
        "queues.*.dead_letter",
        "The dead-letter queue (14 days' retention), or `false`.",
        Rule::Table(Table {
            shape: Shape::TableOrFalse,
            required: false,
        }),
    ),
    MAX_RECEIVES.entry(),
    FAIL_EXECUTION.entry(),
    key(
        "topics",
        "One table per SNS topic, keyed like `name`; every topic must be used by a step.",
        Rule::Table(Table {
            shape: Shape::Map(Entries::Tables { min_entries: 1 }),
            required: false,
        }),
    ),
    key(
        "topics.*",
        "An SNS topic; its subscribers answer through the callback.",
        TABLE,
    ),
    key(
        "topics.*.fifo",
        "A FIFO topic: `.fifo` names, one message group per execution, content-based deduplication.",
        Rule::Flag(false),
    ),
    TOPIC_ENCRYPTION.entry(),
    key(
        "topics.*.subscriptions",
        "Subscriptions the module creates, `[{ protocol, endpoint }]`; callers may add more from the `topic_arns` output.",
        TABLES,
    ),
    SUBSCRIPTION_PROTOCOL.entry(),
    key(
        "topics.*.subscriptions[].endpoint",
        "Where SNS delivers, in the protocol's form: a queue's or function's ARN, a URL, an email address.",
        Rule::Text(Text {
            required: true,
            default: None,
            allows: TextRule::Any,
        }),
    ),
    TOPIC_DEAD_LETTER.entry(),
    key(
        "buses",
        "One table per EventBridge bus, keyed like `name`; every bus must be used by a step.",
        Rule::Table(Table {
            shape: Shape::Map(Entries::Tables { min_entries: 1 }),
            required: false,
        }),
    ),
    key(
        "buses.*",
        "An EventBridge bus; the targets of its rules answer through the callback.",
        TABLE,
    ),
    BUS_NAME.entry(),
    BUS_SOURCE.entry(),
    BUS_DETAIL_TYPE.entry(),
    key(
        "buses.*.dead_letter",
        "A dead-letter queue for the targets of the bus's rule (their dead_letter_config): the dead-letter Lambda fails \
         the task of each event EventBridge could not deliver at once. false: none.",
        Rule::Flag(true),
    ),
    key(
        "callback",
        "The Lambda functions: the callback, which answers with the task token, and the dead-letter Lambda.",
        TABLE,
    ),
    MEMORY_MB.entry(),
    CALLBACK_TIMEOUT.entry(),
    ARCHITECTURE.entry(),
    RESERVED_CONCURRENCY.entry(),
    CALLBACK_LOG_RETENTION.entry(),
    ENDPOINT.entry(),
    ENDPOINT_SECRET.entry(),
    ENDPOINT_REPLAY_WINDOW.entry(),
    ENDPOINT_RESERVED_CONCURRENCY.entry(),
    key(
        "alarms",
        "CloudWatch alarms (present: on), notifying `var.alarm_actions`.",
        TABLE,
    ),
    ALARM_PERIOD.entry(),
    EVALUATION_PERIODS.entry(),
    key("logs", "The log groups.", TABLE),
    LOG_ENCRYPTION.entry(),
];

impl<R> Key<R> {
    /// The key's own name, as written in its table.
    pub fn name(&self) -> &'static str {
        leaf(self.path)
    }

    /// The path of the table it is written in (`""` for the top level).
    pub fn parent(&self) -> &'static str {
        let path = self.path;
        path.rsplit_once('.').map(|(parent, _)| parent).unwrap_or("")
    }
}

impl Key {
    /// Whether a spec must have it.
    pub fn required(&self) -> bool {
        match self.rule {
            Rule::Table(t) => t.required,
            Rule::Text(t) => t.required,
            _ => false,
        }
    }

    /// Its value when left out, as TOML (`None`: required, unset, or a table of defaults).
    pub fn default_toml(&self) -> Option<String> {
        match self.rule {
            Rule::Table(Table {
                shape: Shape::Map(Entries::Tags),
                ..
            }) => Some("{}".into()),
            Rule::Table(_) => None,
            Rule::Text(t) => t.default.map(|d| format!("{d:?}")),
            Rule::Duration(r) => r.default.map(Written::toml),
            Rule::Integer(r) => r.default.map(Written::toml),
            Rule::Number(r) => r.default.map(Written::toml),
            Rule::Flag(default) => Some(default.to_string()),
            Rule::Choice(c) => Some(format!("{:?}", c.default)),
            Rule::Retention(r) => Some(r.default.to_string()),
            Rule::ErrorNames => Some(format!("[{ALL_ERRORS:?}]")),
        }
    }

    /// What it may hold, in Markdown.
    pub fn allowed(&self) -> String {
        match self.rule {
            Rule::Table(t) => match t.shape {
                Shape::Table => "a table".into(),
                Shape::TableOrFalse => "a table, or `false`".into(),
                Shape::Tables { min_items: 0, .. } => "tables".into(),
                Shape::Tables { min_items, .. } => format!("at least {min_items} table"),
                Shape::Map(Entries::Tags) => "keys of 1..128 and values of up to 256 letters, digits, spaces or \
                                              `_.:/=+-@`; no `aws:` prefix"
                    .into(),
                Shape::Map(Entries::Json) => "any TOML values".into(),
                Shape::Map(Entries::Tables { min_entries }) => format!("at least {min_entries} table"),
            },
            Rule::Text(t) => t.allows.allowed(),
            Rule::Duration(r) => r.allowed(),
            Rule::Integer(r) => r.allowed(),
            Rule::Number(r) => r.allowed(),
            Rule::Flag(_) => "`true`, `false`".into(),
            Rule::Choice(c) => c
                .values
                .iter()
                .map(|(v, _)| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", "),
            Rule::Retention(_) => format!("one of CloudWatch Logs' values: {}", retention_list()),
            Rule::ErrorNames => format!("at least one name of 1..{MAX_ERROR_NAME_CHARS} characters"),
        }
    }
}

impl TextRule {
    /// What the rule allows, in Markdown.
    pub fn allowed(self) -> String {
        match self {
            TextRule::ResourceName => {
                format!("1..{MAX_NAME_CHARS} of `a-z`, `0-9`, `-`: a letter first, no trailing `-`")
            }
            TextRule::StateName => format!(
                "1..{MAX_STATE_NAME_CHARS} characters, no control characters, U+FFFE, U+FFFF, U+10FFFF or any of \
                 ``{FORBIDDEN_STATE_NAME_CHARS}``"
            ),
            TextRule::QueueKey => "a key of `[queues]`".into(),
            TextRule::TopicKey => "a key of `[topics]`".into(),
            TextRule::BusKey => "a key of `[buses]`".into(),
            TextRule::BusName => format!(
                "`default` (the account's default bus) or an existing bus's name: 1..{} of `A-Z a-z 0-9 . _ -`",
                crate::limits::EVENT_BUS_NAME.figure
            ),
            TextRule::EventSource => format!("1..{MAX_EVENT_SOURCE_CHARS} characters, not starting with `aws.`"),
            TextRule::DetailType => format!("1..{MAX_DETAIL_TYPE_CHARS} characters"),
            TextRule::LaterStep => "a later step's `name`".into(),
            TextRule::JsonPath => {
                "a path Step Functions reads: `$` (or `$$`, the context object), then any of `.name`, \
                                   `['name']`, `[N]`, `[N,M]`, `[N:M]`, `[*]`, `.*`, `..name`"
                    .into()
            }
            TextRule::ReferencePath => {
                "a path Step Functions reads to one node: `$` (or `$$`, the context object), then any of `.name`, \
                 `['name']`, `[N]`"
                    .into()
            }
            TextRule::ErrorName => format!("1..{MAX_ERROR_NAME_CHARS} characters"),
            TextRule::Encryption => "`sqs` (SSE-SQS), `kms` (the module's key), a KMS key ARN, or `alias/...`".into(),
            TextRule::TopicEncryption => {
                "`sns` (SNS's AWS managed key), `kms` (the module's key), a KMS key ARN, or `alias/...`".into()
            }
            TextRule::ExecutionEncryption => {
                "`aws` (an AWS-owned key), `kms` (the module's key), a KMS key ARN, or `alias/...`".into()
            }
            TextRule::EndpointAuth => ENDPOINT_AUTHS
                .iter()
                .map(|(value, meaning)| format!("`{value}` ({meaning})"))
                .collect::<Vec<_>>()
                .join(", "),
            TextRule::SecretArn => format!("a Secrets Manager secret's ARN, `{SECRET_ARN_FORM}`"),
            TextRule::Any => "any text".into(),
        }
    }
}

/// [`LOG_RETENTION_DAYS`], comma-separated.
pub fn retention_list() -> String {
    LOG_RETENTION_DAYS
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// How to fix a retention CloudWatch Logs does not allow.
pub fn retention_help() -> String {
    format!("use one of {}", retention_list())
}

/// `name` and queue keys ([`TextRule::ResourceName`]) as a regular expression: a lowercase letter, then
/// lowercase letters, digits or '-', not ending in '-', at most [`MAX_NAME_CHARS`] in all.
pub fn resource_name_pattern() -> String {
    format!("^[a-z]([a-z0-9-]{{0,{}}}[a-z0-9])?$", MAX_NAME_CHARS - 2)
}

/// The last part of a path: the key's name in its table (`steps[].retry` → `retry`).
pub fn leaf(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path).trim_end_matches("[]")
}

/// The key at `path`.
pub fn find(path: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.path == path)
}

/// The keys written directly in the table at `table` (`""`, `callback`, `steps[]`, `queues.*`...).
pub fn children(table: &str) -> impl Iterator<Item = &'static Key> {
    KEYS.iter().filter(move |k| k.parent() == table)
}

/// The names of the keys written directly in the table at `table`, in [`KEYS`] order. The reader asks
/// for every table of a spec, so they are grouped by table once, not found by a scan of [`KEYS`] each time.
pub fn names_in(table: &str) -> &'static [&'static str] {
    static NAMES_BY_TABLE: OnceLock<HashMap<&'static str, Vec<&'static str>>> = OnceLock::new();
    let by_table = NAMES_BY_TABLE.get_or_init(|| {
        let mut by_table: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
        for key in KEYS {
            by_table.entry(key.parent()).or_default().push(key.name());
        }
        by_table
    });
    match by_table.get(table) {
        Some(names) => names,
        None => &[],
    }
}

/// The README's key table: every key, its default, what it may hold and what it is.
pub fn markdown_table() -> String {
    let mut out = String::from("| Key | Default | Allowed | What |\n|---|---|---|---|\n");
    for key in KEYS {
        let default = match key.default_toml() {
            _ if key.required() => "required".to_string(),
            Some(toml) => format!("`{toml}`"),
            None => match key.rule {
                Rule::Table(Table {
                    shape: Shape::TableOrFalse,
                    ..
                }) => "on".into(),
                Rule::Table(_) => "optional".into(),
                _ => "unset".into(),
            },
        };
        let cells = [format!("`{}`", key.path), default, key.allowed(), key.doc.to_string()];
        let cells: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_sits_in_a_table_that_is_a_key_and_comes_after_it() {
        for (index, key) in KEYS.iter().enumerate() {
            let parent = key.parent();
            if parent.is_empty() {
                continue;
            }
            let table = parent.trim_end_matches("[]");
            let table = table.strip_suffix(".*").unwrap_or(table);
            let position = KEYS.iter().position(|k| k.path == table);
            assert!(
                position.is_some_and(|p| p < index),
                "{} is in {table}, which is not a table listed before it",
                key.path
            );
            assert!(
                matches!(KEYS[position.unwrap()].rule, Rule::Table(_)),
                "{table} is not a table"
            );
        }
    }

    #[test]
    fn paths_are_unique() {
        let mut paths: Vec<&str> = KEYS.iter().map(|k| k.path).collect();
        paths.sort_unstable();
        let count = paths.len();
        paths.dedup();
        assert_eq!(paths.len(), count);
    }

    #[test]
    fn defaults_are_within_their_ranges() {
        fn within<T: Written>(r: &Range<T>) -> bool {
            r.min <= r.max && r.default.is_none_or(|d| r.contains(d))
        }
        for key in KEYS {
            let ok = match &key.rule {
                Rule::Duration(r) => within(r),
                Rule::Integer(r) => within(r),
                Rule::Number(r) => within(r),
                Rule::Choice(c) => c.values.iter().any(|(v, _)| *v == c.default),
                Rule::Retention(r) => LOG_RETENTION_DAYS.contains(&r.default),
                Rule::Table(_) | Rule::Text(_) | Rule::Flag(_) | Rule::ErrorNames => true,
            };
            assert!(ok, "{}", key.path);
        }
    }

    #[test]
    fn messages_list_the_allowed_values() {
        assert_eq!(MEMORY_MB.rule.help(), "use a whole number of MB from 128 to 10240");
        assert_eq!(
            RETRY_BACKOFF_RATE.rule.help(),
            "use a number from 1.0 (constant interval) to 100.0"
        );
        assert_eq!(ARCHITECTURE.rule.help(), "use \"arm64\" or \"x86_64\"");
        assert_eq!(
            LOG_LEVEL.rule.help(),
            "use one of \"OFF\", \"ALL\", \"ERROR\", \"FATAL\" (upper case)"
        );
    }

    #[test]
    fn module_inputs_get_the_same_rules_in_their_own_terms() {
        assert_eq!(
            RESERVED_CONCURRENCY.rule.help(),
            "use a number from 1 up to your account's concurrency limit, or remove the key to leave the function \
             unreserved (0 would stop every callback)"
        );
        assert_eq!(
            RESERVED_CONCURRENCY.rule.input_help(),
            "use a number from 1 up to your account's concurrency limit, or null to leave the function unreserved \
             (0 would stop every callback)"
        );
        assert_eq!(
            CALLBACK_TIMEOUT.rule.input_help(),
            "use a whole number of seconds from 1 to 900 (1s to 15m)"
        );
        assert_eq!(resource_name_pattern(), "^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$");
    }

    #[test]
    fn children_are_found_by_table_path() {
        assert_eq!(
            names_in("queues.*"),
            [
                "visibility_timeout",
                "retention",
                "receive_wait",
                "fifo",
                "encryption",
                "dead_letter"
            ]
        );
        assert_eq!(names_in("steps[].catch[]"), ["errors", "next", "fail"]);
        assert!(names_in("").contains(&"steps"));
    }
}
