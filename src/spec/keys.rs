//! Every key of `sfngen.toml`, declared once: its path, type, default, allowed values and a one-line doc.
//!
//! The reader ([`crate::spec`]) knows a key only if it is listed in [`KEYS`]; [`crate::resolve`] takes
//! defaults and ranges from the constants here; `sfngen schema` ([`crate::schema`]) is generated from
//! [`KEYS`]; the README's key table is [`markdown_table`], and tests hold the `sfngen init` starter to it.
//!
//! A path names a key the way a reader finds it: `.` between a table and its keys, `[]` for every element
//! of an array of tables (`steps[].timeout`), `*` for every entry of a map (`queues.*.retention`).

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
/// CloudWatch Logs' allowed `retentionInDays` values.
pub const LOG_RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/// One key of the spec.
#[derive(Debug, Clone, Copy)]
pub enum Key {
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
    /// `true` or `false`, `false` by default.
    Flag(Flag),
    /// One string out of a few.
    Choice(Choice),
    /// A log group's retention in days: one of [`LOG_RETENTION_DAYS`].
    Retention(Retention),
    /// A list of error names, every error (`States.ALL`) by default.
    ErrorNames(ErrorNames),
}

/// A key holding other keys.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    /// Where it is.
    pub path: &'static str,
    /// What it is, in one line.
    pub doc: &'static str,
    /// Its shape.
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
    /// Where it is.
    pub path: &'static str,
    /// What it is, in one line.
    pub doc: &'static str,
    /// Whether a spec must have it.
    pub required: bool,
    /// Its value when left out.
    pub default: Option<&'static str>,
    /// What it may hold.
    pub rule: TextRule,
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
    /// The name of a later step.
    LaterStep,
    /// A JSONPath into the state input.
    JsonPath,
    /// An error name of 1 to 256 characters.
    ErrorName,
    /// `sqs`, `kms`, a KMS key ARN or `alias/...`.
    Encryption,
    /// Any text.
    Any,
}

/// A duration key; every value is a whole number of seconds from `min` to `max`.
#[derive(Debug, Clone, Copy)]
pub struct Duration {
    /// Where it is.
    pub path: &'static str,
    /// What it is, in one line.
    pub doc: &'static str,
    /// The shortest, in seconds.
    pub min: u64,
    /// The longest, in seconds.
    pub max: u64,
    /// Its value when left out, in seconds; `None`: unset.
    pub default: Option<u64>,
}

/// A whole-number key.
#[derive(Debug, Clone, Copy)]
pub struct Integer {
    /// Where it is.
    pub path: &'static str,
    /// What it is, in one line.
    pub doc: &'static str,
    /// The least.
    pub min: u32,
    /// The most.
    pub max: u32,
    /// Its value when left out; `None`: unset.
    pub default: Option<u32>,
    /// How to fix a value out of range; `{min}` and `{max}` are filled in.
    pub help: &'static str,
}

/// A number key.
#[derive(Debug, Clone, Copy)]
pub struct Number {
    /// Where it is.
    pub path: &'static str,
    /// What it is, in one line.
    pub doc: &'static str,
    /// The least.
    pub min: f64,
    /// The most.
    pub max: f64,
    /// Its value when left out.
    pub default: f64,
    /// How to fix a value out of range; `{min}` and `{max}` are filled in.
    pub help: &'static str,
}

/// A `true`/`false` key, `false` when left out.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    /// Where it is.
    pub path: &'static str,
    /// What it is, in one line.
    pub doc: &'static str,
}

/// A key holding one of a few strings.
#[derive(Debug, Clone, Copy)]
pub struct Choice {
    /// Where it is.
    pub path: &'static str,
    /// What it is, in one line.
    pub doc: &'static str,
    /// The allowed values, each with what it means (empty: nothing to add).
    pub values: &'static [(&'static str, &'static str)],
    /// Its value when left out.
    pub default: &'static str,
    /// What a value is called in a message: "unknown {noun} ...".
    pub noun: &'static str,
    /// Added to the list of allowed values in a message.
    pub note: &'static str,
}

/// A log group's retention in days, one of [`LOG_RETENTION_DAYS`].
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Where it is.
    pub path: &'static str,
    /// What it is, in one line.
    pub doc: &'static str,
    /// Its value when left out.
    pub default: u32,
}

