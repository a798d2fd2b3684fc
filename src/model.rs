//! The resolved callback pattern: every default applied, every name derived, every permission decided.
//!
//! Nothing here knows TOML or HCL. Emitters read a [`Model`] and never re-validate it.

use std::collections::{BTreeMap, HashMap};

use crate::limits::{self, Limit};
use crate::spec::keys;

/// The whole pattern, ready to emit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    /// `name` from the spec: the default of the module's `name` input, the prefix of every AWS name.
    pub name: String,
    /// The spec file's name (no folder), for the "generated from" headers.
    pub source_file: String,
    /// Tags from the spec's `[tags]`, merged after the module's own tags.
    pub tags: BTreeMap<String, String>,
    /// The Standard state machine.
    pub state_machine: StateMachine,
    /// The callback Task states, in execution order.
    pub steps: Vec<Step>,
    /// The queues, sorted by key.
    pub queues: Vec<Queue>,
    /// The SNS topics, sorted by key.
    pub topics: Vec<Topic>,
    /// The EventBridge buses, sorted by key.
    pub buses: Vec<Bus>,
    /// The `[callback]` settings, which every Lambda function of the module runs with.
    pub callback: Callback,
    /// The HTTPS callback endpoint (`[callback] endpoint`), when the spec asks for one.
    pub endpoint: Option<Endpoint>,
    /// The approval machinery (queue, table, link key, two functions), when a step has `approval = true`.
    pub approvals: Option<Approvals>,
    /// The Lambda functions: the callback, which workers invoke, then (when any queue's dead letters fail their
    /// executions) the dead-letter function, which only the module's event source mappings invoke.
    pub functions: Vec<Function>,
    /// The customer managed key the module creates, when any queue asks for `encryption = "kms"`.
    pub module_key: Option<ModuleKey>,
    /// The IAM roles and what each may do.
    pub roles: Vec<Role>,
    /// The policies a team attaches to its worker's role: one for every queue, then one per queue when
    /// there are several (see [`Model::worker_policy_of`]).
    pub worker_policies: Vec<WorkerPolicy>,
    /// The policy an operator's role needs to run the module README's runbook: one document, or its parts when
    /// one would outgrow a managed policy.
    pub operator_policies: Vec<OperatorPolicy>,
    /// The policy a team attaches to whatever starts executions (output `starter_policy_json`): start them
    /// through the alias, and use the state machine's key when it has one.
    pub starter_policy: Vec<Statement>,
    /// CloudWatch alarms on stuck or failing work, when `[alarms]` is present.
    pub alarms: Option<Alarms>,
    /// The metric filters on the execution log that count executions ending in a Fail state the spec declares
    /// (a catch's `fail`: a business outcome, not a fault), one per part of the error list that fits a filter
    /// pattern ([`crate::limits::METRIC_FILTER_PATTERN`]); empty when no catch fails its execution.
    pub business_failures: Vec<LogMetric>,
}

/// An AWS name derived from the module's `name` input: `{before}{name}{after}`, such as
/// `/aws/lambda/` + name + `-callback`. The module takes `name` as a variable (its default is the spec's
/// `name`), so one rendered module can be instantiated more than once in an account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AwsName {
    /// Text before the name (`alias/`, a log group path), often empty.
    pub before: String,
    /// Text after the name (`-callback`, `-main-dlq.fifo`), often empty.
    pub after: String,
}

impl AwsName {
    /// `{name}{after}`.
    pub fn suffixed(after: impl Into<String>) -> Self {
        AwsName {
            before: String::new(),
            after: after.into(),
        }
    }

    /// `{before}{name}{after}`.
    pub fn around(before: impl Into<String>, after: impl Into<String>) -> Self {
        AwsName {
            before: before.into(),
            after: after.into(),
        }
    }

    /// The name with this prefix: what AWS gets when the module's `name` input is `prefix`.
    pub fn with(&self, prefix: &str) -> String {
        format!("{}{prefix}{}", self.before, self.after)
    }
}

/// An AWS name the module derives, with what AWS allows of it (see [`Model::aws_names`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedName {
    /// What it names, as a message says it: "SQS queue".
    pub what: &'static str,
    /// The name.
    pub name: AwsName,
    /// AWS's limit on its length; names under one limit share one namespace.
    pub limit: &'static Limit,
    /// Whether it must differ from every other name under the same limit.
    pub unique: bool,
    /// What in the spec made it.
    pub origin: NameOrigin,
}

impl DerivedName {
    fn new(what: &'static str, name: AwsName, limit: &'static Limit, origin: NameOrigin) -> Self {
        DerivedName {
            what,
            name,
            limit,
            unique: true,
            origin,
        }
    }
}

/// What in the spec made a derived name: where a problem with it is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameOrigin {
    /// The module's own naming, from `name` alone.
    Module,
    /// The queue with this key.
    Queue(String),
    /// The SNS topic with this key.
    Topic(String),
    /// The EventBridge bus with this key.
    Bus(String),
    /// The queues together (their grants outgrow one policy).
    Queues,
}

/// The module's own CloudWatch namespace, `sfngen/{name}`.
pub fn module_namespace() -> AwsName {
    AwsName::around("sfngen/", "")
}

/// CloudWatch alarms: stale messages, dead letters, failed/timed-out/aborted executions, callback errors and
/// throttles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alarms {
    /// `period` in seconds (60 or a multiple of 60).
    pub period_seconds: u64,
    /// `evaluation_periods`.
    pub evaluation_periods: u32,
}

/// The state machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateMachine {
    /// AWS name.
    pub name: AwsName,
    /// Execution `TimeoutSeconds`.
    pub timeout_seconds: u64,
    /// Execution logging, as the spec sets it: the defaults of the module's `log_level`,
    /// `include_execution_data` and `state_machine_log_retention_days` inputs.
    pub logging: Logging,
    /// X-Ray tracing, as the spec sets it: the default of the module's `tracing` input.
    pub tracing: bool,
    /// The customer managed key over AWS's own encryption of the definition and execution history;
    /// `None`: an AWS-owned key only. A key by ARN or alias is the default of the state machine's key
    /// input ([`StateMachine::key_input`]).
    pub encryption: Option<CustomerKey>,
}

impl StateMachine {
    /// The module input that holds the key the state machine names by ARN or alias (set per account, like a
    /// queue's): `state_machine_kms_key_arn` or `state_machine_kms_key_alias`. `None` for an AWS-owned key
    /// and the module's own key.
    pub fn key_input(&self) -> Option<&'static str> {
        match self.encryption {
            Some(CustomerKey::Arn(_)) => Some(input::STATE_MACHINE_KMS_KEY_ARN),
            Some(CustomerKey::Alias(_)) => Some(input::STATE_MACHINE_KMS_KEY_ALIAS),
            None | Some(CustomerKey::Module) => None,
        }
    }

    /// The key as a policy resource, when it has a customer managed one.
    pub fn key_resource(&self) -> Option<Resource> {
        self.encryption.as_ref().map(|key| match key {
            CustomerKey::Module => Resource::ModuleKey,
            CustomerKey::Arn(_) | CustomerKey::Alias(_) => Resource::StateMachineKey,
        })
    }

    fn key_input_of(&self) -> Option<Input> {
        let name = self.key_input()?;
        let (kind, what) = match self.encryption.as_ref()? {
            CustomerKey::Arn(arn) => (InputKind::KmsKeyArn { default: arn.clone() }, "ARN"),
            CustomerKey::Alias(alias) => (InputKind::KmsKeyAlias { default: alias.clone() }, "Alias"),
            CustomerKey::Module => return None,
        };
        Some(Input::from_key(
            name,
            kind,
            &format!(
                "{what} of the KMS key that encrypts the state machine's definition and execution history: set it per account."
            ),
            keys::STATE_MACHINE_ENCRYPTION.path,
        ))
    }
}

/// A customer managed KMS key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum CustomerKey {
    /// The key this module creates.
    Module,
    /// A key given by ARN.
    Arn(String),
    /// A key given by alias (`alias/...`); its ARN is looked up at plan time.
    Alias(String),
}

/// State machine logging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logging {
    /// The log level; any but [`LogLevel::Off`] creates the log group.
    pub level: LogLevel,
    /// Whether execution input and output go into the log.
    pub include_execution_data: bool,
    /// The log group, created while the level is not `OFF` (the module's `log_level` input decides).
    pub log_group: LogGroup,
}

/// A state machine log level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// No execution logs, and no log group.
    Off,
    /// Every event.
    All,
    /// Errors only.
    Error,
    /// Fatal errors only.
    Fatal,
}

impl LogLevel {
    /// The value AWS expects.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Off => "OFF",
            LogLevel::All => "ALL",
            LogLevel::Error => "ERROR",
            LogLevel::Fatal => "FATAL",
        }
    }
}

/// A CloudWatch log group the module creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroup {
    /// Full log group name.
    pub name: AwsName,
    /// `retention_in_days`, as the spec sets it: the default of the input named `retention_input`.
    pub retention_days: u32,
    /// The module input that sets `retention_in_days`.
    pub retention_input: &'static str,
    /// Encrypted with the module's key (`[logs] encryption = "kms"`); otherwise CloudWatch's own.
    pub module_key: bool,
}

/// One callback Task state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The ASL state name.
    pub name: String,
    /// Where it sends its task.
    pub channel: Channel,
    /// The Task's `TimeoutSeconds`.
    pub timeout_seconds: Option<u64>,
    /// The Task's `HeartbeatSeconds`.
    pub heartbeat_seconds: Option<u64>,
    /// JSONPath of the state input sent as the message's `input` (`$`: all of it).
    pub input_path: String,
    /// Static fields added to the message body beside `input` and `token`.
    pub message_fields: Vec<(String, serde_json::Value)>,
    /// Retriers, in order.
    pub retry: Vec<Retry>,
    /// Catchers, in order.
    pub catch: Vec<Catch>,
    /// `for_each`: the step is an inline Map state over an array of the state input, one callback task (one
    /// message, one token) per item; `None`: the step is the callback Task itself.
    pub fan_out: Option<FanOut>,
    /// `approval = true`: the Task hands the token to the approvals queue ([`Approvals`]) and the step's channel
    /// carries the notification holding the link, not the token.
    pub approval: bool,
}

/// A step that waits on one callback per item of an array: an inline Map state whose item processor is the
/// step's callback Task. The Map keeps the step's name (so `next`, catch targets and `StartAt` are unchanged)
/// and its Catch; the Task inside takes the step's timeout, heartbeat and Retry, each per item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FanOut {
    /// `ItemsPath`: the JSONPath of the array in the state input.
    pub items_path: String,
    /// `MaxConcurrency`: at most this many items wait at once; `None` writes no `MaxConcurrency` (no limit but
    /// inline mode's own, [`crate::limits::INLINE_MAP_CONCURRENCY`]).
    pub max_concurrency: Option<u32>,
    /// The most items the author expects the array to hold: the execution history estimate counts this many.
    /// Step Functions does not enforce it; `None`: as many as the largest state input can hold.
    pub max_items: Option<u32>,
    /// `tolerated_failure_percentage = 100`: an item whose task fails (after its retries) puts
    /// `{"index", "item", "error"}` in its place of the result instead of failing the Map.
    pub tolerate_failures: bool,
}

impl FanOut {
    /// The field of an item processor's input that holds the item (its `ItemSelector` puts it there).
    pub const ITEM_FIELD: &'static str = "item";
    /// The field of an item processor's input that holds the item's index in the array.
    pub const INDEX_FIELD: &'static str = "index";
    /// What the item processor's input is made of: each field a path into Step Functions' context object,
    /// which holds the item and its index only while the Map selects an item
    /// (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemselector.html).
    pub const ITEM_SELECTOR: [(&'static str, &'static str); 2] = [
        (Self::INDEX_FIELD, "$$.Map.Item.Index"),
        (Self::ITEM_FIELD, "$$.Map.Item.Value"),
    ];

    /// The name of the callback Task inside the Map of step `step`: state names are unique across a whole
    /// state machine, the Map's item processor included.
    pub fn task_state(step: &str) -> String {
        format!("{step}{}", Self::TASK_SUFFIX)
    }

    /// What [`Self::task_state`] adds to the step's name.
    pub const TASK_SUFFIX: &'static str = " item";

    /// The name of the Pass state a tolerated failure goes to.
    pub fn failed_state(step: &str) -> String {
        format!("{step}{}", Self::FAILED_SUFFIX)
    }

    /// What [`Self::failed_state`] adds to the step's name.
    pub const FAILED_SUFFIX: &'static str = " item failed";
}

impl Step {
    /// The key of the queue it sends to; `None` when it sends through a topic or a bus.
    pub fn queue_key(&self) -> Option<&str> {
        match &self.channel {
            Channel::Queue(key) => Some(key),
            Channel::Topic(_) | Channel::Bus(_) => None,
        }
    }
}

/// Where a step sends its task (the input, the task token and the context): exactly one channel, by the key
/// of its table. Each emitter matches on it once.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Channel {
    /// An SQS queue (`queue = "KEY"`): `sqs:sendMessage.waitForTaskToken`, the message is the body.
    Queue(String),
    /// An SNS topic (`topic = "KEY"`): `sns:publish.waitForTaskToken`, the message is the notification's.
    Topic(String),
    /// An EventBridge bus (`bus = "KEY"`): `events:putEvents.waitForTaskToken`, the message is the event's
    /// `detail`.
    Bus(String),
}

impl Channel {
    /// The key of its table.
    pub fn key(&self) -> &str {
        match self {
            Channel::Queue(key) | Channel::Topic(key) | Channel::Bus(key) => key,
        }
    }

    /// The spec key a step names it with, which is also its kind as a message says it: `queue`, `topic`,
    /// `bus`.
    pub fn kind(&self) -> &'static str {
        match self {
            Channel::Queue(_) => "queue",
            Channel::Topic(_) => "topic",
            Channel::Bus(_) => "bus",
        }
    }
}

/// One SNS topic a step publishes its task to; subscribers (declared, or added by the caller from the
/// module's outputs) receive the message and answer through the callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    /// Key in the spec; also the Terraform resource name.
    pub key: String,
    /// AWS topic name, `{name}-{key}` (with `.fifo` when FIFO).
    pub name: AwsName,
    /// FIFO topic: one message group per execution, content-based deduplication.
    pub fifo: bool,
    /// Server-side encryption: [`Encryption::ServiceManaged`] is SNS's AWS managed key, `alias/aws/sns`.
    pub encryption: Encryption,
    /// The subscriptions the spec declares; callers may add more from the module's outputs (`topic_arns`).
    pub subscriptions: Vec<Subscription>,
    /// The SQS queue every declared subscription's redrive policy names, unless turned off.
    pub dead_letter: Option<TopicDeadLetter>,
}

/// A subscription a topic declares: SNS delivers each task message to its endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// How SNS delivers.
    pub protocol: Protocol,
    /// Where, in the protocol's form: a queue's or a function's ARN, a URL, an email address.
    pub endpoint: String,
}

/// An SNS subscription protocol that can carry a task message to someone who answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protocol {
    /// An SQS queue, by ARN: a worker receives the task message from it.
    Sqs,
    /// A Lambda function, by ARN: SNS invokes it with the notification.
    Lambda,
    /// An HTTPS endpoint, which confirms the subscription first.
    Https,
    /// An HTTP endpoint, which confirms the subscription first.
    Http,
    /// An email address (the message as text), confirmed by its owner.
    Email,
    /// An email address (the notification as JSON), confirmed by its owner.
    EmailJson,
}

