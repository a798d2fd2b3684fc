//! The module's README: what it deploys, diagrams, inputs and outputs, and how to send a callback.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;

use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior, Value, context};
use serde::Serialize;

use super::hcl::CheckovSkip;
use super::terraform::{
    AWS_PROVIDER_MIN, Declared, TERRAFORM_MIN, aws_constraint, default_of, terraform_constraint, type_of,
};
use super::{GeneratedFile, asl, generated_header};
use crate::duration::format_seconds;
use crate::limits;
use crate::model::{
    APPROVAL_REJECTED_ERROR, APPROVAL_TTL_ATTRIBUTE, BUSINESS_FAILURES_METRIC, Bus, BusName, CatchTarget, Channel,
    CustomerKey, DEAD_LETTERED_ERROR, DEAD_LETTERS_UNSETTLED_METRIC, Encryption, EndpointAuth, EndpointSecret,
    FAULTS_EXPRESSION, FanOut, FunctionId, INVALID_TOKENS_METRIC, Invoker, LogLevel, MAX_EVENT_NESTING,
    MESSAGE_CONTEXT, MESSAGE_ITEM_INDEX, Model, UNMATCHABLE_ERROR_CHARS, UrlAuth, input,
};

const TEMPLATE: &str = include_str!("../../templates/module-README.md.j2");

#[derive(Serialize)]
struct QueueRow {
    key: String,
    name: String,
    visibility: String,
    visibility_seconds: u64,
    retention: String,
    encryption: &'static str,
    fifo: bool,
    dlq_name: Option<String>,
    max_receives: Option<u32>,
    key_input: Option<String>,
    /// The dead-letter Lambda reads its dead-letter queue and fails each message's task.
    dlq_fails_execution: bool,
}

/// An SNS topic, as the README lists it.
#[derive(Serialize)]
struct TopicRow {
    key: String,
    name: String,
    /// The steps that publish to it.
    steps: Vec<String>,
    encryption: &'static str,
    key_input: Option<String>,
    fifo: bool,
    subscriptions: Vec<SubscriptionRow>,
    dlq_name: Option<String>,
}

/// A subscription a topic declares.
#[derive(Serialize)]
struct SubscriptionRow {
    protocol: &'static str,
    endpoint: String,
    /// Raw message delivery: the subscriber gets the task message itself.
    raw: bool,
}

/// The topics, for the README.
fn topic_rows(model: &Model) -> Vec<TopicRow> {
    model
        .topics
        .iter()
        .map(|t| TopicRow {
            key: t.key.clone(),
            name: t.name.with(&model.name),
            steps: model
                .steps
                .iter()
                .filter(|s| s.channel == Channel::Topic(t.key.clone()))
                .map(|s| s.name.clone())
                .collect(),
            encryption: match t.encryption {
                Encryption::ServiceManaged => "SSE with SNS's AWS managed key (`alias/aws/sns`)",
                Encryption::ModuleKey => "SSE-KMS (module key)",
                Encryption::KeyArn(_) | Encryption::KeyAlias(_) => "SSE-KMS (your key)",
            },
            key_input: t.key_input(),
            fifo: t.fifo,
            subscriptions: t
                .subscriptions
                .iter()
                .map(|s| SubscriptionRow {
                    protocol: s.protocol.as_str(),
                    endpoint: s.endpoint.clone(),
                    raw: s.protocol.raw_delivery(),
                })
                .collect(),
            dlq_name: t.dead_letter.as_ref().map(|d| d.name.with(&model.name)),
        })
        .collect()
}

#[derive(Serialize)]
struct FunctionRow {
    name: String,
    title: &'static str,
    /// Its concurrency, in words.
    concurrency: String,
    /// Who invokes it, in words.
    invoked_by: &'static str,
}

/// A row of the deployer's permissions: the action, when, and for which of the module's resources.
#[derive(Serialize)]
struct DeployerRow {
    action: &'static str,
    when: String,
    why: String,
}

/// The deployer's permissions for the types the module declares ([`crate::deployer`]).
fn deployer_rows(declared: &[Declared]) -> Vec<DeployerRow> {
    crate::deployer::needed(declared.iter().map(|d| d.kind.as_str()))
        .into_iter()
        .map(|p| {
            let kinds: Vec<String> = p
                .kinds
                .iter()
                .filter(|k| declared.iter().any(|d| d.kind == **k))
                .map(|k| format!("`{k}`"))
                .collect();
            let why = match p.unrecorded {
                Some(note) => format!("{}: {note}", kinds.join(", ")),
                None => kinds.join(", "),
            };
            DeployerRow {
                action: p.action,
                when: p.phases.iter().map(|ph| ph.word()).collect::<Vec<_>>().join(", "),
                why,
            }
        })
        .collect()
}

#[derive(Serialize)]
struct LogGroupRow {
    name: String,
    retention_days: u32,
    input: &'static str,
}

/// A row of a terraform-docs table, its cells already written as terraform-docs writes them.
#[derive(Serialize)]
struct DocsRow {
    cells: Vec<String>,
}

