//! `callback.tf`: the Lambda functions (`provided.al2023`, one package in two modes): the callback, which
//! workers invoke, and the dead-letter function with the event source mappings through which it fails the
//! tasks of dead-lettered messages; each with its log group and the metrics counted from its log lines.

use super::address::Address;
use super::{address, aws_name, feature_on, log_group, log_metric_filter, plan_time_assert, role_permissions, var};
use crate::duration::format_seconds;
use crate::emit::hcl::{Block, Expr, File, number, raw, string, strings, template_text};
use crate::model::{
    DEAD_LETTERED_ERROR, DeadLetterReader, EnvValue, FUNCTION_MODE_VARIABLE, Feature, Function, FunctionId, Invoker,
    LogMetric, LogMetricId, Model, input,
};

/// The `check` that warns when the callback may run longer than a queue hides a received message.
pub const VISIBILITY_CHECK: &str = "callback_timeout_fits_queue_visibility";

/// The file.
pub(super) fn file(header: &str, model: &Model) -> File {
    let mut file = File::new(header);
    for function in &model.functions {
        file.push(log_group(
            &address::function_log_group(function.id),
            &function.log_group,
        ));
        file.push_commented(why_its_own(function), function_block(model, function));
        for metric in &function.log_metrics {
            file.push_commented(why_counted(metric.id), function_log_metric_filter(function, metric));
        }
    }
    // A module whose steps all publish to topics or buses has no queue to check (Terraform refuses a check
    // without an assert).
    if !model.queues.is_empty() {
        file.push_commented(
            "sfngen's guard rail, kept for every environment: a queue that hides a received message for less time than\nthe callback may run can hand it to a second worker while the first one's callback still runs.",
            visibility_check(model),
        );
    }
    if let Some(reader) = model.dead_letter_function() {
        for (queue, settings) in model.dead_letter_readers() {
            file.push_commented(
                &format!(
                    "A message in the dead-letter queue of {:?} was never answered: the dead-letter function fails its task at\n\
                     once ({DEAD_LETTERED_ERROR}, which a step's catch can route) instead of leaving the execution to the step's timeout.",
                    queue.key
                ),
                dead_letter_mapping(
                    model,
                    address::dead_letter_mapping(&queue.key),
                    address::dead_letter_queue(&queue.key).attr("arn"),
                    settings,
                    reader,
                ),
            );
            file.push_commented(
                "The mapping's UUID for the operator's policy, which names the mapping by its ARN. Terraform reads a
                 document that refers to a resource with a change planned again at apply time, so a change to the
                 mapping in place (its tags, var.dead_letter_mappings_enabled) would show the policy as \"(known after
                 apply)\". This copy of the UUID has no change then, and the document reads it at plan time.",
                address::dead_letter_mapping_uuid(&queue.key)
                    .declare()
                    .attr("input", address::dead_letter_mapping(&queue.key).attr("uuid")),
            );
        }
    }
    file
}

/// Why a function is there, and who may invoke it.
fn why_its_own(function: &Function) -> &'static str {
    match function.invoker {
        Invoker::Workers => {
            "The function workers invoke (worker_policy_json grants lambda:InvokeFunction on it, and on nothing else) to\nanswer their tasks. It refuses SQS batches: dead letters are not a worker's to report."
        }
        Invoker::DeadLetterMappings => {
            "The dead-letter function, the same package in another mode: only the event source mappings below invoke it,\nand it has its own role (SendTaskFailure, the dead-letter queues), so that no worker can fail a task as\ndead-lettered. Anything in a worker's event can be forged; which function runs, and in which mode, cannot."
        }
        Invoker::FunctionUrl(_) if function.id == FunctionId::Endpoint => {
            "The callback endpoint: the same package behind a function URL (endpoint.tf), taking the callback's own JSON\nevent over HTTPS from outside AWS. Its own role: it answers tasks and reads its signing secret, nothing else."
        }
        Invoker::FunctionUrl(_) => {
            "The approval page: the same package behind a public function URL (approvals.tf). A link's KMS MAC is its\nauthorization; GET shows a request and changes nothing, POST decides it once. It reads the table, verifies\nMACs and answers tasks, nothing else."
        }
        Invoker::ApprovalsMapping => {
            "The approval notifier: only the approvals queue's event source mapping invokes it. It keeps each token in the\napprovals table under an opaque id, signs the link with the HMAC key and sends the link on the step's channel."
        }
    }
}

