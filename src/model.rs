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
    /// The policies a team attaches to its worker's role: one for every queue, then one per queue when
    /// there are several (see [`Model::worker_policy_of`]).
    pub worker_policies: Vec<WorkerPolicy>,
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
    /// The callback Lambda reads this queue (an event source mapping) and fails each message's task
    /// with [`DEAD_LETTERED_ERROR`] at once; `None` when `fail_execution = false`.
    pub fail_execution: Option<DeadLetterReader>,
}

/// How the callback Lambda reads a dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterReader {
    /// Records per invocation.
    pub batch_size: u32,
    /// The dead-letter queue's `VisibilityTimeout`: a batch being handled must stay hidden for longer
    /// than the function can run.
    pub visibility_timeout_seconds: u64,
}

/// The error a dead-lettered task fails with; a step's `catch` can name it.
pub const DEAD_LETTERED_ERROR: &str = "sfngen.DeadLettered";

/// The customer managed KMS key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleKey {
    /// The alias, `alias/{name}`.
    pub alias: AwsName,
    /// Roles the key policy lets use the key (empty when only log groups use it).
    pub users: Vec<RoleId>,
    /// Log groups CloudWatch Logs may encrypt with the key.
    pub log_groups: Vec<AwsName>,
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
    /// Restrict the actions (KMS ones) to requests SQS makes on the caller's behalf (`kms:ViaService`).
    pub only_through_sqs: bool,
}

/// A policy the module publishes (as an output) for a worker's own role, and attaches nowhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerPolicy {
    /// The queue it is for; `None`: every queue.
    pub queue: Option<String>,
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
    /// The callback Lambda.
    CallbackFunction,
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

    /// The policy for a worker of every queue. Resolve always makes it, so none is a bug.
    pub fn worker_policy(&self) -> &WorkerPolicy {
        self.worker_policies
            .iter()
            .find(|p| p.queue.is_none())
            .unwrap_or_else(|| panic!("bug: the model has no worker policy"))
    }

    /// The policy for a worker of the queue with this key: its own, or with a single queue the policy for
    /// every queue, which is the same.
    pub fn worker_policy_of(&self, queue_key: &str) -> &WorkerPolicy {
        self.worker_policies
            .iter()
            .find(|p| p.queue.as_deref() == Some(queue_key))
            .unwrap_or_else(|| self.worker_policy())
    }

    /// The queues whose dead-letter queue the callback Lambda reads, failing their tasks at once.
    pub fn dead_letter_readers(&self) -> Vec<(&Queue, &DeadLetterReader)> {
        self.queues
            .iter()
            .filter_map(|q| Some((q, q.dead_letter.as_ref()?.fail_execution.as_ref()?)))
            .collect()
    }

    /// The key aliases queues are encrypted with, each once, sorted.
    pub fn key_aliases(&self) -> Vec<&str> {
        let mut aliases: Vec<&str> = self
            .queues
            .iter()
            .filter_map(|q| match &q.encryption {
                Encryption::KeyAlias(alias) => Some(alias.as_str()),
                _ => None,
            })
            .collect();
        aliases.sort();
        aliases.dedup();
        aliases
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
        add(
            "worker_policy_json",
            "IAM policy (JSON) for a worker's role: receive, delete and change the visibility of task messages on every queue, decrypt them, invoke the callback Lambda.",
            OutputValue::WorkerPolicy,
        );
        add(
            "worker_policy_json_by_queue",
            "The same policy for a worker of one queue, by queue key.",
            OutputValue::WorkerPolicyByQueue,
        );
        if self.module_key.is_some() {
            add(
                "kms_key_arn",
                "ARN of the module's KMS key (queues with encryption = \"kms\", log groups with [logs] encryption = \"kms\"); worker_policy_json lets workers of those queues decrypt with it.",
                OutputValue::ModuleKeyArn,
            );
        }
        outputs
    }

    /// Every CloudWatch alarm the module creates, in a fixed order: dead-letter queues, then executions, then
    /// the callback function. None unless the spec has `[alarms]`.
    pub fn alarm_list(&self) -> Vec<Alarm> {
        if self.alarms.is_none() {
            return Vec::new();
        }
        let mut alarms = Vec::new();
        for queue in self.queues.iter() {
            let Some(dead_letter) = &queue.dead_letter else {
                continue;
            };
            let why = match dead_letter.fail_execution {
                Some(_) => "the callback Lambda could not fail their tasks yet (see its log group).",
                None => "tasks no worker could handle.",
            };
            alarms.push(Alarm {
                key: format!("{}_dlq_messages", queue.key),
                name: AwsName::suffixed(format!("-{}-dlq-messages", queue.key)),
                description: format!(
                    "Messages are waiting in the dead-letter queue of {:?}: {why}",
                    queue.key
                ),
                metric: Metric {
                    namespace: "AWS/SQS",
                    name: "ApproximateNumberOfMessagesVisible",
                    statistic: "Maximum",
                },
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
    /// The worker policy for every queue, as JSON.
    WorkerPolicy,
    /// Each queue's worker policy, as JSON, by queue key.
    WorkerPolicyByQueue,
}

/// One CloudWatch alarm: fires above zero.
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
            Watched::DeadLetterQueue(_) => "QueueName",
            Watched::StateMachine => "StateMachineArn",
            Watched::CallbackFunction => "FunctionName",
        }
    }
}