/// Renders `README.md`, listing `checkov_skips`, the skips the Terraform emitter wrote.
///
/// The template is part of the binary and the context is built here, so a rendering error is a bug: it
/// panics rather than write an error message into a file that ships.
pub fn render(
    model: &Model,
    checkov_skips: &[CheckovSkip],
    declared: &[Declared],
    definition: &GeneratedFile,
) -> GeneratedFile {
    // Only the filters the template uses: registering all of minijinja's defaults costs more than
    // rendering the README does.
    let mut env = Environment::empty();
    env.add_filter("length", minijinja::filters::length);
    env.add_filter("replace", minijinja::filters::replace);
    env.add_filter("join", minijinja::filters::join);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let mut text = env
        .render_str(TEMPLATE, context(model, checkov_skips, declared, definition))
        .unwrap_or_else(|err| panic!("bug: the module README template failed to render: {err:#}"));
    if !text.ends_with('\n') {
        text.push('\n');
    }
    GeneratedFile::text("README.md", text)
}

fn context(model: &Model, checkov_skips: &[CheckovSkip], declared: &[Declared], definition: &GeneratedFile) -> Value {
    // The worker guide's examples read the first step that sends to a queue.
    let first_queue = model
        .steps
        .iter()
        .find_map(|s| s.queue_key())
        .and_then(|key| model.find_queue(key));
    let queues: Vec<QueueRow> = model
        .queues
        .iter()
        .map(|q| QueueRow {
            key: q.key.clone(),
            name: q.name.with(&model.name),
            visibility: format_seconds(q.visibility_timeout_seconds),
            visibility_seconds: q.visibility_timeout_seconds,
            retention: format_seconds(q.retention_seconds),
            encryption: encryption_label(&q.encryption),
            fifo: q.fifo,
            dlq_name: q.dead_letter.as_ref().map(|d| d.name.with(&model.name)),
            max_receives: q.dead_letter.as_ref().map(|d| d.max_receives),
            key_input: q.key_input(),
            dlq_fails_execution: q.dead_letter_reader().is_some(),
        })
        .collect();
    let logging = &model.state_machine.logging;
    let log_groups = std::iter::once(&logging.log_group)
        .chain(model.functions.iter().map(|f| &f.log_group))
        .map(|group| LogGroupRow {
            name: group.name.with(&model.name),
            retention_days: group.retention_days,
            input: group.retention_input,
        })
        .collect::<Vec<_>>();
    let any_kms = model.queues.iter().any(|q| q.encryption != Encryption::ServiceManaged);
    context! {
        header => generated_header(model),
        name => model.name.clone(),
        steps => model.steps.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
        execution_timeout => format_seconds(model.state_machine.timeout_seconds),
        logging_off => logging.level == LogLevel::Off,
        var => context! {
            log_level => input::LOG_LEVEL,
            tracing => input::TRACING,
            memory => input::CALLBACK_MEMORY_MB,
            timeout => input::CALLBACK_TIMEOUT_SECONDS,
            reserved_concurrency => input::CALLBACK_RESERVED_CONCURRENCY,
            dead_letter_mappings_enabled => input::DEAD_LETTER_MAPPINGS_ENABLED,
            keep_log_groups => input::KEEP_LOG_GROUPS_ON_DESTROY,
            state_machine_version => input::STATE_MACHINE_VERSION,
        },
        alias_name => super::terraform::address::STATE_MACHINE_ALIAS_NAME,
        starter_uses_key => model.state_machine.encryption.is_some(),
        versions_quota => limits::STATE_MACHINE_VERSIONS.figure_text(),
        versions_source => limits::STATE_MACHINE_VERSIONS.source,
        delete_timeout => super::terraform::DELETE_TIMEOUT,
        deployer => Value::from(Serde(deployer_rows(declared))),
        logging => match logging.level {
            LogLevel::Off => "off".to_string(),
            level => format!("{} to CloudWatch Logs{}", level.as_str(), if logging.include_execution_data { " with execution data" } else { "" }),
        },
        tracing => model.state_machine.tracing,
        queues => Value::from(Serde(queues)),
        topics => Value::from(Serde(topic_rows(model))),
        any_fifo_topic => model.topics.iter().any(|t| t.fifo),
        first_queue => first_queue.map(|q| q.key.clone()),
        any_fifo => model.queues.iter().any(|q| q.fifo),
        any_dlq => model.queues.iter().any(|q| q.dead_letter.is_some()),
        dead_letter_readers => model.dead_letter_readers().into_iter().map(|(q, _)| q.key.clone()).collect::<Vec<_>>(),
        dead_lettered_error => DEAD_LETTERED_ERROR,
        dead_letter_concurrency => model.dead_letter_readers().first().map(|(_, r)| r.maximum_concurrency).or(model.topic_dead_letter_readers().first().map(|(_, r)| r.maximum_concurrency)).or(model.buses.iter().find_map(|b| Some(b.dead_letter.as_ref()?.reader.maximum_concurrency))),
        unsettled_metric => DEAD_LETTERS_UNSETTLED_METRIC,
        unsettled_alarm => model.alarm_list().into_iter().find(|a| a.metric.name == DEAD_LETTERS_UNSETTLED_METRIC).map(|a| a.name.with(&model.name)),
        dead_letters_encrypted => model.dead_letter_readers().iter().any(|(q, _)| q.encryption != Encryption::ServiceManaged),
        any_heartbeat => model.steps.iter().any(|s| s.heartbeat_seconds.is_some()),
        heartbeat_steps => model.steps.iter().filter_map(|s| Some(context! { name => s.name.clone(), heartbeat => format_seconds(s.heartbeat_seconds?) })).collect::<Vec<_>>(),
        first_queue_visibility_seconds => first_queue.map(|q| q.visibility_timeout_seconds),
        any_kms => any_kms,
        encryption_summary => encryption_summary(model),
        execution_encryption => execution_encryption(model),
        token_logging => token_logging(model),
        callback => context! {
            function_name => model.function(FunctionId::Callback).name.with(&model.name),
            architecture => model.callback.architecture.as_str(),
            memory_mb => model.callback.memory_mb,
            timeout => format_seconds(model.callback.timeout_seconds),
        },
        functions => Value::from(Serde(function_rows(model))),
        dead_letter_function => model.dead_letter_function().map(|f| f.name.with(&model.name)),
        invalid_tokens_metric => INVALID_TOKENS_METRIC,
        invalid_tokens_alarm => model.alarm_list().into_iter().find(|a| a.metric.name == INVALID_TOKENS_METRIC).map(|a| a.name.with(&model.name)),
        max_nesting => MAX_EVENT_NESTING,
        log_groups => Value::from(Serde(log_groups)),
        module_key => model.module_key.as_ref().map(|k| k.alias.with(&model.name)),
        workflow_mermaid => workflow_mermaid(model),
        architecture_mermaid => architecture_mermaid(model),
        terraform_min => TERRAFORM_MIN,
        aws_min => AWS_PROVIDER_MIN,
        docs => context! {
            requirements => Value::from(Serde(requirement_rows())),
            providers => Value::from(Serde(provider_rows())),
            resources => Value::from(Serde(resource_rows(declared))),
            inputs => Value::from(Serde(input_rows(model))),
            outputs => Value::from(Serde(output_rows(model))),
        },
        alarms => model.alarm_list().into_iter().map(|a| context! { name => a.name.with(&model.name), description => a.description }).collect::<Vec<_>>(),
        alarm_period => model.alarms.as_ref().map(|a| context! { period => format_seconds(a.period_seconds), periods => a.evaluation_periods }),
        oldest_message => model.queues.iter().map(|q| context! { key => q.key.clone(), wait => format_seconds(model.shortest_wait(&q.key)), threshold => format_seconds(model.stale_message_age(q)) }).collect::<Vec<_>>(),
        dashboard => context! {
            name => crate::dashboard::name(&crate::dashboard::Placement { name: &model.name, region: "REGION", partition: "", account: "" }),
            widgets => crate::dashboard::widget_count(model),
            enabled => input::DASHBOARD_ENABLED,
        },
        business => context! {
            metric => BUSINESS_FAILURES_METRIC,
            errors => model.business_errors().iter().map(|e| format!("{e:?}")).collect::<Vec<_>>(),
            unmatched => model.business_errors().into_iter().filter(|e| e.contains(UNMATCHABLE_ERROR_CHARS)).map(|e| format!("{e:?}")).collect::<Vec<_>>(),
            filters => model.business_failures.iter().map(|m| m.filter_name.with(&model.name)).collect::<Vec<_>>(),
            expression => FAULTS_EXPRESSION,
        },
        roles => model.roles.iter().map(|r| r.name.with(&model.name)).collect::<Vec<_>>(),
        managed_policies => model.roles.iter().filter(|r| !r.managed_policies.is_empty()).map(|r| context! { role => r.name.with(&model.name), count => r.managed_policies.len() }).collect::<Vec<_>>(),
        worker_parts => model.worker_policy_in_parts().then(|| model.worker_policy().len()),
        operator_parts => (model.operator_policies.len() > 1).then_some(model.operator_policies.len()),
        message_context => message_context_rows(),
        item_index => context! { field => MESSAGE_ITEM_INDEX.0, path => MESSAGE_ITEM_INDEX.1 },
        fan_outs => fan_out_rows(model),
        history_quota => limits::EXECUTION_HISTORY.figure_text(),
        any_retry => model.steps.iter().any(|s| !s.retry.is_empty()),
        runbook_queue => model.queues.iter().find(|q| q.dead_letter.is_some()).or(model.queues.first()).map(|q| q.key.clone()),
        limits => limit_rows(model, definition),
        skips => Value::from(Serde(checkov_skips)),
        buses => bus_rows(model),
        channels_text => channels_text(model),
        bus_dead_letters => model.buses.iter().any(|b| b.dead_letter.is_some()),
        topic_dead_letters => model.topics.iter().any(|t| t.dead_letter.is_some()),
        bus_accounts => model.buses.iter().any(Bus::created),
        endpoint => endpoint_context(model),
        none_url_note => NONE_URL_NOTE,
        approvals => approvals_context(model),
    }
}

