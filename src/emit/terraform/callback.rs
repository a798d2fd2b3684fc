//! `callback.tf`: the callback Lambda (`provided.al2023`), its log group, and the event source mappings
//! through which it fails the tasks of dead-lettered messages.

use super::{address, aws_name, log_group};
use crate::emit::hcl::{Block, Expr, File, number, raw, string, strings};
use crate::model::{Callback, DEAD_LETTERED_ERROR, DeadLetterReader, Model, Queue, RoleId};

/// The file.
pub(super) fn file(header: &str, model: &Model) -> File {
    let mut file = File::new(header);
    file.push(log_group(&address::callback_log_group(), &model.callback.log_group));
    file.push(function(model));
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

fn dead_letter_mapping(queue: &Queue, reader: &DeadLetterReader) -> Block {
    address::dead_letter_mapping(&queue.key)
        .declare()
        .attr("event_source_arn", address::dead_letter_queue(&queue.key).attr("arn"))
        .attr("function_name", address::callback_function().attr("arn"))
        .attr("batch_size", number(u64::from(reader.batch_size)))
        .blank()
        .comment("The function names the records it could not settle yet; SQS hands out only those again.")
        .attr("function_response_types", strings(["ReportBatchItemFailures"]))
        .blank()
        .attr("tags", raw("local.tags"))
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
            "concurrency is unreserved by the spec ([callback] reserved_concurrency).",
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
        .attr("memory_size", number(u64::from(cb.memory_mb)))
        .attr("timeout", number(cb.timeout_seconds))
        .attr_opt(
            "reserved_concurrent_executions",
            cb.reserved_concurrency.map(|n| number(u64::from(n))),
        )
        .attr("filename", raw("local.callback_lambda_zip"))
        .attr("source_code_hash", raw("filebase64sha256(local.callback_lambda_zip)"))
        .block(
            Block::new("logging_config", Vec::<String>::new())
                .attr("log_format", string("JSON"))
                .attr("log_group", address::callback_log_group().attr("name")),
        )
        .block(tracing_config(cb))
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

/// Active with the state machine's tracing; PassThrough otherwise, never left out.
fn tracing_config(cb: &Callback) -> Block {
    let mut tracing = Block::new("tracing_config", Vec::<String>::new());
    if !cb.tracing {
        tracing = tracing.comment(
            "PassThrough, not left out: the provider keeps a left-out block's previous value (Active) in AWS.",
        );
    }
    tracing.attr("mode", string(if cb.tracing { "Active" } else { "PassThrough" }))
}
