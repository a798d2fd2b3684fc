//! AWS's limits, in one table: every figure sfngen holds a module to, what it limits, and where AWS says so.
//!
//! Two places read it, each for what it can know: resolve, for what the spec fixes (names after suffixes and
//! truncation, tags, the alarms' evaluation range, static message fields, the execution history), and the fit
//! stage ([`crate::fit`]), for what only the rendered module knows (the definition after `templatefile()`,
//! each policy as IAM counts it). A value over its limit is an error at the spec key that caused it, stating
//! both figures; the execution history estimate is a warning.
//!
//! A module takes its `name` as an input and runs in any partition, region and account, so every length
//! holds for the worst of them: `name` at its [`MAX_NAME_CHARS`] characters, and the longest partition,
//! region, DNS suffix and account AWS has ([`WORST_PARTITION`] and the constants beside it).
//!
//! `tests/limits.rs` measures, on generated specs near every limit, each row of [`TABLE`] from the
//! rendered module itself, and fails for a row it does not measure: the table and the checks cannot drift
//! apart.

use crate::spec::keys::MAX_NAME_CHARS;

/// What a limit's figure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Unicode characters (IAM: characters that are not white space).
    Characters,
    /// Bytes of UTF-8.
    Bytes,
    /// Things: tags, policies, actions.
    Items,
    /// Seconds.
    Seconds,
    /// Events in an execution's history.
    Events,
}

impl Unit {
    /// The unit's word after a figure: "80 characters".
    pub fn word(self) -> &'static str {
        match self {
            Unit::Characters => "characters",
            Unit::Bytes => "bytes",
            Unit::Items => "",
            Unit::Seconds => "seconds",
            Unit::Events => "events",
        }
    }
}

/// One of AWS's limits.
#[derive(Debug, PartialEq, Eq)]
pub struct Limit {
    /// A short stable identifier, such as `sqs.queue_name`.
    pub id: &'static str,
    /// What it limits, as a message says it: "an SQS queue name".
    pub what: &'static str,
    /// The most AWS allows.
    pub figure: u64,
    /// What the figure counts.
    pub unit: Unit,
    /// Where AWS says so.
    pub source: &'static str,
}

impl Limit {
    /// Whether `value` is within the limit.
    pub fn allows(&self, value: u64) -> bool {
        value <= self.figure
    }

    /// The figure with its unit: "80 characters", "50 tags" needs the caller's noun, so items are bare.
    pub fn figure_text(&self) -> String {
        with_unit(self.figure, self.unit)
    }
}

/// `n` with thousands separators and the unit's word: "1,048,576 characters".
pub fn with_unit(n: u64, unit: Unit) -> String {
    match unit.word() {
        "" => thousands(n),
        word => format!("{} {word}", thousands(n)),
    }
}

/// `n` with a comma every three digits, as AWS's documentation writes its figures.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------------------------------
// Names.

/// CreateStateMachine `name`: 1–80 characters.
pub const STATE_MACHINE_NAME: Limit = Limit {
    id: "states.state_machine_name",
    what: "a state machine name",
    figure: 80,
    unit: Unit::Characters,
    source: "https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html",
};

/// The States Language: a state name is at most 80 Unicode characters, unique in its state machine.
pub const STATE_NAME: Limit = Limit {
    id: "states.state_name",
    what: "a state name",
    figure: 80,
    unit: Unit::Characters,
    source: "https://states-language.net/spec.html#states-fields",
};

/// CreateQueue `QueueName`: up to 80 characters, `.fifo` included.
pub const SQS_QUEUE_NAME: Limit = Limit {
    id: "sqs.queue_name",
    what: "an SQS queue name",
    figure: 80,
    unit: Unit::Characters,
    source: "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html",
};

/// CreateTopic `Name`: 1 to 256 ASCII letters, digits, `_` and `-`, `.fifo` included for a FIFO topic.
pub const SNS_TOPIC_NAME: Limit = Limit {
    id: "sns.topic_name",
    what: "an SNS topic name",
    figure: 256,
    unit: Unit::Characters,
    source: "https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html",
};