/// What a public (`NONE`) function URL needs on AWS besides what the module creates, for the README: `FUNCTION` is
/// replaced with the function's name.
const NONE_URL_NOTE: &str = "**On AWS, since October 2025**, a function URL needs `lambda:InvokeFunction` in the \
function's policy besides `lambda:InvokeFunctionUrl` ([Lambda: control access to function \
URLs](https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html)). hashicorp/aws adds the latter with a `NONE` URL; \
the module writes the former (`aws_lambda_permission`, statement `FunctionURLAllowInvokeAction` on FUNCTION). Later \
6.x releases of the provider can hold that statement to calls through the URL (`invoked_via_function_url`); the \
module admits 5.100.0, which cannot, so anyone may also invoke FUNCTION directly. That reaches nothing the URL does \
not: the function checks the same MAC or signature on every event before it reads or changes anything, and its \
reserved concurrency bounds it.";

/// The callback endpoint, for its section: how it authenticates, its secret, window and throttle.
fn endpoint_context(model: &Model) -> Option<Value> {
    let endpoint = model.endpoint.as_ref()?;
    let (secret_created, secret, window) = match &endpoint.auth {
        EndpointAuth::Iam => (false, None, None),
        EndpointAuth::Hmac {
            secret,
            replay_window_seconds,
        } => match secret {
            EndpointSecret::Created(name) => (
                true,
                Some(name.with(&model.name)),
                Some(format_seconds(*replay_window_seconds)),
            ),
            EndpointSecret::Given(arn) => (false, Some(arn.clone()), Some(format_seconds(*replay_window_seconds))),
        },
    };
    Some(context! {
        auth => endpoint.auth.as_str(),
        url_auth => endpoint.auth.url_auth().as_str(),
        function => model.function(FunctionId::Endpoint).name.with(&model.name),
        secret_created => secret_created,
        secret => secret,
        window => window,
        reserved => endpoint.reserved_concurrency,
        reserved_input => input::ENDPOINT_RESERVED_CONCURRENCY,
    })
}