/// Why the module counts a metric from log lines, for the filter's comment.
pub(super) fn why_counted(id: LogMetricId) -> &'static str {
    match id {
        LogMetricId::SpentTokens => {
            "A late or duplicate callback (a spent task token) is a result, not a Lambda error, so that the Errors alarm\nmeans a real fault: this metric counts them from the callback's JSON log lines."
        }
        LogMetricId::InvalidTokens => {
            "A token Step Functions never issued (InvalidToken: changed or cut short on its way) is a worker's bug, whose\ntask waits until its timeout: an error to the worker, and counted here, apart from spent tokens."
        }
        LogMetricId::BusinessFailures { .. } => {
            "Executions that ended in a Fail state the spec declares: a business outcome, not a fault."
        }
        LogMetricId::EndpointSpentTokens | LogMetricId::EndpointInvalidTokens => {
            "The endpoint answers with the callback's code: its spent and invalid tokens count into the callback's metrics."
        }
        LogMetricId::EndpointUnauthorized => {
            "Requests the endpoint refused for their signature or caller (401, 403): a wrong secret or clock, or a probe."
        }
        LogMetricId::ApprovalNotificationsFailed => {
            "Notifications the notifier could not send: the request comes back, and after its receives fails its task."
        }
        LogMetricId::ApprovalDecisionsFailed => {
            "Decisions that failed for a fault (DynamoDB, KMS, Step Functions): the person saw an error page."
        }
        LogMetricId::ApprovalsExpired => "Approval links opened after they expired: nobody decided in time.",
        LogMetricId::ApprovalLinksInvalid => "Approval links whose MAC does not verify: changed by hand, or forged.",
        LogMetricId::DeadLettersUnsettled => {
            "A dead letter the dead-letter function could not settle: \"failed\" (it could not fail the task: the message\ncomes back after the dead-letter queue's visibility timeout) or \"unusable\" (not a task message: dropped). The\nmapping keeps the dead-letter queue's messages in flight, so its visible messages stay near zero however often\nthis happens."
        }
    }
}

/// A metric filter on a function's log group: one count of the metric per matching log line.
fn function_log_metric_filter(function: &Function, metric: &LogMetric) -> Block {
    log_metric_filter(metric, address::function_log_group(function.id).attr("name"))
}

/// A `check` (a warning at plan time, as the render-time guard rail is): the callback's timeout fits each
/// queue's visibility timeout.
fn visibility_check(model: &Model) -> Block {
    let mut check = Block::new("check", [VISIBILITY_CHECK]);
    for queue in &model.queues {
        let visibility = queue.visibility_timeout_seconds;
        check = check.block(plan_time_assert(
            format!("var.{} <= {visibility}", input::CALLBACK_TIMEOUT_SECONDS),
            &format!(
                "Queue {:?} hides a received message for {} (its visibility timeout), less than {}: the message can reappear while its callback still runs.",
                queue.key,
                format_seconds(visibility),
                input::CALLBACK_TIMEOUT_SECONDS
            ),
        ));
    }
    check
}

