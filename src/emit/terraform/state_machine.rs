//! `state_machine.tf`: the Standard state machine (its definition is `templatefile()` of the ASL file) and
//! its execution log group, which exists while `var.log_level` is not `OFF`.

use super::{
    address, aws_name, feature_on, log_group, namespace, plan_time_assert, role_permissions, state_machine_key_arn, var,
};
use crate::emit::hcl::{Block, Expr, File, number, raw, string};
use crate::emit::{ASL_FILE, queue_url_var};
use crate::model::{CustomerKey, Feature, LogMetric, Model, Namespace, RoleId, input};

/// The `check` that warns when the execution logs would hold task tokens.
pub const TOKENS_CHECK: &str = "task_tokens_stay_out_of_execution_logs";

/// The file.
pub(super) fn file(header: &str, model: &Model) -> File {
    let mut file = File::new(header);
    file.push_commented(
        "Execution logs, unless var.log_level is \"OFF\". The /aws/vendedlogs/ prefix keeps the log group's resource\npolicy small.",
        log_group(
            &address::state_machine_log_group(),
            &model.state_machine.logging.log_group,
            Some(raw(format!("{} ? 1 : 0", feature_on(Feature::ExecutionLogging)))),
        ),
    );
    file.push(state_machine(model));
    for metric in &model.business_failures {
        file.push_commented(
            "Executions that end in a Fail state the spec declares (a catch's fail) are business outcomes, not faults:\n\
             counted here from the execution log's ExecutionFailed events, so that the executions_failed alarm and the\n\
             dashboard can take them out of ExecutionsFailed. No log events while var.log_level is \"OFF\": then every\n\
             failure counts as a fault.",
            business_failure_filter(metric),
        );
    }
    file.push_commented(
        "sfngen's guard rail, kept for every environment: at level ALL, execution data logs every task's message,\ntask token included, and a token completes or fails its task for whoever reads it.",
        tokens_check(),
    );
    file
}

/// A `check` (a warning at plan time, as the render-time guard rail is): task tokens stay out of the
/// execution logs.
fn tokens_check() -> Block {
    let (level, data) = (input::LOG_LEVEL, input::INCLUDE_EXECUTION_DATA);
    Block::new("check", [TOKENS_CHECK]).block(plan_time_assert(
        format!("!(var.{level} == \"ALL\" && var.{data})"),
        &format!(
            "With {level} ALL, {data} puts every task token in CloudWatch Logs: whoever can read the log group can complete or fail those tasks."
        ),
    ))
}

fn state_machine(model: &Model) -> Block {
    let sm = &model.state_machine;
    let mut block = address::state_machine().declare();
    if !sm.tracing {
        block = block.checkov_skip(
            "CKV_AWS_284",
            "X-Ray tracing is opt-in: var.tracing is false by default (the spec's [state_machine] tracing).",
        );
    }
    if !sm.logging.include_execution_data {
        block = block.checkov_skip(
            "CKV_AWS_285",
            "execution data can hold personal data: var.include_execution_data opts in (false by default, as in the spec).",
        );
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
        .block(encryption_configuration(model))
        .block(logging_configuration())
        .block(Block::new("tracing_configuration", Vec::<String>::new()).attr("enabled", var(input::TRACING)))
        .blank()
        .attr("tags", raw("local.tags"))
        .blank()
        .comment("Step Functions checks the role's permissions (log delivery, SQS) when the state machine is created.")
        .attr("depends_on", Expr::List(role_permissions(model, RoleId::StateMachine)))
}

/// `templatefile()` of the ASL file, with the partition and each queue's URL.
fn definition(model: &Model) -> Expr {
    let mut template_vars = vec![("partition".into(), raw("local.partition"))];
    template_vars.extend(
        model
            .queues
            .iter()
            .map(|q| (queue_url_var(&q.key).into(), address::queue(&q.key).attr("url"))),
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
fn encryption_configuration(model: &Model) -> Block {
    let block = Block::new("encryption_configuration", Vec::<String>::new());
    let Some(key) = &model.state_machine.encryption else {
        return block
            .comment("Written even when AWS-owned: a left-out block would keep a previous customer managed key.")
            .attr("type", string("AWS_OWNED_KEY"));
    };
    let (key_arn, note) = match key {
        CustomerKey::Module => (address::module_key().attr("arn"), ""),
        CustomerKey::Arn(_) | CustomerKey::Alias(_) => (
            state_machine_key_arn(model),
            "\nYour key's policy must let IAM policies in this account grant it, as the roles' policies here do, and\n\
             let delivery.logs.amazonaws.com decrypt while execution logging is on (kms:EncryptionContext:SourceArn\n\
             arn:PARTITION:logs:REGION:ACCOUNT:*).",
        ),
    };
    block
        .comment(&format!(
            "A customer managed key over AWS's own encryption of the definition and execution history:\n\
             whoever starts, reads or answers executions needs kms:Decrypt and kms:GenerateDataKey on it.{note}"
        ))
        .attr("type", string("CUSTOMER_MANAGED_KMS_KEY"))
        .attr("kms_key_id", key_arn)
        .attr("kms_data_key_reuse_period_seconds", number(300))
}

/// Always written, `OFF` included: the provider keeps an Optional+Computed block that is left out, so
/// removing it would leave logging on in AWS.
fn logging_configuration() -> Block {
    Block::new("logging_configuration", Vec::<String>::new())
        .comment("Written even when var.log_level is \"OFF\": a left-out block would keep the previous setting in AWS.")
        .attr(
            "log_destination",
            raw(format!(
                "{} ? \"${{{}[0].arn}}:*\" : null",
                feature_on(Feature::ExecutionLogging),
                address::state_machine_log_group()
            )),
        )
        .attr("include_execution_data", var(input::INCLUDE_EXECUTION_DATA))
        .attr("level", var(input::LOG_LEVEL))
}

/// The execution log group as a metric filter on it names it, and the `count` the filter takes from it: in one
/// place, for whatever decides whether the log group exists (today `var.log_level`, through its `count`).
fn execution_log_group() -> (Option<Expr>, Expr) {
    (
        Some(raw(format!("{} ? 1 : 0", feature_on(Feature::ExecutionLogging)))),
        raw(format!("{}[0].name", address::state_machine_log_group())),
    )
}

/// A metric filter on the execution log counting the executions that ended in one of the declared Fail errors.
fn business_failure_filter(metric: &LogMetric) -> Block {
    let (count, log_group_name) = execution_log_group();
    let mut block = address::log_metric_filter(metric.id).declare();
    if let Some(count) = count {
        block = block.attr("count", count).blank();
    }
    block
        .attr("name", aws_name(&metric.filter_name))
        .attr("log_group_name", log_group_name)
        .attr("pattern", string(&metric.pattern()))
        .block(
            Block::new("metric_transformation", Vec::<String>::new())
                .attr("name", string(metric.metric))
                .attr("namespace", namespace(Namespace::Module))
                .attr("value", string("1"))
                .attr("unit", string("Count")),
        )
}