/// SNS quotas: a FIFO topic takes up to 100 subscriptions (a standard one 12.5 million, which no spec reaches). The module
/// creates the declared ones; callers' own subscriptions count too, which the module README says.
pub const SNS_FIFO_TOPIC_SUBSCRIPTIONS: Limit = Limit {
    id: "sns.fifo_topic_subscriptions",
    what: "the subscriptions of an SNS FIFO topic",
    figure: 100,
    unit: Unit::Items,
    source: "https://docs.aws.amazon.com/general/latest/gr/sns.html",
};

/// CreateEventBus `Name`: 1 to 256 of `[/.\-_A-Za-z0-9]` (no `/` in a custom bus's name), not `default`.
pub const EVENT_BUS_NAME: Limit = Limit {
    id: "events.event_bus_name",
    what: "an EventBridge event bus name",
    figure: 256,
    unit: Unit::Characters,
    source: "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_CreateEventBus.html",
};

/// CreateFunction `FunctionName`: a name alone is at most 64 characters.
pub const LAMBDA_FUNCTION_NAME: Limit = Limit {
    id: "lambda.function_name",
    what: "a Lambda function name",
    figure: 64,
    unit: Unit::Characters,
    source: "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html",
};

/// CreateRole `RoleName`: 1–64 characters.
pub const IAM_ROLE_NAME: Limit = Limit {
    id: "iam.role_name",
    what: "an IAM role name",
    figure: 64,
    unit: Unit::Characters,
    source: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html",
};

/// PutRolePolicy and CreatePolicy `PolicyName`: 1–128 characters.
pub const IAM_POLICY_NAME: Limit = Limit {
    id: "iam.policy_name",
    what: "an IAM policy name",
    figure: 128,
    unit: Unit::Characters,
    source: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html",
};

/// CreateLogGroup `logGroupName`: 1–512 characters.
pub const LOG_GROUP_NAME: Limit = Limit {
    id: "logs.log_group_name",
    what: "a log group name",
    figure: 512,
    unit: Unit::Characters,
    source: "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html",
};

/// PutMetricFilter `filterName`: 1–512 characters.
pub const METRIC_FILTER_NAME: Limit = Limit {
    id: "logs.metric_filter_name",
    what: "a metric filter name",
    figure: 512,
    unit: Unit::Characters,
    source: "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html",
};

/// PutDashboard `DashboardName`: at most 255 characters of `A-Z`, `a-z`, `0-9`, `-` and `_`. Dashboards are global
/// to an account, not regional, so the module names its dashboard `{name}-{region}`.
pub const DASHBOARD_NAME: Limit = Limit {
    id: "cloudwatch.dashboard_name",
    what: "a dashboard name",
    figure: 255,
    unit: Unit::Characters,
    source: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html",
};

/// PutMetricAlarm `AlarmName`: 1–255 characters.
pub const ALARM_NAME: Limit = Limit {
    id: "cloudwatch.alarm_name",
    what: "an alarm name",
    figure: 255,
    unit: Unit::Characters,
    source: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
};

/// PutMetricAlarm `Namespace` (and PutMetricFilter's metric namespace): 1–255 characters.
pub const METRIC_NAMESPACE: Limit = Limit {
    id: "cloudwatch.namespace",
    what: "a CloudWatch namespace",
    figure: 255,
    unit: Unit::Characters,
    source: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
};

/// CreateAlias `AliasName`: 1–256 characters, `alias/` included.
pub const KMS_ALIAS_NAME: Limit = Limit {
    id: "kms.alias_name",
    what: "a KMS alias name",
    figure: 256,
    unit: Unit::Characters,
    source: "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html",
};

/// CreateTable `TableName`: 3–255 characters of `a-z A-Z 0-9 _ - .`.
pub const DYNAMODB_TABLE_NAME: Limit = Limit {
    id: "dynamodb.table_name",
    what: "a DynamoDB table name",
    figure: 255,
    unit: Unit::Characters,
    source: "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html",
};

/// CreateSecret `Name`: 1–512 characters of ASCII letters, digits and `/_+=.@-`.
pub const SECRET_NAME: Limit = Limit {
    id: "secretsmanager.secret_name",
    what: "a Secrets Manager secret name",
    figure: 512,
    unit: Unit::Characters,
    source: "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html",
};

