//! The resolved callback pattern: every default applied, every name derived, every permission decided.
//!
//! Nothing here knows TOML or HCL. Emitters read a [`Model`] and never re-validate it.

use std::collections::BTreeMap;

/// The whole pattern, ready to emit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    /// `name` from the spec: the prefix of every AWS name.
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
    /// The callback Lambda.
    pub callback: Callback,
    /// The customer managed key the module creates, when any queue asks for `encryption = "kms"`.
    pub module_key: Option<ModuleKey>,
    /// The IAM roles and what each may do.
    pub roles: Vec<Role>,
    /// CloudWatch alarms on stuck or failing work, when `[alarms]` is present.
    pub alarms: Option<Alarms>,
}

/// CloudWatch alarms: dead-letter queues, failed/timed-out/aborted executions, callback errors and throttles.
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
    pub name: String,
    /// Execution `TimeoutSeconds`.
    pub timeout_seconds: u64,
    /// Execution logging; `None` for `log_level = "OFF"` (no log group is created).
    pub logging: Option<Logging>,
    /// X-Ray tracing.
    pub tracing: bool,
}

/// State machine logging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logging {
    /// `ALL`, `ERROR` or `FATAL`.
    pub level: LogLevel,
    /// Whether execution input and output go into the log.
    pub include_execution_data: bool,
    /// The log group.
    pub log_group: LogGroup,
}

/// A state machine log level other than `OFF`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
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
    pub name: String,
    /// `retention_in_days`.
    pub retention_days: u32,
    /// Encrypted with the module's key (`[logs] encryption = "kms"`); otherwise CloudWatch's own.
    pub module_key: bool,
}

/// One callback Task state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The ASL state name.
    pub name: String,
    /// Key of the queue it sends to.
    pub queue: String,
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
    pub name: String,
    /// FIFO queue.
    pub fifo: bool,
    /// `VisibilityTimeout`.
    pub visibility_timeout_seconds: u64,
    /// `MessageRetentionPeriod`.
    pub retention_seconds: u64,
    /// Server-side encryption.
    pub encryption: Encryption,
    /// The dead-letter queue, unless turned off.
    pub dead_letter: Option<DeadLetter>,
}

/// How a queue is encrypted at rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encryption {
    /// SSE-SQS: keys owned by SQS.
    SqsManaged,
    /// The customer managed key this module creates.
    ModuleKey,
    /// A key given by ARN.
    KeyArn(String),
    /// A key given by alias (`alias/...`); its ARN is looked up at plan time.
    KeyAlias(String),
}

/// A dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// AWS queue name.
    pub name: String,
    /// `maxReceiveCount` of the source queue's redrive policy.
    pub max_receives: u32,
    /// `MessageRetentionPeriod`: the maximum, so that a message is not lost before someone looks.
    pub retention_seconds: u64,
}

/// The customer managed KMS key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleKey {
    /// The alias, `alias/{name}`.
    pub alias: String,
    /// Roles the key policy lets use the key (empty when only log groups use it).
    pub users: Vec<RoleId>,
    /// Log groups CloudWatch Logs may encrypt with the key.
    pub log_groups: Vec<String>,
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

/// The callback Lambda.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    /// AWS function name.
    pub function_name: String,
    /// `memory_size`.
    pub memory_mb: u32,
    /// `timeout` in seconds.
    pub timeout_seconds: u64,
    /// CPU architecture.
    pub architecture: Architecture,
    /// `reserved_concurrent_executions`.
    pub reserved_concurrency: Option<u32>,
    /// Active X-Ray tracing, on with the state machine's tracing so that a trace spans the callback.
    pub tracing: bool,
    /// Its log group.
    pub log_group: LogGroup,
}

/// Which role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RoleId {
    /// The state machine's execution role.
    StateMachine,
    /// The callback Lambda's execution role.
    Callback,
}

/// An IAM role and its inline policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Which role.
    pub id: RoleId,
    /// AWS role name.
    pub name: String,
    /// The service that assumes it.
    pub service: Service,
    /// The permissions, one statement per concern.
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
    /// Restrict use of the credentials to calls made from the callback function itself.
    pub only_from_callback_function: bool,
}

/// Something a statement grants access to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// The queue with this key.
    Queue(String),
    /// This module's state machine.
    StateMachine,
    /// The key this module creates.
    ModuleKey,
    /// A key given by ARN.
    KeyArn(String),
    /// A key given by alias.
    KeyAlias(String),
    /// The log streams of the callback's log group.
    CallbackLogStreams,
    /// `*`: only for actions that AWS does not let you scope to a resource.
    Any,
}
