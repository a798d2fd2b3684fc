//! Every Terraform address of the module, in one place: the file that declares a resource or data source and
//! every file that refers to it (outputs included) build its address here, so the two cannot drift apart.

use std::fmt;

use crate::emit::hcl::{Block, Expr, raw};
use crate::model::{FunctionId, LogMetricId, RoleId};

/// The address of a resource (`aws_sqs_queue.main`) or data source (`data.aws_partition.current`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    data: bool,
    kind: &'static str,
    name: String,
}

impl Address {
    fn resource(kind: &'static str, name: impl Into<String>) -> Self {
        Address {
            data: false,
            kind,
            name: name.into(),
        }
    }

    fn data(kind: &'static str, name: impl Into<String>) -> Self {
        Address {
            data: true,
            kind,
            name: name.into(),
        }
    }

    /// The empty block that declares it: `resource "kind" "name" {}` or `data "kind" "name" {}`.
    pub fn declare(&self) -> Block {
        let mode = if self.data { "data" } else { "resource" };
        Block::new(mode, [self.kind, self.name.as_str()])
    }

    /// A reference to one of its attributes, such as `aws_sqs_queue.main.arn`.
    pub fn attr(&self, attribute: &str) -> Expr {
        raw(format!("{self}.{attribute}"))
    }

    /// A reference to the whole object, as `depends_on` takes it.
    pub fn reference(&self) -> Expr {
        raw(self.to_string())
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.data {
            write!(f, "data.")?;
        }
        write!(f, "{}.{}", self.kind, self.name)
    }
}

/// The callback queue with this key.
pub fn queue(key: &str) -> Address {
    Address::resource("aws_sqs_queue", key)
}

/// The dead-letter queue of the queue with this key. Queue keys hold no `_`, so it cannot clash with a queue.
pub fn dead_letter_queue(key: &str) -> Address {
    Address::resource("aws_sqs_queue", queue_name(key, true))
}

/// The redrive allow policy of the dead-letter queue of the queue with this key.
pub fn redrive_allow_policy(key: &str) -> Address {
    Address::resource("aws_sqs_queue_redrive_allow_policy", format!("{key}_dlq"))
}

/// The event source mapping through which the dead-letter Lambda reads the dead-letter queue of the queue with
/// this key.
pub fn dead_letter_mapping(key: &str) -> Address {
    Address::resource("aws_lambda_event_source_mapping", format!("{key}_dlq"))
}

/// The UUID of the dead-letter mapping of the queue with this key, as the operator's policy takes it: one
/// `terraform_data` that copies it, so that a change to the mapping in place (its tags, `enabled`) leaves the
/// policy known at plan time.
pub fn dead_letter_mapping_uuid(key: &str) -> Address {
    Address::resource("terraform_data", format!("{key}_dlq_mapping_uuid"))
}

/// The resource policy of the queue with this key (`dead_letter`: of its dead-letter queue).
/// The custom EventBridge bus of the bus with this key.
pub fn bus(key: &str) -> Address {
    Address::resource("aws_cloudwatch_event_bus", key)
}

/// The policy of the custom bus with this key: the other accounts that may put events on it.
pub fn bus_policy(key: &str) -> Address {
    Address::resource("aws_cloudwatch_event_bus_policy", key)
}

/// The rule on the bus with this key that matches the module's task events.
pub fn bus_rule(key: &str) -> Address {
    Address::resource("aws_cloudwatch_event_rule", key)
}

/// The dead-letter queue of the targets of the rule on the bus with this key (queue keys hold no `_`, so it
/// cannot be a queue's).
pub fn bus_dead_letter_queue(key: &str) -> Address {
    Address::resource("aws_sqs_queue", format!("{key}_bus_dlq"))
}

/// The policy of that dead-letter queue: only the bus's rule may send, only over TLS.
pub fn bus_dead_letter_policy(key: &str) -> Address {
    Address::resource("aws_sqs_queue_policy", format!("{key}_bus_dlq"))
}

/// The copy of the UUID of the dead-letter function's mapping on the topic's dead-letter queue (see
/// [`dead_letter_mapping_uuid`]).
pub fn topic_dead_letter_mapping_uuid(key: &str) -> Address {
    Address::resource("terraform_data", format!("{key}_topic_dlq_mapping_uuid"))
}

/// The dead-letter function's event source mapping on the dead-letter queue of the bus with this key.
pub fn bus_dead_letter_mapping(key: &str) -> Address {
    Address::resource("aws_lambda_event_source_mapping", format!("{key}_bus_dlq"))
}

