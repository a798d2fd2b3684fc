//! `queues.tf`: one callback queue per `[queues.*]`, its dead-letter queue and the redrive allow policy that
//! lets only that queue send to it.

use std::collections::HashMap;

use super::{address, aws_name, deny_insecure_transport, policy, queue_key_input, var};
use crate::duration::format_seconds;
use crate::emit::hcl::{Block, Expr, File, boolean, number, raw, string};
use crate::model::{DeadLetter, Encryption, Model, Queue, Step, input};

/// The file.
pub(super) fn file(header: &str, model: &Model) -> File {
    let mut file = File::new(header);
    let steps_by_queue = model.steps_by_queue();
    for queue in &model.queues {
        file.push_commented(
            &format!(
                "Queue {:?}: {} here; a worker receives them.",
                queue.key,
                senders(&steps_by_queue, queue)
            ),
            source_queue(queue),
        );
        file.push_commented(
            &format!("Queue {:?} refuses every request not made over TLS.", queue.key),
            tls_only(&queue.key, false),
        );
        if let Some(dlq) = &queue.dead_letter {
            file.push_commented(
                &format!("Dead-letter queue of {:?}: messages no worker could handle.", queue.key),
                dead_letter_queue(queue, dlq),
            );
            file.push_commented(
                &format!(
                    "Only queue {:?} may send messages to this dead-letter queue.",
                    queue.key
                ),
                redrive_allow_policy(queue),
            );
            file.push_commented(
                &format!(
                    "The dead-letter queue of {:?} refuses every request not made over TLS too.",
                    queue.key
                ),
                tls_only(&queue.key, true),
            );
        }
    }
    file
}

/// Which steps send to the queue. Resolve refuses a queue no step uses, so none is a bug.
fn senders(steps_by_queue: &HashMap<&str, Vec<&Step>>, queue: &Queue) -> String {
    let steps: Vec<String> = steps_by_queue
        .get(queue.key.as_str())
        .into_iter()
        .flatten()
        .map(|s| format!("{:?}", s.name))
        .collect();
    match steps.as_slice() {
        [] => panic!(
            "bug: no step sends to queue {:?}; resolve refuses unused queues",
            queue.key
        ),
        [one] => format!("step {one} sends its input and task token"),
        many => format!("steps {} send their input and task token", many.join(", ")),
    }
}

fn source_queue(queue: &Queue) -> Block {
    let mut block = address::queue(&queue.key)
        .declare()
        .attr("name", aws_name(&queue.name))
        .attr_opt("fifo_queue", queue.fifo.then(|| boolean(true)));
    if queue.fifo {
        block = block
            .comment("Every message holds a unique task token, so its body is a safe deduplication key.")
            .attr("content_based_deduplication", boolean(true));
    }
    block = block
        .attr("visibility_timeout_seconds", number(queue.visibility_timeout_seconds))
        .attr("message_retention_seconds", number(queue.retention_seconds))
        .attr("receive_wait_time_seconds", number(queue.receive_wait_seconds));
    block = encrypted(block.blank(), queue);
    if let Some(dlq) = &queue.dead_letter {
        block = block.blank().attr(
            "redrive_policy",
            Expr::Call(
                "jsonencode".into(),
                vec![Expr::Object(vec![
                    (
                        "deadLetterTargetArn".into(),
                        address::dead_letter_queue(&queue.key).attr("arn"),
                    ),
                    ("maxReceiveCount".into(), number(u64::from(dlq.max_receives))),
                ])],
            ),
        );
    }
    block.blank().attr("tags", raw("local.tags"))
}

fn dead_letter_queue(queue: &Queue, dlq: &DeadLetter) -> Block {
    let mut block = address::dead_letter_queue(&queue.key)
        .declare()
        .attr("name", aws_name(&dlq.name))
        .attr_opt("fifo_queue", queue.fifo.then(|| boolean(true)));
    if let Some(reader) = &dlq.fail_execution {
        block = block
            .comment(&format!(
                "The dead-letter Lambda reads this queue: AWS recommends six times the function's timeout (the\n\
                 callback's) for an SQS event source, so that a batch is not handed out again while the function\n\
                 works on it ({} by default).",
                format_seconds(reader.visibility_timeout_seconds)
            ))
            .attr(
                "visibility_timeout_seconds",
                raw(format!(
                    "{} * var.{}",
                    reader.callback_timeouts,
                    input::CALLBACK_TIMEOUT_SECONDS
                )),
            );
    }
    encrypted(block, queue)
        .comment(&retention_reason(queue, dlq))
        .attr("message_retention_seconds", number(dlq.retention_seconds))
        .blank()
        .attr("tags", raw("local.tags"))
}

/// Why the dead-letter queue keeps messages as long as SQS allows, as SQS documents its retention: a standard
/// queue's message keeps its first enqueue time when it is dead-lettered, a FIFO queue's starts again.
fn retention_reason(queue: &Queue, dlq: &DeadLetter) -> String {
    let longest = format_seconds(dlq.retention_seconds);
    if queue.fifo {
        format!(
            "{longest}, the SQS maximum: a FIFO dead-letter queue restarts a message's retention when it\narrives, so every dead-lettered message stays {longest} for someone to look at."
        )
    } else {
        format!(
            "{longest}, the SQS maximum: a dead-lettered message keeps its first enqueue time, so it\nmust outlive the source queue's retention or it could expire on arrival."
        )
    }
}

fn redrive_allow_policy(queue: &Queue) -> Block {
    address::redrive_allow_policy(&queue.key)
        .declare()
        .attr("queue_url", address::dead_letter_queue(&queue.key).attr("id"))
        .attr(
            "redrive_allow_policy",
            Expr::Call(
                "jsonencode".into(),
                vec![Expr::Object(vec![
                    ("redrivePermission".into(), string("byQueue")),
                    (
                        "sourceQueueArns".into(),
                        Expr::List(vec![address::queue(&queue.key).attr("arn")]),
                    ),
                ])],
            ),
        )
}

/// The queue's resource policy (`dead_letter`: its dead-letter queue's): every request not made over TLS is
/// denied, whoever makes it. Written with `jsonencode()`, not a policy document data source: a data source
/// that reads the queue is read again at apply time whenever the queue changes, so every change to a queue
/// would show its policy as an update in the plan.
fn tls_only(key: &str, dead_letter: bool) -> Block {
    let queue = if dead_letter {
        address::dead_letter_queue(key)
    } else {
        address::queue(key)
    };
    let statement = deny_insecure_transport("sqs:*", queue.attr("arn"));
    address::queue_policy(key, dead_letter)
        .declare()
        .attr("queue_url", queue.attr("id"))
        .attr("policy", policy(vec![statement]))
}

/// The queue's encryption (a dead-letter queue takes its source queue's): a key it names by ARN or alias
/// comes from its key input.
fn encrypted(block: Block, queue: &Queue) -> Block {
    match &queue.encryption {
        Encryption::ServiceManaged => block.attr("sqs_managed_sse_enabled", boolean(true)),
        Encryption::ModuleKey => block
            .attr("kms_master_key_id", address::module_key().attr("arn"))
            .attr("kms_data_key_reuse_period_seconds", number(300)),
        Encryption::KeyArn(_) | Encryption::KeyAlias(_) => block
            .attr("kms_master_key_id", var(&queue_key_input(queue)))
            .attr("kms_data_key_reuse_period_seconds", number(300)),
    }
}
