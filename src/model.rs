//! The resolved callback pattern: every default applied, every name derived, every permission decided.
//!
//! Nothing here knows TOML or HCL. Emitters read a [`Model`] and never re-validate it.

use std::collections::BTreeMap;

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
    /// The callback Lambda.
    pub callback: Callback,
    /// The customer managed key the module creates, when any queue asks for `encryption = "kms"`.
    pub module_key: Option<ModuleKey>,
    /// The IAM roles and what each may do.
    pub roles: Vec<Role>,
    /// CloudWatch alarms on stuck or failing work, when `[alarms]` is present.
    pub alarms: Option<Alarms>,
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
    pub name: AwsName,
    /// Execution `TimeoutSeconds`.
    pub timeout_seconds: u64,
    /// Execution logging; `None` for `log_level = "OFF"` (no log group is created).
    pub logging: Option<Logging>,
    /// X-Ray tracing.
    pub tracing: bool,
    /// The customer managed key over AWS's own encryption of the definition and execution history;
    /// `None`: an AWS-owned key only.
    pub encryption: Option<CustomerKey>,
}

impl StateMachine {
    /// Whether Step Functions delivers execution logs encrypted with a customer managed key: the
    /// execution role then makes data keys for the log delivery, which CloudWatch Logs decrypts.
    pub fn delivers_encrypted_logs(&self) -> bool {
        self.encryption.is_some() && self.logging.is_some()
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

impl CustomerKey {
    /// The key as a policy resource.
    pub fn resource(&self) -> Resource {
        match self {
            CustomerKey::Module => Resource::ModuleKey,
            CustomerKey::Arn(arn) => Resource::KeyArn(arn.clone()),
            CustomerKey::Alias(alias) => Resource::KeyAlias(alias.clone()),
        }
    }
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
    pub name: AwsName,
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
    pub name: AwsName,
    /// `maxReceiveCount` of the source queue's redrive policy.
    pub max_receives: u32,
    /// `MessageRetentionPeriod`: the maximum, so that a message is not lost before someone looks.
    pub retention_seconds: u64,
}

impl Encryption {
    /// The customer managed key, unless SSE-SQS.
    pub fn customer_key(&self) -> Option<CustomerKey> {
        match self {
            Encryption::SqsManaged => None,
            Encryption::ModuleKey => Some(CustomerKey::Module),
            Encryption::KeyArn(arn) => Some(CustomerKey::Arn(arn.clone())),
            Encryption::KeyAlias(alias) => Some(CustomerKey::Alias(alias.clone())),
        }
    }
}

/// The customer managed KMS key. The key policy names each role for what the role's own policy grants on
/// the key (statements on [`Resource::ModuleKey`]), with the same conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleKey {
    /// The alias, `alias/{name}`.
    pub alias: AwsName,
    /// Whether queues are encrypted with it.
    pub queues: bool,
    /// Whether the state machine's definition and execution history are encrypted with it.
    pub state_machine: bool,
    /// Log groups CloudWatch Logs may encrypt with the key.
    pub log_groups: Vec<AwsName>,
    /// Whether CloudWatch Logs' log delivery may decrypt the state machine's execution logs, which Step
    /// Functions encrypts with the key ([`StateMachine::delivers_encrypted_logs`]).
    pub log_delivery: bool,
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
    pub function_name: AwsName,
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
    pub name: AwsName,
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
}

/// A service that uses a KMS key on a caller's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViaService {
    /// Amazon SQS (encrypted queues).
    Sqs,
    /// AWS Step Functions (encrypted executions).
    StepFunctions,
}

impl ViaService {
    /// The first label of the service's regional endpoint name, which `kms:ViaService` holds.
    pub fn endpoint_prefix(self) -> &'static str {
        match self {
            ViaService::Sqs => "sqs",
            ViaService::StepFunctions => "states",
        }
    }

    /// The service's name, as a comment says it.
    pub fn title(self) -> &'static str {
        match self {
            ViaService::Sqs => "SQS",
            ViaService::StepFunctions => "Step Functions",
        }
    }
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

