//! `kms.tf`: the customer managed key (rotated), its alias, and a key policy that grants each service only
//! what it needs.

use super::iam::{condition, principals};
use super::{address, aws_name, name_text};
use crate::emit::hcl::{Block, Expr, File, boolean, number, raw, string, strings};
use crate::model::{AwsName, Model, ModuleKey};

/// The file.
pub(super) fn file(header: &str, model: &Model, key: &ModuleKey) -> File {
    let mut file = File::new(header);
    let what = match (key.users.is_empty(), key.log_groups.is_empty()) {
        (false, false) => "callback queues and log groups",
        (true, false) => "log groups",
        _ => "callback queues",
    };
    file.push_commented(
        "Customer managed key for the queues with encryption = \"kms\" and the log groups of [logs] encryption = \"kms\",\nrotated yearly by AWS.",
        address::module_key()
            .declare()
            .attr("description", string(&format!("Encrypts the {} {what}.", model.name)))
            .attr("enable_key_rotation", boolean(true))
            .attr("deletion_window_in_days", number(30))
            .attr("policy", address::key_policy_document().attr("json"))
            .attr("tags", raw("local.tags")),
    );
    file.push(
        address::module_key_alias()
            .declare()
            .attr("name", aws_name(&key.alias))
            .attr("target_key_id", address::module_key().attr("key_id")),
    );
    file.push_commented(
        "In a key policy \"*\" means this key. The account statement keeps the key manageable through IAM\n(without it the key could become unmanageable); the others grant only what their service needs.",
        key_policy(key),
    );
    file
}

fn key_policy(key: &ModuleKey) -> Block {
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
            .block(principals(
                "AWS",
                raw("[\"arn:${local.partition}:iam::${local.account_id}:root\"]"),
            )),
    );
    if !key.users.is_empty() {
        let users = key.users.iter().map(|id| address::role(*id).attr("arn")).collect();
        policy = policy.block(
            Block::new("statement", Vec::<String>::new())
                .attr("sid", string("RolesEncryptMessages"))
                .attr("actions", strings(["kms:Decrypt", "kms:GenerateDataKey"]))
                .attr("resources", strings(["*"]))
                .block(principals("AWS", Expr::List(users))),
        );
    }
    if !key.log_groups.is_empty() {
        policy = policy.block(log_groups_statement(&key.log_groups));
    }
    policy
}

/// CloudWatch Logs may use the key for this module's log groups only.
fn log_groups_statement(log_groups: &[AwsName]) -> Block {
    let arns = log_groups
        .iter()
        .map(|g| {
            raw(format!(
                "\"arn:${{local.partition}}:logs:${{local.region}}:${{local.account_id}}:log-group:{}\"",
                name_text(g)
            ))
        })
        .collect();
    Block::new("statement", Vec::<String>::new())
        .attr("sid", string("CloudWatchLogsEncryptLogGroups"))
        .attr(
            "actions",
            strings([
                "kms:Decrypt",
                "kms:DescribeKey",
                "kms:Encrypt",
                "kms:GenerateDataKey",
                "kms:GenerateDataKeyWithoutPlaintext",
                "kms:ReEncryptFrom",
                "kms:ReEncryptTo",
            ]),
        )
        .attr("resources", strings(["*"]))
        .block(principals("Service", raw("[\"logs.${local.region}.amazonaws.com\"]")))
        .blank()
        .comment("Only for this module's log groups.")
        .block(condition(
            "ArnLike",
            "kms:EncryptionContext:aws:logs:arn",
            Expr::List(arns),
        ))
}
