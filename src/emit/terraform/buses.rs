//! `buses.tf`: one EventBridge bus per `[buses.*]` (a custom bus the module creates, or an existing one such as
//! the account's `default`, which it neither creates nor destroys), the rule that matches the module's task events
//! on it, the dead-letter queue its targets name, and who else may put events on a custom bus.
//!
//! The module adds no target to its rules: the caller does (a partner's queue, an API destination, another
//! account's bus), from the outputs `bus_rule_names` and `bus_dead_letter_queue_arns`. A target receives the event;
//! its `detail` is the task message, and the worker answers through the callback.

use super::{
    address, aws_name, deny_insecure_transport, policy, regional_arn, role_permissions, service_may_send, var,
};
use crate::emit::hcl::{Block, Expr, File, boolean, number, raw, string, strings};
use crate::model::{
    Bus, BusDeadLetter, BusName, Channel, DEAD_LETTERED_ERROR, DeadLetterReader, Function, Model, input,
};

/// The file; `None` when the spec has no buses.
pub(super) fn file(header: &str, model: &Model) -> Option<File> {
    if model.buses.is_empty() {
        return None;
    }
    let mut file = File::new(header);
    for bus in &model.buses {
        if let BusName::Custom(_) = &bus.bus {
            push_custom_bus(&mut file, model, bus);
        }
        let targets = if bus.dead_letter.is_some() {
            ", each with dead_letter_config = the dead-letter queue below"
        } else {
            " (dead_letter = false: no dead-letter queue)"
        };
        file.push_commented(
            &format!(
                "The rule that matches the task events on {}: their source and detail type, from this account\nonly. The caller adds the targets (output bus_rule_names){targets}.",
                match &bus.bus {
                    BusName::Custom(_) => format!("bus {:?}", bus.key),
                    BusName::Existing(name) => {
                        format!("the existing bus {name:?}, which this module neither creates nor destroys")
                    }
                }
            ),
            rule(bus),
        );
        if let Some(dlq) = &bus.dead_letter {
            push_dead_letters(&mut file, model, bus, dlq);
        }
    }
    Some(file)
}

/// A custom bus and its policy for other accounts.
fn push_custom_bus(file: &mut File, model: &Model, bus: &Bus) {
    let steps: Vec<String> = model
        .steps
        .iter()
        .filter(|s| matches!(&s.channel, Channel::Bus(key) if *key == bus.key))
        .map(|s| format!("{:?}", s.name))
        .collect();
    let senders = match steps.as_slice() {
        [one] => format!("step {one} puts its"),
        many => format!("steps {} put their", many.join(", ")),
    };
    file.push_commented(
        &format!(
            "Bus {:?}: {senders} task message here, as the detail of an event.",
            bus.key
        ),
        custom_bus(bus),
    );
    file.push_commented(
        &format!(
            "Other accounts that may put events on bus {:?} (var.{}): none by default. The\nmodule's rule matches this account's events only, so what they put reaches no target of it.",
            bus.key,
            bus.publisher_accounts_input()
        ),
        bus_policy(bus),
    );
}

/// The dead-letter queue of a bus rule's targets, its policy, and the dead-letter function's mapping on it.
fn push_dead_letters(file: &mut File, model: &Model, bus: &Bus, dlq: &BusDeadLetter) {
    file.push_commented(
        &format!(
            "Dead-letter queue of the targets of bus {:?}'s rule: the events EventBridge could not deliver (after\nthe target's retry policy, or at once for a missing permission). A standard queue: EventBridge takes no other.",
            bus.key
        ),
        dead_letter_queue(bus, dlq),
    );
    file.push_commented(
        &format!(
            "Only bus {:?}'s rule may send to its dead-letter queue, and only over TLS.",
            bus.key
        ),
        dead_letter_policy(bus),
    );
    let Some(reader) = model.dead_letter_function() else {
        return;
    };
    file.push_commented(
        &format!(
            "An event in the dead-letter queue of bus {:?} never reached a target: the dead-letter function fails the\n\
             task in its detail at once ({DEAD_LETTERED_ERROR}, which a step's catch can route).",
            bus.key
        ),
        dead_letter_mapping(model, bus, &dlq.reader, reader),
    );
    file.push_commented(
        "The mapping's UUID for the operator's policy (see the queues' mappings in callback.tf).",
        address::bus_dead_letter_mapping_uuid(&bus.key)
            .declare()
            .attr("input", address::bus_dead_letter_mapping(&bus.key).attr("uuid")),
    );
}

/// The bus's name as HCL: the custom bus's attribute, or the existing bus's name.
pub(super) fn bus_name(bus: &Bus) -> Expr {
    match &bus.bus {
        BusName::Custom(_) => address::bus(&bus.key).attr("name"),
        BusName::Existing(name) => string(name),
    }
}

/// The bus's ARN as HCL: the custom bus's attribute, or an existing bus's ARN built from its name (known at
/// plan time: the module reads nothing of a bus it does not own).
pub(super) fn bus_arn(bus: &Bus) -> Expr {
    match &bus.bus {
        BusName::Custom(_) => address::bus(&bus.key).attr("arn"),
        BusName::Existing(name) => raw(format!("\"{}\"", regional_arn("events", &format!("event-bus/{name}")))),
    }
}

