//! `topics.tf`: one SNS topic per `[topics.*]`, its TLS-only topic policy, the subscriptions the spec declares
//! (raw message delivery where SNS offers it, each naming the topic's dead-letter queue in its redrive policy),
//! that dead-letter queue with the policy that lets only this topic's deliveries in, and the mapping through which
//! the dead-letter function fails the task of each message there.

use super::callback::dead_letter_mapping;
use super::{address, aws_name, deny_insecure_transport, iam_arn, policy, service_may_send, var};
use crate::duration::format_seconds;
use crate::emit::hcl::{Block, Expr, File, boolean, number, raw, string, strings};
use crate::model::{Channel, Encryption, Model, Subscription, Topic, TopicDeadLetter, input};

/// The file.
pub(super) fn file(header: &str, model: &Model) -> File {
    let mut file = File::new(header);
    for topic in &model.topics {
        file.push_commented(
            &format!(
                "Topic {:?}: {} here; its subscribers receive the task message and answer through the callback.",
                topic.key,
                publishers(model, topic)
            ),
            topic_block(topic),
        );
        if let Encryption::KeyAlias(_) = topic.encryption {
            file.push_commented(
                &format!(
                    "The ARN of the key topic {:?} names by alias, for the state machine's grant on it.",
                    topic.key
                ),
                address::topic_key_alias_lookup(&topic.key)
                    .declare()
                    .attr("name", var(&topic_key_input(topic))),
            );
        }
        file.push_commented(
            &format!(
                "Topic {:?} refuses every publish not made over TLS; the account keeps the rights SNS's default policy gives it.",
                topic.key
            ),
            topic_policy(topic),
        );
        for subscription in &topic.subscriptions {
            file.push_commented(
                &subscription_comment(subscription),
                subscription_block(topic, subscription),
            );
        }
        if let Some(dlq) = &topic.dead_letter {
            file.push_commented(
                &format!(
                    "Dead-letter queue of topic {:?}: what SNS could not deliver to a subscription above.",
                    topic.key
                ),
                dead_letter_queue(topic, dlq),
            );
            file.push_commented(
                &format!(
                    "Only topic {:?} may send to its dead-letter queue, and only over TLS.",
                    topic.key
                ),
                dead_letter_queue_policy(topic),
            );
            if let Some(reader) = model.dead_letter_function() {
                file.push_commented(
                    &format!(
                        "A message in the dead-letter queue of topic {:?} never reached a subscriber: the dead-letter function\n\
                         fails its task at once instead of leaving the execution to the step's timeout.",
                        topic.key
                    ),
                    dead_letter_mapping(
                        model,
                        address::topic_dead_letter_mapping(&topic.key),
                        address::topic_dead_letter_queue(&topic.key).attr("arn"),
                        &dlq.reader,
                        reader,
                    ),
                );
                file.push_commented(
                    "The mapping's UUID for the operator's policy (see the queues' mappings in callback.tf).",
                    address::topic_dead_letter_mapping_uuid(&topic.key)
                        .declare()
                        .attr("input", address::topic_dead_letter_mapping(&topic.key).attr("uuid")),
                );
            }
        }
    }
    file
}

/// Which steps publish to the topic. Resolve refuses a topic no step uses, so none is a bug.
fn publishers(model: &Model, topic: &Topic) -> String {
    let steps: Vec<String> = model
        .steps
        .iter()
        .filter(|s| s.channel == Channel::Topic(topic.key.clone()))
        .map(|s| format!("{:?}", s.name))
        .collect();
    match steps.as_slice() {
        [] => panic!(
            "bug: no step publishes to topic {:?}; resolve refuses unused topics",
            topic.key
        ),
        [one] => format!("step {one} publishes its input and task token"),
        many => format!("steps {} publish their input and task token", many.join(", ")),
    }
}