/// The approvals, for their section: each approval step and its channel, the table, queue, key and functions.
fn approvals_context(model: &Model) -> Option<Value> {
    let approvals = model.approvals.as_ref()?;
    let steps: Vec<Value> = model
        .steps
        .iter()
        .filter(|s| s.approval)
        .map(|s| {
            context! {
                name => s.name.clone(),
                channel => format!("{} `{}`", s.channel.kind(), s.channel.key()),
                timeout => s.timeout_seconds.map(format_seconds),
                per_item => s.fan_out.is_some(),
            }
        })
        .collect();
    Some(context! {
        steps => steps,
        table => approvals.table.with(&model.name),
        queue => approvals.queue.with(&model.name),
        dead_letter => approvals.dead_letter.with(&model.name),
        key_alias => approvals.key_alias.with(&model.name),
        notify => model.function(FunctionId::ApprovalNotify).name.with(&model.name),
        page => model.function(FunctionId::ApprovalPage).name.with(&model.name),
        max_receives => approvals.max_receives,
        rejected_error => APPROVAL_REJECTED_ERROR,
        ttl => APPROVAL_TTL_ATTRIBUTE,
        page_reserved => approvals.page_reserved_concurrency,
        page_reserved_input => input::APPROVAL_PAGE_RESERVED_CONCURRENCY,
    })
}

/// The fan-out steps, a row each: the step, its array, how many items wait at once, what a failed item does, and
/// the name of the item task.
fn fan_out_rows(model: &Model) -> Vec<Value> {
    model
        .steps
        .iter()
        .filter_map(|step| {
            let fan_out = step.fan_out.as_ref()?;
            Some(context! {
                step => step.name.clone(),
                items_path => fan_out.items_path.clone(),
                max_items => fan_out.max_items,
                max_concurrency => match fan_out.max_concurrency {
                    Some(n) => n.to_string(),
                    None => format!("no limit (inline mode runs at most {})", limits::INLINE_MAP_CONCURRENCY.figure),
                },
                failure => if fan_out.tolerate_failures {
                    "tolerated: its error takes its place in the result"
                } else {
                    "fails the step (its `catch` applies)"
                },
                task => FanOut::task_state(&step.name),
            })
        })
        .collect()
}

/// Where the steps put their task, for the README's first sentence: `on an SQS queue`, `on an EventBridge bus (an
/// event's detail)`, or the channels the steps use together.
fn channels_text(model: &Model) -> String {
    let mut kinds: Vec<&str> = Vec::new();
    for step in &model.steps {
        let text = match step.channel {
            Channel::Queue(_) => "on an SQS queue",
            Channel::Topic(_) => "on an SNS topic",
            Channel::Bus(_) => "on an EventBridge bus (as an event's detail)",
        };
        if !kinds.contains(&text) {
            kinds.push(text);
        }
    }
    match kinds.as_slice() {
        [one] => (*one).to_string(),
        [first @ .., last] => format!("{}, or {last}", first.join(", ")),
        [] => String::new(),
    }
}

/// The README's rows for the buses: where each step's events go, the rule that matches them, the dead-letter queue.
fn bus_rows(model: &Model) -> Vec<Value> {
    model
        .buses
        .iter()
        .map(|b| {
            context! {
                key => b.key.clone(),
                bus => match &b.bus {
                    BusName::Custom(name) => name.with(&model.name),
                    BusName::Existing(name) => name.clone(),
                },
                custom => b.created(),
                accounts_input => b.created().then(|| b.publisher_accounts_input()),
                rule => b.rule.with(&model.name),
                source => b.source.clone(),
                detail_type => b.detail_type.clone(),
                dlq => b.dead_letter.as_ref().map(|d| d.name.with(&model.name)),
                dlq_fails_execution => b.dead_letter.is_some(),
            }
        })
        .collect()
}

/// The fields of a task message's `context`: each one's name, its path in Step Functions' context object, and
/// what it means to a worker.
fn message_context_rows() -> Vec<Value> {
    MESSAGE_CONTEXT
        .iter()
        .map(|(field, path)| {
            let meaning = match *field {
                "execution" => "The execution's ARN.",
                "state" => "The step's name (its Task state's).",
                "entered_time" => "When the execution entered the step (ISO 8601, UTC); the same for each retry of it.",
                "retry_count" => "The step's retries so far: 0 for the first task, one more for each retry.",
                "redrive_count" => "The execution's redrives so far: 0 until it is redriven.",
                other => panic!("bug: the README says nothing of the message context field {other:?}"),
            };
            context! { field => *field, path => *path, meaning => meaning }
        })
        .collect()
}