impl Protocol {
    /// Every protocol, in the order messages list them.
    pub const ALL: [Protocol; 6] = [
        Protocol::Sqs,
        Protocol::Lambda,
        Protocol::Https,
        Protocol::Http,
        Protocol::Email,
        Protocol::EmailJson,
    ];

    /// As SNS and the spec write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Sqs => "sqs",
            Protocol::Lambda => "lambda",
            Protocol::Https => "https",
            Protocol::Http => "http",
            Protocol::Email => "email",
            Protocol::EmailJson => "email-json",
        }
    }

    /// Whether the subscription delivers the message as published (raw message delivery): SNS offers it for
    /// SQS, HTTP/S and Firehose endpoints; the module turns it on wherever it can, so that a subscriber gets
    /// the task message itself, not SNS's envelope of it.
    pub fn raw_delivery(self) -> bool {
        matches!(self, Protocol::Sqs | Protocol::Https | Protocol::Http)
    }

    /// The form of its endpoint, as a message says it.
    pub fn endpoint_form(self) -> &'static str {
        match self {
            Protocol::Sqs => "an SQS queue ARN (arn:PARTITION:sqs:REGION:ACCOUNT:NAME)",
            Protocol::Lambda => "a Lambda function ARN (arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME)",
            Protocol::Https => "an https:// URL",
            Protocol::Http => "an http:// URL",
            Protocol::Email | Protocol::EmailJson => "an email address",
        }
    }

    /// An endpoint of its form, for messages.
    pub fn example(self) -> &'static str {
        match self {
            Protocol::Sqs => "arn:aws:sqs:us-east-1:123456789012:approvals",
            Protocol::Lambda => "arn:aws:lambda:us-east-1:123456789012:function:approve",
            Protocol::Https => "https://partner.example.com/tasks",
            Protocol::Http => "http://partner.example.com/tasks",
            Protocol::Email | Protocol::EmailJson => "ops@example.com",
        }
    }
}

/// A topic's dead-letter queue: what SNS could not deliver to a declared subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicDeadLetter {
    /// AWS queue name, `{name}-{key}-topic-dlq` (`.fifo` for a FIFO topic's): apart from a queue's of the same key.
    pub name: AwsName,
    /// `MessageRetentionPeriod`: the maximum.
    pub retention_seconds: u64,
    /// How the dead-letter Lambda reads it, failing each message's task at once.
    pub reader: DeadLetterReader,
}

impl Topic {
    /// The module input that holds the key this topic names by ARN or alias: `{key}_topic_kms_key_arn` or
    /// `{key}_topic_kms_key_alias`, with `-` written `_`. `None` for SNS's own key and the module's.
    pub fn key_input(&self) -> Option<String> {
        let kind = match self.encryption {
            Encryption::KeyArn(_) => "arn",
            Encryption::KeyAlias(_) => "alias",
            Encryption::ServiceManaged | Encryption::ModuleKey => return None,
        };
        Some(format!("{}_topic_kms_key_{kind}", self.key.replace('-', "_")))
    }

    /// The input holding the key this topic names by ARN or alias, whose validation keeps that kind.
    fn key_input_of(&self) -> Option<Input> {
        let also = if self.dead_letter.is_some() {
            " and its dead-letter queue (its key policy must let sns.amazonaws.com use it)"
        } else {
            ""
        };
        channel_key_input(
            &self.key_input()?,
            &self.encryption,
            &format!("topic {:?}{also}", self.key),
            &format!("topics.{}.encryption", self.key),
        )
    }
}

/// One EventBridge bus a step puts its task on, as an event whose `detail` is the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bus {
    /// Key in the spec; also the Terraform resource name.
    pub key: String,
    /// Which bus.
    pub bus: BusName,
    /// The events' `Source`.
    pub source: String,
    /// The events' `DetailType`.
    pub detail_type: String,
    /// The rule the module creates on the bus, `{name}-{key}`, matching these events from this account.
    pub rule: AwsName,
    /// The dead-letter queue the rule's targets name, unless `dead_letter = false`.
    pub dead_letter: Option<BusDeadLetter>,
}

/// Which EventBridge bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusName {
    /// A bus that exists: `default` (the account's default bus) or one made elsewhere. The module neither
    /// creates nor destroys it.
    Existing(String),
    /// A custom bus the module creates, `{name}-{key}`.
    Custom(AwsName),
}

/// One ASL retrier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// `ErrorEquals`.
    pub errors: Vec<String>,
    /// `MaxAttempts`.
    pub max_attempts: u32,
    /// `IntervalSeconds`.
    pub interval_seconds: u64,
    /// `BackoffRate`, in thousandths (2.0 is 2000), so that the model stays exact.
    pub backoff_rate_milli: u32,
    /// `MaxDelaySeconds`.
    pub max_delay_seconds: Option<u64>,
    /// `JitterStrategy: FULL`.
    pub jitter: bool,
}

/// One ASL catcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catch {
    /// `ErrorEquals`.
    pub errors: Vec<String>,
    /// Where the execution goes; the error output is put at `$.error` of the state input.
    pub target: CatchTarget,
}

/// Where a caught error goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatchTarget {
    /// A later step, by name.
    Step(String),
    /// A `Fail` state that ends the execution.
    Fail {
        /// The Fail state's name.
        state: String,
        /// `Error`.
        error: String,
        /// `Cause`.
        cause: Option<String>,
    },
}

/// One SQS queue and its dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    /// Key in the spec; also the Terraform resource name.
    pub key: String,
    /// AWS queue name (with `.fifo` when FIFO).
    pub name: AwsName,
    /// FIFO queue.
    pub fifo: bool,
    /// `VisibilityTimeout`.
    pub visibility_timeout_seconds: u64,
    /// `MessageRetentionPeriod`.
    pub retention_seconds: u64,
    /// `ReceiveMessageWaitTimeSeconds`: long polling.
    pub receive_wait_seconds: u64,
    /// Server-side encryption.
    pub encryption: Encryption,
    /// The dead-letter queue, unless turned off.
    pub dead_letter: Option<DeadLetter>,
}

/// How a queue is encrypted at rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encryption {
    /// The service's own: SSE-SQS (keys owned by SQS) for a queue; SNS's AWS managed key (`alias/aws/sns`) for
    /// a topic.
    ServiceManaged,
    /// The customer managed key this module creates.
    ModuleKey,
    /// A key given by ARN: the default of the queue's key input ([`Queue::key_input`]).
    KeyArn(String),
    /// A key given by alias (`alias/...`): the default of the queue's key input; its ARN is looked up at
    /// plan time.
    KeyAlias(String),
}

impl Queue {
    /// How the dead-letter Lambda reads this queue's dead-letter queue, failing the tasks of its messages;
    /// `None` without a dead-letter queue or with `fail_execution = false`.
    pub fn dead_letter_reader(&self) -> Option<&DeadLetterReader> {
        self.dead_letter.as_ref()?.fail_execution.as_ref()
    }

    /// The module input that holds the key this queue names by ARN or alias (one per queue, so that each
    /// account or environment sets its own): `{key}_queue_kms_key_arn` or `{key}_queue_kms_key_alias`, with
    /// `-` written `_` (queue keys hold no `_`, so two queues cannot share one). `None` for SSE-SQS and the
    /// module's own key.
    pub fn key_input(&self) -> Option<String> {
        let kind = match self.encryption {
            Encryption::KeyArn(_) => "arn",
            Encryption::KeyAlias(_) => "alias",
            Encryption::ServiceManaged | Encryption::ModuleKey => return None,
        };
        Some(format!("{}_queue_kms_key_{kind}", self.key.replace('-', "_")))
    }
}

/// A dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// AWS queue name.
    pub name: AwsName,
    /// `maxReceiveCount` of the source queue's redrive policy.
    pub max_receives: u32,
    /// `MessageRetentionPeriod`: the maximum, so that a message is not lost before someone looks.
    pub retention_seconds: u64,
    /// The dead-letter Lambda reads this queue (an event source mapping) and fails each message's task
    /// with [`DEAD_LETTERED_ERROR`] at once; `None` when `fail_execution = false`.
    pub fail_execution: Option<DeadLetterReader>,
}

/// How the dead-letter Lambda reads a dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterReader {
    /// Records per invocation.
    pub batch_size: u32,
    /// The dead-letter queue's `VisibilityTimeout` is this many times the functions' timeout (an input, the
    /// callback's): a batch being handled must stay hidden for longer than the dead-letter function can run.
    pub callback_timeouts: u64,
    /// That visibility timeout with the callback's timeout from the spec (the input's default).
    pub visibility_timeout_seconds: u64,
    /// The most concurrent invocations the mapping's poller may make (its `ScalingConfig`): a burst of dead
    /// letters must not take the account's concurrency, which workers' synchronous callbacks need too.
    pub maximum_concurrency: u32,
}

/// The dead-letter queue of the targets of a bus's rule (their `DeadLetterConfig`): the events EventBridge could
/// not deliver. The dead-letter Lambda reads it and fails the task in each event's `detail` at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusDeadLetter {
    /// AWS queue name, `{name}-{key}-bus-dlq`: a standard queue, the only kind EventBridge sends to.
    pub name: AwsName,
    /// `MessageRetentionPeriod`: the maximum, so that an undelivered event is not lost before someone looks.
    pub retention_seconds: u64,
    /// How the dead-letter Lambda reads it.
    pub reader: DeadLetterReader,
}

impl Bus {
    /// Whether the module creates the bus (a custom bus), rather than using one that exists.
    pub fn created(&self) -> bool {
        matches!(self.bus, BusName::Custom(_))
    }

    /// The input listing the other accounts that may put events on this custom bus:
    /// `{key}_bus_publisher_accounts`, with `-` written `_` (bus keys hold no `_`).
    pub fn publisher_accounts_input(&self) -> String {
        format!("{}_bus_publisher_accounts", self.key.replace('-', "_"))
    }

    /// That input, for a bus the module creates: a bus it does not own keeps its owner's policy.
    fn publisher_accounts_input_of(&self) -> Option<Input> {
        self.created().then(|| {
            Input::new(
                &self.publisher_accounts_input(),
                InputKind::AccountIds,
                &format!(
                    "AWS account IDs that may put events on bus {:?} (its bus policy); none by default. The module's rule matches this account's events only.",
                    self.key
                ),
            )
        })
    }
}

/// The account's default event bus: `buses.*.name = "default"` names it. It always exists; the module neither
/// creates nor destroys it, and leaves its policy alone.
pub const DEFAULT_BUS: &str = "default";

/// The error a dead-lettered task fails with; a step's `catch` can name it.
pub const DEAD_LETTERED_ERROR: &str = "sfngen.DeadLettered";

/// The customer managed KMS key. The key policy names each role for what the role's own policy grants on
/// the key (statements on [`Resource::ModuleKey`]), with the same conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleKey {
    /// The alias, `alias/{name}`.
    pub alias: AwsName,
    /// Whether queues are encrypted with it.
    pub queues: bool,
    /// The topics encrypted with it, by key: SNS may use it for their dead-letter queues (encrypted with the key too).
    pub topics: Vec<String>,
    /// Whether the state machine's definition and execution history are encrypted with it; CloudWatch Logs'
    /// log delivery may then decrypt the execution logs, while execution logging is on.
    pub state_machine: bool,
    /// Log groups CloudWatch Logs may encrypt with the key.
    pub log_groups: Vec<AwsName>,
}

impl ModuleKey {
    /// The topics encrypted with the key that have a dead-letter queue (encrypted with it too): SNS encrypts what it
    /// dead-letters for them, so the key policy lets SNS use the key for those topics.
    pub fn topics_with_dead_letters<'m>(&self, model: &'m Model) -> Vec<&'m Topic> {
        model
            .topics
            .iter()
            .filter(|t| self.topics.contains(&t.key) && t.dead_letter.is_some())
            .collect()
    }
}

/// Lambda CPU architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    /// Graviton.
    Arm64,
    /// Intel/AMD.
    X86_64,
}

impl Architecture {
    /// The value AWS expects.
    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::Arm64 => "arm64",
            Architecture::X86_64 => "x86_64",
        }
    }
}

/// The `[callback]` settings. Every Lambda function of the module runs the callback package with the same
/// memory, timeout, architecture and log retention (one set of inputs); reserved concurrency is the
/// callback's alone (see [`Function::takes_reserved_concurrency`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    /// `memory_size`, as the spec sets it: the default of the module's `callback_memory_mb` input.
    pub memory_mb: u32,
    /// `timeout` in seconds: the default of `callback_timeout_seconds`.
    pub timeout_seconds: u64,
    /// CPU architecture.
    pub architecture: Architecture,
    /// `reserved_concurrent_executions` of the function workers invoke: the default of
    /// `callback_reserved_concurrency` (`None`: null, unreserved).
    pub reserved_concurrency: Option<u32>,
    /// Retention of the functions' log groups: the default of `callback_log_retention_days`.
    pub log_retention_days: u32,
}

/// The HTTPS callback endpoint: a Lambda function URL in front of the callback's own request parsing and answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// How a request proves who sent it.
    pub auth: EndpointAuth,
    /// The function's reserved concurrency: the URL's throttle (the default of `endpoint_reserved_concurrency`).
    pub reserved_concurrency: u32,
}

/// How the endpoint authenticates a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointAuth {
    /// SigV4: Lambda checks the caller's AWS signature and IAM policy before the function runs (`AWS_IAM`).
    Iam,
    /// A webhook signature the function checks (`NONE` at the URL: the signature is the authorization).
    Hmac {
        /// Where the shared secret is.
        secret: EndpointSecret,
        /// How far a signature's timestamp may be from the function's clock, in seconds.
        replay_window_seconds: u64,
    },
}

impl EndpointAuth {
    /// The function URL's `authorization_type`.
    pub fn url_auth(&self) -> UrlAuth {
        match self {
            EndpointAuth::Iam => UrlAuth::Iam,
            EndpointAuth::Hmac { .. } => UrlAuth::None,
        }
    }

    /// The spec's word for it, which the function reads (`SFNGEN_ENDPOINT_AUTH`).
    pub fn as_str(&self) -> &'static str {
        match self {
            EndpointAuth::Iam => "iam",
            EndpointAuth::Hmac { .. } => "hmac",
        }
    }
}

/// The Secrets Manager secret holding the endpoint's HMAC key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointSecret {
    /// One the module creates, without a value (`{name}-endpoint-hmac`): the endpoint refuses every request until a
    /// team puts one.
    Created(AwsName),
    /// An existing secret, by ARN.
    Given(String),
}

/// A function URL's authorization type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlAuth {
    /// `AWS_IAM`: SigV4, checked by Lambda against the caller's IAM policy.
    Iam,
    /// `NONE`: anyone may reach the function, which authorizes each request itself (a signature, a MAC).
    None,
}

impl UrlAuth {
    /// The value `authorization_type` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            UrlAuth::Iam => "AWS_IAM",
            UrlAuth::None => "NONE",
        }
    }
}