/// SendMessage `MessageGroupId`: up to 128 alphanumeric and punctuation characters.
pub const SQS_MESSAGE_GROUP_ID: Limit = Limit {
    id: "sqs.message_group_id",
    what: "an SQS message group id",
    figure: 128,
    unit: Unit::Characters,
    source: "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html",
};

// ---------------------------------------------------------------------------------------------------------
// Sizes.

/// CreateStateMachine `definition`: at most 1,048,576 characters. Measured in bytes of UTF-8, which are never
/// fewer than the characters AWS counts.
pub const DEFINITION: Limit = Limit {
    id: "states.definition",
    what: "a state machine definition",
    figure: 1_048_576,
    unit: Unit::Bytes,
    source: "https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html",
};

/// Step Functions quotas: a task's input (its evaluated `Parameters`) is at most 256 KiB as UTF-8.
pub const TASK_PARAMETERS: Limit = Limit {
    id: "states.task_parameters",
    what: "a task's input (its evaluated parameters)",
    figure: 262_144,
    unit: Unit::Bytes,
    source: "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html",
};

/// PutRule `Name`: 1 to 64 of `[.\-_A-Za-z0-9]`.
pub const EVENT_RULE_NAME: Limit = Limit {
    id: "events.rule_name",
    what: "an EventBridge rule name",
    figure: 64,
    unit: Unit::Characters,
    source: "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html",
};

/// EventBridge quotas: a PutEvents entry is at most 256 KB, counted as the EventBridge User Guide's "Calculating
/// PutEvents event entry size" does: the bytes of `Source`, `DetailType`, `Detail` and each of `Resources` (Step
/// Functions adds the state machine's and the execution's ARNs there), and 14 for a `Time` (none here).
pub const EVENT_ENTRY: Limit = Limit {
    id: "events.put_events_entry",
    what: "a PutEvents entry (source, detail type, detail and resources)",
    figure: 262_144,
    unit: Unit::Bytes,
    source: "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html",
};

/// Step Functions quotas: a Standard execution's history holds at most 25,000 events; an execution that
/// reaches it fails.
pub const EXECUTION_HISTORY: Limit = Limit {
    id: "states.execution_history",
    what: "an execution's history",
    figure: 25_000,
    unit: Unit::Events,
    source: "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html",
};

/// IAM quotas: the inline policies of a role together are at most 10,240 characters (white space not counted).
pub const IAM_ROLE_INLINE_POLICIES: Limit = Limit {
    id: "iam.role_inline_policies",
    what: "a role's inline policies together",
    figure: 10_240,
    unit: Unit::Characters,
    source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html",
};

/// IAM quotas: a managed policy is at most 6,144 characters (white space not counted).
pub const IAM_MANAGED_POLICY: Limit = Limit {
    id: "iam.managed_policy",
    what: "a managed policy",
    figure: 6_144,
    unit: Unit::Characters,
    source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html",
};

/// IAM quotas: 10 managed policies attached to a role by default (20 on request: sfngen holds to the default).
pub const IAM_MANAGED_POLICIES_PER_ROLE: Limit = Limit {
    id: "iam.managed_policies_per_role",
    what: "the managed policies attached to a role",
    figure: 10,
    unit: Unit::Items,
    source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html",
};

/// IAM quotas: a role trust policy is at most 2,048 characters by default (white space not counted).
pub const IAM_TRUST_POLICY: Limit = Limit {
    id: "iam.trust_policy",
    what: "a role trust policy",
    figure: 2_048,
    unit: Unit::Characters,
    source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html",
};

/// AWS KMS quotas: a key policy document is at most 32 KB.
pub const KMS_KEY_POLICY: Limit = Limit {
    id: "kms.key_policy",
    what: "a key policy",
    figure: 32_768,
    unit: Unit::Bytes,
    source: "https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html",
};

/// Amazon SQS policy quotas: a queue policy is at most 8,192 bytes.
pub const SQS_QUEUE_POLICY: Limit = Limit {
    id: "sqs.queue_policy",
    what: "an SQS queue policy",
    figure: 8_192,
    unit: Unit::Bytes,
    source: "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-policies.html",
};