/// A list of error names (`ErrorEquals`), `["States.ALL"]` when left out.
#[derive(Debug, Clone, Copy)]
pub struct ErrorNames {
    /// Where it is.
    pub path: &'static str,
    /// What it is, in one line.
    pub doc: &'static str,
}

/// `name`.
pub const NAME: Text = Text {
    path: "name",
    doc: "Prefix of every AWS resource name.",
    required: true,
    default: None,
    rule: TextRule::ResourceName,
};
/// `state_machine.timeout`.
pub const STATE_MACHINE_TIMEOUT: Duration = Duration {
    path: "state_machine.timeout",
    doc: "The execution's TimeoutSeconds.",
    min: 1,
    max: MAX_EXECUTION_SECONDS,
    default: Some(3_600),
};
/// `state_machine.log_level`.
pub const LOG_LEVEL: Choice = Choice {
    path: "state_machine.log_level",
    doc: "Execution logging; anything but OFF creates a log group.",
    values: &[("OFF", ""), ("ALL", ""), ("ERROR", ""), ("FATAL", "")],
    default: "ERROR",
    noun: "log level",
    note: " (upper case)",
};
/// `state_machine.log_retention_days`.
pub const STATE_MACHINE_LOG_RETENTION: Retention = Retention {
    path: "state_machine.log_retention_days",
    doc: "Retention of the execution log group, in days.",
    default: 30,
};
/// `steps[].timeout`.
pub const STEP_TIMEOUT: Duration = Duration {
    path: "steps[].timeout",
    doc: "The Task's TimeoutSeconds.",
    min: 1,
    max: MAX_EXECUTION_SECONDS,
    default: None,
};
/// `steps[].heartbeat`.
pub const STEP_HEARTBEAT: Duration = Duration {
    path: "steps[].heartbeat",
    doc: "The Task's HeartbeatSeconds; shorter than its timeout and the execution timeout.",
    min: 1,
    max: MAX_EXECUTION_SECONDS,
    default: None,
};
/// `steps[].input_path`.
pub const INPUT_PATH: Text = Text {
    path: "steps[].input_path",
    doc: "JSONPath of the part of the state input sent as the message's `input`.",
    required: false,
    default: Some("$"),
    rule: TextRule::JsonPath,
};
/// `steps[].retry[].attempts`.
pub const RETRY_ATTEMPTS: Integer = Integer {
    path: "steps[].retry[].attempts",
    doc: "MaxAttempts.",
    min: 0,
    max: 99,
    default: Some(3),
    help: "use {min} to {max}",
};
/// `steps[].retry[].interval`.
pub const RETRY_INTERVAL: Duration = Duration {
    path: "steps[].retry[].interval",
    doc: "IntervalSeconds: the wait before the first retry.",
    min: 1,
    max: MAX_EXECUTION_SECONDS,
    default: Some(1),
};
/// `steps[].retry[].backoff_rate`.
pub const RETRY_BACKOFF_RATE: Number = Number {
    path: "steps[].retry[].backoff_rate",
    doc: "BackoffRate: each wait is the last one times this.",
    min: 1.0,
    max: 100.0,
    default: 2.0,
    help: "use a number from {min} (constant interval) to {max}",
};
/// `steps[].retry[].max_delay`.
pub const RETRY_MAX_DELAY: Duration = Duration {
    path: "steps[].retry[].max_delay",
    doc: "MaxDelaySeconds: the longest wait between attempts.",
    min: 1,
    max: MAX_EXECUTION_SECONDS,
    default: None,
};
/// `queues.*.visibility_timeout`.
pub const VISIBILITY_TIMEOUT: Duration = Duration {
    path: "queues.*.visibility_timeout",
    doc: "VisibilityTimeout: how long a received message stays hidden from other workers.",
    min: 0,
    max: 12 * 3_600,
    default: Some(300),
};
/// `queues.*.retention`.
pub const QUEUE_RETENTION: Duration = Duration {
    path: "queues.*.retention",
    doc: "MessageRetentionPeriod.",
    min: 60,
    max: 14 * DAY,
    default: Some(4 * DAY),
};
/// `queues.*.encryption`.
pub const QUEUE_ENCRYPTION: Text = Text {
    path: "queues.*.encryption",
    doc: "Encryption at rest; a key ARN or alias is used as given, and the roles may use it.",
    required: false,
    default: Some("sqs"),
    rule: TextRule::Encryption,
};
/// `queues.*.dead_letter.max_receives`.
pub const MAX_RECEIVES: Integer = Integer {
    path: "queues.*.dead_letter.max_receives",
    doc: "maxReceiveCount: receives before a message moves to the dead-letter queue.",
    min: 1,
    max: 1_000,
    default: Some(5),
    help: "use a number from {min} to {max}",
};
/// `callback.memory_mb`.
pub const MEMORY_MB: Integer = Integer {
    path: "callback.memory_mb",
    doc: "The Lambda's memory, in MB.",
    min: 128,
    max: 10_240,
    default: Some(128),
    help: "use a whole number of MB from {min} to {max}",
};
/// `callback.timeout`.
pub const CALLBACK_TIMEOUT: Duration = Duration {
    path: "callback.timeout",
    doc: "The Lambda's timeout.",
    min: 1,
    max: 15 * 60,
    default: Some(10),
};
/// `callback.architecture`.
pub const ARCHITECTURE: Choice = Choice {
    path: "callback.architecture",
    doc: "The Lambda's CPU architecture.",
    values: &[("arm64", ""), ("x86_64", "")],
    default: "arm64",
    noun: "architecture",
    note: "",
};
/// `callback.reserved_concurrency`.
pub const RESERVED_CONCURRENCY: Integer = Integer {
    path: "callback.reserved_concurrency",
    doc: "Reserved concurrent executions; unset, the function is unreserved.",
    min: 1,
    max: 100_000,
    default: None,
    help: "use a number from {min} up to your account's concurrency limit, or remove the key to leave the \
           function unreserved (0 would stop every callback)",
};
/// `callback.log_retention_days`.
pub const CALLBACK_LOG_RETENTION: Retention = Retention {
    path: "callback.log_retention_days",
    doc: "Retention of the callback's log group, in days.",
    default: 30,
};
/// `logs.encryption`.
pub const LOG_ENCRYPTION: Choice = Choice {
    path: "logs.encryption",
    doc: "Encryption of both log groups; the key policy lets CloudWatch Logs use the key for them only.",
    values: &[
        ("cloudwatch", "CloudWatch Logs' own encryption"),
        ("kms", "the key this module creates"),
    ],
    default: "cloudwatch",
    noun: "log encryption",
    note: "",
};
/// `alarms.period`.
pub const ALARM_PERIOD: Duration = Duration {
    path: "alarms.period",
    doc: "The alarms' evaluation period: 60s or a multiple of 60s.",
    min: 60,
    max: DAY,
    default: Some(300),
};
/// `alarms.evaluation_periods`.
pub const EVALUATION_PERIODS: Integer = Integer {
    path: "alarms.evaluation_periods",
    doc: "Periods above zero before an alarm fires.",
    min: 1,
    max: 100,
    default: Some(1),
    help: "use {min} to {max}",
};