/// What approval steps share: the queue their Tasks hand tokens to, its dead-letter queue, the table that keeps each
/// token under an opaque id until a person decides, and the HMAC key that signs the links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approvals {
    /// The approvals queue, `{name}-approvals` (standard: the notify function needs no order).
    pub queue: AwsName,
    /// Its dead-letter queue, `{name}-approvals-dlq`, which the dead-letter function reads (a notification that could
    /// not be sent fails its task at once).
    pub dead_letter: AwsName,
    /// Receives of a message before it is dead-lettered.
    pub max_receives: u32,
    /// How long the approvals queue hides a message the notify function received: six times its timeout, as
    /// Lambda advises for an event source (<https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html>).
    pub visibility_timeout_seconds: u64,
    /// The queue's and its dead-letter queue's retention.
    pub retention_seconds: u64,
    /// The DynamoDB table, `{name}-approvals`.
    pub table: AwsName,
    /// The HMAC KMS key's alias, `alias/{name}-approval-links`.
    pub key_alias: AwsName,
    /// How the dead-letter function reads the approvals dead-letter queue.
    pub reader: DeadLetterReader,
    /// The approval page's reserved concurrency, the default of `approval_page_reserved_concurrency`: the public
    /// URL's throttle.
    pub page_reserved_concurrency: u32,
}

/// What an approval step's message tells the notifier (its `approval` object, with the channel's address, only known
/// at apply time, beside it): how to send the notification, and when the link expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApprovalRequest<'m> {
    /// The channel's kind: `queue`, `topic` or `bus`.
    pub channel: &'static str,
    /// A FIFO queue or topic (the notifier sends a group id and a deduplication id).
    pub fifo: bool,
    /// The step's timeout: the link expires with the task.
    pub timeout_seconds: u64,
    /// A bus's event source and detail type.
    pub event: Option<(&'m str, &'m str)>,
}

impl Model {
    /// The `approval` object of an approval step's message. Resolve gives every approval step a timeout; none is a
    /// bug.
    pub fn approval_request(&self, step: &Step) -> ApprovalRequest<'_> {
        let timeout_seconds = step
            .timeout_seconds
            .unwrap_or_else(|| panic!("bug: approval step {:?} has no timeout", step.name));
        let (fifo, event) = match &step.channel {
            Channel::Queue(key) => (self.queue(key).fifo, None),
            Channel::Topic(key) => (self.topic(key).fifo, None),
            Channel::Bus(key) => {
                let bus = self.bus(key);
                (false, Some((bus.source.as_str(), bus.detail_type.as_str())))
            }
        };
        ApprovalRequest {
            channel: step.channel.kind(),
            fifo,
            timeout_seconds,
            event,
        }
    }
}

/// The members of the `approval` object in an approval step's message, which the notify function reads to send the
/// notification (the contract between the state machine and the package).
pub const APPROVAL_FIELD: &str = "approval";

/// Where an approval step puts its decision in the state (`ResultPath`): a gate must not eat what it gates, so the state
/// input flows on with the decision beside it (a fan-out approval's: the array of decisions, in item order).
pub const APPROVAL_RESULT_PATH: &str = "$.approval";

/// The error an approval page's Reject fails the task with.
pub const APPROVAL_REJECTED_ERROR: &str = "sfngen.ApprovalRejected";

/// The TTL attribute of the approvals table: unix seconds at which the link, and the item, expire.
pub const APPROVAL_TTL_ATTRIBUTE: &str = "expires_at";

/// The hash key of the approvals table: the opaque id a link carries.
pub const APPROVAL_HASH_KEY: &str = "id";

/// Which Lambda function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FunctionId {
    /// The callback: workers invoke it to answer their tasks.
    Callback,
    /// The dead-letter function: the module's SQS event source mappings invoke it with dead letters, whose
    /// tasks it fails.
    DeadLetters,
    /// The HTTPS callback endpoint, behind its function URL.
    Endpoint,
    /// The approval notifier: reads the approvals queue, keeps each token in the table, sends the link.
    ApprovalNotify,
    /// The approval page, behind its public function URL: shows a request, takes one decision.
    ApprovalPage,
}

impl FunctionId {
    /// Its short name: the Terraform name of its resources (`aws_lambda_function.dead_letters`), the start of
    /// its alarms' keys and of its outputs' names.
    pub fn key(self) -> &'static str {
        match self {
            FunctionId::Callback => "callback",
            FunctionId::DeadLetters => "dead_letters",
            FunctionId::Endpoint => "endpoint",
            FunctionId::ApprovalNotify => "approval_notify",
            FunctionId::ApprovalPage => "approval_page",
        }
    }

    /// What it is, in prose: "the callback Lambda".
    pub fn title(self) -> &'static str {
        match self {
            FunctionId::Callback => "the callback Lambda",
            FunctionId::DeadLetters => "the dead-letter Lambda",
            FunctionId::Endpoint => "the callback endpoint",
            FunctionId::ApprovalNotify => "the approval notifier",
            FunctionId::ApprovalPage => "the approval page",
        }
    }
}

/// Who may invoke a function: the callback's trust boundary. A worker can forge anything in an event, so
/// what only AWS may trigger is a function (and role) of its own, which no worker's policy names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invoker {
    /// Workers, synchronously (`lambda:InvokeFunction` in `worker_policy_json`).
    Workers,
    /// The module's SQS event source mappings from dead-letter queues, with the function's role; nothing
    /// grants a worker `lambda:InvokeFunction` on it.
    DeadLetterMappings,
    /// Requests to its function URL, authorized as the URL says.
    FunctionUrl(UrlAuth),
    /// The SQS event source mapping from the approvals queue.
    ApprovalsMapping,
}

/// The environment variable through which the module tells the package which function it runs as (the
/// Lambda's `SFNGEN_MODE`, read once at start-up: nothing in an event can change it).
pub const FUNCTION_MODE_VARIABLE: &str = "SFNGEN_MODE";

/// How deep an event may nest arrays and objects, the event itself counted, in the callback package (its
/// `lambda/src/json.rs`, `MAX_DEPTH`; `tests/security.rs` holds the two equal): for the module README.
pub const MAX_EVENT_NESTING: usize = 64;

/// A Lambda function the module creates: the callback package (`callback.zip`) in the mode its environment
/// names, with its own role and log group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// Which one.
    pub id: FunctionId,
    /// AWS function name.
    pub name: AwsName,
    /// Its execution role.
    pub role: RoleId,
    /// The value of [`FUNCTION_MODE_VARIABLE`]: `callback` or `dead_letters`.
    pub mode: &'static str,
    /// Who invokes it.
    pub invoker: Invoker,
    /// Its log group.
    pub log_group: LogGroup,
    /// The metrics counted from its log lines.
    pub log_metrics: Vec<LogMetric>,
    /// Its environment besides [`FUNCTION_MODE_VARIABLE`], in order.
    pub environment: Vec<(&'static str, EnvValue)>,
}

/// The value of a function's environment variable: a text, or what a resource of the module gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    /// This text.
    Text(String),
    /// The endpoint secret's ARN (created or given).
    EndpointSecretArn,
    /// The approvals table's name.
    ApprovalTable,
    /// The ARN of the HMAC key that signs approval links.
    ApprovalKey,
    /// The approval page's function URL.
    ApprovalPageUrl,
}

impl Function {
    /// Whether `callback_reserved_concurrency` reserves its concurrency: the workers' function only. The
    /// dead-letter function's invocations are capped by its mappings (`scaling_config`), and it no longer
    /// shares the callback's concurrency, so a burst of dead letters cannot throttle workers' callbacks.
    pub fn takes_reserved_concurrency(&self) -> bool {
        self.invoker == Invoker::Workers
    }

    /// The input holding its reserved concurrency, when it has one: the callback's (null: unreserved), the
    /// endpoint's and the approval page's (a public URL is throttled).
    pub fn reserved_concurrency_input(&self) -> Option<&'static str> {
        match self.id {
            FunctionId::Callback => Some(input::CALLBACK_RESERVED_CONCURRENCY),
            FunctionId::Endpoint => Some(input::ENDPOINT_RESERVED_CONCURRENCY),
            FunctionId::ApprovalPage => Some(input::APPROVAL_PAGE_RESERVED_CONCURRENCY),
            FunctionId::DeadLetters | FunctionId::ApprovalNotify => None,
        }
    }
}

/// Which role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RoleId {
    /// The state machine's execution role.
    StateMachine,
    /// The callback Lambda's execution role.
    Callback,
    /// The dead-letter Lambda's execution role.
    DeadLetters,
    /// The callback endpoint's execution role.
    Endpoint,
    /// The approval notifier's execution role.
    ApprovalNotify,
    /// The approval page's execution role.
    ApprovalPage,
}

/// An IAM role, its inline policy and, when that would outgrow IAM's limit, the managed policies it is split into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Which role.
    pub id: RoleId,
    /// AWS role name.
    pub name: AwsName,
    /// The service that assumes it.
    pub service: Service,
    /// The permissions, one statement per concern: the role's inline policy.
    pub statements: Vec<Statement>,
    /// Customer managed policies attached to the role, holding the grants on queues that do not fit the inline
    /// policy ([`crate::limits::IAM_ROLE_INLINE_POLICIES`]); empty while they fit, which is every spec with a
    /// few dozen queues.
    pub managed_policies: Vec<ManagedPolicy>,
}

impl Role {
    /// Every statement the role holds: its inline policy's, then each managed policy's.
    pub fn all_statements(&self) -> impl Iterator<Item = &Statement> {
        self.statements
            .iter()
            .chain(self.managed_policies.iter().flat_map(|p| &p.statements))
    }
}

/// A customer managed policy the module creates and attaches to one of its roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedPolicy {
    /// AWS policy name: the role's name and a number, `{name}-state-machine-1`.
    pub name: AwsName,
    /// Its number among the role's managed policies, from 1.
    pub number: usize,
    /// The permissions.
    pub statements: Vec<Statement>,
}

/// An AWS service principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// `states.amazonaws.com`.
    StepFunctions,
    /// `lambda.amazonaws.com`.
    Lambda,
}

impl Service {
    /// The service principal.
    pub fn principal(self) -> &'static str {
        match self {
            Service::StepFunctions => "states.amazonaws.com",
            Service::Lambda => "lambda.amazonaws.com",
        }
    }
}

/// One `Allow` statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Statement id, also a one-word reason.
    pub sid: String,
    /// Actions, sorted.
    pub actions: Vec<String>,
    /// What the actions may touch.
    pub resources: Vec<Resource>,
    /// Restrict use of the credentials to calls made from inside this function (`lambda:SourceFunctionArn`).
    pub only_from: Option<FunctionId>,
    /// Granted only while this feature is on (the module's inputs decide); `None`: always.
    pub only_while: Option<Feature>,
    /// Further conditions, all of which must hold.
    pub conditions: Vec<Condition>,
}

/// A condition on a KMS grant: what the key may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// `kms:ViaService`: only when this service uses the key on the caller's behalf, in this region.
    ViaService(ViaService),
    /// `kms:EncryptionContext:aws:states:stateMachineArn`: only for this state machine's definition and
    /// execution history.
    StateMachineData,
    /// `kms:EncryptionContext:SourceArn`: only for log deliveries of this account and region (Step
    /// Functions' execution logs).
    LogDelivery,
    /// `events:source` and `events:detail-type`: only events with the source and detail type of the bus at this
    /// position of [`Model::buses`] (PutEvents supplies both keys:
    /// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-conditions.html).
    BusEvents(usize),
}

/// A service that uses a KMS key on a caller's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViaService {
    /// Amazon SQS (encrypted queues).
    Sqs,
    /// AWS Step Functions (encrypted executions).
    StepFunctions,
    /// Amazon SNS (encrypted topics).
    Sns,
}

impl ViaService {
    /// The first label of the service's regional endpoint name, which `kms:ViaService` holds.
    pub fn endpoint_prefix(self) -> &'static str {
        match self {
            ViaService::Sqs => "sqs",
            ViaService::StepFunctions => "states",
            ViaService::Sns => "sns",
        }
    }

    /// The service's name, as a comment says it.
    pub fn title(self) -> &'static str {
        match self {
            ViaService::Sqs => "SQS",
            ViaService::StepFunctions => "Step Functions",
            ViaService::Sns => "SNS",
        }
    }
}

/// A feature a module input turns on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// Execution logging: `log_level` is not `OFF`.
    ExecutionLogging,
    /// X-Ray tracing: `tracing` is true.
    Tracing,
}

/// A policy the module publishes (as an output) for a worker's own role, and attaches nowhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerPolicy {
    /// The queue it is for; `None`: every queue.
    pub queue: Option<String>,
    /// For every queue, when one document would outgrow a managed policy
    /// ([`crate::limits::IAM_MANAGED_POLICY`]): this part's number, from 1. `None`: the whole policy.
    pub part: Option<usize>,
    /// The permissions, one statement per concern.
    pub statements: Vec<Statement>,
}

/// The policy the module publishes (output `operator_policy_json`) for an on-call engineer's role, and attaches
/// nowhere: what the runbook in the module README calls, on this module's resources only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorPolicy {
    /// When one document would outgrow a managed policy ([`crate::limits::IAM_MANAGED_POLICY`]): this part's
    /// number, from 1. `None`: the whole policy.
    pub part: Option<usize>,
    /// The permissions, one statement per concern.
    pub statements: Vec<Statement>,
}

/// Something a statement grants access to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// The queue with this key.
    Queue(String),
    /// The dead-letter queue of the queue with this key.
    DeadLetterQueue(String),
    /// This module's state machine.
    StateMachine,
    /// Every execution of this module's state machine (`execution:NAME:*`).
    Executions,
    /// The event source mapping through which the dead-letter function reads the dead-letter queue of the queue
    /// with this key. Its ARN ends in the UUID Lambda gave it, known once it exists.
    DeadLetterMapping(String),
    /// The alias through which executions start.
    StateMachineAlias,
    /// One of the module's Lambda functions.
    Function(FunctionId),
    /// The key this module creates.
    ModuleKey,
    /// The key the queue with this key names by ARN or alias (its key input).
    QueueKey(String),
    /// The key the state machine names by ARN or alias (its key input).
    StateMachineKey,
    /// The SNS topic with this key.
    Topic(String),
    /// The dead-letter queue of the topic with this key.
    TopicDeadLetterQueue(String),
    /// The key the topic with this key names by ARN or alias (its key input).
    TopicKey(String),
    /// The event source mapping through which the dead-letter function reads the dead-letter queue of the topic
    /// with this key. Its ARN ends in the UUID Lambda gave it, known once it exists.
    TopicDeadLetterMapping(String),
    /// The log streams of a function's log group.
    LogStreams(FunctionId),
    /// `*`: only for actions that AWS does not let you scope to a resource.
    Any,
    /// The EventBridge bus with this key (a custom bus the module creates, or an existing one).
    Bus(String),
    /// The dead-letter queue of the targets of the rule on the bus with this key.
    BusDeadLetterQueue(String),
    /// The event source mapping through which the dead-letter function reads the dead-letter queue of the bus
    /// with this key. Its ARN ends in the UUID Lambda gave it, known once it exists.
    BusDeadLetterMapping(String),
    /// The approvals queue.
    ApprovalsQueue,
    /// The approvals queue's dead-letter queue.
    ApprovalsDeadLetterQueue,
    /// The approvals table.
    ApprovalTable,
    /// The HMAC key that signs approval links.
    ApprovalKey,
    /// The endpoint's HMAC secret.
    EndpointSecret,
}