/// The callback Lambda package's file name inside the module.
pub const LAMBDA_ZIP_FILE: &str = "callback.zip";

impl Model {
    /// The queue with this key. Resolve lets no step name a missing queue, so a miss is a bug.
    pub fn queue(&self, key: &str) -> &Queue {
        self.queues
            .iter()
            .find(|q| q.key == key)
            .unwrap_or_else(|| panic!("bug: the model has no queue {key:?}, yet something names it"))
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
        self.steps.iter().filter(|s| s.queue == queue_key).collect()
    }

    /// The key aliases queues and the state machine are encrypted with, each once, sorted.
    pub fn key_aliases(&self) -> Vec<&str> {
        let queue_aliases = self.queues.iter().filter_map(|q| match &q.encryption {
            Encryption::KeyAlias(alias) => Some(alias.as_str()),
            _ => None,
        });
        let state_machine_alias = match &self.state_machine.encryption {
            Some(CustomerKey::Alias(alias)) => Some(alias.as_str()),
            _ => None,
        };
        let mut aliases: Vec<&str> = queue_aliases.chain(state_machine_alias).collect();
        aliases.sort();
        aliases.dedup();
        aliases
    }

    /// Whether any policy names a service by its endpoint in this partition (`kms:ViaService`, the CloudWatch
    /// Logs principal of the module key): the module then reads the partition's DNS suffix.
    pub fn names_service_endpoints(&self) -> bool {
        let via_service = self
            .roles
            .iter()
            .flat_map(|r| &r.statements)
            .flat_map(|s| &s.conditions)
            .any(|c| matches!(c, Condition::ViaService(_)));
        via_service || self.module_key.as_ref().is_some_and(|k| !k.log_groups.is_empty())
    }

    /// Every AWS name the module derives from its `name` input, what it names, and AWS's length limit for it.
    pub fn aws_names(&self) -> Vec<(&'static str, &AwsName, usize)> {
        let mut names = vec![("state machine", &self.state_machine.name, 80)];
        for queue in &self.queues {
            names.push(("SQS queue", &queue.name, 80));
            if let Some(dlq) = &queue.dead_letter {
                names.push(("SQS queue", &dlq.name, 80));
            }
        }
        names.push(("Lambda function", &self.callback.function_name, 64));
        names.push(("log group", &self.callback.log_group.name, 512));
        if let Some(logging) = &self.state_machine.logging {
            names.push(("log group", &logging.log_group.name, 512));
        }
        names.extend(self.roles.iter().map(|role| ("IAM role", &role.name, 64)));
        if let Some(key) = &self.module_key {
            names.push(("KMS alias", &key.alias, 256));
        }
        names
    }