const TABLE: Table = Table {
    path: "",
    doc: "",
    shape: Shape::Table,
    required: false,
};

/// Every key, tables before their keys, each table's keys in the order the messages list them.
pub const KEYS: &[Key] = &[
    Key::Text(NAME),
    Key::Table(Table {
        path: "tags",
        doc: "Tags on every taggable resource, after the module's own tags.",
        shape: Shape::Map(Entries::Tags),
        ..TABLE
    }),
    Key::Table(Table {
        path: "state_machine",
        doc: "The Standard state machine.",
        ..TABLE
    }),
    Key::Duration(STATE_MACHINE_TIMEOUT),
    Key::Choice(LOG_LEVEL),
    Key::Flag(Flag {
        path: "state_machine.include_execution_data",
        doc: "Log execution input and output (it can hold personal data).",
    }),
    Key::Flag(Flag {
        path: "state_machine.tracing",
        doc: "X-Ray tracing, for the state machine and the callback Lambda.",
    }),
    Key::Retention(STATE_MACHINE_LOG_RETENTION),
    Key::Table(Table {
        path: "steps",
        doc: "The callback Task states, in execution order.",
        shape: Shape::Tables {
            min_items: 1,
            exactly_one_of: &[],
        },
        required: true,
    }),
    Key::Text(Text {
        path: "steps[].name",
        doc: "The ASL state name, unique.",
        required: true,
        default: None,
        rule: TextRule::StateName,
    }),
    Key::Text(Text {
        path: "steps[].queue",
        doc: "The queue it sends to. Several steps may share a queue.",
        required: true,
        default: None,
        rule: TextRule::QueueKey,
    }),
    Key::Duration(STEP_TIMEOUT),
    Key::Duration(STEP_HEARTBEAT),
    Key::Text(INPUT_PATH),
    Key::Table(Table {
        path: "steps[].message",
        doc: "Static fields added to the message; `input` and `token` are sfngen's own.",
        shape: Shape::Map(Entries::Json),
        ..TABLE
    }),
    Key::Table(Table {
        path: "steps[].retry",
        doc: "ASL Retry, in order.",
        shape: Shape::Tables {
            min_items: 0,
            exactly_one_of: &[],
        },
        ..TABLE
    }),
    Key::ErrorNames(ErrorNames {
        path: "steps[].retry[].errors",
        doc: "ErrorEquals: the errors to retry, such as `States.Timeout` or a worker's own; `States.ALL` alone, in the last retrier.",
    }),
    Key::Integer(RETRY_ATTEMPTS),
    Key::Duration(RETRY_INTERVAL),
    Key::Number(RETRY_BACKOFF_RATE),
    Key::Duration(RETRY_MAX_DELAY),
    Key::Flag(Flag {
        path: "steps[].retry[].jitter",
        doc: "JitterStrategy FULL.",
    }),
    Key::Table(Table {
        path: "steps[].catch",
        doc: "ASL Catch, in order; the error lands at $.error of the state input.",
        shape: Shape::Tables {
            min_items: 0,
            exactly_one_of: &["next", "fail"],
        },
        ..TABLE
    }),
    Key::ErrorNames(ErrorNames {
        path: "steps[].catch[].errors",
        doc: "ErrorEquals: the errors to catch, such as `States.HeartbeatTimeout` or a worker's own; `States.ALL` alone, in the last catcher.",
    }),
    Key::Text(Text {
        path: "steps[].catch[].next",
        doc: "Go on at this later step.",
        required: false,
        default: None,
        rule: TextRule::LaterStep,
    }),
    Key::Table(Table {
        path: "steps[].catch[].fail",
        doc: "End the execution in a Fail state.",
        ..TABLE
    }),
    Key::Text(Text {
        path: "steps[].catch[].fail.error",
        doc: "The Fail state's Error.",
        required: true,
        default: None,
        rule: TextRule::ErrorName,
    }),
    Key::Text(Text {
        path: "steps[].catch[].fail.cause",
        doc: "The Fail state's Cause.",
        required: false,
        default: None,
        rule: TextRule::Any,
    }),
    Key::Table(Table {
        path: "queues",
        doc: "One table per queue, keyed like `name`; every queue must be used by a step.",
        shape: Shape::Map(Entries::Tables { min_entries: 1 }),
        required: true,
    }),
    Key::Table(Table {
        path: "queues.*",
        doc: "A queue, and its dead-letter queue.",
        ..TABLE
    }),
    Key::Duration(VISIBILITY_TIMEOUT),
    Key::Duration(QUEUE_RETENTION),
    Key::Flag(Flag {
        path: "queues.*.fifo",
        doc: "A FIFO queue: `.fifo` names, MessageGroupId = execution name, content-based deduplication.",
    }),
    Key::Text(QUEUE_ENCRYPTION),
    Key::Table(Table {
        path: "queues.*.dead_letter",
        doc: "The dead-letter queue (14 days' retention), or `false`.",
        shape: Shape::TableOrFalse,
        ..TABLE
    }),
    Key::Integer(MAX_RECEIVES),
    Key::Table(Table {
        path: "callback",
        doc: "The Lambda that answers with the task token.",
        ..TABLE
    }),
    Key::Integer(MEMORY_MB),
    Key::Duration(CALLBACK_TIMEOUT),
    Key::Choice(ARCHITECTURE),
    Key::Integer(RESERVED_CONCURRENCY),
    Key::Retention(CALLBACK_LOG_RETENTION),
    Key::Table(Table {
        path: "alarms",
        doc: "CloudWatch alarms (present: on), notifying `var.alarm_actions`.",
        ..TABLE
    }),
    Key::Duration(ALARM_PERIOD),
    Key::Integer(EVALUATION_PERIODS),
    Key::Table(Table {
        path: "logs",
        doc: "The log groups.",
        ..TABLE
    }),
    Key::Choice(LOG_ENCRYPTION),
];