/// A metric the module counts from a function's JSON log lines: a metric filter on its log group, whose
/// metric is in namespace `sfngen/{name}` (the module's `name` input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogMetric {
    /// Which one.
    pub id: LogMetricId,
    /// The metric filter's AWS name.
    pub filter_name: AwsName,
    /// The CloudWatch metric, one per matching log line.
    pub metric: &'static str,
    /// The log lines it counts: every field holds one of its values.
    pub fields: Vec<(&'static str, Vec<String>)>,
}

impl LogMetric {
    /// The CloudWatch Logs JSON filter pattern: `{ $.f = "v" }` for one field and value; otherwise each
    /// field's test in parentheses joined by `&&`, a field's values by `||`.
    pub fn pattern(&self) -> String {
        let test = |field: &str, value: &str| format!("$.{field} = \"{value}\"");
        let field_test = |(field, values): &(&str, Vec<String>)| match values.as_slice() {
            [value] => test(field, value),
            values => values
                .iter()
                .map(|value| format!("({})", test(field, value)))
                .collect::<Vec<_>>()
                .join(" || "),
        };
        let body = match self.fields.as_slice() {
            [one] => field_test(one),
            fields => fields
                .iter()
                .map(|f| format!("({})", field_test(f)))
                .collect::<Vec<_>>()
                .join(" && "),
        };
        format!("{{ {body} }}")
    }
}

/// The metrics counted from the functions' log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogMetricId {
    /// Late and duplicate callbacks ([`SPENT_TOKENS_METRIC`]).
    SpentTokens,
    /// Callbacks with a token Step Functions never issued ([`INVALID_TOKENS_METRIC`]).
    InvalidTokens,
    /// Dead letters the dead-letter function could not settle ([`DEAD_LETTERS_UNSETTLED_METRIC`]).
    DeadLettersUnsettled,
    /// Late and duplicate answers through the endpoint ([`SPENT_TOKENS_METRIC`], from its own log group).
    EndpointSpentTokens,
    /// Tokens Step Functions never issued, through the endpoint ([`INVALID_TOKENS_METRIC`]).
    EndpointInvalidTokens,
    /// Requests the endpoint refused for their signature or caller ([`ENDPOINT_UNAUTHORIZED_METRIC`]).
    EndpointUnauthorized,
    /// Approval notifications that could not be sent ([`APPROVAL_NOTIFICATIONS_FAILED_METRIC`]).
    ApprovalNotificationsFailed,
    /// Decisions that failed for a fault ([`APPROVAL_DECISIONS_FAILED_METRIC`]).
    ApprovalDecisionsFailed,
    /// Links opened after they expired ([`APPROVALS_EXPIRED_METRIC`]).
    ApprovalsExpired,
    /// Links whose MAC does not verify ([`APPROVAL_LINKS_INVALID_METRIC`]).
    ApprovalLinksInvalid,
    /// Executions that ended in a Fail state the spec declares ([`BUSINESS_FAILURES_METRIC`]), counted from the
    /// execution log: this part of the declared errors, from 1.
    BusinessFailures {
        /// The part's number, from 1.
        part: usize,
    },
}

/// The metric that counts requests the endpoint refused for their signature or caller (401, 403), from its log
/// lines: a sender with a wrong secret or clock, or someone probing the URL.
pub const ENDPOINT_UNAUTHORIZED_METRIC: &str = "EndpointUnauthorized";
/// The metric that counts approval notifications the notifier could not send (the message comes back; after its
/// receives, the dead-letter function fails the task).
pub const APPROVAL_NOTIFICATIONS_FAILED_METRIC: &str = "ApprovalNotificationsFailed";
/// The metric that counts decisions the page could not record or answer for a fault (not a refused link).
pub const APPROVAL_DECISIONS_FAILED_METRIC: &str = "ApprovalDecisionsFailed";
/// The metric that counts approval links opened after they expired.
pub const APPROVALS_EXPIRED_METRIC: &str = "ApprovalsExpired";
/// The metric that counts approval links whose MAC does not verify: changed by hand, or forged.
pub const APPROVAL_LINKS_INVALID_METRIC: &str = "ApprovalLinksInvalid";

/// The metric that counts late and duplicate callbacks (a spent task token), from the callback's log lines: a
/// result, not a Lambda error, so that the `Errors` alarm means a real fault. Its namespace is
/// `sfngen/{name}`.
pub const SPENT_TOKENS_METRIC: &str = "SpentTokens";
/// The field and value of the callback's JSON log line for a spent task token.
pub const SPENT_TOKEN_LOG: (&str, &str) = ("outcome", "token_spent");

/// The metric that counts callbacks whose token Step Functions never issued (`InvalidToken`: changed, cut
/// short, from another account or region), from the callback's log lines: a worker's bug, whose tasks wait
/// until their timeout, not a late answer. Its namespace is `sfngen/{name}`.
pub const INVALID_TOKENS_METRIC: &str = "InvalidTokens";
/// The field and value of the callback's JSON log line for a token Step Functions never issued.
pub const INVALID_TOKEN_LOG: (&str, &str) = ("outcome", "invalid_token");

/// The metric that counts dead letters the dead-letter function read but could not settle, from its log lines. The
/// event source mapping keeps the dead-letter queue's messages in flight, so the queue's visible messages
/// stay near zero even while the function keeps failing: this metric is what shows it.
pub const DEAD_LETTERS_UNSETTLED_METRIC: &str = "DeadLettersUnsettled";
/// The field and value of every log line the dead-letter function writes for a dead letter.
pub const DEAD_LETTER_LOG: (&str, &str) = ("event", "dead_letter");
/// The field, and its values, of a dead letter that was not settled: `failed` (Step Functions could not be reached or
/// refused the call: the task still waits, the message comes back after the dead-letter queue's visibility
/// timeout) and `unusable` (not a task message, or a failure Step Functions rejects as malformed: dropped,
/// its task, if any, left to the step's timeout). `dead_lettered` and `token_spent` are settled.
pub const UNSETTLED_DEAD_LETTER_OUTCOMES: (&str, [&str; 2]) = ("outcome", ["failed", "unusable"]);

/// The metric that counts executions ending in a Fail state the spec declares (a step's `catch` with `fail`): a
/// business outcome (a "no" the workflow was written to give), not a fault. Counted by metric filters on the
/// execution log group from its `ExecutionFailed` events whose error is one of the declared ones; namespace
/// `sfngen/{name}`. While `log_level` is `OFF` there are no execution log events, and it counts nothing.
pub const BUSINESS_FAILURES_METRIC: &str = "BusinessFailures";

/// The metric math that counts faults only: `failed` (ExecutionsFailed) minus `business`
/// ([`BUSINESS_FAILURES_METRIC`], missing until a log event matches: `FILL` makes that zero). The
/// executions_failed alarm and the dashboard evaluate it.
pub const FAULTS_EXPRESSION: &str = "failed - FILL(business, 0)";

/// The field and value of a Step Functions execution log event for a failed execution
/// (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html: each event is a JSON object with `type`
/// and the event's `details`).
pub const EXECUTION_FAILED_LOG: (&str, &str) = ("type", "ExecutionFailed");

/// The field of an `ExecutionFailed` log event that holds the execution's error (`ExecutionFailedEventDetails`).
pub const EXECUTION_ERROR_FIELD: &str = "details.error";

/// Characters that keep an error from being matched exactly by a filter pattern: CloudWatch Logs documents no
/// escape for `"` or `\` inside a quoted value, and `*` is a wildcard there. A Fail state's error holding one is
/// left out of [`BUSINESS_FAILURES_METRIC`] (its executions count as faults) and the module README says so.
pub const UNMATCHABLE_ERROR_CHARS: [char; 3] = ['"', '\\', '*'];

/// The module README's runbook headings (`### Drain a queue`...), which alarm descriptions point at.
pub mod runbook {
    /// Stop sending to a queue and let its workers empty it.
    pub const DRAIN_A_QUEUE: &str = "Drain a queue";
    /// Stop executions that wait on tasks nobody will answer.
    pub const STOP_WAITING_EXECUTIONS: &str = "Stop waiting executions";
    /// Redrive executions that failed, timed out or were aborted, once the cause is fixed.
    pub const REDRIVE_FAILED_EXECUTIONS: &str = "Redrive failed executions";
    /// Move dead letters back to their queue for the workers.
    pub const MOVE_DEAD_LETTERS_BACK: &str = "Move dead letters back";
    /// Pause the dead-letter mappings, so that dead letters wait instead of failing their executions.
    pub const PAUSE_FAIL_FAST: &str = "Pause fail-fast";

    /// A pointer at runbook steps for an alarm description: `Runbook: module README, Runbook: A; then B.`
    pub fn pointer(steps: &[&str]) -> String {
        let steps: Vec<String> = steps.iter().map(|s| format!("module README, Runbook: {s}")).collect();
        format!(" What to do: {}.", steps.join("; then "))
    }
}

/// The tags the module puts on every taggable resource before the spec's `[tags]`: `ManagedBy = "sfngen"` and
/// `SfngenPattern = var.name`. AWS counts them among a resource's tags, and IAM's tag keys ignore case.
pub const MODULE_TAG_KEYS: [&str; 2] = ["ManagedBy", "SfngenPattern"];

/// A FIFO task message's `MessageGroupId`: the SHA-256 of the execution's ARN, in hex. One group per execution
/// keeps its messages in order and lets executions run side by side; the execution's name cannot be the group
/// id, since it may hold characters SQS refuses there (any letter, where SQS takes ASCII letters, digits and
/// punctuation: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html).
/// `States.Hash` takes up to 10,000 characters (https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html#asl-intrsc-func-uuid-generate);
/// an execution ARN is a few hundred.
pub const MESSAGE_GROUP_ID: &str = "States.Hash($$.Execution.Id, 'SHA-256')";

/// A fan-out step's item's `MessageGroupId`: the SHA-256 of the execution's ARN and the item's index (the item
/// processor's input holds it as `index`). One group per item, not per execution: a FIFO queue hands out one
/// message of a group at a time, so one group for the execution would run its items one after another whatever
/// `max_concurrency` says, and the items at the back would wait out their timeouts.
pub const MESSAGE_GROUP_ID_PER_ITEM: &str = "States.Hash(States.Format('{}/{}', $$.Execution.Id, $.index), 'SHA-256')";

/// The characters of [`MESSAGE_GROUP_ID`] and [`MESSAGE_GROUP_ID_PER_ITEM`]: 64 hex digits.
pub const MESSAGE_GROUP_ID_CHARS: usize = 64;

/// The fields every task message carries, sfngen's own: a step's static fields may not take these names.
pub const MESSAGE_OWN_FIELDS: [&str; 3] = ["input", "token", MESSAGE_CONTEXT_FIELD];

/// The message field that holds [`MESSAGE_CONTEXT`].
pub const MESSAGE_CONTEXT_FIELD: &str = "context";

/// What a task message's `context` object holds, each field a path into Step Functions' context object
/// (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html): the execution's
/// ARN, the state's name, when the state was entered (ISO 8601), how many times the state was retried and how
/// many times the execution was redriven. `execution` and `state` together name the work a message asks for,
/// the same across SQS's repeated deliveries, the step's retries and the execution's redrives, where the token
/// changes with each retry and redrive: the idempotency key the module README gives workers.
pub const MESSAGE_CONTEXT: [(&str, &str); 5] = [
    ("execution", "$$.Execution.Id"),
    ("state", "$$.State.Name"),
    ("entered_time", "$$.State.EnteredTime"),
    ("retry_count", "$$.State.RetryCount"),
    ("redrive_count", "$$.Execution.RedriveCount"),
];

/// What a fan-out step's message `context` holds besides [`MESSAGE_CONTEXT`]: the item's index in the array
/// (0 first), a path into the item processor's input, where the Map's `ItemSelector` put `$$.Map.Item.Index`
/// ([`FanOut::ITEM_SELECTOR`]). `execution`, `state` and `item_index` together are a fan-out message's idempotency key.
pub const MESSAGE_ITEM_INDEX: (&str, &str) = ("item_index", "$.index");

/// The callback Lambda package's file name inside the module.
pub const LAMBDA_ZIP_FILE: &str = "callback.zip";

impl Model {
    /// The queue with this key. Resolve lets no step name a missing queue, so a miss is a bug.
    pub fn queue(&self, key: &str) -> &Queue {
        self.find_queue(key)
            .unwrap_or_else(|| panic!("bug: the model has no queue {key:?}, yet something names it"))
    }

    /// The queue with this key, if there is one: a binary search, since the queues are sorted by key.
    pub fn find_queue(&self, key: &str) -> Option<&Queue> {
        debug_assert!(
            self.queues.is_sorted_by(|a, b| a.key < b.key),
            "bug: the model's queues are not sorted by key"
        );
        let at = self.queues.binary_search_by(|q| q.key.as_str().cmp(key)).ok()?;
        Some(&self.queues[at])
    }

    /// The topic with this key. Resolve lets no step name a missing topic, so a miss is a bug.
    pub fn topic(&self, key: &str) -> &Topic {
        self.find_topic(key)
            .unwrap_or_else(|| panic!("bug: the model has no topic {key:?}, yet something names it"))
    }

    /// The topic with this key, if there is one.
    pub fn find_topic(&self, key: &str) -> Option<&Topic> {
        self.topics.iter().find(|t| t.key == key)
    }

    /// The bus with this key. Resolve lets no step name a missing bus, so a miss is a bug.
    pub fn bus(&self, key: &str) -> &Bus {
        self.find_bus(key)
            .unwrap_or_else(|| panic!("bug: the model has no bus {key:?}, yet something names it"))
    }

    /// The bus with this key, if there is one.
    pub fn find_bus(&self, key: &str) -> Option<&Bus> {
        self.buses.iter().find(|b| b.key == key)
    }

    /// The step the execution starts at. Resolve requires at least one step, so none is a bug.
    pub fn first_step(&self) -> &Step {
        self.steps
            .first()
            .unwrap_or_else(|| panic!("bug: the model has no steps; resolve requires at least one"))
    }

    /// The position of the step with this name. Catchers name only existing steps, so a miss is a bug.
    pub fn step_index(&self, name: &str) -> usize {
        self.steps
            .iter()
            .position(|s| s.name == name)
            .unwrap_or_else(|| panic!("bug: the model has no step {name:?}, yet a catcher names it"))
    }

    /// The steps that send to the queue with this key, in execution order.
    pub fn steps_on(&self, queue_key: &str) -> Vec<&Step> {
        self.steps.iter().filter(|s| s.queue_key() == Some(queue_key)).collect()
    }

    /// The steps that send to each queue, by queue key, in execution order: in one pass, where
    /// [`Model::steps_on`] for every queue would go through the steps once per queue.
    pub fn steps_by_queue(&self) -> HashMap<&str, Vec<&Step>> {
        let mut by_queue: HashMap<&str, Vec<&Step>> = HashMap::new();
        for step in &self.steps {
            if let Some(key) = step.queue_key() {
                by_queue.entry(key).or_default().push(step);
            }
        }
        by_queue
    }

    /// The policy for a worker of every queue, as one document or in parts (each a managed policy's worth).
    /// Resolve always makes one, so none is a bug.
    pub fn worker_policy(&self) -> Vec<&WorkerPolicy> {
        let parts: Vec<&WorkerPolicy> = self.worker_policies.iter().filter(|p| p.queue.is_none()).collect();
        assert!(!parts.is_empty(), "bug: the model has no worker policy");
        parts
    }