    /// The module's inputs, in the order `variables.tf` and the README list them.
    pub fn inputs(&self) -> Vec<Input> {
        let mut inputs = vec![
            Input {
                name: "name",
                kind: InputKind::Name {
                    default: self.name.clone(),
                },
                description: "Prefix of every AWS name this module creates: set it per environment (or region) to instantiate the module more than once in an account.".into(),
            },
            Input {
                name: "tags",
                kind: InputKind::Tags,
                description: "Tags for every taggable resource, merged after the module's own tags and the spec's [tags]."
                    .into(),
            },
            Input {
                name: "permissions_boundary",
                kind: InputKind::OptionalPolicyArn,
                description:
                    "ARN of an IAM policy set as the permissions boundary of every role this module creates; null for none."
                        .into(),
            },
            Input {
                name: "callback_lambda_zip",
                kind: InputKind::OptionalPath,
                description: format!(
                    "Path of the callback Lambda package (a zip holding a provided.al2023 `bootstrap`); null uses the {LAMBDA_ZIP_FILE} that `sfngen render` placed in this module."
                ),
            },
        ];
        if self.alarms.is_some() {
            inputs.push(Input {
                name: "alarm_actions",
                kind: InputKind::ArnList,
                description: "ARNs (usually SNS topics) notified when an alarm fires and when it recovers.".into(),
            });
        }
        inputs
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
            "state_machine_arn",
            "ARN of the state machine: pass it to StartExecution.",
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
            "callback_function_name",
            "Name of the callback Lambda: invoke it with {\"token\": ...} to answer a task.",
            OutputValue::CallbackFunctionName,
        );
        add(
            "callback_function_arn",
            "ARN of the callback Lambda.",
            OutputValue::CallbackFunctionArn,
        );
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
        add(
            "callback_log_group_name",
            "CloudWatch log group of the callback Lambda.",
            OutputValue::CallbackLogGroupName,
        );
        if self.state_machine.logging.is_some() {
            add(
                "state_machine_log_group_name",
                "CloudWatch log group of the state machine's execution logs.",
                OutputValue::StateMachineLogGroupName,
            );
        }
        if self.alarms.is_some() {
            add(
                "alarm_arns",
                "ARN of each CloudWatch alarm, by alarm name.",
                OutputValue::AlarmArns,
            );
        }
        if self.module_key.is_some() {
            add(
                "kms_key_arn",
                "ARN of the module's KMS key (queues and the state machine with encryption = \"kms\", log groups with [logs] encryption = \"kms\"); workers of those queues need kms:Decrypt on it, callers of that state machine kms:Decrypt and kms:GenerateDataKey.",
                OutputValue::ModuleKeyArn,
            );
        }
        outputs
    }

    /// How long any step on the queue waits for its message's worker: its longest `timeout` (a step without
    /// one waits as long as the execution).
    pub fn longest_wait(&self, queue_key: &str) -> u64 {
        self.steps_on(queue_key)
            .iter()
            .map(|s| s.timeout_seconds.unwrap_or(self.state_machine.timeout_seconds))
            .max()
            .unwrap_or(self.state_machine.timeout_seconds)
    }

    /// The age past which a queue's oldest message means trouble: the longest its steps wait (its task is over,
    /// so no worker took it in time or a worker did not delete it), or half the queue's retention when that is
    /// sooner (it is on its way to expire unread; an alarm past the retention could never fire).
    pub fn stale_message_age(&self, queue: &Queue) -> u64 {
        self.longest_wait(&queue.key).min(queue.retention_seconds / 2)
    }

    /// Every CloudWatch alarm the module creates, in a fixed order: each queue's oldest message and its
    /// dead-letter queue, then executions, then the callback function. None unless the spec has `[alarms]`.
    pub fn alarm_list(&self) -> Vec<Alarm> {
        if self.alarms.is_none() {
            return Vec::new();
        }
        let mut alarms = Vec::new();
        for queue in &self.queues {
            let age = self.stale_message_age(queue);
            let why = if age < self.longest_wait(&queue.key) {
                "half its retention: it is on its way to expire unread"
            } else {
                "the longest its steps wait: its task is over (no worker took it in time, or one did not delete it)"
            };
            alarms.push(Alarm {
                key: format!("{}_oldest_message", queue.key),
                name: AwsName::suffixed(format!("-{}-oldest-message", queue.key)),
                description: format!(
                    "A message has waited in queue {:?} longer than {}, {why}.",
                    queue.key,
                    crate::duration::format_seconds(age)
                ),
                metric: Metric {
                    namespace: "AWS/SQS",
                    name: "ApproximateAgeOfOldestMessage",
                    statistic: "Maximum",
                },
                threshold: age,
                watches: Watched::Queue(queue.key.clone()),
            });
            if queue.dead_letter.is_none() {
                continue;
            }
            alarms.push(Alarm {
                key: format!("{}_dlq_messages", queue.key),
                name: AwsName::suffixed(format!("-{}-dlq-messages", queue.key)),
                description: format!(
                    "Messages are waiting in the dead-letter queue of {:?}: tasks no worker could handle.",
                    queue.key
                ),
                metric: Metric {
                    namespace: "AWS/SQS",
                    name: "ApproximateNumberOfMessagesVisible",
                    statistic: "Maximum",
                },
                threshold: 0,
                watches: Watched::DeadLetterQueue(queue.key.clone()),
            });
        }
        // (metric, short name used in the alarm's key and AWS name, what happened)
        for (metric, short, what) in [
            ("ExecutionsFailed", "failed", "failed"),
            ("ExecutionsTimedOut", "timed-out", "timed out"),
            ("ExecutionsAborted", "aborted", "were aborted"),
        ] {
            alarms.push(Alarm {
                key: format!("executions_{}", short.replace('-', "")),
                name: AwsName::suffixed(format!("-{short}")),
                description: format!("Executions of the {} state machine {what}.", self.name),
                metric: Metric {
                    namespace: "AWS/States",
                    name: metric,
                    statistic: "Sum",
                },
                threshold: 0,
                watches: Watched::StateMachine,
            });
        }
        for (metric, short) in [("Errors", "errors"), ("Throttles", "throttles")] {
            alarms.push(Alarm {
                key: format!("callback_{short}"),
                name: AwsName::suffixed(format!("-callback-{short}")),
                description: format!("The callback Lambda reports {short}: task answers may not reach Step Functions."),
                metric: Metric {
                    namespace: "AWS/Lambda",
                    name: metric,
                    statistic: "Sum",
                },
                threshold: 0,
                watches: Watched::CallbackFunction,
            });
        }
        alarms
    }
}