fn function_rows(model: &Model) -> Vec<FunctionRow> {
    model
        .functions
        .iter()
        .map(|function| {
            let (concurrency, invoked_by) = match function.invoker {
                Invoker::Workers => (
                    match model.callback.reserved_concurrency {
                        Some(n) => format!("reserved concurrency {n}"),
                        None => "unreserved".to_string(),
                    } + &format!(" (`{}`)", input::CALLBACK_RESERVED_CONCURRENCY),
                    "workers (`worker_policy_json`)",
                ),
                Invoker::DeadLetterMappings => {
                    let per_queue = model
                        .dead_letter_readers()
                        .first()
                        .map(|(_, reader)| reader.maximum_concurrency)
                        .or(model
                            .buses
                            .iter()
                            .find_map(|b| Some(b.dead_letter.as_ref()?.reader.maximum_concurrency)))
                        .unwrap_or(0);
                    (
                        format!("unreserved; at most {per_queue} concurrent invocations per dead-letter queue"),
                        "its SQS event source mappings only",
                    )
                }
                Invoker::FunctionUrl(auth) => (
                    match (function.reserved_concurrency_input(), &model.endpoint, &model.approvals) {
                        (Some(input), Some(endpoint), _) if function.id == FunctionId::Endpoint => {
                            format!("reserved concurrency {} (`{input}`)", endpoint.reserved_concurrency)
                        }
                        (Some(input), _, Some(approvals)) => {
                            format!(
                                "reserved concurrency {} (`{input}`)",
                                approvals.page_reserved_concurrency
                            )
                        }
                        _ => "unreserved".to_string(),
                    },
                    match auth {
                        UrlAuth::Iam => "its function URL, SigV4-signed (`AWS_IAM`: `endpoint_invoke_policy_json`)",
                        UrlAuth::None => {
                            "its function URL (`NONE`: the function checks each request's signature or MAC)"
                        }
                    },
                ),
                Invoker::ApprovalsMapping => (
                    "unreserved; at most 2 concurrent invocations (the approvals queue's mapping)".to_string(),
                    "the approvals queue's SQS event source mapping only",
                ),
            };
            FunctionRow {
                name: function.name.with(&model.name),
                title: function.id.title(),
                concurrency,
                invoked_by,
            }
        })
        .collect()
}

/// The sizes sfngen checked against AWS's limits, with the longest names, ARNs and queue URLs AWS and the
/// module's inputs allow: `(what, figure, limit)`. Queue and trust policies, which cannot come near theirs, are
/// left out.
fn limit_rows(model: &Model, definition: &GeneratedFile) -> Vec<Value> {
    let text = std::str::from_utf8(&definition.contents).expect("bug: the ASL file is not UTF-8");
    let definition_bytes = asl::deployed_len_of_file(text, &crate::fit::worst_template_value(model));
    let mut rows: Vec<Value> = crate::fit::summary(model, definition_bytes)
        .into_iter()
        .filter(|m| {
            let far_from_it = [&limits::SQS_QUEUE_POLICY, &limits::IAM_TRUST_POLICY].contains(&m.limit)
                || m.subject.starts_with("the worker policy of queue");
            let no_managed_policies = m.limit == &limits::IAM_MANAGED_POLICIES_PER_ROLE && m.value == 0;
            !(far_from_it || no_managed_policies)
        })
        .map(|m| {
            context! {
                what => upper_first(&m.subject),
                figure => limits::with_unit(m.value, m.limit.unit),
                limit => m.limit.figure_text(),
            }
        })
        .collect();
    if let Some((room, step)) = crate::fit::least_room(model) {
        rows.insert(
            1,
            context! {
                what => format!("Room for a step's input in its task message (least: {step})"),
                figure => limits::with_unit(room, limits::Unit::Bytes),
                limit => format!("{} in all", limits::TASK_PARAMETERS.figure_text()),
            },
        );
    }
    rows
}

/// `text` with its first letter upper case.
fn upper_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
// terraform-docs' `markdown table` layout (its default settings: anchors, escaping, sorted by name), from
// https://github.com/terraform-docs/terraform-docs/tree/master/format/templates (markdown_table_*.tmpl):
// Requirements and Providers are `Name | Version`, Resources `Name | Type` (resources, then data sources, each
// linked to its registry page), Inputs `Name | Description | Type | Default | Required`, Outputs
// `Name | Description`.

/// `<a name="KIND_NAME"></a> [NAME](#KIND\_NAME)`, `_` escaped outside the anchor as terraform-docs does.
fn anchored(kind: &str, name: &str) -> String {
    let anchor = format!("{kind}_{name}");
    format!(
        "<a name=\"{anchor}\"></a> [{}](#{})",
        escape_underscores(name),
        escape_underscores(&anchor)
    )
}

fn escape_underscores(text: &str) -> String {
    text.replace('_', "\\_")
}

/// A description as a table cell: `|` escaped, so that it cannot end the cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn requirement_rows() -> Vec<DocsRow> {
    [("terraform", terraform_constraint()), ("aws", aws_constraint())]
        .into_iter()
        .map(|(name, version)| DocsRow {
            cells: vec![anchored("requirement", name), version],
        })
        .collect()
}

fn provider_rows() -> Vec<DocsRow> {
    vec![DocsRow {
        cells: vec![anchored("provider", "aws"), aws_constraint()],
    }]
}

