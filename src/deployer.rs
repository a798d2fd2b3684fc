//! What the deployer needs: the IAM actions the role that runs `terraform plan`, `apply` and `destroy` on a
//! rendered module must hold, in one list, by the Terraform resource (or data source) type that needs each.
//!
//! The module README's table is this list, filtered to the types the module declares. The list is held to what the
//! real hashicorp/aws provider calls: `tests/e2e/test_day_two.py` records every AWS API call the provider makes
//! against the emulator through init, plan, apply, a change and destroy of a module with every kind of resource,
//! and requires each call to be here, and each action here to have been called, unless its
//! [`Permission::unrecorded`] says why it is listed anyway.

/// When the deployer needs an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `terraform plan` (and so every apply and destroy, which plan first): reading what exists.
    Plan,
    /// `terraform apply`: creating and updating.
    Apply,
    /// `terraform destroy` (and an apply that removes or replaces a resource).
    Destroy,
}

impl Phase {
    /// The phase as the README's table says it.
    pub fn word(self) -> &'static str {
        match self {
            Phase::Plan => "plan",
            Phase::Apply => "apply",
            Phase::Destroy => "destroy",
        }
    }
}

/// One IAM action the deployer needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    /// The IAM action, such as `sqs:CreateQueue`.
    pub action: &'static str,
    /// When it is needed.
    pub phases: &'static [Phase],
    /// The Terraform types (resources and data sources) whose presence in the module needs it.
    pub kinds: &'static [&'static str],
    /// Why the action is listed though the recorded run (init, plan, apply, a change of the definition, the tags
    /// and the functions' memory, destroy) does not call it: an authorization AWS checks inside another call, or a
    /// call the provider makes only on a change that run does not make. `None`: the recorded run calls it.
    pub unrecorded: Option<&'static str>,
}

use Phase::{Apply, Destroy, Plan};

const fn call(action: &'static str, phases: &'static [Phase], kinds: &'static [&'static str]) -> Permission {
    Permission {
        action,
        phases,
        kinds,
        unrecorded: None,
    }
}

const fn on_change(action: &'static str, kinds: &'static [&'static str], reason: &'static str) -> Permission {
    Permission {
        action,
        phases: &[Apply],
        kinds,
        unrecorded: Some(reason),
    }
}

/// An action of a type the recorded run's module (examples/full) does not declare: the endpoint's and the approvals'
/// resources. Listed from the provider's code for that type, as its reason says.
const fn not_in_recorded_run(
    action: &'static str,
    phases: &'static [Phase],
    kinds: &'static [&'static str],
    reason: &'static str,
) -> Permission {
    Permission {
        action,
        phases,
        kinds,
        unrecorded: Some(reason),
    }
}

/// Why the endpoint's and the approvals' rows are listed without a recorded call.
const FUNCTION_URL_SOURCE: &str = "a function URL (endpoint, approval page): hashicorp/aws internal/service/lambda/function_url.go; the recorded run's module has none";
const PERMISSION_SOURCE: &str = "a public function URL's statements (FunctionURLAllowPublicAccess, which the provider adds with the URL; FunctionURLAllowInvokeAction, the module's aws_lambda_permission): hashicorp/aws internal/service/lambda/function_url.go and permission.go; the recorded run's module has none";
const TABLE_SOURCE: &str =
    "the approvals table: hashicorp/aws internal/service/dynamodb/table.go; the recorded run's module has none";
const SECRET_SOURCE: &str = "the endpoint's HMAC secret: hashicorp/aws internal/service/secretsmanager/secret.go; the recorded run's module has none";