/// The event source mapping at `mapping` through which the dead-letter function (`reader`) reads the dead-letter
/// queue whose ARN is `source` (a queue's, or a topic's).
pub(super) fn dead_letter_mapping(
    model: &Model,
    mapping: Address,
    source: Expr,
    settings: &DeadLetterReader,
    reader: &Function,
) -> Block {
    mapping
        .declare()
        .attr("event_source_arn", source)
        .attr("function_name", address::function(reader.id).attr("arn"))
        .attr("batch_size", number(u64::from(settings.batch_size)))
        .blank()
        .comment(
            "false pauses fail-fast (the runbook's \"Pause fail-fast\"): dead letters stay in the queue, their tasks wait.",
        )
        .attr("enabled", var(input::DEAD_LETTER_MAPPINGS_ENABLED))
        .blank()
        .block(
            Block::new("scaling_config", Vec::<String>::new())
                .comment(
                    "At most this many concurrent invocations from this queue, the least SQS allows: a burst of dead letters\n\
                     must not take the account's concurrency, which workers' callbacks need too (their throttling would bring\n\
                     more redeliveries, and more dead letters).",
                )
                .attr("maximum_concurrency", number(u64::from(settings.maximum_concurrency))),
        )
        .blank()
        .comment("The function names the records it could not settle yet; SQS hands out only those again.")
        .attr("function_response_types", strings(["ReportBatchItemFailures"]))
        .blank()
        .attr("tags", raw("local.tags"))
        .blank()
        .comment(
            "Lambda checks that the function's role may read the queue when it creates the mapping: the role's policy\n\
             names the queue by an ARN built from its name, which orders nothing, so the policy comes first here.",
        )
        .attr(
            "depends_on",
            Expr::List(role_permissions(model, reader.role)),
        )
}

fn function_block(model: &Model, function: &Function) -> Block {
    let cb = &model.callback;
    let mut block = address::function(function.id)
        .declare()
        .checkov_skip("CKV_AWS_116", async_dead_letter_queue_skip(function))
        .checkov_skip(
            "CKV_AWS_117",
            "calls only the Step Functions API; attaching a VPC is a deployment choice.",
        )
        .checkov_skip(
            "CKV_AWS_272",
            "code signing needs a signing profile outside this module.",
        )
        .checkov_skip(
            "CKV_AWS_173",
            &format!(
                "its one variable, {FUNCTION_MODE_VARIABLE}, names the function's mode: no secret; Lambda encrypts it at rest with an AWS managed key."
            ),
        );
    if function.reserved_concurrency_input().is_none() {
        block = block.checkov_skip(
            "CKV_AWS_115",
            "unreserved by design: its event source mappings cap its concurrent invocations (scaling_config), and it takes none of the callback's.",
        );
    } else if function.id == FunctionId::Callback && cb.reserved_concurrency.is_none() {
        block = block.checkov_skip(
            "CKV_AWS_115",
            "concurrency is unreserved by default: var.callback_reserved_concurrency is null, as the spec leaves it.",
        );
    }
    block = block
        .attr("function_name", aws_name(&function.name))
        .attr("description", string(&description(model, function)))
        .attr("role", address::role(function.role).attr("arn"))
        .attr("runtime", string("provided.al2023"))
        .attr("handler", string("bootstrap"))
        .attr("architectures", strings([cb.architecture.as_str()]))
        .attr("memory_size", var(input::CALLBACK_MEMORY_MB))
        .attr("timeout", var(input::CALLBACK_TIMEOUT_SECONDS));
    if let Some(reserved) = function.reserved_concurrency_input() {
        block = block.attr("reserved_concurrent_executions", var(reserved));
    }
    block
        .attr("filename", raw("local.callback_lambda_zip"))
        .attr("source_code_hash", raw("filebase64sha256(local.callback_lambda_zip)"))
        .blank()
        .block(
            Block::new("environment", Vec::<String>::new())
                .comment("The package runs as this function: its mode is the module's to set, never an event's.")
                .attr("variables", environment(model, function)),
        )
        .block(
            Block::new("logging_config", Vec::<String>::new())
                .attr("log_format", string("JSON"))
                .attr("log_group", address::function_log_group(function.id).attr("name")),
        )
        .block(tracing_config())
        .block(package_precondition())
        .blank()
        .attr("tags", raw("local.tags"))
        .blank()
        .comment("The log group and the role's permissions must exist before the first invocation.")
        .attr(
            "depends_on",
            Expr::List(
                std::iter::once(address::function_log_group(function.id).reference())
                    .chain(role_permissions(model, function.role))
                    .collect(),
            ),
        )
}