    /// Whether the policy for a worker of every queue is split into parts.
    pub fn worker_policy_in_parts(&self) -> bool {
        self.worker_policies.iter().any(|p| p.part.is_some())
    }

    /// The policy for a worker of the queue with this key: its own, or with a single queue the policy for
    /// every queue, which is the same.
    pub fn worker_policy_of(&self, queue_key: &str) -> &WorkerPolicy {
        self.worker_policies
            .iter()
            .find(|p| p.queue.as_deref() == Some(queue_key))
            .unwrap_or_else(|| self.worker_policy()[0])
    }

    /// The queues whose dead-letter queue the dead-letter Lambda reads, failing their tasks at once.
    pub fn dead_letter_readers(&self) -> Vec<(&Queue, &DeadLetterReader)> {
        self.queues
            .iter()
            .filter_map(|q| Some((q, q.dead_letter_reader()?)))
            .collect()
    }

    /// The topics whose dead-letter queue the dead-letter Lambda reads, failing their tasks at once.
    pub fn topic_dead_letter_readers(&self) -> Vec<(&Topic, &DeadLetterReader)> {
        self.topics
            .iter()
            .filter_map(|t| Some((t, &t.dead_letter.as_ref()?.reader)))
            .collect()
    }

    /// The topics encrypted with a key given by alias, in topic order: each has its own key input and lookup.
    pub fn alias_topics(&self) -> Vec<&Topic> {
        self.topics
            .iter()
            .filter(|t| matches!(t.encryption, Encryption::KeyAlias(_)))
            .collect()
    }

    /// The function with this id. Only functions the model has are asked for, so none is a bug.
    pub fn function(&self, id: FunctionId) -> &Function {
        self.functions
            .iter()
            .find(|f| f.id == id)
            .unwrap_or_else(|| panic!("bug: the model has no {id:?} function, yet something names it"))
    }

    /// The function the module's event source mappings invoke with dead letters, when any queue's dead
    /// letters fail their executions.
    pub fn dead_letter_function(&self) -> Option<&Function> {
        self.functions.iter().find(|f| f.invoker == Invoker::DeadLetterMappings)
    }