/// The copy of that mapping's UUID (see [`dead_letter_mapping_uuid`]).
pub fn bus_dead_letter_mapping_uuid(key: &str) -> Address {
    Address::resource("terraform_data", format!("{key}_bus_dlq_mapping_uuid"))
}

pub fn queue_policy(key: &str, dead_letter: bool) -> Address {
    Address::resource("aws_sqs_queue_policy", queue_name(key, dead_letter))
}

/// The Terraform name of the queue with this key (`dead_letter`: of its dead-letter queue).
fn queue_name(key: &str, dead_letter: bool) -> String {
    if dead_letter {
        format!("{key}_dlq")
    } else {
        key.to_string()
    }
}

/// The SNS topic with this key.
pub fn topic(key: &str) -> Address {
    Address::resource("aws_sns_topic", key)
}

/// The policy of the SNS topic with this key.
pub fn topic_policy(key: &str) -> Address {
    Address::resource("aws_sns_topic_policy", key)
}

/// A subscription the spec declares on the topic with this key: named by its protocol and a hash of its protocol
/// and endpoint (`alerts_sqs_1a2b3c4d`), so that adding, removing or reordering subscriptions leaves the others'
/// addresses alone (an index would move them, and Terraform would replace them: an email subscriber would have to
/// confirm again).
pub fn topic_subscription(key: &str, protocol: &str, endpoint: &str) -> Address {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{protocol} {endpoint}").as_bytes());
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    Address::resource(
        "aws_sns_topic_subscription",
        format!("{key}_{}_{hash}", protocol.replace('-', "_")),
    )
}

/// The dead-letter queue of the topic with this key (keys hold no `_`: no queue has this address).
pub fn topic_dead_letter_queue(key: &str) -> Address {
    Address::resource("aws_sqs_queue", format!("{key}_topic_dlq"))
}

/// The resource policy of the dead-letter queue of the topic with this key.
pub fn topic_dead_letter_queue_policy(key: &str) -> Address {
    Address::resource("aws_sqs_queue_policy", format!("{key}_topic_dlq"))
}

/// The event source mapping through which the dead-letter Lambda reads the dead-letter queue of the topic with
/// this key.
pub fn topic_dead_letter_mapping(key: &str) -> Address {
    Address::resource("aws_lambda_event_source_mapping", format!("{key}_topic_dlq"))
}

/// The lookup of the key the topic with this key names by alias.
pub fn topic_key_alias_lookup(key: &str) -> Address {
    Address::data("aws_kms_alias", format!("{key}_topic"))
}

/// The state machine.
pub fn state_machine() -> Address {
    Address::resource("aws_sfn_state_machine", "this")
}

/// The alias through which executions start: it routes to a published version of the state machine.
pub fn state_machine_alias() -> Address {
    Address::resource("aws_sfn_alias", "live")
}

/// The alias's name in AWS (the last part of its ARN, after the state machine's).
pub const STATE_MACHINE_ALIAS_NAME: &str = "live";

/// The module key's ARN, as the policy documents take it: one `terraform_data` that copies the key's ARN, so
/// that a change to the key in place (its tags, its description) leaves every document naming it known at
/// plan time.
pub fn module_key_arn() -> Address {
    Address::resource("terraform_data", "module_key_arn")
}

/// The state machine's execution log group.
pub fn state_machine_log_group() -> Address {
    Address::resource("aws_cloudwatch_log_group", "state_machine")
}

/// A Lambda function: `aws_lambda_function.callback`, `aws_lambda_function.dead_letters`.
pub fn function(id: FunctionId) -> Address {
    Address::resource("aws_lambda_function", id.key())
}

/// A metric filter on a function's log group.
pub fn log_metric_filter(id: LogMetricId) -> Address {
    let name = match id {
        LogMetricId::SpentTokens => "spent_tokens".to_string(),
        LogMetricId::InvalidTokens => "invalid_tokens".to_string(),
        LogMetricId::DeadLettersUnsettled => "dead_letters_unsettled".to_string(),
        LogMetricId::EndpointSpentTokens => "endpoint_spent_tokens".to_string(),
        LogMetricId::EndpointInvalidTokens => "endpoint_invalid_tokens".to_string(),
        LogMetricId::EndpointUnauthorized => "endpoint_unauthorized".to_string(),
        LogMetricId::ApprovalNotificationsFailed => "approval_notifications_failed".to_string(),
        LogMetricId::ApprovalDecisionsFailed => "approval_decisions_failed".to_string(),
        LogMetricId::ApprovalsExpired => "approvals_expired".to_string(),
        LogMetricId::ApprovalLinksInvalid => "approval_links_invalid".to_string(),
        LogMetricId::BusinessFailures { part: 1 } => "business_failures".to_string(),
        LogMetricId::BusinessFailures { part } => format!("business_failures_{part}"),
    };
    Address::resource("aws_cloudwatch_log_metric_filter", name)
}