/// PutMetricAlarm `AlarmDescription`: 0–1,024 characters.
pub const ALARM_DESCRIPTION: Limit = Limit {
    id: "cloudwatch.alarm_description",
    what: "an alarm description",
    figure: 1_024,
    unit: Unit::Characters,
    source: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
};

/// PutMetricFilter `filterPattern`: at most 1,024 characters.
pub const METRIC_FILTER_PATTERN: Limit = Limit {
    id: "logs.metric_filter_pattern",
    what: "a metric filter pattern",
    figure: 1_024,
    unit: Unit::Characters,
    source: "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html",
};

/// PutMetricFilter: "The maximum number of metric filters that can be associated with a log group is 100."
pub const METRIC_FILTERS_PER_LOG_GROUP: Limit = Limit {
    id: "logs.metric_filters_per_log_group",
    what: "the metric filters of a log group",
    figure: 100,
    unit: Unit::Items,
    source: "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html",
};

/// Dashboard body structure: "A DashboardBody ... can include an array of between 0 and 500 widget objects". AWS
/// documents no size of its own for the body (PutDashboard's `DashboardBody` is a string); the module's is
/// measured (`tests/limits.rs`) and reported in the README.
pub const DASHBOARD_WIDGETS: Limit = Limit {
    id: "cloudwatch.dashboard_widgets",
    what: "the widgets of a dashboard",
    figure: 500,
    unit: Unit::Items,
    source: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html",
};

/// PutMetricAlarm `AlarmActions` and `OKActions`: at most 5 each.
pub const ALARM_ACTIONS: Limit = Limit {
    id: "cloudwatch.alarm_actions",
    what: "an alarm's actions",
    figure: 5,
    unit: Unit::Items,
    source: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
};

/// PutMetricAlarm `Period`: "Period multiplied by EvaluationPeriods can't be more than 604,800 seconds" (7 days).
pub const ALARM_EVALUATION_RANGE: Limit = Limit {
    id: "cloudwatch.evaluation_range",
    what: "an alarm's evaluation range (period x evaluation_periods)",
    figure: 604_800,
    unit: Unit::Seconds,
    source: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
};

/// PutMetricAlarm `Period`: "For alarms with a period of less than one hour (3,600 seconds), the total evaluation
/// period can't be longer than one day (86,400 seconds)."
pub const ALARM_EVALUATION_RANGE_SHORT_PERIOD: Limit = Limit {
    id: "cloudwatch.evaluation_range_short_period",
    what: "an alarm's evaluation range (period x evaluation_periods) with a period under an hour",
    figure: 86_400,
    unit: Unit::Seconds,
    source: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
};

/// The period below which [`ALARM_EVALUATION_RANGE_SHORT_PERIOD`] applies.
pub const ALARM_LONG_PERIOD_SECONDS: u64 = 3_600;

/// Tagging AWS resources: at most 50 user tags per resource (IAM roles, queues, functions, state machines, log
/// groups, keys, alarms alike).
pub const TAGS_PER_RESOURCE: Limit = Limit {
    id: "tags.per_resource",
    what: "the tags of a resource",
    figure: 50,
    unit: Unit::Items,
    source: "https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html#tag-conventions",
};

/// Tagging AWS resources: a tag key is 1–128 characters.
pub const TAG_KEY: Limit = Limit {
    id: "tags.key",
    what: "a tag key",
    figure: 128,
    unit: Unit::Characters,
    source: "https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html#tag-conventions",
};

/// Tagging AWS resources: a tag value is 0–256 characters.
pub const TAG_VALUE: Limit = Limit {
    id: "tags.value",
    what: "a tag value",
    figure: 256,
    unit: Unit::Characters,
    source: "https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html#tag-conventions",
};