    /// The role with this id. Every role a function or statement names exists, so none is a bug.
    pub fn role(&self, id: RoleId) -> &Role {
        self.roles
            .iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("bug: the model has no {id:?} role, yet something names it"))
    }

    /// The queues encrypted with a key given by alias, in queue order: each has its own key input, so
    /// each has its own lookup of the key's ARN.
    pub fn alias_queues(&self) -> Vec<&Queue> {
        self.queues
            .iter()
            .filter(|q| matches!(q.encryption, Encryption::KeyAlias(_)))
            .collect()
    }

    /// Whether any policy names a service by its endpoint in this partition (`kms:ViaService`, the CloudWatch
    /// Logs principal of the module key): the module then reads the partition's DNS suffix.
    pub fn names_service_endpoints(&self) -> bool {
        let via_service = self
            .roles
            .iter()
            .flat_map(Role::all_statements)
            .flat_map(|s| &s.conditions)
            .any(|c| matches!(c, Condition::ViaService(_)));
        via_service || self.module_key.as_ref().is_some_and(|k| !k.log_groups.is_empty())
    }

    /// Every AWS name the module derives from its `name` input: what it names, AWS's limit on it, whether it
    /// must be unique among the names of its kind (an account and region has one namespace of queues, one of
    /// roles...), and which part of the spec made it. Fixed texts around `name` tell names of one kind apart:
    /// two names with the same text around `name` are the same name for any `name`.
    pub fn aws_names(&self) -> Vec<DerivedName> {
        let module = |what, name: &AwsName, limit| DerivedName::new(what, name.clone(), limit, NameOrigin::Module);
        let mut names = vec![module(
            "state machine",
            &self.state_machine.name,
            &limits::STATE_MACHINE_NAME,
        )];
        for queue in &self.queues {
            let origin = NameOrigin::Queue(queue.key.clone());
            names.push(DerivedName::new(
                "SQS queue",
                queue.name.clone(),
                &limits::SQS_QUEUE_NAME,
                origin.clone(),
            ));
            if let Some(dlq) = &queue.dead_letter {
                names.push(DerivedName::new(
                    "dead-letter queue",
                    dlq.name.clone(),
                    &limits::SQS_QUEUE_NAME,
                    origin,
                ));
            }
        }
        for topic in &self.topics {
            names.push(DerivedName::new(
                "SNS topic",
                topic.name.clone(),
                &limits::SNS_TOPIC_NAME,
                NameOrigin::Topic(topic.key.clone()),
            ));
            if let Some(dlq) = &topic.dead_letter {
                names.push(DerivedName::new(
                    "dead-letter queue",
                    dlq.name.clone(),
                    &limits::SQS_QUEUE_NAME,
                    NameOrigin::Topic(topic.key.clone()),
                ));
            }
        }
        for bus in &self.buses {
            if let BusName::Custom(name) = &bus.bus {
                names.push(DerivedName::new(
                    "event bus",
                    name.clone(),
                    &limits::EVENT_BUS_NAME,
                    NameOrigin::Bus(bus.key.clone()),
                ));
            }
            names.push(DerivedName::new(
                "EventBridge rule",
                bus.rule.clone(),
                &limits::EVENT_RULE_NAME,
                NameOrigin::Bus(bus.key.clone()),
            ));
            if let Some(dlq) = &bus.dead_letter {
                names.push(DerivedName::new(
                    "dead-letter queue",
                    dlq.name.clone(),
                    &limits::SQS_QUEUE_NAME,
                    NameOrigin::Bus(bus.key.clone()),
                ));
            }
        }
        for function in &self.functions {
            names.push(module("Lambda function", &function.name, &limits::LAMBDA_FUNCTION_NAME));
            for metric in &function.log_metrics {
                names.push(module(
                    "metric filter",
                    &metric.filter_name,
                    &limits::METRIC_FILTER_NAME,
                ));
            }
            names.push(module("log group", &function.log_group.name, &limits::LOG_GROUP_NAME));
        }
        names.push(module(
            "log group",
            &self.state_machine.logging.log_group.name,
            &limits::LOG_GROUP_NAME,
        ));
        for metric in &self.business_failures {
            names.push(module(
                "metric filter",
                &metric.filter_name,
                &limits::METRIC_FILTER_NAME,
            ));
        }
        for role in &self.roles {
            names.push(module("IAM role", &role.name, &limits::IAM_ROLE_NAME));
            // The inline policy takes the role's name: unique within its role, which is all IAM asks.
            names.push(DerivedName {
                unique: false,
                ..module("inline policy", &role.name, &limits::IAM_POLICY_NAME)
            });
            for policy in &role.managed_policies {
                names.push(DerivedName::new(
                    "managed policy",
                    policy.name.clone(),
                    &limits::IAM_POLICY_NAME,
                    NameOrigin::Queues,
                ));
            }
        }
        names.push(DerivedName {
            unique: false,
            ..module("CloudWatch namespace", &module_namespace(), &limits::METRIC_NAMESPACE)
        });
        if let Some(key) = &self.module_key {
            names.push(module("KMS alias", &key.alias, &limits::KMS_ALIAS_NAME));
        }
        if let Some(approvals) = &self.approvals {
            // Beside the queues' names: a queue keyed `approvals` would take the approvals queue's name.
            names.push(module("SQS queue", &approvals.queue, &limits::SQS_QUEUE_NAME));
            names.push(module(
                "dead-letter queue",
                &approvals.dead_letter,
                &limits::SQS_QUEUE_NAME,
            ));
            names.push(module("DynamoDB table", &approvals.table, &limits::DYNAMODB_TABLE_NAME));
            names.push(module("KMS alias", &approvals.key_alias, &limits::KMS_ALIAS_NAME));
        }
        if let Some(Endpoint {
            auth:
                EndpointAuth::Hmac {
                    secret: EndpointSecret::Created(secret),
                    ..
                },
            ..
        }) = &self.endpoint
        {
            names.push(module("Secrets Manager secret", secret, &limits::SECRET_NAME));
        }
        for alarm in self.alarm_list() {
            let origin = match &alarm.watches {
                Watched::Queue(key) | Watched::DeadLetterQueue(key) => NameOrigin::Queue(key.clone()),
                Watched::BusRule(key) => NameOrigin::Bus(key.clone()),
                Watched::Topic(key) => NameOrigin::Topic(key.clone()),
                _ => NameOrigin::Module,
            };
            names.push(DerivedName::new("alarm", alarm.name, &limits::ALARM_NAME, origin));
        }
        names
    }

    /// The module's inputs, in the order `variables.tf` and the README list them: what every instance sets
    /// (`name`, `tags`...), then what teams change per environment, each defaulting to the spec's value and
    /// held to the spec's rule for its key.
    pub fn inputs(&self) -> Vec<Input> {
        let mut inputs = vec![
            Input::new(
                input::NAME,
                InputKind::Name {
                    default: self.name.clone(),
                },
                "Prefix of every AWS name this module creates: set it per environment (or region) to instantiate the module more than once in an account.",
            ),
            Input::new(
                "tags",
                InputKind::Tags {
                    fixed: MODULE_TAG_KEYS
                        .iter()
                        .map(|k| k.to_string())
                        .chain(
                            self.tags
                                .keys()
                                .filter(|k| !MODULE_TAG_KEYS.contains(&k.as_str()))
                                .cloned(),
                        )
                        .collect(),
                },
                "Tags for every taggable resource, merged after the module's own tags and the spec's [tags].",
            ),
            Input::new(
                "permissions_boundary",
                InputKind::OptionalPolicyArn,
                "ARN of an IAM policy set as the permissions boundary of every role this module creates; null for none.",
            ),
            Input::new(
                "callback_lambda_zip",
                InputKind::OptionalPath,
                &format!(
                    "Path of the callback Lambda package (a zip holding a provided.al2023 `bootstrap`); null uses the {LAMBDA_ZIP_FILE} that `sfngen render` placed in this module."
                ),
            ),
        ];
        inputs.extend(self.state_machine_inputs());
        inputs.extend(self.day_two_inputs());
        inputs.extend(self.callback_inputs());
        if let Some(endpoint) = &self.endpoint {
            let key = keys::ENDPOINT_RESERVED_CONCURRENCY;
            inputs.push(Input::from_key(
                input::ENDPOINT_RESERVED_CONCURRENCY,
                InputKind::WholeNumber {
                    min: u64::from(key.rule.min),
                    max: u64::from(key.rule.max),
                    help: key.rule.help(),
                    default: Some(u64::from(endpoint.reserved_concurrency)),
                    optional: false,
                },
                "The callback endpoint's reserved concurrency: its URL answers 429 beyond it.",
                key.path,
            ));
        }
        if let Some(Endpoint {
            auth:
                EndpointAuth::Hmac {
                    secret: EndpointSecret::Given(arn),
                    ..
                },
            ..
        }) = &self.endpoint
        {
            inputs.push(Input::from_key(
                input::ENDPOINT_SECRET_ARN,
                InputKind::SecretArn { default: arn.clone() },
                "ARN of the Secrets Manager secret holding the endpoint's HMAC key: set it per account.",
                keys::ENDPOINT_SECRET.path,
            ));
        }
        if let Some(approvals) = &self.approvals {
            inputs.push(Input::new(
                input::APPROVAL_PAGE_RESERVED_CONCURRENCY,
                InputKind::WholeNumber {
                    min: 1,
                    max: 1_000,
                    help: "use a number from 1 to 1000".into(),
                    default: Some(u64::from(approvals.page_reserved_concurrency)),
                    optional: false,
                },
                "The approval page's reserved concurrency: its public URL answers 429 beyond it.",
            ));
        }
        if self.dead_letter_function().is_some() {
            inputs.push(Input::new(
                input::DEAD_LETTER_MAPPINGS_ENABLED,
                InputKind::Flag { default: true },
                "Whether the dead-letter function reads the dead-letter queues and fails their tasks at once (fail-fast); false pauses it: dead letters stay in their queues, their tasks wait, and the runbook's \"Move dead letters back\" can hand them to workers again.",
            ));
        }
        inputs.extend(self.queues.iter().filter_map(Queue::key_input_of));
        inputs.extend(self.buses.iter().filter_map(Bus::publisher_accounts_input_of));
        inputs.extend(self.topics.iter().filter_map(Topic::key_input_of));
        inputs.extend(self.state_machine.key_input_of());
        inputs.push(Input::new(
            input::DASHBOARD_ENABLED,
            InputKind::Flag { default: true },
            "Whether the module creates its CloudWatch dashboard (executions, tasks waiting per queue, dead letters, the Lambda functions); false removes it and nothing else.",
        ));
        if self.alarms.is_some() {
            inputs.push(Input::new(
                "alarm_actions",
                InputKind::ArnList,
                "ARNs (usually SNS topics) notified when an alarm fires and when it recovers.",
            ));
        }
        inputs
    }

    /// Logging and tracing of the state machine (tracing covers the callback Lambda too).
    fn state_machine_inputs(&self) -> Vec<Input> {
        let logging = &self.state_machine.logging;
        let level = keys::LOG_LEVEL;
        vec![
            Input::from_key(
                input::LOG_LEVEL,
                InputKind::Choice {
                    values: level.rule.values.iter().map(|(value, _)| *value).collect(),
                    help: level.rule.help(),
                    default: logging.level.as_str(),
                },
                level.doc,
                level.path,
            ),
            Input::from_key(
                input::INCLUDE_EXECUTION_DATA,
                InputKind::Flag {
                    default: logging.include_execution_data,
                },
                keys::INCLUDE_EXECUTION_DATA.doc,
                keys::INCLUDE_EXECUTION_DATA.path,
            ),
            Input::from_key(
                input::TRACING,
                InputKind::Flag {
                    default: self.state_machine.tracing,
                },
                keys::TRACING.doc,
                keys::TRACING.path,
            ),
            Input::from_key(
                logging.log_group.retention_input,
                InputKind::RetentionDays {
                    default: logging.log_group.retention_days,
                },
                keys::STATE_MACHINE_LOG_RETENTION.doc,
                keys::STATE_MACHINE_LOG_RETENTION.path,
            ),
        ]
    }

    /// What a team sets over the module's life: which version the alias routes to (a rollback), whether a
    /// destroy keeps the log groups.
    fn day_two_inputs(&self) -> Vec<Input> {
        vec![
            Input::new(
                input::STATE_MACHINE_VERSION,
                InputKind::OptionalVersionArn,
                "ARN of a published version of the state machine for the alias to route every new execution to (a rollback: one of the versions earlier applies published); null routes to the version the last apply published.",
            ),
            Input::new(
                input::KEEP_LOG_GROUPS_ON_DESTROY,
                InputKind::Flag { default: false },
                "Keep the log groups (execution logs and the functions' logs) and their logs in AWS when the module is destroyed (skip_destroy); false deletes them with the module.",
            ),
        ]
    }

    /// The Lambda functions' memory, timeout and log retention, the callback's concurrency.
    fn callback_inputs(&self) -> Vec<Input> {
        let cb = &self.callback;
        let (memory, timeout, reserved) = (keys::MEMORY_MB, keys::CALLBACK_TIMEOUT, keys::RESERVED_CONCURRENCY);
        vec![
            Input::from_key(
                input::CALLBACK_MEMORY_MB,
                InputKind::WholeNumber {
                    min: u64::from(memory.rule.min),
                    max: u64::from(memory.rule.max),
                    help: memory.rule.input_help(),
                    default: Some(u64::from(cb.memory_mb)),
                    optional: false,
                },
                memory.doc,
                memory.path,
            ),
            Input::from_key(
                input::CALLBACK_TIMEOUT_SECONDS,
                InputKind::WholeNumber {
                    min: timeout.rule.min,
                    max: timeout.rule.max,
                    help: timeout.rule.input_help(),
                    default: Some(cb.timeout_seconds),
                    optional: false,
                },
                "The Lambda's timeout, in seconds.",
                timeout.path,
            ),
            Input::from_key(
                input::CALLBACK_RESERVED_CONCURRENCY,
                InputKind::WholeNumber {
                    min: u64::from(reserved.rule.min),
                    max: u64::from(reserved.rule.max),
                    help: reserved.rule.input_help(),
                    default: cb.reserved_concurrency.map(u64::from),
                    optional: true,
                },
                "Reserved concurrent executions; null, the function is unreserved.",
                reserved.path,
            ),
            Input::from_key(
                input::CALLBACK_LOG_RETENTION_DAYS,
                InputKind::RetentionDays {
                    default: cb.log_retention_days,
                },
                keys::CALLBACK_LOG_RETENTION.doc,
                keys::CALLBACK_LOG_RETENTION.path,
            ),
        ]
    }

    /// The module's outputs, in the order `outputs.tf` and the README list them.
    pub fn outputs(&self) -> Vec<Output> {
        let mut outputs = Vec::new();
        let mut add = |name: &'static str, description: &str, value: OutputValue| {
            outputs.push(Output {
                name,
                description: description.to_string(),
                value,
            })
        };
        add(
            "state_machine_alias_arn",
            "ARN of the alias to start executions through (StartExecution's stateMachineArn): it routes to the version var.state_machine_version names, else the last one published.",
            OutputValue::StateMachineAliasArn,
        );
        add(
            "state_machine_version_arn",
            "ARN of the version the last apply published (the newest): note it before an apply to be able to roll back to it with state_machine_version.",
            OutputValue::StateMachineVersionArn,
        );
        add(
            "state_machine_arn",
            "ARN of the state machine (describe it, list its executions); start executions through state_machine_alias_arn.",
            OutputValue::StateMachineArn,
        );
        add(
            "state_machine_name",
            "Name of the state machine.",
            OutputValue::StateMachineName,
        );
        add(
            "queue_urls",
            "URL of each callback queue, by queue key: workers receive task messages from these.",
            OutputValue::QueueUrls,
        );
        add(
            "queue_arns",
            "ARN of each callback queue, by queue key.",
            OutputValue::QueueArns,
        );
        add(
            "dead_letter_queue_arns",
            "ARN of each dead-letter queue, by the key of the queue it serves (queues with dead_letter = false are absent).",
            OutputValue::DeadLetterQueueArns,
        );
        add(
            "dead_letter_queue_urls",
            "URL of each dead-letter queue, by the key of the queue it serves (queues with dead_letter = false are absent): the runbook reads and moves dead letters through these.",
            OutputValue::DeadLetterQueueUrls,
        );
        add(
            "callback_function_name",
            "Name of the callback Lambda: invoke it with {\"token\": ...} to answer a task.",
            OutputValue::FunctionName(FunctionId::Callback),
        );
        add(
            "callback_function_arn",
            "ARN of the callback Lambda.",
            OutputValue::FunctionArn(FunctionId::Callback),
        );
        let dead_letters = self.dead_letter_function().is_some();
        if dead_letters {
            add(
                "dead_letters_function_name",
                "Name of the dead-letter Lambda, which fails the tasks of dead-lettered messages: only the module's event source mappings invoke it.",
                OutputValue::FunctionName(FunctionId::DeadLetters),
            );
            add(
                "dead_letters_function_arn",
                "ARN of the dead-letter Lambda.",
                OutputValue::FunctionArn(FunctionId::DeadLetters),
            );
        }
        if dead_letters {
            add(
                "dead_letter_mapping_ids",
                "UUID of the dead-letter function's event source mapping on each dead-letter queue, by the key of the queue it serves: the runbook pauses fail-fast through these.",
                OutputValue::DeadLetterMappingIds,
            );
        }
        add(
            "state_machine_role_arn",
            "ARN of the state machine's execution role.",
            OutputValue::RoleArn(RoleId::StateMachine),
        );
        add(
            "callback_role_arn",
            "ARN of the callback Lambda's execution role.",
            OutputValue::RoleArn(RoleId::Callback),
        );
        if dead_letters {
            add(
                "dead_letters_role_arn",
                "ARN of the dead-letter Lambda's execution role.",
                OutputValue::RoleArn(RoleId::DeadLetters),
            );
        }
        add(
            "callback_log_group_name",
            "CloudWatch log group of the callback Lambda.",
            OutputValue::LogGroupName(FunctionId::Callback),
        );
        if dead_letters {
            add(
                "dead_letters_log_group_name",
                "CloudWatch log group of the dead-letter Lambda.",
                OutputValue::LogGroupName(FunctionId::DeadLetters),
            );
        }
        add(
            "state_machine_log_group_name",
            "CloudWatch log group of the state machine's execution logs (it exists at every log_level).",
            OutputValue::StateMachineLogGroupName,
        );
        if self.alarms.is_some() {
            add(
                "alarm_arns",
                "ARN of each CloudWatch alarm, by its key in this module (its Terraform resource name, such as executions_failed), not its AWS name.",
                OutputValue::AlarmArns,
            );
        }
        add(
            "worker_policy_json",
            if self.worker_policy_in_parts() {
                "IAM policy for a worker's role: receive, delete and change the visibility of task messages on every queue, decrypt them, invoke the callback Lambda (and no other function). A list of JSON documents to attach together: one would be larger than a managed policy allows."
            } else {
                "IAM policy (JSON) for a worker's role: receive, delete and change the visibility of task messages on every queue, decrypt them, invoke the callback Lambda (and no other function)."
            },
            OutputValue::WorkerPolicy,
        );
        add(
            "worker_policy_json_by_queue",
            "The same policy for a worker of one queue, by queue key.",
            OutputValue::WorkerPolicyByQueue,
        );
        add(
            "operator_policy_json",
            if self.operator_policies.len() > 1 {
                "IAM policy for an on-call engineer's role: the module README's runbook on this module only (start, list, describe, stop and redrive its executions; read its queues' depths; move dead letters back; pause fail-fast). A list of JSON documents to attach together: one would be larger than a managed policy allows."
            } else {
                "IAM policy (JSON) for an on-call engineer's role: the module README's runbook on this module only (start, list, describe, stop and redrive its executions; read its queues' depths; move dead letters back; pause fail-fast)."
            },
            OutputValue::OperatorPolicy,
        );
        add(
            "starter_policy_json",
            "IAM policy (JSON) for whatever starts executions: StartExecution through the alias (state_machine_alias_arn) only, and the state machine's key when it has one.",
            OutputValue::StarterPolicy,
        );
        if !self.topics.is_empty() {
            add(
                "topic_arns",
                "ARN of each SNS topic, by topic key: subscribe more receivers to it (aws_sns_topic_subscription), and give their owners it for their queue's or function's policy (aws:SourceArn).",
                OutputValue::TopicArns,
            );
            add(
                "topic_names",
                "Name of each SNS topic, by topic key (the TopicName of its CloudWatch metrics).",
                OutputValue::TopicNames,
            );
        }
        if self.topics.iter().any(|t| t.dead_letter.is_some()) {
            add(
                "topic_dead_letter_queue_arns",
                "ARN of each topic's dead-letter queue, by topic key (topics with dead_letter = false are absent): a subscription added from topic_arns names it in its redrive_policy.",
                OutputValue::TopicDeadLetterQueueArns,
            );
            add(
                "topic_dead_letter_queue_urls",
                "URL of each topic's dead-letter queue, by topic key (topics with dead_letter = false are absent).",
                OutputValue::TopicDeadLetterQueueUrls,
            );
            add(
                "topic_dead_letter_mapping_ids",
                "UUID of the dead-letter function's event source mapping on each topic's dead-letter queue, by topic key: the runbook pauses fail-fast through these.",
                OutputValue::TopicDeadLetterMappingIds,
            );
        }
        if self.module_key.is_some() {
            add(
                "kms_key_arn",
                "ARN of the module's KMS key (queues and the state machine with encryption = \"kms\", log groups with [logs] encryption = \"kms\"); worker_policy_json lets workers of those queues decrypt with it, callers of that state machine need kms:Decrypt and kms:GenerateDataKey.",
                OutputValue::ModuleKeyArn,
            );
        }
        if !self.buses.is_empty() {
            add(
                "bus_names",
                "Name of each EventBridge bus, by bus key (an existing bus, such as \"default\", by its own name): a rule target's event_bus_name.",
                OutputValue::BusNames,
            );
            add(
                "bus_arns",
                "ARN of each EventBridge bus, by bus key.",
                OutputValue::BusArns,
            );
            add(
                "bus_rule_names",
                "Name of the rule that matches the module's task events on each bus, by bus key: add your targets to it (aws_cloudwatch_event_target's rule).",
                OutputValue::BusRuleNames,
            );
            add(
                "bus_rule_arns",
                "ARN of each bus's rule, by bus key: a target's resource policy lets events.amazonaws.com act with this aws:SourceArn.",
                OutputValue::BusRuleArns,
            );
            if self.buses.iter().any(|b| b.dead_letter.is_some()) {
                add(
                    "bus_dead_letter_queue_arns",
                    "ARN of the dead-letter queue for the targets of each bus's rule, by bus key (buses with dead_letter = false are absent): each target's dead_letter_config.",
                    OutputValue::BusDeadLetterQueueArns,
                );
                add(
                    "bus_dead_letter_queue_urls",
                    "URL of each bus's dead-letter queue, by bus key.",
                    OutputValue::BusDeadLetterQueueUrls,
                );
                add(
                    "bus_dead_letter_mapping_ids",
                    "UUID of the dead-letter function's event source mapping on each bus's dead-letter queue, by bus key: the runbook pauses fail-fast through these.",
                    OutputValue::BusDeadLetterMappingIds,
                );
            }
        }
        if let Some(endpoint) = &self.endpoint {
            add(
                "callback_endpoint_url",
                "HTTPS URL of the callback endpoint: POST the callback's JSON event ({\"token\", \"status\", ...}) to it, signed as the module README says.",
                OutputValue::FunctionUrl(FunctionId::Endpoint),
            );
            add(
                "endpoint_function_name",
                "Name of the callback endpoint's Lambda function.",
                OutputValue::FunctionName(FunctionId::Endpoint),
            );
            match &endpoint.auth {
                EndpointAuth::Iam => add(
                    "endpoint_invoke_policy_json",
                    "The policy a caller's role needs to POST to the endpoint (lambda:InvokeFunctionUrl, and lambda:InvokeFunction through the URL only, on the endpoint function, AWS_IAM): attached nowhere.",
                    OutputValue::EndpointInvokePolicy,
                ),
                EndpointAuth::Hmac { .. } => add(
                    "endpoint_secret_arn",
                    "ARN of the Secrets Manager secret holding the endpoint's HMAC key: put a value of at least 32 bytes in it (the module README says how).",
                    OutputValue::EndpointSecretArn,
                ),
            }
        }
        if self.approvals.is_some() {
            add(
                "approval_page_url",
                "HTTPS URL of the approval page, which every approval link points at (with its id, expiry and MAC).",
                OutputValue::FunctionUrl(FunctionId::ApprovalPage),
            );
            add(
                "approval_table_name",
                "Name of the DynamoDB table of approvals: each waiting request's token under its link's id, and each decision (who, when, comment).",
                OutputValue::ApprovalTableName,
            );
            add(
                "approvals_queue_url",
                "URL of the approvals queue, where approval steps hand their tokens to the notifier.",
                OutputValue::ApprovalsQueueUrl,
            );
            add(
                "approvals_dead_letter_queue_url",
                "URL of the approvals queue's dead-letter queue: requests the notifier could not handle.",
                OutputValue::ApprovalsDeadLetterQueueUrl,
            );
        }
        outputs
    }

    /// How long a step on the queue may wait for its message's worker at least: its shortest `timeout` (a
    /// step without one waits as long as the execution).
    pub fn shortest_wait(&self, queue_key: &str) -> u64 {
        self.steps_on(queue_key)
            .iter()
            .map(|s| s.timeout_seconds.unwrap_or(self.state_machine.timeout_seconds))
            .min()
            .unwrap_or(self.state_machine.timeout_seconds)
    }

    /// The age past which a queue's oldest message means trouble: half the shortest time its steps wait, so
    /// that the alarm fires while the task can still be done (at the step timeout it is over), or half the
    /// queue's retention when that is sooner (it is on its way to expire unread); at least a second.
    pub fn stale_message_age(&self, queue: &Queue) -> u64 {
        (self.shortest_wait(&queue.key) / 2)
            .min(queue.retention_seconds / 2)
            .max(1)
    }

    /// The errors of the Fail states the spec's catches end executions in, sorted and each once: business
    /// outcomes, not faults.
    pub fn business_errors(&self) -> Vec<&str> {
        let mut errors: Vec<&str> = self
            .steps
            .iter()
            .flat_map(|s| &s.catch)
            .filter_map(|c| match &c.target {
                CatchTarget::Fail { error, .. } => Some(error.as_str()),
                CatchTarget::Step(_) => None,
            })
            .collect();
        errors.sort_unstable();
        errors.dedup();
        errors
    }

    /// The business errors a filter pattern can match exactly (none of [`UNMATCHABLE_ERROR_CHARS`]).
    pub fn matched_business_errors(&self) -> Vec<&str> {
        self.business_errors()
            .into_iter()
            .filter(|e| !e.contains(UNMATCHABLE_ERROR_CHARS))
            .collect()
    }

    /// Every CloudWatch alarm the module creates, in a fixed order: each queue's oldest message and, when the
    /// dead-letter function does not read it, its dead-letter queue's messages; the metrics counted from the
    /// functions' log lines that mean trouble (tokens Step Functions never issued, dead letters that could not be
    /// settled); then executions (failed ones counting faults only), then each function's errors and throttles.
    /// None unless the spec has `[alarms]`. Each description says what it means and which runbook step to take.
    pub fn alarm_list(&self) -> Vec<Alarm> {
        if self.alarms.is_none() {
            return Vec::new();
        }
        let mut alarms = Vec::new();
        for queue in &self.queues {
            alarms.push(self.oldest_message_alarm(queue));
            // A dead-letter queue the dead-letter function reads keeps its messages in flight: its visible
            // messages say nothing there, the unsettled dead letters below do.
            if queue.dead_letter.is_none() || queue.dead_letter_reader().is_some() {
                continue;
            }
            alarms.push(Alarm {
                key: format!("{}_dlq_messages", queue.key),
                name: AwsName::suffixed(format!("-{}-dlq-messages", queue.key)),
                description: format!(
                    "Messages are waiting in the dead-letter queue of {:?} (fail_execution = false): tasks no worker could handle, whose executions wait until the step's timeout. Fix the worker first.{}",
                    queue.key,
                    runbook::pointer(&[runbook::MOVE_DEAD_LETTERS_BACK, runbook::STOP_WAITING_EXECUTIONS])
                ),
                metric: Metric {
                    namespace: Namespace::Aws("AWS/SQS"),
                    name: "ApproximateNumberOfMessagesVisible",
                    statistic: "Maximum",
                },
                excluding: None,
                threshold: 0,
                watches: Watched::DeadLetterQueue(queue.key.clone()),
            });
        }
        for bus in &self.buses {
            alarms.extend(bus_alarms(bus));
        }
        for topic in &self.topics {
            alarms.extend(self.topic_alarms(topic));
        }
        alarms.extend(
            self.functions
                .iter()
                .flat_map(|f| &f.log_metrics)
                .filter_map(|metric| self.log_metric_alarm(metric)),
        );
        alarms.extend(self.execution_alarms());
        for function in &self.functions {
            alarms.extend(self.function_alarms(function));
        }
        alarms
    }

    /// A topic's alarms: deliveries SNS gave up on (`NumberOfNotificationsFailed`), and with a dead-letter
    /// queue, dead letters SNS could not put there (`NumberOfNotificationsFailedToRedriveToDlq`): lost, their
    /// tasks wait until their step times out.
    fn topic_alarms(&self, topic: &Topic) -> Vec<Alarm> {
        let sum = |name| Metric {
            namespace: Namespace::Aws("AWS/SNS"),
            name,
            statistic: "Sum",
        };
        let then = if topic.dead_letter.is_some() {
            "each went to the topic's dead-letter queue, whose task the dead-letter function fails"
        } else {
            "each is lost (dead_letter = false), its task waits until its step times out"
        };
        let mut alarms = vec![Alarm {
            key: format!("{}_notifications_failed", topic.key),
            name: AwsName::suffixed(format!("-{}-notifications-failed", topic.key)),
            description: format!(
                "SNS could not deliver task messages of topic {:?} to a subscriber: {then}. Check the subscriber (its endpoint, its policy letting SNS deliver, its key).{}",
                topic.key,
                runbook::pointer(&[runbook::REDRIVE_FAILED_EXECUTIONS])
            ),
            metric: sum("NumberOfNotificationsFailed"),
            excluding: None,
            threshold: 0,
            watches: Watched::Topic(topic.key.clone()),
        }];
        if topic.dead_letter.is_some() {
            alarms.push(Alarm {
                key: format!("{}_dead_letters_lost", topic.key),
                name: AwsName::suffixed(format!("-{}-dead-letters-lost", topic.key)),
                description: format!(
                    "SNS could not put undeliverable task messages of topic {:?} into its dead-letter queue (the queue's policy or key refuses SNS): they are lost, and their tasks wait until their step times out.{}",
                    topic.key,
                    runbook::pointer(&[runbook::STOP_WAITING_EXECUTIONS])
                ),
                metric: sum("NumberOfNotificationsFailedToRedriveToDlq"),
                excluding: None,
                threshold: 0,
                watches: Watched::Topic(topic.key.clone()),
            });
        }
        alarms
    }

    /// The alarm on a queue's oldest message, at [`Model::stale_message_age`].
    fn oldest_message_alarm(&self, queue: &Queue) -> Alarm {
        let age = self.stale_message_age(queue);
        let why = if age < self.shortest_wait(&queue.key) / 2 {
            format!(
                "half its retention: it is on its way to expire unread (its steps wait up to {})",
                crate::duration::format_seconds(self.shortest_wait(&queue.key))
            )
        } else {
            format!(
                "half the shortest time its steps wait ({}): no worker has taken its task, which times out at the latest when that time is up",
                crate::duration::format_seconds(self.shortest_wait(&queue.key))
            )
        };
        Alarm {
            key: format!("{}_oldest_message", queue.key),
            name: AwsName::suffixed(format!("-{}-oldest-message", queue.key)),
            description: format!(
                "A message has waited in queue {:?} longer than {}, {why}. Check that its workers run and keep up.{}",
                queue.key,
                crate::duration::format_seconds(age),
                runbook::pointer(&[runbook::STOP_WAITING_EXECUTIONS])
            ),
            metric: Metric {
                namespace: Namespace::Aws("AWS/SQS"),
                name: "ApproximateAgeOfOldestMessage",
                statistic: "Maximum",
            },
            excluding: None,
            threshold: age,
            watches: Watched::Queue(queue.key.clone()),
        }
    }

    /// The three alarms on executions: failed (faults only: the declared business failures are taken out),
    /// timed out, aborted.
    fn execution_alarms(&self) -> Vec<Alarm> {
        let redrive = runbook::pointer(&[runbook::REDRIVE_FAILED_EXECUTIONS]);
        let business = !self.business_failures.is_empty();
        let failed = if business {
            format!(
                "Executions of the {} state machine failed with a fault: ExecutionsFailed minus {BUSINESS_FAILURES_METRIC}, the executions the spec ends in a Fail state (a catch's fail: {}), counted from the execution log's {} events. While log_level is OFF there is no execution log: every failure then counts as a fault. Find the error in the execution's history, fix its cause, then redrive them.{redrive}",
                self.name,
                self.business_errors_text(),
                EXECUTION_FAILED_LOG.1
            )
        } else {
            format!(
                "Executions of the {} state machine failed (the spec ends none in a Fail state: every failure is a fault). Find the error in the execution's history, fix its cause, then redrive them.{redrive}",
                self.name
            )
        };
        let execution_metric = |name| Metric {
            namespace: Namespace::Aws("AWS/States"),
            name,
            statistic: "Sum",
        };
        let alarm = |key: &str, short: &str, metric, description: String, excluding| Alarm {
            key: key.into(),
            name: AwsName::suffixed(format!("-{short}")),
            description,
            metric: execution_metric(metric),
            excluding,
            threshold: 0,
            watches: Watched::StateMachine,
        };
        vec![
            alarm(
                "executions_failed",
                "failed",
                "ExecutionsFailed",
                failed,
                business.then_some(Metric {
                    namespace: Namespace::Module,
                    name: BUSINESS_FAILURES_METRIC,
                    statistic: "Sum",
                }),
            ),
            alarm(
                "executions_timedout",
                "timed-out",
                "ExecutionsTimedOut",
                format!(
                    "Executions of the {} state machine timed out (state_machine.timeout): their tasks waited too long; once the workers keep up, redrive them.{redrive}",
                    self.name
                ),
                None,
            ),
            alarm(
                "executions_aborted",
                "aborted",
                "ExecutionsAborted",
                format!(
                    "Executions of the {} state machine were aborted (StopExecution, or a deleted state machine). If that was not meant, redrive them.{redrive}",
                    self.name
                ),
                None,
            ),
        ]
    }

    /// The declared business errors for a description: quoted, or counted when they would make it long.
    fn business_errors_text(&self) -> String {
        let errors = self.business_errors();
        let quoted: Vec<String> = errors.iter().map(|e| format!("{e:?}")).collect();
        let text = quoted.join(", ");
        if text.chars().count() <= 300 {
            text
        } else {
            format!("{} errors, listed in the module README", errors.len())
        }
    }

    /// A function's two alarms, `Errors` and `Throttles`.
    fn function_alarms(&self, function: &Function) -> Vec<Alarm> {
        let (at_stake, steps) = match function.invoker {
            Invoker::Workers => (
                "task answers may not reach Step Functions, so their messages come back and, after max_receives, are dead-lettered and their executions failed",
                vec![runbook::PAUSE_FAIL_FAST, runbook::MOVE_DEAD_LETTERS_BACK],
            ),
            Invoker::DeadLetterMappings => (
                "dead-lettered tasks may wait until their step's timeout",
                vec![runbook::PAUSE_FAIL_FAST, runbook::MOVE_DEAD_LETTERS_BACK],
            ),
            Invoker::FunctionUrl(_) if function.id == FunctionId::Endpoint => (
                "answers sent to the endpoint may not reach Step Functions (throttles: above endpoint_reserved_concurrency, the URL answers 429 and senders retry)",
                vec![runbook::STOP_WAITING_EXECUTIONS],
            ),
            Invoker::FunctionUrl(_) => (
                "people's decisions may not reach Step Functions (throttles: above approval_page_reserved_concurrency, the page answers 429)",
                vec![runbook::STOP_WAITING_EXECUTIONS],
            ),
            Invoker::ApprovalsMapping => (
                "approval notifications may not be sent; after their receives, their tasks fail through the approvals dead-letter queue",
                vec![runbook::REDRIVE_FAILED_EXECUTIONS],
            ),
        };
        let title = function.id.title();
        [("Errors", "errors"), ("Throttles", "throttles")]
            .into_iter()
            .map(|(metric, short)| Alarm {
                key: format!("{}_{short}", function.id.key()),
                name: AwsName::suffixed(format!("{}-{short}", function.name.after)),
                description: format!(
                    "{}{} reports {short}: {at_stake}. Its log group says why.{}",
                    title[..1].to_uppercase(),
                    &title[1..],
                    runbook::pointer(&steps)
                ),
                metric: Metric {
                    namespace: Namespace::Aws("AWS/Lambda"),
                    name: metric,
                    statistic: "Sum",
                },
                excluding: None,
                threshold: 0,
                watches: Watched::Function(function.id),
            })
            .collect()
    }

    /// The alarm on a metric counted from a function's log lines, when the metric means trouble: a token Step
    /// Functions never issued ([`INVALID_TOKENS_METRIC`]), a dead letter that could not be settled
    /// ([`DEAD_LETTERS_UNSETTLED_METRIC`]). A spent token is a late or duplicate answer: counted, not alarmed.
    fn log_metric_alarm(&self, metric: &LogMetric) -> Option<Alarm> {
        let (key, name, description) = match metric.id {
            // The endpoint's token metrics are the callback's (one metric, two filters): their alarms are the callback's.
            LogMetricId::SpentTokens
            | LogMetricId::BusinessFailures { .. }
            | LogMetricId::EndpointSpentTokens
            | LogMetricId::EndpointInvalidTokens => return None,
            LogMetricId::EndpointUnauthorized => (
                "endpoint_unauthorized",
                "-endpoint-unauthorized",
                format!(
                    "The callback endpoint refused requests for their signature or caller (its log lines with \"outcome\": \"{}\"): a sender with a wrong secret, a clock off by more than the replay window, a caller without lambda:InvokeFunctionUrl, or someone probing the URL. The log lines name the caller and the reason, never the secret.",
                    crate::resolve::approval_log::UNAUTHORIZED
                ),
            ),
            LogMetricId::ApprovalNotificationsFailed => (
                "approval_notifications_failed",
                "-approval-notifications-failed",
                format!(
                    "The approval notifier could not send a notification (\"outcome\": \"failed\" or \"unusable\" in its log lines): the request comes back from the approvals queue and, after its receives, its task fails with {DEAD_LETTERED_ERROR}. Check the channel (its policy, key, subscriptions) named in the log line.{}",
                    runbook::pointer(&[runbook::REDRIVE_FAILED_EXECUTIONS])
                ),
            ),
            LogMetricId::ApprovalDecisionsFailed => (
                "approval_decisions_failed",
                "-approval-decisions-failed",
                format!(
                    "A person's approval or rejection failed for a fault (DynamoDB, KMS or Step Functions; \"outcome\": \"failed\" in the approval page's log lines): the page said so, the request stays pending and its link works until it expires. Check the log line's error.{}",
                    runbook::pointer(&[runbook::STOP_WAITING_EXECUTIONS])
                ),
            ),
            LogMetricId::ApprovalsExpired => (
                "approvals_expired",
                "-approvals-expired",
                "Someone opened an approval link after it expired (\"outcome\": \"expired\" in the approval page's log lines): the task had timed out (States.Timeout) before anyone decided. Give the step a longer timeout, or notify people sooner.".to_string(),
            ),
            LogMetricId::ApprovalLinksInvalid => (
                "approval_links_invalid",
                "-approval-links-invalid",
                "An approval link's MAC did not verify (\"outcome\": \"invalid\" in the approval page's log lines): the link was changed by hand or forged. Nothing was decided; the log line names the source address.".to_string(),
            ),
            LogMetricId::InvalidTokens => (
                "invalid_tokens",
                "-invalid-tokens",
                format!(
                    "Workers answered with task tokens Step Functions never issued (the callback's log lines with \"{}\": \"{}\"): a worker changes or cuts short the token it passes on, so its tasks wait until their timeout. Fix the worker.{}",
                    INVALID_TOKEN_LOG.0,
                    INVALID_TOKEN_LOG.1,
                    runbook::pointer(&[runbook::STOP_WAITING_EXECUTIONS, runbook::REDRIVE_FAILED_EXECUTIONS])
                ),
            ),
            LogMetricId::DeadLettersUnsettled => (
                "dead_letters_unsettled",
                "-dead-letters-unsettled",
                self.unsettled_dead_letters_description()?,
            ),
        };
        Some(Alarm {
            key: key.into(),
            name: AwsName::suffixed(name),
            description,
            metric: Metric {
                namespace: Namespace::Module,
                name: metric.metric,
                statistic: "Sum",
            },
            excluding: None,
            threshold: 0,
            watches: Watched::LogLines,
        })
    }

    /// What the alarm on dead letters the dead-letter function read and could not settle means, naming the
    /// queues it reads; `None` when it reads none.
    fn unsettled_dead_letters_description(&self) -> Option<String> {
        let queues: Vec<String> = self
            .dead_letter_readers()
            .iter()
            .map(|(q, _)| format!("{:?}", q.key))
            .collect();
        let topics: Vec<String> = self
            .topic_dead_letter_readers()
            .iter()
            .map(|(t, _)| format!("{:?}", t.key))
            .collect();
        let buses: Vec<String> = self
            .buses
            .iter()
            .filter(|b| b.dead_letter.is_some())
            .map(|b| format!("{:?}", b.key))
            .collect();
        let listed = |kind: &str, plural: &str, keys: &[String]| match keys {
            [one] => format!("{kind} {one}"),
            [first @ .., last] => format!("{plural} {} and {last}", first.join(", ")),
            [] => String::new(),
        };
        let kinds: Vec<String> = [
            listed("queue", "queues", &queues),
            listed("topic", "topics", &topics),
            listed("bus", "buses", &buses),
        ]
        .into_iter()
        .filter(|text| !text.is_empty())
        .collect();
        let queues = match kinds.as_slice() {
            [] => return None,
            [one] => one.clone(),
            [first @ .., last] => format!("{} and {last}", first.join(", ")),
        };
        let (failed, unusable) = (UNSETTLED_DEAD_LETTER_OUTCOMES.1[0], UNSETTLED_DEAD_LETTER_OUTCOMES.1[1]);
        let describe = |queues: &str| {
            format!(
                "The dead-letter Lambda read dead letters of {queues} and could not settle them (its log lines with \"{event}\": \"{dead_letter}\" say which): outcome {failed:?}, it could not fail the task (throttling, an outage, a denied call), so the execution waits and the message comes back after the dead-letter queue's visibility timeout; outcome {unusable:?}, the message was not a task message (or Step Functions refused the failure) and was dropped.{next}",
                event = DEAD_LETTER_LOG.0,
                dead_letter = DEAD_LETTER_LOG.1,
                next = runbook::pointer(&[runbook::PAUSE_FAIL_FAST, runbook::MOVE_DEAD_LETTERS_BACK]),
            )
        };
        let description = describe(&queues);
        // Many queues with long keys would outgrow PutMetricAlarm's limit: the queues are counted instead.
        if limits::ALARM_DESCRIPTION.allows(description.chars().count() as u64) {
            return Some(description);
        }
        let channel_readers =
            self.topic_dead_letter_readers().len() + self.buses.iter().filter(|b| b.dead_letter.is_some()).count();
        Some(describe(&if channel_readers == 0 {
            format!(
                "the {} queues whose dead letters fail their executions",
                self.dead_letter_readers().len()
            )
        } else {
            format!(
                "the {} queues, topics and buses whose dead letters fail their executions",
                self.dead_letter_readers().len() + channel_readers
            )
        }))
    }
}