/// Resources, then data sources, each sorted by `type.name`, linked to the provider's documentation.
fn resource_rows(declared: &[Declared]) -> Vec<DocsRow> {
    let mut sorted: Vec<&Declared> = declared.iter().collect();
    sorted.sort_by(|a, b| (a.data, &a.kind, &a.name).cmp(&(b.data, &b.kind, &b.name)));
    sorted
        .into_iter()
        .map(|d| {
            let (folder, mode) = if d.data {
                ("data-sources", "data source")
            } else {
                ("resources", "resource")
            };
            // terraform-docs links a type to its provider's page: `aws_sqs_queue` to hashicorp/aws's
            // `sqs_queue`, the built-in `terraform_data` to hashicorp/terraform's `data`.
            let (provider, page) = d.kind.split_once('_').unwrap_or(("aws", &d.kind));
            DocsRow {
                cells: vec![
                    format!(
                        "[{}.{}](https://registry.terraform.io/providers/hashicorp/{provider}/latest/docs/{folder}/{page})",
                        d.kind, d.name
                    ),
                    mode.to_string(),
                ],
            }
        })
        .collect()
}

/// Every input, sorted by name: all have a default, so none is required.
fn input_rows(model: &Model) -> Vec<DocsRow> {
    let mut inputs = model.inputs();
    inputs.sort_by(|a, b| a.name.cmp(&b.name));
    inputs
        .into_iter()
        .map(|input| DocsRow {
            cells: vec![
                anchored("input", &input.name),
                cell(&input.description),
                format!("`{}`", type_of(&input.kind)),
                format!("`{}`", default_of(&input.kind)),
                "no".to_string(),
            ],
        })
        .collect()
}

fn output_rows(model: &Model) -> Vec<DocsRow> {
    let mut outputs = model.outputs();
    outputs.sort_by(|a, b| a.name.cmp(b.name));
    outputs
        .into_iter()
        .map(|output| DocsRow {
            cells: vec![anchored("output", output.name), cell(&output.description)],
        })
        .collect()
}

fn encryption_label(encryption: &Encryption) -> &'static str {
    match encryption {
        Encryption::ServiceManaged => "SSE-SQS",
        Encryption::ModuleKey => "SSE-KMS (module key)",
        Encryption::KeyArn(_) | Encryption::KeyAlias(_) => "SSE-KMS (your key)",
    }
}

fn encryption_summary(model: &Model) -> String {
    let mut labels: Vec<&str> = model.queues.iter().map(|q| encryption_label(&q.encryption)).collect();
    labels.sort();
    labels.dedup();
    format!("encrypted at rest ({})", labels.join(", "))
}

/// What encrypts the definition and execution history, and what callers then need.
fn execution_encryption(model: &Model) -> String {
    let key = match &model.state_machine.encryption {
        None => return "an AWS-owned key".into(),
        Some(CustomerKey::Module) => "the module's customer managed key".to_string(),
        Some(_) => format!(
            "your customer managed key (`var.{}`)",
            model.state_machine.key_input().unwrap_or_default()
        ),
    };
    format!(
        "{key} as well as AWS's own; whoever starts, reads or answers an execution needs `kms:Decrypt` and \
         `kms:GenerateDataKey` on it (the Lambda functions' roles have them, through Step Functions only)"
    )
}

/// Whether the execution logs hold task tokens, with the module's defaults.
fn token_logging(model: &Model) -> String {
    let logging = &model.state_machine.logging;
    let (level, data) = (input::LOG_LEVEL, input::INCLUDE_EXECUTION_DATA);
    if logging.level == LogLevel::All && logging.include_execution_data {
        format!(
            "**the execution logs do** with this module's defaults (`{level} = \"ALL\"` with `{data}`): whoever can \
             read the log group can answer these tasks, and every plan warns"
        )
    } else {
        format!("the execution logs do not either, unless `var.{level}` is `ALL` with `var.{data}` (a plan then warns)")
    }
}

/// The workflow as a mermaid flowchart: one node per step, in order.
pub fn workflow_mermaid(model: &Model) -> String {
    let mut out = String::new();
    write_workflow_mermaid(&mut out, model).expect("bug: writing to a String failed");
    out
}

