//! `state_machine.tf`: the Standard state machine (its definition is `templatefile()` of the ASL file) and
//! its execution log group.

use super::{address, aws_name, log_group};
use crate::emit::hcl::{Block, Expr, File, boolean, number, raw, string};
use crate::emit::{ASL_FILE, queue_url_var};
use crate::model::{CustomerKey, Logging, Model, RoleId};

/// The file.
pub(super) fn file(header: &str, model: &Model) -> File {
    let mut file = File::new(header);
    if let Some(logging) = &model.state_machine.logging {
        file.push_commented(
            "Execution logs. The /aws/vendedlogs/ prefix keeps the log group's resource policy small.",
            log_group(&address::state_machine_log_group(), &logging.log_group),
        );
    }
    file.push(state_machine(model));
    file
}

fn state_machine(model: &Model) -> Block {
    let sm = &model.state_machine;
    let mut block = address::state_machine().declare();
    if !sm.tracing {
        block = block.checkov_skip(
            "CKV_AWS_284",
            "X-Ray tracing is opt-in (spec: [state_machine] tracing = true).",
        );
    }
    match &sm.logging {
        None => {
            block = block.checkov_skip(
                "CKV_AWS_285",
                "execution logging is off by the spec (log_level = \"OFF\").",
            )
        }
        Some(l) if !l.include_execution_data => {
            block = block.checkov_skip(
                "CKV_AWS_285",
                "execution data can hold personal data; opt in with [state_machine] include_execution_data = true.",
            )
        }
        Some(_) => {}
    }
    block
        .attr("name", aws_name(&sm.name))
        .attr("type", string("STANDARD"))
        .attr("role_arn", address::role(RoleId::StateMachine).attr("arn"))
        .blank()
        .comment(&format!(
            "The workflow lives in {ASL_FILE}, beside this file, so that it reads as plain ASL."
        ))
        .attr("definition", definition(model))
        .block(encryption_configuration(model, sm.encryption.as_ref()))
        .block(logging_configuration(sm.logging.as_ref()))
        .block(Block::new("tracing_configuration", Vec::<String>::new()).attr("enabled", boolean(sm.tracing)))
        .blank()
        .attr("tags", raw("local.tags"))
        .blank()
        .comment("Step Functions checks the role's permissions (log delivery, SQS) when the state machine is created.")
        .attr(
            "depends_on",
            Expr::List(vec![address::role_policy(RoleId::StateMachine).reference()]),
        )
}

/// `templatefile()` of the ASL file, with the partition and each queue's URL.
fn definition(model: &Model) -> Expr {
    let mut template_vars = vec![("partition".to_string(), raw("local.partition"))];
    template_vars.extend(
        model
            .queues
            .iter()
            .map(|q| (queue_url_var(&q.key), address::queue(&q.key).attr("url"))),
    );
    Expr::Call(
        "templatefile".into(),
        vec![
            raw(format!("\"${{path.module}}/{ASL_FILE}\"")),
            Expr::Object(template_vars),
        ],
    )
}

/// Always written, an AWS-owned key included: the provider keeps an Optional+Computed block that is left
/// out, so removing it would leave a customer managed key in place in AWS.
fn encryption_configuration(model: &Model, key: Option<&CustomerKey>) -> Block {
    let block = Block::new("encryption_configuration", Vec::<String>::new());
    let Some(key) = key else {
        return block
            .comment("Written even when AWS-owned: a left-out block would keep a previous customer managed key.")
            .attr("type", string("AWS_OWNED_KEY"));
    };
    let key_arn = match key {
        CustomerKey::Module => address::module_key().attr("arn"),
        CustomerKey::Arn(arn) => string(arn),
        CustomerKey::Alias(alias) => address::key_alias_lookup(model, alias).attr("target_key_arn"),
    };
    let mut comment = "A customer managed key over AWS's own encryption of the definition and execution history:\n\
                       whoever starts, reads or answers executions needs kms:Decrypt and kms:GenerateDataKey on it."
        .to_string();
    if *key != CustomerKey::Module {
        comment.push_str(
            "\nYour key's policy must let IAM policies in this account grant it, as the roles' policies here do",
        );
        comment.push_str(if model.state_machine.delivers_encrypted_logs() {
            ",\nand let delivery.logs.amazonaws.com decrypt (kms:EncryptionContext:SourceArn of this account's logs)."
        } else {
            "."
        });
    }
    block
        .comment(&comment)
        .attr("type", string("CUSTOMER_MANAGED_KMS_KEY"))
        .attr("kms_key_id", key_arn)
        .attr("kms_data_key_reuse_period_seconds", number(300))
}

/// Always written, `OFF` included: the provider keeps an Optional+Computed block that is left out, so
/// removing it would leave logging on in AWS.
fn logging_configuration(logging: Option<&Logging>) -> Block {
    let block = Block::new("logging_configuration", Vec::<String>::new());
    match logging {
        Some(logging) => block
            .attr(
                "log_destination",
                address::state_machine_log_group().attr_then("arn", ":*"),
            )
            .attr("include_execution_data", boolean(logging.include_execution_data))
            .attr("level", string(logging.level.as_str())),
        None => block
            .comment("Written even when off: a left-out block would keep the previous setting in AWS.")
            .attr("include_execution_data", boolean(false))
            .attr("level", string("OFF")),
    }
}
