//! `kms.tf`: the customer managed key (rotated), its alias, and a key policy that grants each role and
//! service only what it needs.

use super::iam::{condition, log_group_arn, principals, role_arn, with_conditions, with_statement};
use super::{address, aws_name, iam_arn, name_text, regional_arn};
use crate::emit::hcl::{Block, Expr, File, boolean, number, raw, string, strings};
use crate::model::{AwsName, Condition, Model, ModuleKey, Resource, Role, Topic};

/// The file.
pub(super) fn file(header: &str, model: &Model, key: &ModuleKey) -> File {
    let mut file = File::new(header);
    let (what, settings): (Vec<&str>, Vec<&str>) = [
        (key.queues, "callback queues", "the queues with encryption = \"kms\""),
        (
            key.state_machine,
            "execution data",
            "the state machine's data ([state_machine] encryption = \"kms\")",
        ),
        (
            !key.log_groups.is_empty(),
            "log groups",
            "the log groups ([logs] encryption = \"kms\")",
        ),
    ]
    .into_iter()
    .filter(|(used, ..)| *used)
    .map(|(_, what, setting)| (what, setting))
    .unzip();
    let mut key_block = address::module_key()
        .declare()
        .attr(
            "description",
            string(&format!("Encrypts the {} {}.", model.name, and_list(&what))),
        )
        .attr("enable_key_rotation", boolean(true))
        .attr("deletion_window_in_days", number(30))
        .attr("policy", address::key_policy_document().attr("json"))
        .attr("tags", raw("local.tags"));
    let named = roles_named(model);
    if !named.is_empty() {
        key_block = key_block
            .blank()
            .comment(
                "KMS refuses a key policy that names a role which does not exist yet. The policy builds the roles' ARNs\n\
                 from their names (a reference would make the plan read it again at apply time whenever a role\n\
                 changes), so this orders the key after them.",
            )
            .attr(
                "depends_on",
                Expr::List(named.iter().map(|role| address::role(role.id).reference()).collect()),
            );
    }
    file.push_commented(
        &wrapped(&format!(
            "Customer managed key for {}, rotated yearly by AWS.",
            and_list(&settings)
        )),
        key_block,
    );
    file.push_commented(
        "The key's ARN for the policy documents that name it (the roles', the workers'). Terraform reads a document\n\
         that refers to a resource with a change planned again at apply time, so a change to the key in place (its\n\
         tags, its description) would show every such policy as \"(known after apply)\". This copy of the ARN has\n\
         no change then (the ARN does not change), and the documents read it at plan time.",
        address::module_key_arn()
            .declare()
            .attr("input", address::module_key().attr("arn")),
    );
    file.push(
        address::module_key_alias()
            .declare()
            .attr("name", aws_name(&key.alias))
            .attr("target_key_id", address::module_key().attr("key_id")),
    );
    file.push_commented(
        "In a key policy \"*\" means this key. The account statement keeps the key manageable through IAM\n(without it the key could become unmanageable); the others name each role for what its own policy\ngrants on the key, with the same conditions, and each service for what it needs.",
        key_policy(model, key),
    );
    file
}

/// What CloudWatch Logs needs of the key to encrypt a log group's data (the key policy's statement for the logs
/// service): the key policy AWS documents for encrypting log data with KMS grants `kms:Encrypt*`, `kms:Decrypt*`,
/// `kms:ReEncrypt*`, `kms:GenerateDataKey*` and `kms:Describe*`, spelled out here as the actions they match
/// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
pub(crate) const LOGS_ENCRYPTION_ACTIONS: [&str; 7] = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
];