const QUEUES: &[&str] = &["aws_sqs_queue"];
const QUEUE_ATTRIBUTES: &[&str] = &[
    "aws_sqs_queue",
    "aws_sqs_queue_policy",
    "aws_sqs_queue_redrive_allow_policy",
];
const STATE_MACHINE: &[&str] = &["aws_sfn_state_machine"];
const ALIAS: &[&str] = &["aws_sfn_alias"];
const LOG_GROUPS: &[&str] = &["aws_cloudwatch_log_group"];
const METRIC_FILTERS: &[&str] = &["aws_cloudwatch_log_metric_filter"];
const FUNCTIONS: &[&str] = &["aws_lambda_function"];
const MAPPINGS: &[&str] = &["aws_lambda_event_source_mapping"];
const ROLES: &[&str] = &["aws_iam_role"];
const ROLE_POLICIES: &[&str] = &["aws_iam_role_policy"];
const MANAGED_POLICIES: &[&str] = &["aws_iam_policy"];
const ATTACHMENTS: &[&str] = &["aws_iam_role_policy_attachment"];
const KEY: &[&str] = &["aws_kms_key"];
const KEY_ALIAS: &[&str] = &["aws_kms_alias"];
const ALARMS: &[&str] = &["aws_cloudwatch_metric_alarm"];
const DASHBOARD: &[&str] = &["aws_cloudwatch_dashboard"];
const ACCOUNT: &[&str] = &["aws_caller_identity"];
const EVENT_BUSES: &[&str] = &["aws_cloudwatch_event_bus"];
const EVENT_BUS_READS: &[&str] = &["aws_cloudwatch_event_bus", "aws_cloudwatch_event_bus_policy"];
const EVENT_BUS_POLICIES: &[&str] = &["aws_cloudwatch_event_bus_policy"];
const EVENT_RULES: &[&str] = &["aws_cloudwatch_event_rule"];
const EVENT_TAGGED: &[&str] = &["aws_cloudwatch_event_bus", "aws_cloudwatch_event_rule"];
const TOPICS: &[&str] = &["aws_sns_topic"];
const TOPIC_ATTRIBUTES: &[&str] = &["aws_sns_topic", "aws_sns_topic_policy"];
const SUBSCRIPTIONS: &[&str] = &["aws_sns_topic_subscription"];
const FUNCTION_URLS: &[&str] = &["aws_lambda_function_url"];
const TABLES: &[&str] = &["aws_dynamodb_table"];
const PERMISSIONS_OF_FUNCTIONS: &[&str] = &["aws_lambda_permission"];
const PUBLIC_URLS: &[&str] = &["aws_lambda_function_url", "aws_lambda_permission"];
const SECRETS: &[&str] = &["aws_secretsmanager_secret"];