/// A bus's alarms, on its rule's metrics (namespace `AWS/Events`, sent only when not zero): targets that failed for
/// good, throttled deliveries and, with a dead-letter queue, events EventBridge could not put there.
fn bus_alarms(bus: &Bus) -> Vec<Alarm> {
    let undelivered = if bus.dead_letter.is_some() {
        format!(
            "The event went to the rule's dead-letter queue, and the dead-letter Lambda failed its task ({DEAD_LETTERED_ERROR}). Fix the target (its resource policy, its permissions, its existence), then redrive the executions."
        )
    } else {
        "Its execution waits until the step's timeout (the bus has no dead-letter queue). Fix the target (its resource policy, its permissions, its existence).".to_string()
    };
    let alarm = |short: &str, metric: &'static str, description: String, steps: &[&str]| Alarm {
        key: format!("{}_bus_{}", bus.key, short.replace('-', "_")),
        name: AwsName::suffixed(format!("-{}-bus-{short}", bus.key)),
        description: format!("{description}{}", runbook::pointer(steps)),
        metric: Metric {
            namespace: Namespace::Aws("AWS/Events"),
            name: metric,
            statistic: "Sum",
        },
        excluding: None,
        threshold: 0,
        watches: Watched::BusRule(bus.key.clone()),
    };
    let mut alarms = vec![
        alarm(
            "failed-invocations",
            "FailedInvocations",
            format!(
                "A target of the rule on bus {:?} could not be invoked for good (FailedInvocations): a task's event never reached its worker. {undelivered}",
                bus.key
            ),
            &[runbook::REDRIVE_FAILED_EXECUTIONS],
        ),
        alarm(
            "throttled-rules",
            "ThrottledRules",
            format!(
                "EventBridge throttled the rule on bus {:?} (ThrottledRules: the account's invocations quota): its deliveries are delayed and retried, and tasks wait longer for their workers.",
                bus.key
            ),
            &[runbook::STOP_WAITING_EXECUTIONS],
        ),
    ];
    if bus.dead_letter.is_some() {
        alarms.push(alarm(
            "dead-letters-lost",
            "InvocationsFailedToBeSentToDlq",
            format!(
                "EventBridge could not put undelivered events of the rule on bus {:?} into its dead-letter queue (InvocationsFailedToBeSentToDlq: the queue's policy or its existence): those events are lost, and their tasks wait until their step's timeout.",
                bus.key
            ),
            &[runbook::STOP_WAITING_EXECUTIONS],
        ));
    }
    alarms
}