/// Every limit sfngen checks, in the order the README lists them.
pub const TABLE: &[&Limit] = &[
    &STATE_MACHINE_NAME,
    &STATE_NAME,
    &SQS_QUEUE_NAME,
    &SNS_TOPIC_NAME,
    &SNS_FIFO_TOPIC_SUBSCRIPTIONS,
    &EVENT_BUS_NAME,
    &LAMBDA_FUNCTION_NAME,
    &IAM_ROLE_NAME,
    &IAM_POLICY_NAME,
    &LOG_GROUP_NAME,
    &METRIC_FILTER_NAME,
    &DASHBOARD_NAME,
    &ALARM_NAME,
    &METRIC_NAMESPACE,
    &KMS_ALIAS_NAME,
    &DYNAMODB_TABLE_NAME,
    &SECRET_NAME,
    &SQS_MESSAGE_GROUP_ID,
    &DEFINITION,
    &TASK_PARAMETERS,
    &EXECUTION_HISTORY,
    &IAM_ROLE_INLINE_POLICIES,
    &IAM_MANAGED_POLICY,
    &IAM_MANAGED_POLICIES_PER_ROLE,
    &IAM_TRUST_POLICY,
    &KMS_KEY_POLICY,
    &SQS_QUEUE_POLICY,
    &METRIC_FILTER_PATTERN,
    &METRIC_FILTERS_PER_LOG_GROUP,
    &DASHBOARD_WIDGETS,
    &ALARM_DESCRIPTION,
    &ALARM_ACTIONS,
    &ALARM_EVALUATION_RANGE,
    &ALARM_EVALUATION_RANGE_SHORT_PERIOD,
    &TAGS_PER_RESOURCE,
    &TAG_KEY,
    &TAG_VALUE,
    &EVENT_RULE_NAME,
    &EVENT_ENTRY,
];

/// Step Functions: at most 1,000 published versions per state machine. The module publishes one with every apply
/// that changes the state machine (`publish = true`), so a module lives with this quota rather than exceeding it
/// at render time: past it, UpdateStateMachine fails the apply (ServiceQuotaExceededException) until old versions
/// are deleted (DeleteStateMachineVersion; a version an alias routes to cannot be). The module README says how.
pub const STATE_MACHINE_VERSIONS: Limit = Limit {
    id: "states.published_versions",
    what: "the published versions of a state machine",
    figure: 1_000,
    unit: Unit::Items,
    source: "https://docs.aws.amazon.com/step-functions/latest/apireference/API_PublishStateMachineVersion.html",
};

/// Step Functions quotas: the input or output of a task, state or execution is at most 256 KiB as UTF-8 (the
/// quota [`TASK_PARAMETERS`] checks a task's parameters against): what bounds the items of a fan-out step's
/// array when its `max_items` is unset.
pub const STATE_INPUT: Limit = Limit {
    id: "states.state_input",
    what: "a state's input",
    figure: 262_144,
    unit: Unit::Bytes,
    source: "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html",
};

/// Step Functions: an inline Map state runs at most 40 iterations at once, whatever its `MaxConcurrency`; the
/// range of `steps[].max_concurrency` (a key's range, checked where the spec is read, so not a row of [`TABLE`]).
pub const INLINE_MAP_CONCURRENCY: Limit = Limit {
    id: "states.inline_map_concurrency",
    what: "the iterations an inline Map state runs at once",
    figure: 40,
    unit: Unit::Items,
    source: "https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html",
};

/// The limits an applied module reaches over its life, never at render time (so no render checks them, and
/// `tests/limits.rs` measures none): the module README says, for each, what happens there and what to do.
pub const LIVED_WITH: &[&Limit] = &[&STATE_MACHINE_VERSIONS];

// ---------------------------------------------------------------------------------------------------------
// The worst case the module's inputs and AWS allow: what sizes are measured with.

/// The longest partition AWS has: `aws-us-gov` (botocore 1.40's `botocore/data/partitions.json` lists `aws`,
/// `aws-cn`, `aws-eusc`, `aws-iso`, `aws-iso-b`, `aws-iso-e`, `aws-iso-f`, `aws-us-gov`).
pub const WORST_PARTITION: &str = "aws-us-gov";

/// The longest region name in that list: `us-isof-south-1`.
pub const WORST_REGION: &str = "us-isof-south-1";

/// The longest DNS suffix in that list (`aws-cn`'s).
pub const WORST_DNS_SUFFIX: &str = "amazonaws.com.cn";