/// Every action a deployer may need, by the types that need it.
pub const PERMISSIONS: &[Permission] = &[
    call("sts:GetCallerIdentity", &[Plan], ACCOUNT),
    call("sqs:CreateQueue", &[Apply], QUEUES),
    call("sqs:GetQueueAttributes", &[Plan, Apply, Destroy], QUEUE_ATTRIBUTES),
    call("sqs:ListQueueTags", &[Plan], QUEUES),
    call("sqs:SetQueueAttributes", &[Apply, Destroy], QUEUE_ATTRIBUTES),
    call("sqs:TagQueue", &[Apply], QUEUES),
    on_change("sqs:UntagQueue", QUEUES, "when a tag is removed"),
    call("sqs:DeleteQueue", &[Destroy], QUEUES),
    call("states:ValidateStateMachineDefinition", &[Plan], STATE_MACHINE),
    call("states:CreateStateMachine", &[Apply], STATE_MACHINE),
    call("states:DescribeStateMachine", &[Plan, Apply, Destroy], STATE_MACHINE),
    call("states:ListStateMachineVersions", &[Plan], STATE_MACHINE),
    call("states:ListTagsForResource", &[Plan], STATE_MACHINE),
    call("states:UpdateStateMachine", &[Apply], STATE_MACHINE),
    call("states:TagResource", &[Apply], STATE_MACHINE),
    on_change("states:UntagResource", STATE_MACHINE, "when a tag is removed"),
    call("states:DeleteStateMachine", &[Destroy], STATE_MACHINE),
    call("states:CreateStateMachineAlias", &[Apply], ALIAS),
    call("states:DescribeStateMachineAlias", &[Plan], ALIAS),
    call("states:UpdateStateMachineAlias", &[Apply], ALIAS),
    call("states:DeleteStateMachineAlias", &[Destroy], ALIAS),
    call("logs:CreateLogGroup", &[Apply], LOG_GROUPS),
    call("logs:DescribeLogGroups", &[Plan], LOG_GROUPS),
    call("logs:ListTagsForResource", &[Plan], LOG_GROUPS),
    call("logs:PutRetentionPolicy", &[Apply], LOG_GROUPS),
    call("logs:TagResource", &[Apply], LOG_GROUPS),
    on_change("logs:UntagResource", LOG_GROUPS, "when a tag is removed"),
    on_change(
        "logs:AssociateKmsKey",
        LOG_GROUPS,
        "when [logs] encryption turns to kms",
    ),
    on_change(
        "logs:DisassociateKmsKey",
        LOG_GROUPS,
        "when [logs] encryption leaves kms",
    ),
    call("logs:DeleteLogGroup", &[Destroy], LOG_GROUPS),
    call("logs:PutMetricFilter", &[Apply], METRIC_FILTERS),
    call("logs:DescribeMetricFilters", &[Plan], METRIC_FILTERS),
    call("logs:DeleteMetricFilter", &[Destroy], METRIC_FILTERS),
    call("lambda:CreateFunction", &[Apply], FUNCTIONS),
    call("lambda:GetFunction", &[Plan], FUNCTIONS),
    call("lambda:GetFunctionCodeSigningConfig", &[Plan], FUNCTIONS),
    call("lambda:ListVersionsByFunction", &[Plan], FUNCTIONS),
    call("lambda:ListTags", &[Plan], FUNCTIONS),
    call("lambda:UpdateFunctionConfiguration", &[Apply], FUNCTIONS),
    on_change(
        "lambda:UpdateFunctionCode",
        FUNCTIONS,
        "when the package changes (a new sfngen, callback_lambda_zip)",
    ),
    call("lambda:PutFunctionConcurrency", &[Apply], FUNCTIONS),
    on_change(
        "lambda:DeleteFunctionConcurrency",
        FUNCTIONS,
        "when callback_reserved_concurrency turns null",
    ),
    call("lambda:TagResource", &[Apply], FUNCTIONS),
    on_change("lambda:UntagResource", FUNCTIONS, "when a tag is removed"),
    call("lambda:DeleteFunction", &[Destroy], FUNCTIONS),
    call("lambda:CreateEventSourceMapping", &[Apply], MAPPINGS),
    call("lambda:GetEventSourceMapping", &[Plan], MAPPINGS),
    on_change(
        "lambda:UpdateEventSourceMapping",
        MAPPINGS,
        "when a mapping's settings change",
    ),
    call("lambda:DeleteEventSourceMapping", &[Destroy], MAPPINGS),
    Permission {
        action: "iam:PassRole",
        phases: &[Apply],
        kinds: &["aws_sfn_state_machine", "aws_lambda_function"],
        unrecorded: Some(
            "no API call of its own: Step Functions and Lambda check it when CreateStateMachine, UpdateStateMachine, \
             CreateFunction or UpdateFunctionConfiguration names one of the module's roles",
        ),
    },
    call("iam:CreateRole", &[Apply], ROLES),
    call("iam:GetRole", &[Plan], ROLES),
    call("iam:ListRolePolicies", &[Plan, Destroy], ROLES),
    call("iam:ListAttachedRolePolicies", &[Plan, Destroy], ROLES),
    call("iam:TagRole", &[Apply], ROLES),
    on_change("iam:UntagRole", ROLES, "when a tag is removed"),
    on_change(
        "iam:UpdateAssumeRolePolicy",
        ROLES,
        "when a trust policy changes (name)",
    ),
    on_change(
        "iam:PutRolePermissionsBoundary",
        ROLES,
        "when permissions_boundary is set",
    ),
    on_change(
        "iam:DeleteRolePermissionsBoundary",
        ROLES,
        "when permissions_boundary turns null",
    ),
    call("iam:ListInstanceProfilesForRole", &[Destroy], ROLES),
    call("iam:DeleteRole", &[Destroy], ROLES),
    call("iam:PutRolePolicy", &[Apply], ROLE_POLICIES),
    call("iam:GetRolePolicy", &[Plan], ROLE_POLICIES),
    call("iam:DeleteRolePolicy", &[Destroy], ROLE_POLICIES),
    on_change(
        "iam:CreatePolicy",
        MANAGED_POLICIES,
        "only for the managed policies of large specs",
    ),
    on_change(
        "iam:GetPolicy",
        MANAGED_POLICIES,
        "only for the managed policies of large specs",
    ),
    on_change(
        "iam:GetPolicyVersion",
        MANAGED_POLICIES,
        "only for the managed policies of large specs",
    ),
    on_change(
        "iam:ListPolicyVersions",
        MANAGED_POLICIES,
        "only for the managed policies of large specs",
    ),
    on_change(
        "iam:CreatePolicyVersion",
        MANAGED_POLICIES,
        "only for the managed policies of large specs",
    ),
    on_change(
        "iam:DeletePolicyVersion",
        MANAGED_POLICIES,
        "only for the managed policies of large specs",
    ),
    on_change(
        "iam:TagPolicy",
        MANAGED_POLICIES,
        "only for the managed policies of large specs",
    ),
    on_change(
        "iam:DeletePolicy",
        MANAGED_POLICIES,
        "only for the managed policies of large specs",
    ),
    on_change(
        "iam:AttachRolePolicy",
        ATTACHMENTS,
        "only for the managed policies of large specs",
    ),
    on_change(
        "iam:DetachRolePolicy",
        ATTACHMENTS,
        "only for the managed policies of large specs",
    ),
    call("kms:CreateKey", &[Apply], KEY),
    call("kms:DescribeKey", &[Plan], KEY),
    call("kms:GetKeyPolicy", &[Plan], KEY),
    call("kms:GetKeyRotationStatus", &[Plan], KEY),
    call("kms:ListResourceTags", &[Plan], KEY),
    call("kms:EnableKeyRotation", &[Apply], KEY),
    on_change(
        "kms:PutKeyPolicy",
        KEY,
        "when the key policy changes (a queue, role or log group added)",
    ),
    call("kms:TagResource", &[Apply], KEY),
    on_change("kms:UntagResource", KEY, "when a tag is removed"),
    on_change("kms:UpdateKeyDescription", KEY, "when what the key encrypts changes"),
    call("kms:ScheduleKeyDeletion", &[Destroy], KEY),
    call("kms:CreateAlias", &[Apply], KEY_ALIAS),
    call("kms:ListAliases", &[Plan], KEY_ALIAS),
    call("kms:DeleteAlias", &[Destroy], KEY_ALIAS),
    call("cloudwatch:PutMetricAlarm", &[Apply], ALARMS),
    call("cloudwatch:DescribeAlarms", &[Plan], ALARMS),
    call("cloudwatch:ListTagsForResource", &[Plan], ALARMS),
    call("cloudwatch:TagResource", &[Apply], ALARMS),
    on_change("cloudwatch:UntagResource", ALARMS, "when a tag is removed"),
    call("cloudwatch:DeleteAlarms", &[Destroy], ALARMS),
    call("cloudwatch:PutDashboard", &[Apply], DASHBOARD),
    call("cloudwatch:GetDashboard", &[Plan, Apply], DASHBOARD),
    call("cloudwatch:DeleteDashboards", &[Destroy], DASHBOARD),
    call("events:CreateEventBus", &[Apply], EVENT_BUSES),
    call("events:DescribeEventBus", &[Plan, Apply, Destroy], EVENT_BUS_READS),
    call("events:ListTagsForResource", &[Plan], EVENT_TAGGED),
    on_change("events:TagResource", EVENT_TAGGED, "when a tag is added or changed"),
    on_change("events:UntagResource", EVENT_TAGGED, "when a tag is removed"),
    call("events:DeleteEventBus", &[Destroy], EVENT_BUSES),
    call("events:PutPermission", &[Apply], EVENT_BUS_POLICIES),
    call("events:RemovePermission", &[Destroy], EVENT_BUS_POLICIES),
    call("events:PutRule", &[Apply], EVENT_RULES),
    call("events:DescribeRule", &[Plan, Apply], EVENT_RULES),
    call("events:DeleteRule", &[Destroy], EVENT_RULES),
    call("sns:CreateTopic", &[Apply], TOPICS),
    call("sns:GetTopicAttributes", &[Plan, Apply, Destroy], TOPIC_ATTRIBUTES),
    call("sns:SetTopicAttributes", &[Apply, Destroy], TOPIC_ATTRIBUTES),
    call("sns:ListTagsForResource", &[Plan], TOPICS),
    // Also checked inside CreateTopic when it carries tags.
    call("sns:TagResource", &[Apply], TOPICS),
    on_change("sns:UntagResource", TOPICS, "when a tag is removed"),
    call("sns:DeleteTopic", &[Destroy], TOPICS),
    call("sns:Subscribe", &[Apply], SUBSCRIPTIONS),
    call("sns:GetSubscriptionAttributes", &[Plan, Apply, Destroy], SUBSCRIPTIONS),
    call("sns:ListSubscriptionsByTopic", &[Plan, Apply], SUBSCRIPTIONS),
    on_change(
        "sns:SetSubscriptionAttributes",
        SUBSCRIPTIONS,
        "when a subscription's raw delivery or redrive policy changes",
    ),
    call("sns:Unsubscribe", &[Destroy], SUBSCRIPTIONS),
    not_in_recorded_run(
        "lambda:CreateFunctionUrlConfig",
        &[Apply],
        FUNCTION_URLS,
        FUNCTION_URL_SOURCE,
    ),
    not_in_recorded_run(
        "lambda:GetFunctionUrlConfig",
        &[Plan],
        FUNCTION_URLS,
        FUNCTION_URL_SOURCE,
    ),
    not_in_recorded_run(
        "lambda:UpdateFunctionUrlConfig",
        &[Apply],
        FUNCTION_URLS,
        FUNCTION_URL_SOURCE,
    ),
    not_in_recorded_run(
        "lambda:DeleteFunctionUrlConfig",
        &[Destroy],
        FUNCTION_URLS,
        FUNCTION_URL_SOURCE,
    ),
    // A NONE URL: the provider adds the FunctionURLAllowPublicAccess statement to the function's policy, and the
    // module its FunctionURLAllowInvokeAction statement.
    not_in_recorded_run("lambda:AddPermission", &[Apply], PUBLIC_URLS, PERMISSION_SOURCE),
    not_in_recorded_run(
        "lambda:GetPolicy",
        &[Plan, Apply],
        PERMISSIONS_OF_FUNCTIONS,
        PERMISSION_SOURCE,
    ),
    not_in_recorded_run(
        "lambda:RemovePermission",
        &[Destroy],
        PERMISSIONS_OF_FUNCTIONS,
        PERMISSION_SOURCE,
    ),
    not_in_recorded_run("dynamodb:CreateTable", &[Apply], TABLES, TABLE_SOURCE),
    not_in_recorded_run("dynamodb:DescribeTable", &[Plan, Apply, Destroy], TABLES, TABLE_SOURCE),
    not_in_recorded_run("dynamodb:DescribeContinuousBackups", &[Plan], TABLES, TABLE_SOURCE),
    not_in_recorded_run("dynamodb:DescribeTimeToLive", &[Plan], TABLES, TABLE_SOURCE),
    not_in_recorded_run("dynamodb:ListTagsOfResource", &[Plan], TABLES, TABLE_SOURCE),
    not_in_recorded_run("dynamodb:UpdateContinuousBackups", &[Apply], TABLES, TABLE_SOURCE),
    not_in_recorded_run("dynamodb:UpdateTimeToLive", &[Apply], TABLES, TABLE_SOURCE),
    not_in_recorded_run("dynamodb:UpdateTable", &[Apply], TABLES, TABLE_SOURCE),
    not_in_recorded_run("dynamodb:TagResource", &[Apply], TABLES, TABLE_SOURCE),
    not_in_recorded_run("dynamodb:UntagResource", &[Apply], TABLES, TABLE_SOURCE),
    not_in_recorded_run("dynamodb:DeleteTable", &[Destroy], TABLES, TABLE_SOURCE),
    not_in_recorded_run("secretsmanager:CreateSecret", &[Apply], SECRETS, SECRET_SOURCE),
    not_in_recorded_run(
        "secretsmanager:DescribeSecret",
        &[Plan, Apply, Destroy],
        SECRETS,
        SECRET_SOURCE,
    ),
    not_in_recorded_run("secretsmanager:GetResourcePolicy", &[Plan], SECRETS, SECRET_SOURCE),
    not_in_recorded_run("secretsmanager:UpdateSecret", &[Apply], SECRETS, SECRET_SOURCE),
    not_in_recorded_run("secretsmanager:TagResource", &[Apply], SECRETS, SECRET_SOURCE),
    not_in_recorded_run("secretsmanager:UntagResource", &[Apply], SECRETS, SECRET_SOURCE),
    not_in_recorded_run("secretsmanager:DeleteSecret", &[Destroy], SECRETS, SECRET_SOURCE),
];