/// [`workflow_mermaid`], written into one buffer: a thousand steps make a thousand nodes.
fn write_workflow_mermaid(out: &mut String, model: &Model) -> std::fmt::Result {
    out.push_str("flowchart TD\n  start((Start))");
    for (index, step) in model.steps.iter().enumerate() {
        match index {
            0 => out.push_str("\n  start"),
            _ => write!(out, "\n  s{}", index - 1)?,
        }
        write!(
            out,
            " --> s{index}[\"{}<br/>{}: {}",
            escape_mermaid(&step.name),
            step.channel.kind(),
            step.channel.key()
        )?;
        if step.approval {
            out.push_str("<br/>approval");
        }
        if let Some(t) = step.timeout_seconds {
            write!(out, "<br/>timeout {}", format_seconds(t))?;
        }
        if let Some(h) = step.heartbeat_seconds {
            write!(out, "<br/>heartbeat {}", format_seconds(h))?;
        }
        if let Some(fan_out) = step.fan_out.as_ref() {
            write!(out, "<br/>for each {}", escape_mermaid(&fan_out.items_path))?;
            if let Some(n) = fan_out.max_concurrency {
                write!(out, ", {n} at once")?;
            }
        }
        out.push_str("\"]");
    }
    match model.steps.len() {
        0 => out.push_str("\n  start"),
        steps => write!(out, "\n  s{}", steps - 1)?,
    }
    out.push_str(" --> finish((End))");
    let step_index: HashMap<&str, usize> = model
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    for (index, step) in model.steps.iter().enumerate() {
        for (catch_index, catch) in step.catch.iter().enumerate() {
            let errors = catch.errors.join(", ");
            let errors = escape_mermaid(&errors);
            write!(out, "\n  s{index} -. \"{errors}\" .-> ")?;
            match &catch.target {
                CatchTarget::Step(name) => {
                    let target = step_index
                        .get(name.as_str())
                        .unwrap_or_else(|| panic!("bug: the model has no step {name:?}, yet a catcher names it"));
                    write!(out, "s{target}")?
                }
                CatchTarget::Fail { state, error, .. } => write!(
                    out,
                    "{}[\"{}<br/>Fail: {}\"]",
                    fail_id(index, catch_index),
                    escape_mermaid(state),
                    escape_mermaid(error)
                )?,
            }
        }
        for retry in &step.retry {
            let errors = retry.errors.join(", ");
            let errors = escape_mermaid(&errors);
            write!(
                out,
                "\n  s{index} -. \"retry {errors} x{}\" .-> s{index}",
                retry.max_attempts
            )?;
        }
    }
    Ok(())
}

/// The services and who calls whom.
pub fn architecture_mermaid(model: &Model) -> String {
    let mut lines = vec![
        "flowchart LR".to_string(),
        "  client([Client]) -- StartExecution --> sfn[\"State machine<br/>".to_string()
            + &model.state_machine.name.with(&model.name)
            + "\"]",
    ];
    for (index, queue) in model.queues.iter().enumerate() {
        let channel = Channel::Queue(queue.key.clone());
        let node = format!("q{index}[(\"SQS<br/>{}\")]", queue.name.with(&model.name));
        lines.extend(channel_edges(model, &channel, &node, "SendMessage {input, token}"));
        lines.push(format!(
            "  q{index} -- ReceiveMessage --> {}",
            reader_of(model, &channel)
        ));
        if let Some(dlq) = &queue.dead_letter {
            lines.push(format!(
                "  q{index} -. \"after {} receives\" .-> d{index}[(\"DLQ<br/>{}\")]",
                dlq.max_receives,
                dlq.name.with(&model.name)
            ));
        }
    }
    for (index, bus) in model.buses.iter().enumerate() {
        let name = match &bus.bus {
            BusName::Custom(name) => name.with(&model.name),
            BusName::Existing(name) => name.clone(),
        };
        let channel = Channel::Bus(bus.key.clone());
        let node = format!("b{index}([\"EventBridge bus<br/>{name}\"])");
        lines.extend(channel_edges(
            model,
            &channel,
            &node,
            "PutEvents {detail: input, token}",
        ));
        lines.push(format!(
            "  b{index} -- \"rule {}\" --> bt{index}[[\"Your targets\"]]",
            bus.rule.with(&model.name)
        ));
        lines.push(format!("  bt{index} --> {}", reader_of(model, &channel)));
        if let Some(dlq) = &bus.dead_letter {
            lines.push(format!(
                "  b{index} -. undelivered .-> bd{index}[(\"DLQ<br/>{}\")]",
                dlq.name.with(&model.name)
            ));
        }
    }
    for (index, topic) in model.topics.iter().enumerate() {
        let channel = Channel::Topic(topic.key.clone());
        let node = format!("t{index}>\"SNS<br/>{}\"]", topic.name.with(&model.name));
        lines.extend(channel_edges(model, &channel, &node, "Publish {input, token}"));
        lines.push(format!(
            "  t{index} -- subscriptions --> {}",
            reader_of(model, &channel)
        ));
        if let Some(dlq) = &topic.dead_letter {
            lines.push(format!(
                "  t{index} -. undeliverable .-> td{index}[(\"DLQ<br/>{}\")]",
                dlq.name.with(&model.name)
            ));
        }
    }
    // The worker node is declared where a channel hands it tasks; a module of approval steps alone declares it here.
    let worker = match model.steps.iter().any(|s| !s.approval) {
        true => "worker",
        false => "worker([Your worker])",
    };
    lines.push(format!(
        "  {worker} -- \"Invoke {{token, status}}\" --> fn[\"Lambda<br/>{}\"]",
        model.function(FunctionId::Callback).name.with(&model.name)
    ));
    lines.push("  fn -- \"SendTaskSuccess / Failure / Heartbeat\" --> sfn".to_string());
    lines.extend(answers_from_outside(model));
    if let Some(reader) = model.dead_letter_function() {
        lines.push(format!(
            "  dl[\"Lambda<br/>{}\"] -- SendTaskFailure --> sfn",
            reader.name.with(&model.name)
        ));
        for (index, queue) in model.queues.iter().enumerate() {
            if queue.dead_letter_reader().is_some() {
                lines.push(format!("  d{index} -- \"event source: fail the task\" --> dl"));
            }
        }
        for (index, bus) in model.buses.iter().enumerate() {
            if bus.dead_letter.is_some() {
                lines.push(format!("  bd{index} -- \"event source: fail the task\" --> dl"));
            }
        }
        for (index, topic) in model.topics.iter().enumerate() {
            if topic.dead_letter.is_some() {
                lines.push(format!("  td{index} -- \"event source: fail the task\" --> dl"));
            }
        }
        if model.approvals.is_some() {
            lines.push("  ad -- \"event source: fail the task\" --> dl".to_string());
        }
    }
    lines.join("\n")
}