/// The names of the module's inputs that resources read (a queue's key input is [`Queue::key_input`]).
pub mod input {
    /// The prefix of every AWS name.
    pub const NAME: &str = "name";
    /// The state machine's log level.
    pub const LOG_LEVEL: &str = "log_level";
    /// Whether execution data goes into the execution log.
    pub const INCLUDE_EXECUTION_DATA: &str = "include_execution_data";
    /// X-Ray tracing of the state machine and the Lambda functions.
    pub const TRACING: &str = "tracing";
    /// Retention of the execution log group.
    pub const STATE_MACHINE_LOG_RETENTION_DAYS: &str = "state_machine_log_retention_days";
    /// The Lambda functions' memory.
    pub const CALLBACK_MEMORY_MB: &str = "callback_memory_mb";
    /// The Lambda functions' timeout.
    pub const CALLBACK_TIMEOUT_SECONDS: &str = "callback_timeout_seconds";
    /// The callback Lambda's reserved concurrency.
    pub const CALLBACK_RESERVED_CONCURRENCY: &str = "callback_reserved_concurrency";
    /// Retention of the Lambda functions' log groups.
    pub const CALLBACK_LOG_RETENTION_DAYS: &str = "callback_log_retention_days";
    /// Whether the dead-letter event source mappings are enabled (fail-fast on).
    pub const DEAD_LETTER_MAPPINGS_ENABLED: &str = "dead_letter_mappings_enabled";
    /// The state machine's KMS key, given by ARN.
    pub const STATE_MACHINE_KMS_KEY_ARN: &str = "state_machine_kms_key_arn";
    /// The state machine's KMS key, given by alias.
    pub const STATE_MACHINE_KMS_KEY_ALIAS: &str = "state_machine_kms_key_alias";
    /// Whether the module creates its CloudWatch dashboard.
    pub const DASHBOARD_ENABLED: &str = "dashboard_enabled";
    /// Whether a destroy leaves the module's log groups (and their logs) in AWS.
    pub const KEEP_LOG_GROUPS_ON_DESTROY: &str = "keep_log_groups_on_destroy";
    /// The state machine version the alias routes to; null: the version the last apply published.
    pub const STATE_MACHINE_VERSION: &str = "state_machine_version";
    /// The callback endpoint's reserved concurrency.
    pub const ENDPOINT_RESERVED_CONCURRENCY: &str = "endpoint_reserved_concurrency";
    /// The approval page's reserved concurrency.
    pub const APPROVAL_PAGE_RESERVED_CONCURRENCY: &str = "approval_page_reserved_concurrency";
    /// The endpoint's HMAC secret, given by ARN in the spec.
    pub const ENDPOINT_SECRET_ARN: &str = "endpoint_secret_arn";
}

/// A module input variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// Variable name.
    pub name: String,
    /// What it holds, which decides its type, default and validation.
    pub kind: InputKind,
    /// One-line description.
    pub description: String,
}

impl Input {
    fn new(name: &str, kind: InputKind, description: &str) -> Self {
        Input {
            name: name.to_string(),
            kind,
            description: description.to_string(),
        }
    }

    /// An input for a spec key: what it is, then which key gives its default.
    fn from_key(name: &str, kind: InputKind, what: &str, path: &str) -> Self {
        Input::new(name, kind, &format!("{what} Defaults to the spec's {path}."))
    }
}

impl Queue {
    /// The input holding the key this queue names by ARN or alias, whose validation keeps that kind: the
    /// module is rendered for one (an alias is looked up, an ARN is used as it is).
    fn key_input_of(&self) -> Option<Input> {
        let also = if self.dead_letter.is_some() {
            " and its dead-letter queue"
        } else {
            ""
        };
        channel_key_input(
            &self.key_input()?,
            &self.encryption,
            &format!("queue {:?}{also}", self.key),
            &format!("queues.{}.encryption", self.key),
        )
    }
}

/// The input `name` holding the key a queue or topic names by ARN or alias (`encryption`), whose validation keeps
/// that kind; `encrypts` says what the key encrypts, `path` is the spec key it defaults from. `None` for the
/// service's own encryption and the module's key.
fn channel_key_input(name: &str, encryption: &Encryption, encrypts: &str, path: &str) -> Option<Input> {
    let (kind, what) = match encryption {
        Encryption::KeyArn(arn) => (InputKind::KmsKeyArn { default: arn.clone() }, "ARN"),
        Encryption::KeyAlias(alias) => (InputKind::KmsKeyAlias { default: alias.clone() }, "Alias"),
        Encryption::ServiceManaged | Encryption::ModuleKey => return None,
    };
    Some(Input::from_key(
        name,
        kind,
        &format!("{what} of the KMS key that encrypts {encrypts}: set it per account."),
        path,
    ))
}

/// What a module input holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputKind {
    /// The prefix of every AWS name; the spec's `name` by default, held to the same rule.
    Name {
        /// The spec's `name`.
        default: String,
    },
    /// A map of tags; empty by default. Merged after `fixed`, the module's own tag keys and the spec's.
    Tags {
        /// The tag keys every resource already has: the module's own, then the spec's `[tags]`.
        fixed: Vec<String>,
    },
    /// An IAM policy ARN, or none.
    OptionalPolicyArn,
    /// A file path, or none.
    OptionalPath,
    /// The ARN of a published version of a state machine (`...:stateMachine:NAME:VERSION`), or none.
    OptionalVersionArn,
    /// A list of alarm action ARNs; empty by default.
    ArnList,
    /// One of a spec key's values.
    Choice {
        /// The values.
        values: Vec<&'static str>,
        /// How to fix another value, from the key's rule.
        help: String,
        /// The spec's value.
        default: &'static str,
    },
    /// `true` or `false`.
    Flag {
        /// The spec's value.
        default: bool,
    },
    /// A log group's retention in days: one of [`keys::LOG_RETENTION_DAYS`].
    RetentionDays {
        /// The spec's value.
        default: u32,
    },
    /// A whole number from `min` to `max` (a spec key's range, durations in seconds).
    WholeNumber {
        /// The least.
        min: u64,
        /// The most.
        max: u64,
        /// How to fix another value, from the key's rule.
        help: String,
        /// The spec's value; `None`: unset (only when `optional`).
        default: Option<u64>,
        /// Null is a value of its own: the key unset (reserved concurrency: unreserved).
        optional: bool,
    },
    /// A KMS key ARN ([`keys::KMS_KEY_ARN_PATTERN`]).
    KmsKeyArn {
        /// The spec's value.
        default: String,
    },
    /// A KMS key alias ([`keys::KMS_ALIAS_PATTERN`]).
    KmsKeyAlias {
        /// The spec's value.
        default: String,
    },
    /// AWS account IDs (12 digits each); none by default.
    AccountIds,
    /// A Secrets Manager secret ARN ([`keys::SECRET_ARN_PATTERN`]).
    SecretArn {
        /// The spec's value.
        default: String,
    },
}

/// A module output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Output name.
    pub name: &'static str,
    /// One-line description.
    pub description: String,
    /// What it gives.
    pub value: OutputValue,
}

/// What a module output gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputValue {
    /// The state machine's ARN.
    StateMachineArn,
    /// The alias's ARN.
    StateMachineAliasArn,
    /// The ARN of the version the last apply published.
    StateMachineVersionArn,
    /// The policy for whatever starts executions, as JSON.
    StarterPolicy,
    /// The state machine's name.
    StateMachineName,
    /// Each queue's URL, by queue key.
    QueueUrls,
    /// Each queue's ARN, by queue key.
    QueueArns,
    /// Each dead-letter queue's ARN, by the key of the queue it serves.
    DeadLetterQueueArns,
    /// Each dead-letter queue's URL, by the key of the queue it serves.
    DeadLetterQueueUrls,
    /// The UUID of each dead-letter event source mapping, by the key of the queue it serves.
    DeadLetterMappingIds,
    /// The operator policy, as JSON (a list of documents when in parts).
    OperatorPolicy,
    /// A Lambda function's name.
    FunctionName(FunctionId),
    /// A Lambda function's ARN.
    FunctionArn(FunctionId),
    /// A role's ARN.
    RoleArn(RoleId),
    /// A Lambda function's log group.
    LogGroupName(FunctionId),
    /// The state machine's log group.
    StateMachineLogGroupName,
    /// Each alarm's ARN, by alarm key ([`Alarm::key`]).
    AlarmArns,
    /// The module key's ARN.
    ModuleKeyArn,
    /// The worker policy for every queue, as JSON.
    WorkerPolicy,
    /// Each topic's ARN, by topic key.
    TopicArns,
    /// Each topic's name, by topic key.
    TopicNames,
    /// Each topic's dead-letter queue's ARN, by topic key.
    TopicDeadLetterQueueArns,
    /// Each topic's dead-letter queue's URL, by topic key.
    TopicDeadLetterQueueUrls,
    /// The UUID of the dead-letter function's mapping on each topic's dead-letter queue, by topic key.
    TopicDeadLetterMappingIds,
    /// Each queue's worker policy, as JSON, by queue key.
    WorkerPolicyByQueue,
    /// Each bus's name, by bus key.
    BusNames,
    /// Each bus's ARN, by bus key.
    BusArns,
    /// The name of each bus's rule, by bus key.
    BusRuleNames,
    /// The ARN of each bus's rule, by bus key.
    BusRuleArns,
    /// The ARN of each bus's dead-letter queue, by bus key.
    BusDeadLetterQueueArns,
    /// The URL of each bus's dead-letter queue, by bus key.
    BusDeadLetterQueueUrls,
    /// The UUID of the dead-letter function's mapping on each bus's dead-letter queue, by bus key.
    BusDeadLetterMappingIds,
    /// A function's URL.
    FunctionUrl(FunctionId),
    /// The policy a caller needs to invoke the AWS_IAM endpoint.
    EndpointInvokePolicy,
    /// The endpoint's HMAC secret's ARN.
    EndpointSecretArn,
    /// The approvals table's name.
    ApprovalTableName,
    /// The approvals queue's URL.
    ApprovalsQueueUrl,
    /// The approvals dead-letter queue's URL.
    ApprovalsDeadLetterQueueUrl,
}

/// One CloudWatch alarm: fires when its metric is above its threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alarm {
    /// Short identifier, unique in the module, and the alarm's Terraform resource name (`main_oldest_message`,
    /// `executions_failed`, `callback_errors`): the keys of the `alarm_arns` output.
    pub key: String,
    /// AWS alarm name.
    pub name: AwsName,
    /// What it means when it fires, for its description and the README.
    pub description: String,
    /// The metric it watches.
    pub metric: Metric,
    /// A metric taken out of it (metric math `metric - FILL(excluding, 0)`): the business failures out of the
    /// failed executions, so that the alarm counts faults only.
    pub excluding: Option<Metric>,
    /// It fires above this value (a count, or for a message's age, seconds).
    pub threshold: u64,
    /// What the metric is about.
    pub watches: Watched,
}

/// A CloudWatch metric and the statistic an alarm takes of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    /// Namespace.
    pub namespace: Namespace,
    /// Metric name.
    pub name: &'static str,
    /// `Sum`, `Maximum`...
    pub statistic: &'static str,
}

/// A CloudWatch namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    /// An AWS service's, such as `AWS/SQS`.
    Aws(&'static str),
    /// The module's own, `sfngen/{name}` (the module's `name` input): the metrics of [`LogMetric`]s.
    Module,
}

/// The resource an alarm's metric is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watched {
    /// The queue with this key.
    Queue(String),
    /// The dead-letter queue of the queue with this key.
    DeadLetterQueue(String),
    /// The state machine.
    StateMachine,
    /// A Lambda function.
    Function(FunctionId),
    /// A function's log lines, through a metric filter: a metric of the module's own, without dimensions.
    LogLines,
    /// The rule on the bus with this key (dimension `RuleName`; on a bus other than the default, with
    /// `EventBusName` too: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html).
    BusRule(String),
    /// The SNS topic with this key.
    Topic(String),
}

impl Watched {
    /// The CloudWatch dimension that names the resource; `None` for a metric without one.
    pub fn dimension(&self) -> Option<&'static str> {
        match self {
            Watched::Queue(_) | Watched::DeadLetterQueue(_) => Some("QueueName"),
            Watched::StateMachine => Some("StateMachineArn"),
            Watched::Function(_) => Some("FunctionName"),
            Watched::LogLines => None,
            Watched::BusRule(_) => Some("RuleName"),
            Watched::Topic(_) => Some("TopicName"),
        }
    }
}