/// The module's CloudWatch dashboard (one, while `var.dashboard_enabled`).
pub fn dashboard() -> Address {
    Address::resource("aws_cloudwatch_dashboard", "this")
}

/// A function's log group (`state_machine` is no function's key, so it cannot clash with the execution log
/// group).
pub fn function_log_group(id: FunctionId) -> Address {
    Address::resource("aws_cloudwatch_log_group", id.key())
}

/// The Terraform name shared by a role's resources.
fn role_name(id: RoleId) -> &'static str {
    match id {
        RoleId::StateMachine => "state_machine",
        RoleId::Callback => "callback",
        RoleId::DeadLetters => "dead_letters",
        RoleId::Endpoint => "endpoint",
        RoleId::ApprovalNotify => "approval_notify",
        RoleId::ApprovalPage => "approval_page",
    }
}

/// An IAM role.
pub fn role(id: RoleId) -> Address {
    Address::resource("aws_iam_role", role_name(id))
}

/// A role's inline policy.
pub fn role_policy(id: RoleId) -> Address {
    Address::resource("aws_iam_role_policy", role_name(id))
}

/// The policy document of a role's inline policy.
pub fn permissions_document(id: RoleId) -> Address {
    Address::data("aws_iam_policy_document", role_name(id))
}

/// A customer managed policy the role's grants overflow into, by its number from 1 (role names hold no digit, so
/// `state_machine_1` is no other role's).
pub fn managed_policy(id: RoleId, number: usize) -> Address {
    Address::resource("aws_iam_policy", format!("{}_{number}", role_name(id)))
}

/// The policy document of a role's managed policy.
pub fn managed_policy_document(id: RoleId, number: usize) -> Address {
    Address::data("aws_iam_policy_document", format!("{}_{number}", role_name(id)))
}

/// The attachment of a managed policy to its role.
pub fn managed_policy_attachment(id: RoleId, number: usize) -> Address {
    Address::resource("aws_iam_role_policy_attachment", format!("{}_{number}", role_name(id)))
}

/// The policy document of a role's trust policy.
pub fn trust_document(id: RoleId) -> Address {
    Address::data("aws_iam_policy_document", format!("{}_assume", role_name(id)))
}

/// The policy document for a worker of the queue with this key, or of every queue. Queue keys hold no `_`,
/// so `worker_KEY` cannot clash with a role's documents.
pub fn worker_policy_document(queue: Option<&str>) -> Address {
    match queue {
        None => Address::data("aws_iam_policy_document", "worker"),
        Some(key) => Address::data("aws_iam_policy_document", format!("worker_{key}")),
    }
}

/// The policy document for whatever starts executions (the `starter_policy_json` output).
pub fn starter_policy_document() -> Address {
    Address::data("aws_iam_policy_document", "starter")
}

/// A part of the policy for a worker of every queue, when one document would be too large; `worker_part_N`
/// holds a `_` after `worker`, which no queue key does.
pub fn worker_policy_part_document(part: usize) -> Address {
    Address::data("aws_iam_policy_document", format!("worker_part_{part}"))
}

/// The policy for an operator's role (`operator`), or a part of it when one document would be too large
/// (`operator_part_N`).
pub fn operator_policy_document(part: Option<usize>) -> Address {
    match part {
        None => Address::data("aws_iam_policy_document", "operator"),
        Some(part) => Address::data("aws_iam_policy_document", format!("operator_part_{part}")),
    }
}

/// The HMAC key that signs approval links.
pub fn approval_key() -> Address {
    Address::resource("aws_kms_key", "approval_links")
}

/// A copy of the approval key's ARN for the policy documents that name it (as [`module_key_arn`]'s).
pub fn approval_key_arn() -> Address {
    Address::resource("terraform_data", "approval_key_arn")
}

/// The approval key's alias.
pub fn approval_key_alias() -> Address {
    Address::resource("aws_kms_alias", "approval_links")
}