fn topic_block(topic: &Topic) -> Block {
    let mut block = address::topic(&topic.key)
        .declare()
        .attr("name", aws_name(&topic.name))
        .attr_opt("fifo_topic", topic.fifo.then(|| boolean(true)));
    if topic.fifo {
        block = block
            .comment("Every message holds a unique task token, so its body is a safe deduplication key.")
            .attr("content_based_deduplication", boolean(true));
    }
    block
        .blank()
        .comment(encryption_comment(topic))
        .attr("kms_master_key_id", topic_key(topic))
        .blank()
        .attr("tags", raw("local.tags"))
}

fn encryption_comment(topic: &Topic) -> &'static str {
    match topic.encryption {
        Encryption::ServiceManaged => {
            "SNS's AWS managed key: its key policy lets the account's principals use it through SNS, so the state\n\
             machine's role needs no grant on it."
        }
        Encryption::ModuleKey => "The module's key: the state machine's role may use it through SNS only.",
        Encryption::KeyArn(_) | Encryption::KeyAlias(_) => {
            "The key the spec names, from its input: the state machine's role may use it through SNS only."
        }
    }
}

/// The key a topic is encrypted with, as `kms_master_key_id` takes it (SNS accepts an alias or an ARN).
fn topic_key(topic: &Topic) -> Expr {
    match &topic.encryption {
        Encryption::ServiceManaged => string("alias/aws/sns"),
        Encryption::ModuleKey => address::module_key().attr("arn"),
        Encryption::KeyArn(_) | Encryption::KeyAlias(_) => var(&topic_key_input(topic)),
    }
}

/// The input holding the key a topic names by ARN or alias. Only such topics are asked, so none is a bug.
pub(super) fn topic_key_input(topic: &Topic) -> String {
    topic
        .key_input()
        .unwrap_or_else(|| panic!("bug: topic {:?} names no key by ARN or alias", topic.key))
}

/// The topic's policy: the account keeps what SNS's default policy gives it (through IAM: the account root
/// principal delegates to the account's own policies), and every publish not made over TLS is denied, whoever
/// makes it. Written with `jsonencode()`, not a policy document data source, as the queues' policies are.
fn topic_policy(topic: &Topic) -> Block {
    let arn = address::topic(&topic.key).attr("arn");
    let account = Expr::Object(vec![
        ("Sid".into(), string("AccountOwnsTopic")),
        ("Effect".into(), string("Allow")),
        (
            "Principal".into(),
            Expr::Object(vec![("AWS".into(), raw(format!("\"{}\"", iam_arn("root"))))]),
        ),
        (
            "Action".into(),
            strings([
                "sns:AddPermission",
                "sns:DeleteTopic",
                "sns:GetTopicAttributes",
                "sns:ListSubscriptionsByTopic",
                "sns:Publish",
                "sns:RemovePermission",
                "sns:SetTopicAttributes",
                "sns:Subscribe",
            ]),
        ),
        ("Resource".into(), arn.clone()),
    ]);
    let tls = deny_insecure_transport("sns:Publish", arn);
    address::topic_policy(&topic.key)
        .declare()
        .attr("arn", address::topic(&topic.key).attr("arn"))
        .attr("policy", policy(vec![account, tls]))
}

fn subscription_comment(subscription: &Subscription) -> String {
    let gets = if subscription.protocol.raw_delivery() {
        "the task message as the state machine published it (raw message delivery)"
    } else {
        "SNS's notification, whose Message is the task message"
    };
    let confirms = match subscription.protocol.as_str() {
        "http" | "https" => "; the endpoint must confirm the subscription (SNS posts it a SubscribeURL to visit)",
        "email" | "email-json" => "; its owner must confirm the subscription from the email SNS sends",
        "lambda" => "; the function's resource policy must let sns.amazonaws.com invoke it for this topic",
        _ => "; the queue's policy must let sns.amazonaws.com send to it from this topic",
    };
    format!(
        "A declared {} subscriber: it gets {gets}{confirms}.",
        subscription.protocol.as_str()
    )
}