/// The actions a module declaring these types (resources and data sources, by type) needs, in the list's order.
pub fn needed<'k>(kinds: impl IntoIterator<Item = &'k str>) -> Vec<&'static Permission> {
    let declared: Vec<&str> = kinds.into_iter().collect();
    PERMISSIONS
        .iter()
        .filter(|p| p.kinds.iter().any(|k| declared.contains(k)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_listed_once_and_named_as_iam_names_it() {
        let mut seen = std::collections::BTreeSet::new();
        for p in PERMISSIONS {
            assert!(seen.insert(p.action), "{} twice", p.action);
            let (service, name) = p.action.split_once(':').expect("service:Action");
            assert!(
                !service.is_empty() && name.starts_with(|c: char| c.is_ascii_uppercase()),
                "{}",
                p.action
            );
            assert!(!p.phases.is_empty() && !p.kinds.is_empty(), "{}", p.action);
        }
    }

    #[test]
    fn a_module_without_a_key_needs_no_kms_action() {
        let needed = needed(["aws_sqs_queue", "aws_sfn_state_machine", "aws_sfn_alias"]);
        assert!(needed.iter().all(|p| !p.action.starts_with("kms:")));
        assert!(
            needed
                .iter()
                .any(|p| p.action == "states:ValidateStateMachineDefinition")
        );
        assert!(needed.iter().any(|p| p.action == "iam:PassRole"));
    }
}