/// A module input variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// Variable name.
    pub name: &'static str,
    /// What it holds, which decides its type, default and validation.
    pub kind: InputKind,
    /// One-line description.
    pub description: String,
}

/// What a module input holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputKind {
    /// The prefix of every AWS name; the spec's `name` by default, held to the same rule.
    Name {
        /// The spec's `name`.
        default: String,
    },
    /// A map of tags; empty by default.
    Tags,
    /// An IAM policy ARN, or none.
    OptionalPolicyArn,
    /// A file path, or none.
    OptionalPath,
    /// A list of ARNs; empty by default.
    ArnList,
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
    /// The state machine's name.
    StateMachineName,
    /// Each queue's URL, by queue key.
    QueueUrls,
    /// Each queue's ARN, by queue key.
    QueueArns,
    /// Each dead-letter queue's ARN, by the key of the queue it serves.
    DeadLetterQueueArns,
    /// The callback Lambda's name.
    CallbackFunctionName,
    /// The callback Lambda's ARN.
    CallbackFunctionArn,
    /// A role's ARN.
    RoleArn(RoleId),
    /// The callback Lambda's log group.
    CallbackLogGroupName,
    /// The state machine's log group.
    StateMachineLogGroupName,
    /// Each alarm's ARN, by alarm key.
    AlarmArns,
    /// The module key's ARN.
    ModuleKeyArn,
}

/// One CloudWatch alarm: fires when its metric is above its threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alarm {
    /// Short identifier, unique in the module (`main_dlq_messages`, `executions_failed`, `callback_errors`).
    pub key: String,
    /// AWS alarm name.
    pub name: AwsName,
    /// What it means when it fires, for its description and the README.
    pub description: String,
    /// The metric it watches.
    pub metric: Metric,
    /// It fires above this value (a count, or for a message's age, seconds).
    pub threshold: u64,
    /// What the metric is about.
    pub watches: Watched,
}

/// A CloudWatch metric and the statistic an alarm takes of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    /// Namespace, such as `AWS/SQS`.
    pub namespace: &'static str,
    /// Metric name.
    pub name: &'static str,
    /// `Sum`, `Maximum`...
    pub statistic: &'static str,
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
    /// The callback Lambda.
    CallbackFunction,
}

impl Watched {
    /// The CloudWatch dimension that names the resource.
    pub fn dimension(&self) -> &'static str {
        match self {
            Watched::Queue(_) | Watched::DeadLetterQueue(_) => "QueueName",
            Watched::StateMachine => "StateMachineArn",
            Watched::CallbackFunction => "FunctionName",
        }
    }
}
