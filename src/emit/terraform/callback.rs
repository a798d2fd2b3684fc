//! `callback.tf`: the callback Lambda (`provided.al2023`), its log group, and the event source mappings
//! through which it fails the tasks of dead-lettered messages.

use super::{address, aws_name, feature_on, log_group, namespace, plan_time_assert, var};
use crate::duration::format_seconds;
use crate::emit::hcl::{Block, Expr, File, number, raw, string, strings, template_text};
use crate::model::{
    DEAD_LETTERED_ERROR, DeadLetterReader, Feature, LogMetric, LogMetricId, Model, Namespace, Queue, RoleId, input,
};

/// The `check` that warns when the callback may run longer than a queue hides a received message.
pub const VISIBILITY_CHECK: &str = "callback_timeout_fits_queue_visibility";

/// The `check` that warns when the dead-letter pollers could take every reserved invocation.
pub const CONCURRENCY_CHECK: &str = "dead_letter_pollers_leave_concurrency_for_workers";

/// The file.
pub(super) fn file(header: &str, model: &Model) -> File {
    let mut file = File::new(header);
    file.push(log_group(
        &address::callback_log_group(),
        &model.callback.log_group,
        None,
    ));
    file.push(function(model));
    for metric in &model.callback.log_metrics {
        file.push_commented(why_counted(metric.id), log_metric_filter(metric));
    }
    file.push_commented(
        "sfngen's guard rail, kept for every environment: a queue that hides a received message for less time than\nthe callback may run can hand it to a second worker while the first one's callback still runs.",
        visibility_check(model),
    );
    if model.dead_letter_pollers() > 0 {
        file.push_commented(
            "sfngen's guard rail, kept for every environment: reserved concurrency no greater than what the dead-letter\n\
             pollers may take leaves nothing for the workers' callbacks during a burst of dead letters.",
            concurrency_check(model),
        );
    }
    for (queue, reader) in model.dead_letter_readers() {
        file.push_commented(
            &format!(
                "A message in the dead-letter queue of {:?} was never answered: the function fails its task at once\n\
                 ({DEAD_LETTERED_ERROR}, which a step's catch can route) instead of leaving the execution to the step's timeout.",
                queue.key
            ),
            dead_letter_mapping(queue, reader),
        );
    }
    file
}

/// Why the module counts a metric from the callback's log lines, for the filter's comment.
fn why_counted(id: LogMetricId) -> &'static str {
    match id {
        LogMetricId::SpentTokens => {
            "A late or duplicate callback (a spent task token) is a result, not a Lambda error, so that the Errors alarm\nmeans a real fault: this metric counts them from the callback's JSON log lines."
        }
        LogMetricId::DeadLettersUnsettled => {
            "A dead letter the callback could not settle: \"failed\" (it could not fail the task: the message comes back\nafter the dead-letter queue's visibility timeout) or \"unusable\" (not a task message: dropped). The mapping keeps\nthe dead-letter queue's messages in flight, so its visible messages stay near zero however often this happens."
        }
    }
}

/// A metric filter on the callback's log group: one count of the metric per matching log line.
fn log_metric_filter(metric: &LogMetric) -> Block {
    address::log_metric_filter(metric.id)
        .declare()
        .attr("name", aws_name(&metric.filter_name))
        .attr("log_group_name", address::callback_log_group().attr("name"))
        .attr("pattern", string(&metric.pattern()))
        .block(
            Block::new("metric_transformation", Vec::<String>::new())
                .attr("name", string(metric.metric))
                .attr("namespace", namespace(Namespace::Module))
                .attr("value", string("1"))
                .attr("unit", string("Count")),
        )
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

/// A `check` (a warning at plan time, as the render-time guard rail is): reserved concurrency, when set,
/// leaves the workers' callbacks room beside the dead-letter pollers.
fn concurrency_check(model: &Model) -> Block {
    let pollers = model.dead_letter_pollers();
    let reserved = format!("var.{}", input::CALLBACK_RESERVED_CONCURRENCY);
    Block::new("check", [CONCURRENCY_CHECK]).block(plan_time_assert(
        format!("{reserved} == null ? true : {reserved} > {pollers}"),
        &format!(
            "The callback reads its dead-letter queues with up to {pollers} invocations at once: a {} of {pollers} or less leaves none for the workers' callbacks while it does.",
            input::CALLBACK_RESERVED_CONCURRENCY
        ),
    ))
}

fn dead_letter_mapping(queue: &Queue, reader: &DeadLetterReader) -> Block {
    address::dead_letter_mapping(&queue.key)
        .declare()
        .attr("event_source_arn", address::dead_letter_queue(&queue.key).attr("arn"))
        .attr("function_name", address::callback_function().attr("arn"))
        .attr("batch_size", number(u64::from(reader.batch_size)))
        .blank()
        .block(
            Block::new("scaling_config", Vec::<String>::new())
                .comment(
                    "At most this many concurrent invocations from this queue, the least SQS allows: a burst of dead letters\n\
                     must not take the function's concurrency from workers' callbacks, whose throttling would bring more\n\
                     redeliveries, and more dead letters.",
                )
                .attr("maximum_concurrency", number(u64::from(reader.maximum_concurrency))),
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
            Expr::List(vec![address::role_policy(RoleId::Callback).reference()]),
        )
}

fn function(model: &Model) -> Block {
    let cb = &model.callback;
    let mut block = address::callback_function()
        .declare()
        .checkov_skip(
            "CKV_AWS_116",
            "invoked synchronously by workers, which see and retry errors; an async DLQ would never fire.",
        )
        .checkov_skip(
            "CKV_AWS_117",
            "calls only the Step Functions API; attaching a VPC is a deployment choice.",
        )
        .checkov_skip(
            "CKV_AWS_272",
            "code signing needs a signing profile outside this module.",
        );
    if cb.reserved_concurrency.is_none() {
        block = block.checkov_skip(
            "CKV_AWS_115",
            "concurrency is unreserved by default: var.callback_reserved_concurrency is null, as the spec leaves it.",
        );
    }
    block
        .attr("function_name", aws_name(&cb.function_name))
        .attr(
            "description",
            string(&format!(
                "Answers {} task tokens with SendTaskSuccess, SendTaskFailure or SendTaskHeartbeat.",
                model.name
            )),
        )
        .attr("role", address::role(RoleId::Callback).attr("arn"))
        .attr("runtime", string("provided.al2023"))
        .attr("handler", string("bootstrap"))
        .attr("architectures", strings([cb.architecture.as_str()]))
        .attr("memory_size", var(input::CALLBACK_MEMORY_MB))
        .attr("timeout", var(input::CALLBACK_TIMEOUT_SECONDS))
        .attr(
            "reserved_concurrent_executions",
            var(input::CALLBACK_RESERVED_CONCURRENCY),
        )
        .attr("filename", raw("local.callback_lambda_zip"))
        .attr("source_code_hash", raw("filebase64sha256(local.callback_lambda_zip)"))
        .block(
            Block::new("logging_config", Vec::<String>::new())
                .attr("log_format", string("JSON"))
                .attr("log_group", address::callback_log_group().attr("name")),
        )
        .block(tracing_config())
        .block(package_precondition())
        .blank()
        .attr("tags", raw("local.tags"))
        .blank()
        .comment("The log group and the role's permissions must exist before the first invocation.")
        .attr(
            "depends_on",
            Expr::List(vec![
                address::callback_log_group().reference(),
                address::role_policy(RoleId::Callback).reference(),
            ]),
        )
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