/// The approvals queue. Its resources' names start with `_`, which no queue key does (`approvals` may be one, whose
/// queue is `aws_sqs_queue.approvals` and dead-letter queue `aws_sqs_queue.approvals_dlq`).
pub fn approvals_queue() -> Address {
    Address::resource("aws_sqs_queue", "_approvals")
}

/// The approvals queue's dead-letter queue.
pub fn approvals_dead_letter_queue() -> Address {
    Address::resource("aws_sqs_queue", "_approvals_dlq")
}

/// The approvals queue's policy, and its dead-letter queue's.
pub fn approvals_queue_policy(dead_letter: bool) -> Address {
    Address::resource(
        "aws_sqs_queue_policy",
        if dead_letter { "_approvals_dlq" } else { "_approvals" },
    )
}

/// The approvals dead-letter queue's redrive allow policy.
pub fn approvals_redrive_allow_policy() -> Address {
    Address::resource("aws_sqs_queue_redrive_allow_policy", "_approvals_dlq")
}

/// The approvals table.
pub fn approvals_table() -> Address {
    Address::resource("aws_dynamodb_table", "approvals")
}

/// The mapping from the approvals queue to the notifier.
pub fn approvals_mapping() -> Address {
    Address::resource("aws_lambda_event_source_mapping", "_approvals")
}

/// The mapping from the approvals dead-letter queue to the dead-letter function.
pub fn approvals_dead_letter_mapping() -> Address {
    Address::resource("aws_lambda_event_source_mapping", "_approvals_dlq")
}

/// A function's URL.
pub fn function_url(id: FunctionId) -> Address {
    Address::resource("aws_lambda_function_url", id.key())
}

/// The permission that lets a public (`NONE`) function URL invoke its function.
pub fn function_url_invoke_permission(id: FunctionId) -> Address {
    Address::resource("aws_lambda_permission", format!("{}_url", id.key()))
}

/// The endpoint's HMAC secret, when the module creates it.
pub fn endpoint_secret() -> Address {
    Address::resource("aws_secretsmanager_secret", "endpoint_hmac")
}

/// The customer managed key the module creates.
pub fn module_key() -> Address {
    Address::resource("aws_kms_key", "this")
}

/// The alias of the module's key.
pub fn module_key_alias() -> Address {
    Address::resource("aws_kms_alias", "this")
}

/// The policy document of the module's key.
pub fn key_policy_document() -> Address {
    Address::data("aws_iam_policy_document", "kms")
}

/// The lookup of the key the queue with this key names by alias (each such queue has its own input).
pub fn key_alias_lookup(queue_key: &str) -> Address {
    Address::data("aws_kms_alias", queue_key)
}

/// The lookup of the key the state machine names by alias (queue keys hold no `_`, so this name cannot be a
/// queue's lookup).
pub fn state_machine_key_alias_lookup() -> Address {
    Address::data("aws_kms_alias", "state_machine")
}

/// The CloudWatch alarm with this key.
pub fn alarm(key: &str) -> Address {
    Address::resource("aws_cloudwatch_metric_alarm", key)
}

/// The current partition.
pub fn partition() -> Address {
    Address::data("aws_partition", "current")
}

/// The Step Functions service in the current region (the region, read the same way on 5.x and 6.x).
pub fn states_service() -> Address {
    Address::data("aws_service", "states")
}

/// The current account.
pub fn caller_identity() -> Address {
    Address::data("aws_caller_identity", "current")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_function_has_its_own_resources() {
        assert_eq!(
            function(FunctionId::Callback).to_string(),
            "aws_lambda_function.callback"
        );
        assert_eq!(
            function(FunctionId::DeadLetters).to_string(),
            "aws_lambda_function.dead_letters"
        );
        assert_eq!(
            function_log_group(FunctionId::DeadLetters).to_string(),
            "aws_cloudwatch_log_group.dead_letters"
        );
        assert_eq!(role(RoleId::DeadLetters).to_string(), "aws_iam_role.dead_letters");
    }

    #[test]
    fn addresses_read_as_terraform_writes_them() {
        assert_eq!(queue("main").to_string(), "aws_sqs_queue.main");
        assert_eq!(dead_letter_queue("main").to_string(), "aws_sqs_queue.main_dlq");
        assert_eq!(
            trust_document(RoleId::Callback).to_string(),
            "data.aws_iam_policy_document.callback_assume"
        );
        assert_eq!(queue("main").attr("arn"), raw("aws_sqs_queue.main.arn"));
    }
}