/// The edges into a channel's `node` (its first mention declares it): the state machine's, with `message`, when a
/// step sends its task there; the notifier's, with the link, when an approval step notifies through it.
fn channel_edges(model: &Model, channel: &Channel, node: &str, message: &str) -> Vec<String> {
    let tasks = model.steps.iter().any(|s| !s.approval && &s.channel == channel);
    let approvals = model.steps.iter().any(|s| s.approval && &s.channel == channel);
    let id = node.split(['[', '(', '>']).next().unwrap_or(node);
    let mut edges = Vec::new();
    if tasks {
        edges.push(format!("  sfn -- \"{message}\" --> {node}"));
    }
    if approvals {
        let target = if tasks { id } else { node };
        edges.push(format!("  nt -- \"a link: id, expiry, MAC\" --> {target}"));
    }
    edges
}

/// Who reads a channel: workers, people (the approvals' links), or both.
fn reader_of(model: &Model, channel: &Channel) -> &'static str {
    let tasks = model.steps.iter().any(|s| !s.approval && &s.channel == channel);
    match tasks {
        true => "worker([Your worker])",
        false => "person([A person])",
    }
}

/// The approvals' and the endpoint's nodes: the approvals queue, the notifier, the table, the page; the endpoint.
fn answers_from_outside(model: &Model) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(approvals) = &model.approvals {
        let named = |id: FunctionId| model.function(id).name.with(&model.name);
        lines.extend([
            format!(
                "  sfn -- \"SendMessage {{input, token, approval}}\" --> aq[(\"SQS<br/>{}\")]",
                approvals.queue.with(&model.name)
            ),
            format!(
                "  aq -. \"after {} receives\" .-> ad[(\"DLQ<br/>{}\")]",
                approvals.max_receives,
                approvals.dead_letter.with(&model.name)
            ),
            format!(
                "  aq -- \"event source\" --> nt[\"Lambda<br/>{}\"]",
                named(FunctionId::ApprovalNotify)
            ),
            format!(
                "  nt -- \"PutItem {{id, token, expires_at}}\" --> tbl[(\"DynamoDB<br/>{}\")]",
                approvals.table.with(&model.name)
            ),
            format!(
                "  person([A person]) -- \"GET shows, POST decides\" --> pg[\"Lambda URL<br/>{}\"]",
                named(FunctionId::ApprovalPage)
            ),
            "  pg -- \"UpdateItem once: takes the token\" --> tbl".to_string(),
            "  pg -- \"SendTaskSuccess / Failure\" --> sfn".to_string(),
        ]);
    }
    if let Some(endpoint) = &model.endpoint {
        lines.push(format!(
            "  sender([A sender outside AWS]) -- \"POST {{token, status}}, {}\" --> ep[\"Lambda URL<br/>{}\"]",
            match endpoint.auth {
                EndpointAuth::Iam => "SigV4",
                EndpointAuth::Hmac { .. } => "HMAC-signed",
            },
            model.function(FunctionId::Endpoint).name.with(&model.name)
        ));
        lines.push("  ep -- \"SendTaskSuccess / Failure / Heartbeat\" --> sfn".to_string());
    }
    lines
}

/// A mermaid node id for the Fail state of a step's catch: its step's and catch's positions, so that Fail
/// states whose names share their ASCII letters (or have none) stay apart. Steps are `s{index}`.
fn fail_id(step: usize, catch: usize) -> String {
    format!("f{step}_{catch}")
}

/// `"` as mermaid writes it inside a label; the text itself when it holds none.
fn escape_mermaid(text: &str) -> Cow<'_, str> {
    if text.contains('"') {
        Cow::Owned(text.replace('"', "#quot;"))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The node ids a flowchart defines (`id[` or `id((`), in order.
    fn defined_ids(chart: &str) -> Vec<String> {
        chart
            .split(|c: char| c.is_whitespace())
            .filter_map(|token| {
                let end = token.find(['[', '('])?;
                let id = &token[..end];
                (!id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then(|| id.to_string())
            })
            .collect()
    }

    #[test]
    fn fail_states_get_a_node_each_whatever_their_names() {
        // Two Fail states whose names have no ASCII letter in common, and none at all beside "Failed".
        let spec = "name = \"d\"\n\
            [[steps]]\nname = \"請求\"\nqueue = \"q\"\n\
            [[steps.catch]]\nerrors = [\"A\"]\nfail = { error = \"X\" }\n\
            [[steps.catch]]\nerrors = [\"B\"]\nfail = { error = \"Y\" }\n\
            [[steps]]\nname = \"返金\"\nqueue = \"q\"\n\
            [[steps.catch]]\nerrors = [\"A\"]\nfail = { error = \"Z\" }\n\
            [queues.q]\n";
        let model = crate::load_model(spec, "sfngen.toml").unwrap();
        let chart = workflow_mermaid(&model);
        let ids = defined_ids(&chart);
        let fails: Vec<&String> = ids
            .iter()
            .filter(|id| id.starts_with("f0") || id.starts_with("f1"))
            .collect();
        assert_eq!(fails, ["f0_0", "f0_1", "f1_0"], "{chart}");
        let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "a node id is defined twice:\n{chart}");
    }
}