fn subscription_block(topic: &Topic, subscription: &Subscription) -> Block {
    let mut block = address::topic_subscription(&topic.key, subscription.protocol.as_str(), &subscription.endpoint)
        .declare()
        .attr("topic_arn", address::topic(&topic.key).attr("arn"))
        .attr("protocol", string(subscription.protocol.as_str()))
        .attr("endpoint", string(&subscription.endpoint));
    if subscription.protocol.raw_delivery() {
        block = block.attr("raw_message_delivery", boolean(true));
    }
    if topic.dead_letter.is_some() {
        block = block
            .blank()
            .comment("What SNS cannot deliver goes to the topic's dead-letter queue.")
            .attr(
                "redrive_policy",
                Expr::Call(
                    "jsonencode".into(),
                    vec![Expr::Object(vec![(
                        "deadLetterTargetArn".into(),
                        address::topic_dead_letter_queue(&topic.key).attr("arn"),
                    )])],
                ),
            );
    }
    block
}

fn dead_letter_queue(topic: &Topic, dlq: &TopicDeadLetter) -> Block {
    let mut block = address::topic_dead_letter_queue(&topic.key)
        .declare()
        .attr("name", aws_name(&dlq.name));
    if topic.fifo {
        block = block
            .comment("A FIFO topic's subscriptions dead-letter into a FIFO queue only.")
            .attr("fifo_queue", boolean(true))
            .attr("content_based_deduplication", boolean(true));
    }
    block = block
        .comment(&format!(
            "The dead-letter Lambda reads this queue: six times the function's timeout (the callback's), as for a\n\
             queue's dead-letter queue ({} by default).",
            format_seconds(dlq.reader.visibility_timeout_seconds)
        ))
        .attr(
            "visibility_timeout_seconds",
            raw(format!(
                "{} * var.{}",
                dlq.reader.callback_timeouts,
                input::CALLBACK_TIMEOUT_SECONDS
            )),
        );
    block = match &topic.encryption {
        Encryption::ServiceManaged => block
            .comment("SSE-SQS: SNS delivers into it without a grant on a key.")
            .attr("sqs_managed_sse_enabled", boolean(true)),
        Encryption::ModuleKey => block
            .comment("The topic's key: the key policy lets SNS use it for this topic's dead letters.")
            .attr("kms_master_key_id", address::module_key().attr("arn"))
            .attr("kms_data_key_reuse_period_seconds", number(300)),
        Encryption::KeyArn(_) | Encryption::KeyAlias(_) => block
            .comment(
                "The topic's key: its key policy must let sns.amazonaws.com use it (kms:GenerateDataKey, kms:Decrypt).",
            )
            .attr("kms_master_key_id", var(&topic_key_input(topic)))
            .attr("kms_data_key_reuse_period_seconds", number(300)),
    };
    block
        .comment(&format!(
            "{}, the SQS maximum, so that a dead letter the function could not settle stays for someone to look at.",
            format_seconds(dlq.retention_seconds)
        ))
        .attr("message_retention_seconds", number(dlq.retention_seconds))
        .blank()
        .attr("tags", raw("local.tags"))
}

/// The dead-letter queue's policy: SNS may send to it for this topic only, and nothing but TLS gets in.
fn dead_letter_queue_policy(topic: &Topic) -> Block {
    let queue = address::topic_dead_letter_queue(&topic.key);
    let sns = service_may_send(
        "TopicDeadLetters",
        "sns.amazonaws.com",
        queue.attr("arn"),
        address::topic(&topic.key).attr("arn"),
    );
    let tls = deny_insecure_transport("sqs:*", queue.attr("arn"));
    address::topic_dead_letter_queue_policy(&topic.key)
        .declare()
        .attr("queue_url", queue.attr("id"))
        .attr("policy", policy(vec![sns, tls]))
}