/// An account id: always 12 digits (https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-identifiers.html).
pub const WORST_ACCOUNT: &str = "123456789012";

/// The longest KMS key id: a UUID, or `mrk-` and 32 hex digits for a multi-Region key, both 36 characters
/// (https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#key-id-key-id).
pub const WORST_KMS_KEY_ID: &str = "mrk-0123456789abcdef0123456789abcdef";

/// The longest task token Step Functions hands out: SendTaskSuccess takes up to 2,048 characters
/// (https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html).
pub const MAX_TASK_TOKEN_CHARS: u64 = 2_048;

/// The longest execution name: StartExecution's `name` is 1–80 characters
/// (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html); a task message's
/// `context.execution` is the execution's ARN, which ends in it.
pub const MAX_EXECUTION_NAME_CHARS: usize = 80;

/// A time in Step Functions' context object (`$$.State.EnteredTime`): ISO 8601 with milliseconds, in UTC, such
/// as `2019-03-26T20:14:13.192Z` (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html).
pub const CONTEXT_TIME_CHARS: usize = 24;

/// An event source mapping's UUID, which ends its ARN (`arn:PARTITION:lambda:REGION:ACCOUNT:event-source-mapping:UUID`,
/// https://docs.aws.amazon.com/lambda/latest/api/API_EventSourceMappingConfiguration.html): 36 characters.
pub const WORST_MAPPING_UUID: &str = "01234567-89ab-cdef-0123-456789abcdef";

/// The longest `name` the module's input accepts: its validation is the spec's rule.
pub fn worst_name() -> String {
    "n".repeat(MAX_NAME_CHARS)
}

/// The longest URL SQS gives a queue named `queue_name`: the legacy form
/// `https://REGION.queue.DNS_SUFFIX/ACCOUNT/NAME` is two characters longer than `https://sqs.REGION.DNS_SUFFIX/...`,
/// and SQS says to use the URL it returns rather than build one
/// (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-message-identifiers.html).
pub fn worst_queue_url(queue_name: &str) -> String {
    format!("https://{WORST_REGION}.queue.{WORST_DNS_SUFFIX}/{WORST_ACCOUNT}/{queue_name}")
}

/// The longest ARN of the SNS topic named `topic_name`.
pub fn worst_topic_arn(topic_name: &str) -> String {
    format!("arn:{WORST_PARTITION}:sns:{WORST_REGION}:{WORST_ACCOUNT}:{topic_name}")
}

/// The longest ARN of the event bus named `bus_name`.
pub fn worst_bus_arn(bus_name: &str) -> String {
    format!("arn:{WORST_PARTITION}:events:{WORST_REGION}:{WORST_ACCOUNT}:event-bus/{bus_name}")
}

/// The longest ARN of a KMS key.
pub fn worst_kms_key_arn() -> String {
    format!("arn:{WORST_PARTITION}:kms:{WORST_REGION}:{WORST_ACCOUNT}:key/{WORST_KMS_KEY_ID}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_limit_has_a_unique_id_and_an_aws_source() {
        let mut ids: Vec<&str> = TABLE.iter().map(|l| l.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), TABLE.len(), "two limits share an id");
        for limit in TABLE {
            assert!(
                limit.source.starts_with("https://docs.aws.amazon.com/")
                    || limit.source.starts_with("https://states-language.net/"),
                "{}: {}",
                limit.id,
                limit.source
            );
            assert!(limit.figure > 0, "{}", limit.id);
        }
    }

    #[test]
    fn figures_read_as_aws_writes_them() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_048_576), "1,048,576");
        assert_eq!(DEFINITION.figure_text(), "1,048,576 bytes");
        assert_eq!(TAGS_PER_RESOURCE.figure_text(), "50");
    }

    #[test]
    fn the_worst_queue_url_is_the_longest_form() {
        let url = worst_queue_url("q");
        assert_eq!(url, "https://us-isof-south-1.queue.amazonaws.com.cn/123456789012/q");
        assert!(url.len() > format!("https://sqs.{WORST_REGION}.{WORST_DNS_SUFFIX}/{WORST_ACCOUNT}/q").len());
        assert_eq!(WORST_KMS_KEY_ID.len(), 36);
    }
}
