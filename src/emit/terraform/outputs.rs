//! `outputs.tf`: the module's outputs, as the model lists them, each pointing at its resource's address.

use super::address;
use crate::emit::hcl::{Block, Expr, File, string};
use crate::model::{Bus, FunctionId, Model, OutputValue, Topic};

/// The file.
pub(super) fn file(header: &str, model: &Model) -> File {
    let mut file = File::new(header);
    for output in model.outputs() {
        file.push(
            Block::new("output", [output.name])
                .attr("description", string(&output.description))
                .attr("value", value(model, output.value)),
        );
    }
    file
}

/// What the output gives, as HCL.
fn value(model: &Model, value: OutputValue) -> Expr {
    match value {
        OutputValue::StateMachineArn => address::state_machine().attr("arn"),
        OutputValue::StateMachineAliasArn => address::state_machine_alias().attr("arn"),
        OutputValue::StateMachineVersionArn => address::state_machine().attr("state_machine_version_arn"),
        OutputValue::StarterPolicy => address::starter_policy_document().attr("json"),
        OutputValue::StateMachineName => address::state_machine().attr("name"),
        OutputValue::QueueUrls => by_queue_key(model, false, "url"),
        OutputValue::QueueArns => by_queue_key(model, false, "arn"),
        OutputValue::DeadLetterQueueArns => by_queue_key(model, true, "arn"),
        OutputValue::DeadLetterQueueUrls => by_queue_key(model, true, "url"),
        OutputValue::DeadLetterMappingIds => Expr::Object(
            model
                .dead_letter_readers()
                .into_iter()
                .map(|(q, _)| (q.key.clone().into(), address::dead_letter_mapping(&q.key).attr("uuid")))
                .collect(),
        ),
        OutputValue::OperatorPolicy => match model.operator_policies.as_slice() {
            [whole] if whole.part.is_none() => address::operator_policy_document(None).attr("json"),
            parts => Expr::List(
                parts
                    .iter()
                    .map(|p| address::operator_policy_document(p.part).attr("json"))
                    .collect(),
            ),
        },
        OutputValue::FunctionName(id) => address::function(id).attr("function_name"),
        OutputValue::FunctionArn(id) => address::function(id).attr("arn"),
        OutputValue::RoleArn(id) => address::role(id).attr("arn"),
        OutputValue::LogGroupName(id) => address::function_log_group(id).attr("name"),
        OutputValue::StateMachineLogGroupName => address::state_machine_log_group().attr("name"),
        OutputValue::AlarmArns => Expr::Object(
            model
                .alarm_list()
                .into_iter()
                .map(|alarm| {
                    let arn = address::alarm(&alarm.key).attr("arn");
                    (alarm.key.into(), arn)
                })
                .collect(),
        ),
        OutputValue::ModuleKeyArn => address::module_key().attr("arn"),
        OutputValue::TopicArns => by_topic_key(model, |t| Some(address::topic(&t.key).attr("arn"))),
        OutputValue::TopicNames => by_topic_key(model, |t| Some(address::topic(&t.key).attr("name"))),
        OutputValue::TopicDeadLetterQueueArns => by_topic_key(model, |t| {
            t.dead_letter.as_ref()?;
            Some(address::topic_dead_letter_queue(&t.key).attr("arn"))
        }),
        OutputValue::TopicDeadLetterQueueUrls => by_topic_key(model, |t| {
            t.dead_letter.as_ref()?;
            Some(address::topic_dead_letter_queue(&t.key).attr("url"))
        }),
        OutputValue::TopicDeadLetterMappingIds => by_topic_key(model, |t| {
            t.dead_letter.as_ref()?;
            Some(address::topic_dead_letter_mapping(&t.key).attr("uuid"))
        }),
        OutputValue::WorkerPolicy => match model.worker_policy().as_slice() {
            [whole] if whole.part.is_none() => address::worker_policy_document(None).attr("json"),
            parts => Expr::List(
                parts
                    .iter()
                    .filter_map(|p| p.part)
                    .map(|part| address::worker_policy_part_document(part).attr("json"))
                    .collect(),
            ),
        },
        OutputValue::BusNames => by_bus_key(model, |b| Some(super::buses::bus_name(b))),
        OutputValue::FunctionUrl(id) => address::function_url(id).attr("function_url"),
        OutputValue::EndpointInvokePolicy => endpoint_invoke_policy(),
        OutputValue::EndpointSecretArn => super::endpoint::secret_arn_of(model),
        OutputValue::ApprovalTableName => address::approvals_table().attr("name"),
        OutputValue::ApprovalsQueueUrl => address::approvals_queue().attr("url"),
        OutputValue::ApprovalsDeadLetterQueueUrl => address::approvals_dead_letter_queue().attr("url"),
        OutputValue::BusArns => by_bus_key(model, |b| Some(super::buses::bus_arn(b))),
        OutputValue::BusRuleNames => by_bus_key(model, |b| Some(address::bus_rule(&b.key).attr("name"))),
        OutputValue::BusRuleArns => by_bus_key(model, |b| Some(address::bus_rule(&b.key).attr("arn"))),
        OutputValue::BusDeadLetterQueueArns => by_bus_key(model, |b| {
            b.dead_letter
                .as_ref()
                .map(|_| address::bus_dead_letter_queue(&b.key).attr("arn"))
        }),
        OutputValue::BusDeadLetterQueueUrls => by_bus_key(model, |b| {
            b.dead_letter
                .as_ref()
                .map(|_| address::bus_dead_letter_queue(&b.key).attr("url"))
        }),
        OutputValue::BusDeadLetterMappingIds => by_bus_key(model, |b| {
            b.dead_letter
                .as_ref()
                .map(|_| address::bus_dead_letter_mapping(&b.key).attr("uuid"))
        }),
        OutputValue::WorkerPolicyByQueue => Expr::Object(
            model
                .queues
                .iter()
                .map(|q| {
                    let policy = model.worker_policy_of(&q.key);
                    let document = match policy.part {
                        Some(part) => address::worker_policy_part_document(part),
                        None => address::worker_policy_document(policy.queue.as_deref()),
                    };
                    (q.key.clone().into(), document.attr("json"))
                })
                .collect(),
        ),
    }
}