/// `text` in lines of at most 110 characters, broken between words, for a comment.
pub(crate) fn wrapped(text: &str) -> String {
    let mut lines: Vec<String> = vec![String::new()];
    for word in text.split(' ') {
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && line.len() + 1 + word.len() > 110 {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines.join("\n")
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The roles whose policy grants something on the module's key: the key policy names each of them.
fn roles_named(model: &Model) -> Vec<&Role> {
    model
        .roles
        .iter()
        .filter(|role| {
            role.all_statements()
                .any(|s| s.resources.contains(&Resource::ModuleKey))
        })
        .collect()
}

fn key_policy(model: &Model, key: &ModuleKey) -> Block {
    let mut policy = address::key_policy_document().declare().block(
        Block::new("statement", Vec::<String>::new())
            .checkov_skip(
                "CKV_AWS_109",
                "the account root statement every key policy needs; see above.",
            )
            .checkov_skip(
                "CKV_AWS_111",
                "the account root statement every key policy needs; see above.",
            )
            .checkov_skip("CKV_AWS_356", "in a key policy the resource \"*\" is the key itself.")
            .attr("sid", string("AccountAdministersKey"))
            .attr("actions", strings(["kms:*"]))
            .attr("resources", strings(["*"]))
            .block(principals("AWS", raw(format!("[\"{}\"]", iam_arn("root"))))),
    );
    for role in &model.roles {
        // Every grant of the role on the key, its managed policies' included.
        for statement in role
            .all_statements()
            .filter(|s| s.resources.contains(&Resource::ModuleKey))
        {
            let block = Block::new("statement", Vec::<String>::new())
                .attr("sid", string(&statement.sid))
                .attr("actions", strings(&statement.actions))
                .attr("resources", strings(["*"]))
                .block(principals("AWS", raw(format!("[\"{}\"]", role_arn(role)))));
            let block = with_conditions(model, block, &statement.conditions);
            policy = with_statement(policy, statement.only_while, block);
        }
    }
    if !key.log_groups.is_empty() {
        policy = policy.block(log_groups_statement(&key.log_groups));
    }
    let dead_letters = key.topics_with_dead_letters(model);
    if !dead_letters.is_empty() {
        policy = policy.block(topic_dead_letters_statement(&dead_letters));
    }
    if key.state_machine {
        // Step Functions delivers the execution logs encrypted with the key: CloudWatch Logs decrypts them.
        let block = Block::new("statement", Vec::<String>::new())
            .attr("sid", string("LogDeliveryDecryptsExecutionLogs"))
            .attr("actions", strings(["kms:Decrypt"]))
            .attr("resources", strings(["*"]))
            .blank()
            .comment(
                "Log delivery's service principal: one name, with no DNS suffix, in every partition (AWS's China\n\
                 Regions documentation uses it as it is).",
            )
            .block(principals("Service", strings(["delivery.logs.amazonaws.com"])));
        // At every log level, as the state machine role's log delivery grants: turning logging on then changes
        // the state machine alone.
        policy = policy.block(with_conditions(model, block, &[Condition::LogDelivery]));
    }
    policy
}

/// What SNS needs of a key to put a message into an SQS queue encrypted with it (the SQS developer guide's key
/// policy for AWS services that send to encrypted queues).
pub(crate) const SNS_DEAD_LETTER_ACTIONS: [&str; 2] = ["kms:Decrypt", "kms:GenerateDataKey"];

/// SNS may use the key to put what it could not deliver into these topics' dead-letter queues, for these topics
/// only.
fn topic_dead_letters_statement(topics: &[&Topic]) -> Block {
    let arns = topics
        .iter()
        .map(|t| raw(format!("\"{}\"", regional_arn("sns", &name_text(&t.name)))))
        .collect();
    Block::new("statement", Vec::<String>::new())
        .attr("sid", string("SnsEncryptsTopicDeadLetters"))
        .attr("actions", strings(SNS_DEAD_LETTER_ACTIONS))
        .attr("resources", strings(["*"]))
        .blank()
        .comment("SNS's service principal: one name in every partition.")
        .block(principals("Service", strings(["sns.amazonaws.com"])))
        .blank()
        .comment("Only for what these topics dead-letter.")
        .block(condition("ArnEquals", "aws:SourceArn", Expr::List(arns)))
}

/// CloudWatch Logs may use the key for this module's log groups only.
fn log_groups_statement(log_groups: &[AwsName]) -> Block {
    let arns = log_groups
        .iter()
        .map(|g| raw(format!("\"{}\"", log_group_arn(g))))
        .collect();
    Block::new("statement", Vec::<String>::new())
        .attr("sid", string("CloudWatchLogsEncryptLogGroups"))
        .attr("actions", strings(LOGS_ENCRYPTION_ACTIONS))
        .attr("resources", strings(["*"]))
        .blank()
        .comment("CloudWatch Logs' regional service principal, in this partition's DNS suffix.")
        .block(principals(
            "Service",
            raw("[\"logs.${local.region}.${local.dns_suffix}\"]"),
        ))
        .blank()
        .comment("Only for this module's log groups.")
        .block(condition(
            "ArnEquals",
            "kms:EncryptionContext:aws:logs:arn",
            Expr::List(arns),
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_wrap_between_words_at_110_characters() {
        let text = "word ".repeat(60).trim_end().to_string();
        let lines = wrapped(&text);
        assert!(lines.lines().count() > 2);
        assert!(lines.lines().all(|l| l.len() <= 110 && !l.ends_with(' ')));
        assert_eq!(lines.replace('\n', " "), text);
        assert_eq!(wrapped("short"), "short");
    }

    #[test]
    fn lists_read_as_prose() {
        assert_eq!(and_list(&["a"]), "a");
        assert_eq!(and_list(&["a", "b"]), "a and b");
        assert_eq!(and_list(&["a", "b", "c"]), "a, b and c");
    }
}