impl Key {
    /// Where it is.
    pub fn path(&self) -> &'static str {
        match self {
            Key::Table(k) => k.path,
            Key::Text(k) => k.path,
            Key::Duration(k) => k.path,
            Key::Integer(k) => k.path,
            Key::Number(k) => k.path,
            Key::Flag(k) => k.path,
            Key::Choice(k) => k.path,
            Key::Retention(k) => k.path,
            Key::ErrorNames(k) => k.path,
        }
    }

    /// What it is, in one line.
    pub fn doc(&self) -> &'static str {
        match self {
            Key::Table(k) => k.doc,
            Key::Text(k) => k.doc,
            Key::Duration(k) => k.doc,
            Key::Integer(k) => k.doc,
            Key::Number(k) => k.doc,
            Key::Flag(k) => k.doc,
            Key::Choice(k) => k.doc,
            Key::Retention(k) => k.doc,
            Key::ErrorNames(k) => k.doc,
        }
    }

    /// The key's own name, as written in its table.
    pub fn name(&self) -> &'static str {
        leaf(self.path())
    }

    /// The path of the table it is written in (`""` for the top level).
    pub fn parent(&self) -> &'static str {
        let path = self.path();
        path.rsplit_once('.').map(|(parent, _)| parent).unwrap_or("")
    }

    /// Whether a spec must have it.
    pub fn required(&self) -> bool {
        match self {
            Key::Table(k) => k.required,
            Key::Text(k) => k.required,
            _ => false,
        }
    }

    /// Its value when left out, as TOML (`None`: required, unset, or a table of defaults).
    pub fn default_toml(&self) -> Option<String> {
        match self {
            Key::Table(Table {
                shape: Shape::Map(Entries::Tags),
                ..
            }) => Some("{}".into()),
            Key::Table(_) => None,
            Key::Text(k) => k.default.map(|d| format!("{d:?}")),
            Key::Duration(k) => k.default.map(|s| format!("\"{}\"", format_seconds(s))),
            Key::Integer(k) => k.default.map(|n| n.to_string()),
            Key::Number(k) => Some(format!("{:?}", k.default)),
            Key::Flag(_) => Some("false".into()),
            Key::Choice(k) => Some(format!("{:?}", k.default)),
            Key::Retention(k) => Some(k.default.to_string()),
            Key::ErrorNames(_) => Some(format!("[{ALL_ERRORS:?}]")),
        }
    }

    /// What it may hold, in Markdown.
    pub fn allowed(&self) -> String {
        match self {
            Key::Table(k) => match k.shape {
                Shape::Table => "a table".into(),
                Shape::TableOrFalse => "a table, or `false`".into(),
                Shape::Tables { min_items: 0, .. } => "tables".into(),
                Shape::Tables { min_items, .. } => format!("at least {min_items} table"),
                Shape::Map(Entries::Tags) => {
                    "keys of 1..128 and values of up to 256 letters, digits, spaces or `_.:/=+-@`; no `aws:` prefix"
                        .into()
                }
                Shape::Map(Entries::Json) => "any TOML values".into(),
                Shape::Map(Entries::Tables { min_entries }) => format!("at least {min_entries} table"),
            },
            Key::Text(k) => k.rule.allowed(),
            Key::Duration(k) => format!("{}..{}", format_seconds(k.min), format_seconds(k.max)),
            Key::Integer(k) => format!("{}..{}", k.min, k.max),
            Key::Number(k) => format!("{:?}..{:?}", k.min, k.max),
            Key::Flag(_) => "`true`, `false`".into(),
            Key::Choice(k) => k
                .values
                .iter()
                .map(|(v, _)| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", "),
            Key::Retention(_) => format!("one of CloudWatch Logs' values: {}", retention_list()),
            Key::ErrorNames(_) => format!("at least one name of 1..{MAX_ERROR_NAME_CHARS} characters"),
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
                "1..{MAX_STATE_NAME_CHARS} characters, no control characters or any of ``{FORBIDDEN_STATE_NAME_CHARS}``"
            ),
            TextRule::QueueKey => "a key of `[queues]`".into(),
            TextRule::LaterStep => "a later step's `name`".into(),
            TextRule::JsonPath => "a JSONPath: `$` first, no spaces".into(),
            TextRule::ErrorName => format!("1..{MAX_ERROR_NAME_CHARS} characters"),
            TextRule::Encryption => "`sqs` (SSE-SQS), `kms` (the module's key), a KMS key ARN, or `alias/...`".into(),
            TextRule::Any => "any text".into(),
        }
    }
}