/// The function's environment: its mode, then what its mode reads (names and ARNs of the module's resources, never a
/// secret's value).
fn environment(model: &Model, function: &Function) -> Expr {
    let mut variables: Vec<(std::borrow::Cow<str>, Expr)> =
        vec![(FUNCTION_MODE_VARIABLE.into(), string(function.mode))];
    variables.extend(function.environment.iter().map(|(name, value)| {
        let value = match value {
            EnvValue::Text(text) => string(text),
            EnvValue::EndpointSecretArn => super::endpoint::secret_arn_of(model),
            EnvValue::ApprovalTable => address::approvals_table().attr("name"),
            EnvValue::ApprovalKey => address::approval_key().attr("arn"),
            EnvValue::ApprovalPageUrl => address::function_url(FunctionId::ApprovalPage).attr("function_url"),
        };
        ((*name).into(), value)
    }));
    Expr::Object(variables)
}

/// Why an asynchronous invocation's dead-letter queue (`dead_letter_config`) would never be used.
fn async_dead_letter_queue_skip(function: &Function) -> &'static str {
    match function.invoker {
        Invoker::Workers => {
            "invoked synchronously by workers, which see and retry errors; an async DLQ would never fire."
        }
        Invoker::DeadLetterMappings => {
            "invoked synchronously by its SQS event source mappings; a record it could not settle goes back to its queue, an async DLQ would never fire."
        }
        Invoker::FunctionUrl(_) => {
            "invoked synchronously through its function URL, which answers the caller; an async DLQ would never fire."
        }
        Invoker::ApprovalsMapping => {
            "invoked synchronously by the approvals queue's event source mapping; a failed record goes back to the queue, then to its dead-letter queue."
        }
    }
}

fn description(model: &Model, function: &Function) -> String {
    match function.id {
        FunctionId::Callback => format!(
            "Answers {} task tokens with SendTaskSuccess, SendTaskFailure or SendTaskHeartbeat.",
            model.name
        ),
        FunctionId::DeadLetters => format!(
            "Fails the {} tasks of dead-lettered messages with {DEAD_LETTERED_ERROR}; only its SQS event source mappings invoke it.",
            model.name
        ),
        FunctionId::Endpoint => format!(
            "Answers {} task tokens sent over HTTPS to its function URL (the callback's JSON event).",
            model.name
        ),
        FunctionId::ApprovalNotify => format!(
            "Keeps {} approval tokens in DynamoDB and sends each approval link.",
            model.name
        ),
        FunctionId::ApprovalPage => format!("Shows {} approval requests and records one decision each.", model.name),
    }
}

/// The package must be there: Terraform checks a resource's preconditions before it evaluates the
/// resource's arguments ("failed preconditions prevent further evaluation", `plan` in
/// https://github.com/hashicorp/terraform/blob/main/internal/terraform/node_resource_abstract_instance.go),
/// so a module without its package says what to do instead of failing inside `filebase64sha256`
/// (tests/e2e/test_git_source.py plans one).
fn package_precondition() -> Block {
    let advice = template_text(concat!(
        ": the module carries its package as callback.zip beside callback.tf. Render the module again with ",
        "`sfngen render` (it writes callback.zip), keep callback.zip when you copy or commit the module, or set ",
        "callback_lambda_zip to the path of a package (a zip holding a provided.al2023 `bootstrap`)."
    ));
    Block::new("lifecycle", Vec::<String>::new()).block(
        Block::new("precondition", Vec::<String>::new())
            .attr("condition", raw("fileexists(local.callback_lambda_zip)"))
            .attr(
                "error_message",
                raw(format!(
                    "\"No callback Lambda package at ${{local.callback_lambda_zip}}{advice}\""
                )),
            ),
    )
}

/// Active while var.tracing is on, PassThrough otherwise: never left out.
fn tracing_config() -> Block {
    Block::new("tracing_config", Vec::<String>::new())
        .comment(
            "PassThrough, not left out, when tracing is off: the provider keeps a left-out block's previous value.",
        )
        .attr(
            "mode",
            raw(format!(
                "{} ? \"Active\" : \"PassThrough\"",
                feature_on(Feature::Tracing)
            )),
        )
}