fn custom_bus(bus: &Bus) -> Block {
    let BusName::Custom(name) = &bus.bus else {
        panic!("bug: bus {:?} is not one the module creates", bus.key)
    };
    address::bus(&bus.key)
        .declare()
        .attr("name", aws_name(name))
        .attr("tags", raw("local.tags"))
}

fn bus_policy(bus: &Bus) -> Block {
    let accounts = format!("var.{}", bus.publisher_accounts_input());
    let statement = Expr::Object(vec![
        ("Sid".into(), string("PublisherAccounts")),
        ("Effect".into(), string("Allow")),
        (
            "Principal".into(),
            Expr::Object(vec![(
                "AWS".into(),
                raw(format!(
                    "[for account in {accounts} : \"arn:${{local.partition}}:iam::${{account}}:root\"]"
                )),
            )]),
        ),
        ("Action".into(), string("events:PutEvents")),
        ("Resource".into(), address::bus(&bus.key).attr("arn")),
    ]);
    let policy = Expr::Object(vec![
        ("Version".into(), string("2012-10-17")),
        ("Statement".into(), Expr::List(vec![statement])),
    ]);
    address::bus_policy(&bus.key)
        .declare()
        .attr("count", raw(format!("length({accounts}) > 0 ? 1 : 0")))
        .blank()
        .attr("event_bus_name", address::bus(&bus.key).attr("name"))
        .attr("policy", Expr::Call("jsonencode".into(), vec![policy]))
}

fn rule(bus: &Bus) -> Block {
    let pattern = Expr::Object(vec![
        ("source".into(), Expr::List(vec![string(&bus.source)])),
        ("detail-type".into(), Expr::List(vec![string(&bus.detail_type)])),
        ("account".into(), Expr::List(vec![raw("local.account_id")])),
        // Step Functions adds the state machine's ARN (qualified by a version or alias when the execution was
        // started through one) to every event's `resources`: matching it keeps another instance of this module,
        // whose events carry the same source and detail type on a shared bus, from handing its tasks to this
        // module's targets.
        (
            "resources".into(),
            Expr::List(vec![
                address::state_machine().attr("arn"),
                Expr::Object(vec![(
                    "prefix".into(),
                    raw(format!("\"${{{}.arn}}:\"", address::state_machine())),
                )]),
            ]),
        ),
    ]);
    address::bus_rule(&bus.key)
        .declare()
        .attr("name", aws_name(&bus.rule))
        .attr("event_bus_name", bus_name(bus))
        .attr(
            "description",
            string(&format!(
                "sfngen: the task events of bus {:?} (source {:?}, detail type {:?}).",
                bus.key, bus.source, bus.detail_type
            )),
        )
        .attr("event_pattern", Expr::Call("jsonencode".into(), vec![pattern]))
        .attr("tags", raw("local.tags"))
}

fn dead_letter_queue(bus: &Bus, dlq: &BusDeadLetter) -> Block {
    address::bus_dead_letter_queue(&bus.key)
        .declare()
        .attr("name", aws_name(&dlq.name))
        .attr("sqs_managed_sse_enabled", boolean(true))
        .comment(
            "The dead-letter Lambda reads this queue: six times the function's timeout, as AWS recommends for an SQS\nevent source.",
        )
        .attr(
            "visibility_timeout_seconds",
            raw(format!(
                "{} * var.{}",
                dlq.reader.callback_timeouts,
                input::CALLBACK_TIMEOUT_SECONDS
            )),
        )
        .comment("The SQS maximum, so that an undelivered event is not lost before someone looks.")
        .attr("message_retention_seconds", number(dlq.retention_seconds))
        .blank()
        .attr("tags", raw("local.tags"))
}

fn dead_letter_policy(bus: &Bus) -> Block {
    let queue = address::bus_dead_letter_queue(&bus.key);
    let deny = deny_insecure_transport("sqs:*", queue.attr("arn"));
    let allow = service_may_send(
        "RuleDeadLetters",
        "events.amazonaws.com",
        queue.attr("arn"),
        address::bus_rule(&bus.key).attr("arn"),
    );
    address::bus_dead_letter_policy(&bus.key)
        .declare()
        .attr("queue_url", queue.attr("id"))
        .attr("policy", policy(vec![deny, allow]))
}

fn dead_letter_mapping(model: &Model, bus: &Bus, settings: &DeadLetterReader, reader: &Function) -> Block {
    address::bus_dead_letter_mapping(&bus.key)
        .declare()
        .attr("event_source_arn", address::bus_dead_letter_queue(&bus.key).attr("arn"))
        .attr("function_name", address::function(reader.id).attr("arn"))
        .attr("batch_size", number(u64::from(settings.batch_size)))
        .blank()
        .comment("false pauses fail-fast (the runbook's \"Pause fail-fast\"): undelivered events stay in the queue.")
        .attr("enabled", var(input::DEAD_LETTER_MAPPINGS_ENABLED))
        .blank()
        .block(
            Block::new("scaling_config", Vec::<String>::new())
                .comment("At most this many concurrent invocations from this queue, the least SQS allows.")
                .attr("maximum_concurrency", number(u64::from(settings.maximum_concurrency))),
        )
        .blank()
        .comment("The function names the records it could not settle yet; SQS hands out only those again.")
        .attr("function_response_types", strings(["ReportBatchItemFailures"]))
        .blank()
        .attr("tags", raw("local.tags"))
        .blank()
        .comment("Lambda checks that the function's role may read the queue when it creates the mapping.")
        .attr("depends_on", Expr::List(role_permissions(model, reader.role)))
}