impl Integer {
    /// How to fix a value out of range.
    pub fn help(&self) -> String {
        fill_range(self.help, &self.min.to_string(), &self.max.to_string())
    }
}

impl Number {
    /// How to fix a value out of range.
    pub fn help(&self) -> String {
        fill_range(self.help, &format!("{:?}", self.min), &format!("{:?}", self.max))
    }
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

fn fill_range(template: &str, min: &str, max: &str) -> String {
    template.replace("{min}", min).replace("{max}", max)
}

/// [`LOG_RETENTION_DAYS`], comma-separated.
pub fn retention_list() -> String {
    LOG_RETENTION_DAYS
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The last part of a path: the key's name in its table (`steps[].retry` → `retry`).
pub fn leaf(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path).trim_end_matches("[]")
}

/// The key at `path`.
pub fn find(path: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.path() == path)
}

/// The keys written directly in the table at `table` (`""`, `callback`, `steps[]`, `queues.*`...).
pub fn children(table: &str) -> impl Iterator<Item = &'static Key> {
    KEYS.iter().filter(move |k| k.parent() == table)
}

/// The names of the keys written directly in the table at `table`, in [`KEYS`] order.
pub fn names_in(table: &str) -> Vec<&'static str> {
    children(table).map(Key::name).collect()
}