/// An object of what `value` gives of each topic (the topics it gives nothing of left out), by topic key.
fn by_topic_key(model: &Model, value: impl Fn(&Topic) -> Option<Expr>) -> Expr {
    Expr::Object(
        model
            .topics
            .iter()
            .filter_map(|t| Some((t.key.clone().into(), value(t)?)))
            .collect(),
    )
}

/// An object of one attribute of each queue (or of each dead-letter queue), by queue key.
fn by_queue_key(model: &Model, dead_letter: bool, attribute: &str) -> Expr {
    Expr::Object(
        model
            .queues
            .iter()
            .filter_map(|q| match (dead_letter, &q.dead_letter) {
                (false, _) => Some((q.key.clone().into(), address::queue(&q.key).attr(attribute))),
                (true, Some(_)) => Some((q.key.clone().into(), address::dead_letter_queue(&q.key).attr(attribute))),
                (true, None) => None,
            })
            .collect(),
    )
}

/// An object of one value for each bus (that has one), by bus key.
fn by_bus_key(model: &Model, value: impl Fn(&Bus) -> Option<Expr>) -> Expr {
    Expr::Object(
        model
            .buses
            .iter()
            .filter_map(|b| Some((b.key.clone().into(), value(b)?)))
            .collect(),
    )
}

/// What a caller's role needs to POST to an AWS_IAM endpoint: `lambda:InvokeFunctionUrl` with
/// `lambda:FunctionUrlAuthType` AWS_IAM and, as AWS requires of function URLs created since October 2025,
/// `lambda:InvokeFunction` only through a function URL (`lambda:InvokedViaFunctionUrl`:
/// <https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html>), both on the endpoint function alone.
fn endpoint_invoke_policy() -> Expr {
    let function = address::function(FunctionId::Endpoint).attr("arn");
    let statement = |sid: &str, action: &str, condition: (&'static str, &'static str, &str)| {
        Expr::Object(vec![
            ("Sid".into(), string(sid)),
            ("Effect".into(), string("Allow")),
            ("Action".into(), string(action)),
            ("Resource".into(), function.clone()),
            (
                "Condition".into(),
                Expr::Object(vec![(
                    condition.0.into(),
                    Expr::Object(vec![(condition.1.into(), string(condition.2))]),
                )]),
            ),
        ])
    };
    super::policy(vec![
        statement(
            "InvokeEndpointUrl",
            "lambda:InvokeFunctionUrl",
            ("StringEquals", "lambda:FunctionUrlAuthType", "AWS_IAM"),
        ),
        statement(
            "InvokeEndpointThroughUrl",
            "lambda:InvokeFunction",
            ("Bool", "lambda:InvokedViaFunctionUrl", "true"),
        ),
    ])
}
