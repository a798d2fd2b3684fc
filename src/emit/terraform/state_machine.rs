//! `state_machine.tf`: the Standard state machine (its definition is `templatefile()` of the ASL file; each
//! change publishes a version), the alias executions start through, and its execution log group, which exists at
//! every log level.

use super::{
    address, aws_name, feature_on, log_group, log_metric_filter, plan_time_assert, role_permissions,
    state_machine_key_arn, var,
};
use crate::emit::hcl::{Block, Expr, File, boolean, number, raw, string};
use crate::emit::{ASL_FILE, channel_var, queue_url_var};
use crate::model::{Channel, CustomerKey, Feature, LogMetric, Model, RoleId, input};

/// The `check` that warns when the execution logs would hold task tokens.
pub const TOKENS_CHECK: &str = "task_tokens_stay_out_of_execution_logs";

/// How long `terraform destroy` (or a replacement) waits for DeleteStateMachine to finish.
pub const DELETE_TIMEOUT: &str = "15m";

/// The file.
pub(super) fn file(header: &str, model: &Model) -> File {
    let mut file = File::new(header);
    file.push_commented(
        "Execution logs. The group exists at every log level: log_level = \"OFF\" changes only the state machine's\n\
         logging configuration, and the group keeps its logs and retention. The /aws/vendedlogs/ prefix keeps the log\n\
         group's resource policy small.",
        log_group(
            &address::state_machine_log_group(),
            &model.state_machine.logging.log_group,
        ),
    );
    file.push_commented(
        "Earlier renders counted the group on the log level ([0] while on): an applied module moves it, nothing is destroyed.",
        moved_log_group(),
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
        "Executions start through this alias (output state_machine_alias_arn), never the state machine's own ARN: it\n\
         routes every execution to one published version, the last apply's unless var.state_machine_version names\n\
         another (rolling back is that one input). An execution keeps the version it started on.",
        alias(),
    );
    file.push_commented(
        "sfngen's guard rail, kept for every environment: at level ALL, execution data logs every task's message,\ntask token included, and a token completes or fails its task for whoever reads it.",
        tokens_check(),
    );
    file
}

/// The execution log group's address before it lost its `count`, moved to the one it has now.
fn moved_log_group() -> Block {
    let group = address::state_machine_log_group();
    Block::new("moved", Vec::<String>::new())
        .attr("from", raw(format!("{group}[0]")))
        .attr("to", group.reference())
}

/// The alias, routing all executions to one version.
fn alias() -> Block {
    let version = input::STATE_MACHINE_VERSION;
    address::state_machine_alias()
        .declare()
        .attr("name", string(address::STATE_MACHINE_ALIAS_NAME))
        .attr(
            "description",
            string("Executions start here: the version var.state_machine_version names, else the last one published."),
        )
        .blank()
        .block(
            Block::new("lifecycle", Vec::<String>::new())
                .comment(
                    "Deleting the state machine deletes its aliases: when it is replaced (a new name), the alias is\n\
                     created again with it rather than updated in place.",
                )
                .attr(
                    "replace_triggered_by",
                    Expr::List(vec![address::state_machine().attr("arn")]),
                ),
        )
        .block(
            Block::new("routing_configuration", Vec::<String>::new())
                .attr(
                    "state_machine_version_arn",
                    raw(format!(
                        "var.{version} != null ? var.{version} : {}.state_machine_version_arn",
                        address::state_machine()
                    )),
                )
                .attr("weight", number(100)),
        )
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
        .blank()
        .comment(
            "Every apply that changes the state machine publishes a version (AWS keeps at most 1,000 per state\n\
             machine: the module README says how to delete old ones); the alias below routes to it.",
        )
        .attr("publish", boolean(true))
        .block(encryption_configuration(model))
        .block(logging_configuration())
        .block(Block::new("tracing_configuration", Vec::<String>::new()).attr("enabled", var(input::TRACING)))
        .blank()
        .attr("tags", raw("local.tags"))
        .blank()
        .block(
            Block::new("timeouts", Vec::<String>::new())
                .comment(
                    "DeleteStateMachine ends executions at their next state transition, which an execution waiting on a\n\
                     callback never makes: a destroy, a rename or a replacement then waits this long and fails. Stop the\n\
                     running executions first (the module README, \"Deleting or renaming the state machine\").",
                )
                .attr("delete", string(DELETE_TIMEOUT)),
        )
        .blank()
        .comment("Step Functions checks the role's permissions (log delivery, SQS) when the state machine is created.")
        .attr("depends_on", Expr::List(role_permissions(model, RoleId::StateMachine)))
}

/// `templatefile()` of the ASL file, with the partition, each queue's URL and each topic's ARN.
fn definition(model: &Model) -> Expr {
    let mut template_vars = vec![("partition".into(), raw("local.partition"))];
    template_vars.extend(
        model
            .queues
            .iter()
            .map(|q| (queue_url_var(&q.key).into(), address::queue(&q.key).attr("url"))),
    );
    // Each bus's ARN (EventBusName takes a name or an ARN): a custom bus's attribute, an existing bus's built ARN.
    template_vars.extend(model.buses.iter().map(|b| {
        (
            channel_var(&Channel::Bus(b.key.clone())).into(),
            super::buses::bus_arn(b),
        )
    }));
    template_vars.extend(model.topics.iter().map(|t| {
        (
            channel_var(&Channel::Topic(t.key.clone())).into(),
            address::topic(&t.key).attr("arn"),
        )
    }));
    if model.approvals.is_some() {
        template_vars.push((
            crate::emit::APPROVALS_QUEUE_URL_VAR.into(),
            address::approvals_queue().attr("url"),
        ));
    }
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
                "{} ? \"${{{}.arn}}:*\" : null",
                feature_on(Feature::ExecutionLogging),
                address::state_machine_log_group()
            )),
        )
        .attr("include_execution_data", var(input::INCLUDE_EXECUTION_DATA))
        .attr("level", var(input::LOG_LEVEL))
}

/// The execution log group's name, as a metric filter on it names it. The group exists at every log level, so
/// the filters do too (no events reach them while var.log_level is "OFF").
fn execution_log_group() -> Expr {
    address::state_machine_log_group().attr("name")
}

/// A metric filter on the execution log counting the executions that ended in one of the declared Fail errors.
fn business_failure_filter(metric: &LogMetric) -> Block {
    log_metric_filter(metric, execution_log_group())
}