/// The README's key table: every key, its default, what it may hold and what it is.
pub fn markdown_table() -> String {
    let mut out = String::from("| Key | Default | Allowed | What |\n|---|---|---|---|\n");
    for key in KEYS {
        let default = match key.default_toml() {
            _ if key.required() => "required".to_string(),
            Some(toml) => format!("`{toml}`"),
            None => match key {
                Key::Table(Table {
                    shape: Shape::TableOrFalse,
                    ..
                }) => "on".into(),
                Key::Table(_) => "optional".into(),
                _ => "unset".into(),
            },
        };
        let cells = [
            format!("`{}`", key.path()),
            default,
            key.allowed(),
            key.doc().to_string(),
        ];
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
            let position = KEYS.iter().position(|k| k.path() == table);
            assert!(
                position.is_some_and(|p| p < index),
                "{} is in {table}, which is not a table listed before it",
                key.path()
            );
            assert!(
                matches!(KEYS[position.unwrap()], Key::Table(_)),
                "{table} is not a table"
            );
        }
    }

    #[test]
    fn paths_are_unique() {
        let mut paths: Vec<&str> = KEYS.iter().map(Key::path).collect();
        paths.sort_unstable();
        let count = paths.len();
        paths.dedup();
        assert_eq!(paths.len(), count);
    }

    #[test]
    fn defaults_are_within_their_ranges() {
        for key in KEYS {
            let ok = match key {
                Key::Duration(k) => k.min <= k.max && k.default.is_none_or(|d| (k.min..=k.max).contains(&d)),
                Key::Integer(k) => k.min <= k.max && k.default.is_none_or(|d| (k.min..=k.max).contains(&d)),
                Key::Number(k) => (k.min..=k.max).contains(&k.default),
                Key::Choice(k) => k.values.iter().any(|(v, _)| *v == k.default),
                Key::Retention(k) => LOG_RETENTION_DAYS.contains(&k.default),
                Key::Table(_) | Key::Text(_) | Key::Flag(_) | Key::ErrorNames(_) => true,
            };
            assert!(ok, "{}", key.path());
        }
    }

    #[test]
    fn messages_list_the_allowed_values() {
        assert_eq!(MEMORY_MB.help(), "use a whole number of MB from 128 to 10240");
        assert_eq!(
            RETRY_BACKOFF_RATE.help(),
            "use a number from 1.0 (constant interval) to 100.0"
        );
        assert_eq!(ARCHITECTURE.help(), "use \"arm64\" or \"x86_64\"");
        assert_eq!(
            LOG_LEVEL.help(),
            "use one of \"OFF\", \"ALL\", \"ERROR\", \"FATAL\" (upper case)"
        );
    }

    #[test]
    fn children_are_found_by_table_path() {
        assert_eq!(
            names_in("queues.*"),
            ["visibility_timeout", "retention", "fifo", "encryption", "dead_letter"]
        );
        assert_eq!(names_in("steps[].catch[]"), ["errors", "next", "fail"]);
        assert!(names_in("").contains(&"steps"));
    }
}
