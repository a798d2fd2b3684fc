//! The limits table ([`crate::limits`]) applied to what the spec fixes: every derived AWS name (after its
//! suffixes, with the longest `name` the module's input accepts) within its limit and unique in its namespace;
//! every ASL state name; tags, counted with the module's own and unique ignoring case; the alarms' evaluation
//! range and descriptions; each task's parameters before its input; the roles' and workers' policies laid out to
//! fit; and, as a warning, the longest execution history a path through the steps can make.

use std::collections::HashMap;

use super::iam::{self, Overflow};
use super::names::tag_path;
use crate::diagnostic::Diagnostic;
use crate::limits::{self, Limit, thousands, with_unit};
use crate::model::{
    BusName, CatchTarget, Channel, DerivedName, FanOut, MESSAGE_CONTEXT, MESSAGE_CONTEXT_FIELD, MESSAGE_ITEM_INDEX,
    MODULE_TAG_KEYS, Model, NameOrigin, Step,
};
use crate::spec::{Span, Spec};

/// Every problem with what the spec fixes, once the model is built; lays the policies out on the way.
pub(super) fn check(spec: &Spec, model: &mut Model) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let overflows = iam::fit_role_policies(model);
    diags.extend(overflows.iter().map(|o| too_many_policies(spec, o)));
    iam::fit_worker_policy(model);
    iam::fit_operator_policy(model);
    diags.extend(derived_names(spec, model));
    diags.extend(state_names(spec, model));
    diags.extend(tags(spec));
    diags.extend(evaluation_range(spec, model));
    diags.extend(alarm_descriptions(spec, model));
    diags.extend(task_parameters(spec, model));
    diags.extend(business_failure_filters(spec, model));
    diags.extend(dashboard(spec, model));
    diags
}

/// The execution log group holds the business-failure filters: at most PutMetricFilter's 100.
fn business_failure_filters(spec: &Spec, model: &Model) -> Option<Diagnostic> {
    let limit = &limits::METRIC_FILTERS_PER_LOG_GROUP;
    let filters = model.business_failures.len() as u64;
    if limit.allows(filters) {
        return None;
    }
    let span = spec
        .steps
        .iter()
        .flat_map(|steps| &steps.value)
        .flat_map(|s| &s.catch)
        .find_map(|c| c.fail.as_ref().map(|f| f.span.clone()));
    Some(
        Diagnostic::error(
            "steps",
            span,
            format!(
                "the {} errors the steps' catches end executions with need {filters} metric filters on the execution log \
                 (each pattern at most {}); {} is at most {}",
                model.matched_business_errors().len(),
                limits::METRIC_FILTER_PATTERN.figure_text(),
                limit.what,
                limit.figure_text()
            ),
        )
        .with_help(format!(
            "end executions in fewer distinct Fail errors (several catches may share one error) (source: {})",
            limit.source
        )),
    )
}

/// The dashboard within CloudWatch's widget count and name limits (one widget per queue beside a few fixed
/// ones; the name with the longest `name` and region).
fn dashboard(spec: &Spec, model: &Model) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let widgets = crate::dashboard::widget_count(model) as u64;
    if !limits::DASHBOARD_WIDGETS.allows(widgets) {
        diags.push(
            Diagnostic::error(
                "queues",
                Some(queues_span(spec)),
                format!(
                    "the dashboard would have {widgets} widgets (one per queue, and {} more); {} is at most {}",
                    widgets - model.queues.len() as u64,
                    limits::DASHBOARD_WIDGETS.what,
                    limits::DASHBOARD_WIDGETS.figure_text()
                ),
            )
            .with_help(format!(
                "use fewer queues (several steps may share one) (source: {})",
                limits::DASHBOARD_WIDGETS.source
            )),
        );
    }
    let worst = limits::worst_name();
    let name = crate::dashboard::name(&crate::dashboard::Placement {
        name: &worst,
        region: limits::WORST_REGION,
        partition: limits::WORST_PARTITION,
        account: limits::WORST_ACCOUNT,
    });
    if !limits::DASHBOARD_NAME.allows(name.chars().count() as u64) {
        diags.push(
            Diagnostic::error(
                "name",
                None,
                format!(
                    "the dashboard name {name} is longer than {}",
                    limits::DASHBOARD_NAME.figure_text()
                ),
            )
            .with_help("this is a bug in sfngen: please report it with the spec".to_string()),
        );
    }
    diags
}

/// The guard-rail warnings that come from limits: a worker or operator policy in parts, an execution history that
/// can reach its quota.
pub(super) fn warnings(spec: &Spec, model: &Model) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    if model.worker_policy_in_parts() {
        warnings.push(worker_policy_in_parts(spec, model.worker_policy().len()));
    }
    if model.operator_policies.len() > 1 {
        warnings.push(operator_policy_in_parts(spec, model.operator_policies.len()));
    }
    warnings.extend(execution_history(spec, model));
    warnings
}

/// Where the queues are reported together: their first key (the `[queues]` table itself has no span).
fn queues_span(spec: &Spec) -> Span {
    spec.queues.first().map(|(key, _)| key.span.clone()).unwrap_or(0..0)
}

fn too_many_policies(spec: &Spec, overflow: &Overflow) -> Diagnostic {
    let quota = &limits::IAM_MANAGED_POLICIES_PER_ROLE;
    Diagnostic::error(
        "queues",
        Some(queues_span(spec)),
        format!(
            "{} on {} queues need {} managed policies of at most {} (with the longest names and ARNs the module \
             allows), and IAM attaches at most {} to a role",
            overflow.what,
            spec.queues.len(),
            overflow.policies,
            limits::IAM_MANAGED_POLICY.figure_text(),
            quota.figure_text()
        ),
    )
    .with_help(format!(
        "split these queues between two specs (two modules, each with its own name) (source: {})",
        quota.source
    ))
}

fn worker_policy_in_parts(spec: &Spec, parts: usize) -> Diagnostic {
    Diagnostic::warning(
        "queues",
        Some(queues_span(spec)),
        format!(
            "the worker policy for all {} queues is larger than a managed policy ({}): output worker_policy_json is \
             a list of {} documents to attach together, not one document",
            spec.queues.len(),
            limits::IAM_MANAGED_POLICY.figure_text(),
            parts
        ),
    )
    .with_help(
        "a worker of a few queues attaches worker_policy_json_by_queue[KEY] for each; or split the queues between \
         specs",
    )
}

/// The operator policy does not fit one managed policy: its output is a list, which a role attaches part by part.
fn operator_policy_in_parts(spec: &Spec, parts: usize) -> Diagnostic {
    Diagnostic::warning(
        "queues",
        Some(queues_span(spec)),
        format!(
            "the operator policy for all {} queues is larger than a managed policy ({}): output \
             operator_policy_json is a list of {} documents to attach together, not one document",
            spec.queues.len(),
            limits::IAM_MANAGED_POLICY.figure_text(),
            parts
        ),
    )
    .with_help("attach each document of operator_policy_json to the on-call role; or split the queues between specs")
}

/// The span of what made a derived name, and the key path a message names.
fn origin_at(spec: &Spec, origin: &NameOrigin) -> (String, Span) {
    match origin {
        NameOrigin::Queue(key) => (format!("queues.{key}"), spec.entry_span("queues", key)),
        NameOrigin::Topic(key) => (format!("topics.{key}"), spec.entry_span("topics", key)),
        NameOrigin::Bus(key) => (format!("buses.{key}"), spec.entry_span("buses", key)),
        NameOrigin::Queues => ("queues".into(), queues_span(spec)),
        NameOrigin::Module => (
            "name".into(),
            spec.name.as_ref().map(|n| n.span.clone()).unwrap_or(0..0),
        ),
    }
}

/// What made a name, as a message says it.
fn origin_text(origin: &NameOrigin) -> String {
    match origin {
        NameOrigin::Queue(key) => format!("queue {key:?}"),
        NameOrigin::Topic(key) => format!("topic {key:?}"),
        NameOrigin::Bus(key) => format!("bus {key:?}"),
        NameOrigin::Queues => "the queues".into(),
        NameOrigin::Module => "the module".into(),
    }
}

/// Every derived name within its limit for the longest `name`, and none twice in its namespace.
fn derived_names(spec: &Spec, model: &Model) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let worst = limits::worst_name();
    let mut seen: HashMap<(&str, &str, &str), &DerivedName> = HashMap::new();
    let names = model.aws_names();
    for derived in &names {
        let longest = derived.name.with(&worst).chars().count() as u64;
        if !derived.limit.allows(longest) {
            let (path, span) = origin_at(spec, &derived.origin);
            diags.push(
                Diagnostic::error(
                    path,
                    Some(span),
                    format!(
                        "the {} {:?} would be {longest} characters with a {}-character name; {} is at most {}",
                        derived.what,
                        derived.name.with(&model.name),
                        worst.len(),
                        derived.limit.what,
                        derived.limit.figure_text()
                    ),
                )
                .with_help(format!("shorten the key (source: {})", derived.limit.source)),
            );
        }
        if !derived.unique {
            continue;
        }
        let id = (
            derived.limit.id,
            derived.name.before.as_str(),
            derived.name.after.as_str(),
        );
        if let Some(first) = seen.get(&id) {
            let (path, span) = origin_at(spec, &derived.origin);
            diags.push(
                Diagnostic::error(
                    path,
                    Some(span),
                    format!(
                        "{} makes the {} {:?}, which is already the name of the {} of {}",
                        origin_text(&derived.origin),
                        derived.what,
                        derived.name.with(&model.name),
                        first.what,
                        origin_text(&first.origin)
                    ),
                )
                .with_help(
                    "rename this queue: AWS names must differ, and sfngen never renames dead-letter queues (that \
                     would replace every deployed one)",
                ),
            );
        } else {
            seen.insert(id, derived);
        }
    }
    diags
}

/// Every ASL state name (steps, and the Fail states catches end in) within the States Language's limit and
/// unique. Resolve derives Fail-state names to be both; this holds it to that.
fn state_names(spec: &Spec, model: &Model) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut seen: HashMap<&str, String> = HashMap::new();
    let steps = spec.steps.as_ref().map(|s| s.value.as_slice()).unwrap_or_default();
    for (index, step) in model.steps.iter().enumerate() {
        seen.entry(step.name.as_str())
            .or_insert_with(|| format!("steps[{index}]"));
    }
    let mut inner = Vec::new();
    for (index, step) in model.steps.iter().enumerate() {
        if step.fan_out.is_some() {
            let span = steps
                .get(index)
                .and_then(|s| s.for_each.as_ref())
                .map(|f| f.span.clone());
            inner.push((index, span.unwrap_or(0..0), fan_out_states(step)));
        }
    }
    for (index, span, states) in &inner {
        for state in states {
            let path = format!("steps[{index}].for_each");
            let count = state.chars().count() as u64;
            if !limits::STATE_NAME.allows(count) {
                diags.push(
                    Diagnostic::error(
                        path.clone(),
                        Some(span.clone()),
                        format!(
                            "the state this step's Map runs for each item, {state:?}, would be {count} characters; {} \
                             is at most {}",
                            limits::STATE_NAME.what,
                            limits::STATE_NAME.figure_text()
                        ),
                    )
                    .with_help(format!(
                        "shorten the step's name (source: {})",
                        limits::STATE_NAME.source
                    )),
                );
            }
            if let Some(first) = seen.get(state.as_str()) {
                diags.push(
                    Diagnostic::error(
                        path.clone(),
                        Some(span.clone()),
                        format!("the state this step's Map runs for each item, {state:?}, is also {first}'s"),
                    )
                    .with_help("rename one of the steps: state names are unique across the whole state machine"),
                );
            }
            seen.entry(state.as_str()).or_insert(path);
        }
    }
    for (index, step) in model.steps.iter().enumerate() {
        for (i, catch) in step.catch.iter().enumerate() {
            let CatchTarget::Fail { state, .. } = &catch.target else {
                continue;
            };
            let path = format!("steps[{index}].catch[{i}]");
            let span = steps
                .get(index)
                .and_then(|s| s.catch.get(i))
                .map(|c| c.span.clone())
                .unwrap_or(0..0);
            let count = state.chars().count() as u64;
            if !limits::STATE_NAME.allows(count) {
                diags.push(state_name_error(&path, span.clone(), state, count));
            }
            // A step of that name is reported where the spec names it (see `fail_states_named_like_steps`).
            if let Some(first) = seen.get(state.as_str())
                && first.contains(".catch[")
            {
                diags.push(
                    Diagnostic::error(
                        path.clone(),
                        Some(span),
                        format!("the Fail state this catch creates, {state:?}, is also made by {first}"),
                    )
                    .with_help("rename one of the steps"),
                );
            }
            seen.entry(state.as_str()).or_insert(path);
        }
    }
    diags
}

/// The states a fan-out step's Map holds: its callback Task, and the Pass state a tolerated failure goes to.
fn fan_out_states(step: &Step) -> Vec<String> {
    let mut states = vec![FanOut::task_state(&step.name)];
    if step.fan_out.as_ref().is_some_and(|f| f.tolerate_failures) {
        states.push(FanOut::failed_state(&step.name));
    }
    states
}

fn state_name_error(path: &str, span: Span, state: &str, count: u64) -> Diagnostic {
    Diagnostic::error(
        path,
        Some(span),
        format!(
            "the Fail state this catch creates, {state:?}, would be {count} characters; {} is at most {}",
            limits::STATE_NAME.what,
            limits::STATE_NAME.figure_text()
        ),
    )
    .with_help(format!(
        "shorten the step's name (source: {})",
        limits::STATE_NAME.source
    ))
}

/// `[tags]` with the module's own: at most [`limits::TAGS_PER_RESOURCE`] together, and no two keys that differ
/// only in case (IAM treats them as one key, and every role carries these tags).
fn tags(spec: &Spec) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut keys: HashMap<String, String> = MODULE_TAG_KEYS
        .iter()
        .map(|k| (k.to_lowercase(), format!("the module's own tag {k:?}")))
        .collect();
    let mut count = MODULE_TAG_KEYS.len() as u64;
    for (key, _) in &spec.tags {
        let lower = key.value.to_lowercase();
        let own = MODULE_TAG_KEYS.contains(&key.value.as_str());
        match keys.get(&lower) {
            // The spec's tag of the module's own key replaces it (later keys win): still one tag.
            Some(_) if own => continue,
            Some(first) => {
                diags.push(
                    Diagnostic::error(
                        tag_path(&key.value),
                        Some(key.span.clone()),
                        format!("tag key {:?} differs from {first} only in case", key.value),
                    )
                    .with_help(
                        "IAM tag keys ignore case, so a role cannot carry both: give this tag another key, or the \
                         same key in the same case",
                    ),
                );
                continue;
            }
            None => {
                keys.insert(lower, format!("tag key {:?}", key.value));
            }
        }
        count += 1;
        if count == limits::TAGS_PER_RESOURCE.figure + 1 {
            diags.push(
                Diagnostic::error(
                    tag_path(&key.value),
                    Some(key.span.clone()),
                    format!(
                        "with the module's own {} tags ({}), [tags] gives every resource more than {} tags, the most \
                         AWS allows on one",
                        MODULE_TAG_KEYS.len(),
                        MODULE_TAG_KEYS.join(", "),
                        limits::TAGS_PER_RESOURCE.figure
                    ),
                )
                .with_help(format!(
                    "keep at most {} keys in [tags] (source: {})",
                    limits::TAGS_PER_RESOURCE.figure - MODULE_TAG_KEYS.len() as u64,
                    limits::TAGS_PER_RESOURCE.source
                )),
            );
        }
    }
    diags
}

/// `period` × `evaluation_periods` within what PutMetricAlarm accepts.
fn evaluation_range(spec: &Spec, model: &Model) -> Option<Diagnostic> {
    let alarms = model.alarms.as_ref()?;
    let written = spec.alarms.as_ref()?;
    let limit: &Limit = if alarms.period_seconds < limits::ALARM_LONG_PERIOD_SECONDS {
        &limits::ALARM_EVALUATION_RANGE_SHORT_PERIOD
    } else {
        &limits::ALARM_EVALUATION_RANGE
    };
    let range = alarms.period_seconds * u64::from(alarms.evaluation_periods);
    if limit.allows(range) {
        return None;
    }
    let (path, span) = match (&written.evaluation_periods, &written.period) {
        (Some(periods), _) => ("alarms.evaluation_periods", periods.span.clone()),
        (None, Some(period)) => ("alarms.period", period.span.clone()),
        (None, None) => ("alarms", written.span.clone()),
    };
    let most = limit.figure / alarms.period_seconds;
    Some(
        Diagnostic::error(
            path,
            Some(span),
            format!(
                "{} periods of {} evaluate {}; {} is at most {}",
                alarms.evaluation_periods,
                crate::duration::format_seconds(alarms.period_seconds),
                with_unit(range, limits::Unit::Seconds),
                limit.what,
                limit.figure_text()
            ),
        )
        .with_help(format!(
            "use at most {most} evaluation periods of {}{} (source: {})",
            crate::duration::format_seconds(alarms.period_seconds),
            if alarms.period_seconds < limits::ALARM_LONG_PERIOD_SECONDS {
                ", or a period of an hour or more (up to 7 days in all)"
            } else {
                ""
            },
            limit.source
        )),
    )
}

/// Every alarm's description within PutMetricAlarm's limit (the model writes them short; this holds it to it).
fn alarm_descriptions(spec: &Spec, model: &Model) -> Vec<Diagnostic> {
    let span = spec.alarms.as_ref().map(|a| a.span.clone());
    model
        .alarm_list()
        .into_iter()
        .filter(|alarm| !limits::ALARM_DESCRIPTION.allows(alarm.description.chars().count() as u64))
        .map(|alarm| {
            Diagnostic::error(
                "alarms",
                span.clone(),
                format!(
                    "the description of alarm {} would be {} characters; {} is at most {}",
                    alarm.key,
                    alarm.description.chars().count(),
                    limits::ALARM_DESCRIPTION.what,
                    limits::ALARM_DESCRIPTION.figure_text()
                ),
            )
            .with_help("this is a bug in sfngen: please report it with the spec")
        })
        .collect()
}

/// What a task's parameters take on `queue` before the input and the static fields: the longest queue URL, the
/// message group id, the envelope with its `context` (the longest values Step Functions fills in, the state's name
/// aside: [`state_name_bytes`]) and the longest task token.
/// `None` when the channel is not in the model (the spec has errors, reported already).
fn envelope_bytes(model: &Model, channel: &Channel) -> Option<u64> {
    let mut body = serde_json::Map::new();
    body.insert("input".into(), serde_json::Value::Null);
    // The token is ASCII with nothing to escape (base64 and separators): measured empty, its length added below.
    body.insert("token".into(), serde_json::Value::String(String::new()));
    body.insert(MESSAGE_CONTEXT_FIELD.into(), worst_context(model));
    let message = serde_json::Value::Object(body);
    let address = serde_json::Value::String(find_worst_channel_address(model, channel)?);
    let group = || serde_json::Value::String("0".repeat(crate::model::MESSAGE_GROUP_ID_CHARS));
    let parameters = match channel {
        Channel::Queue(key) => {
            let mut parameters = serde_json::json!({ "QueueUrl": address, "MessageBody": message });
            if model.find_queue(key)?.fifo {
                parameters["MessageGroupId"] = group();
            }
            parameters
        }
        Channel::Topic(key) => {
            let mut parameters = serde_json::json!({ "TopicArn": address, "Message": message });
            if model.find_topic(key)?.fifo {
                parameters["MessageGroupId"] = group();
            }
            parameters
        }
        Channel::Bus(key) => {
            let bus = model.find_bus(key)?;
            serde_json::json!({ "Entries": [{
                "EventBusName": address,
                "Source": bus.source,
                "DetailType": bus.detail_type,
                "Detail": message,
            }] })
        }
    };
    let text = parameters.to_string();
    // The input takes the place of `null`.
    Some(text.len() as u64 - "null".len() as u64 + limits::MAX_TASK_TOKEN_CHARS)
}

/// What an approval step's task parameters take before its input: the approvals queue's longest URL, the envelope
/// with its context and the `approval` object (with the channel's longest address), the longest task token.
/// `None` when the channel is not in the model (the spec has errors, reported already).
fn approval_envelope_bytes(model: &Model, step: &Step) -> Option<u64> {
    let approvals = model.approvals.as_ref()?;
    let request = model.approval_request(step);
    let mut approval = serde_json::json!({
        "channel": request.channel,
        "target": find_worst_channel_address(model, &step.channel)?,
        "fifo": request.fifo,
        "timeout_seconds": request.timeout_seconds,
    });
    if let Some((source, detail_type)) = request.event {
        approval["source"] = serde_json::Value::String(source.to_string());
        approval["detail_type"] = serde_json::Value::String(detail_type.to_string());
    }
    let message = serde_json::json!({
        "input": null,
        "token": "",
        MESSAGE_CONTEXT_FIELD: worst_context(model),
        crate::model::APPROVAL_FIELD: approval,
    });
    let address = limits::worst_queue_url(&approvals.queue.with(&limits::worst_name()));
    let text = serde_json::json!({ "QueueUrl": address, "MessageBody": message }).to_string();
    Some(text.len() as u64 - "null".len() as u64 + limits::MAX_TASK_TOKEN_CHARS)
}

/// Where a channel's messages go, with the longest names and ARNs the module's inputs and AWS allow: a queue's
/// URL, a topic's ARN, a bus's ARN. Resolve lets no step name a missing channel, so a miss is a bug.
pub fn worst_channel_address(model: &Model, channel: &Channel) -> String {
    find_worst_channel_address(model, channel)
        .unwrap_or_else(|| panic!("bug: the model has no {} {:?}", channel.kind(), channel.key()))
}

/// [`worst_channel_address`]; `None` when the channel is not in the model.
fn find_worst_channel_address(model: &Model, channel: &Channel) -> Option<String> {
    let worst_name = limits::worst_name();
    Some(match channel {
        Channel::Queue(key) => limits::worst_queue_url(&model.find_queue(key)?.name.with(&worst_name)),
        Channel::Topic(key) => limits::worst_topic_arn(&model.find_topic(key)?.name.with(&worst_name)),
        Channel::Bus(key) => match &model.find_bus(key)?.bus {
            BusName::Existing(name) => limits::worst_bus_arn(name),
            BusName::Custom(name) => limits::worst_bus_arn(&name.with(&worst_name)),
        },
    })
}

/// The message's `context` with the longest values Step Functions can fill in, the state's name empty: the
/// execution's ARN with the longest state machine name and execution name, an entered time as Step Functions
/// writes it, and counts of the most digits an API integer has.
fn worst_context(model: &Model) -> serde_json::Value {
    let execution = format!(
        "arn:{}:states:{}:{}:execution:{}:{}",
        limits::WORST_PARTITION,
        limits::WORST_REGION,
        limits::WORST_ACCOUNT,
        model.state_machine.name.with(&limits::worst_name()),
        "e".repeat(limits::MAX_EXECUTION_NAME_CHARS)
    );
    let mut context = serde_json::Map::new();
    for (field, path) in MESSAGE_CONTEXT {
        let value = match path {
            "$$.Execution.Id" => serde_json::Value::String(execution.clone()),
            "$$.State.Name" => serde_json::Value::String(String::new()),
            "$$.State.EnteredTime" => serde_json::Value::String("0".repeat(limits::CONTEXT_TIME_CHARS)),
            // A count is a JSON number: its digits.
            _ => serde_json::Value::from(u64::from(u32::MAX)),
        };
        context.insert(field.into(), value);
    }
    serde_json::Value::Object(context)
}

/// What the state's name takes in the message's `context`, as JSON writes it (quotes aside, counted empty).
fn state_name_bytes(step: &Step) -> u64 {
    (serde_json::Value::String(step.name.clone()).to_string().len() - 2) as u64
}

/// What a fan-out step's message adds: the item Task's name is the step's and [`FanOut::TASK_SUFFIX`], and
/// `context` holds `,"item_index":N` ([`MESSAGE_ITEM_INDEX`]) with as many digits as an API integer has.
fn fan_out_bytes(step: &Step) -> u64 {
    if step.fan_out.is_none() {
        return 0;
    }
    let field = serde_json::Value::String(MESSAGE_ITEM_INDEX.0.into()).to_string().len();
    (FanOut::TASK_SUFFIX.len() + 1 + field + 1 + u32::MAX.to_string().len()) as u64
}

/// What the static fields add to the message body: `,"key":value` each.
fn fields_bytes(step: &Step) -> u64 {
    step.message_fields
        .iter()
        .map(|(key, value)| {
            let key = serde_json::Value::String(key.clone()).to_string().len();
            (1 + key + 1 + value.to_string().len()) as u64
        })
        .sum()
}

/// What each step's message takes of its task's parameters before its input, in step order: the longest address
/// (queue URL, topic or bus ARN),
/// the message group id, the envelope and its context, the longest task token and the step's static fields.
pub fn task_parameters_without_input(model: &Model) -> Vec<u64> {
    let mut envelopes: HashMap<&Channel, u64> = HashMap::new();
    model
        .steps
        .iter()
        .map(|step| {
            let envelope = match step.approval {
                true => approval_envelope_bytes(model, step).unwrap_or(0),
                false => *envelopes
                    .entry(&step.channel)
                    .or_insert_with(|| envelope_bytes(model, &step.channel).unwrap_or(0)),
            };
            envelope + state_name_bytes(step) + fields_bytes(step) + fan_out_bytes(step)
        })
        .collect()
}

/// Room left in each step's message for its input, in step order: the bytes of JSON its selected input may take.
/// A step on a bus has the least of its task's parameters' room and its PutEvents entry's.
pub fn input_rooms(model: &Model) -> Vec<u64> {
    task_parameters_without_input(model)
        .into_iter()
        .zip(&model.steps)
        .map(|(taken, step)| {
            let parameters = limits::TASK_PARAMETERS.figure.saturating_sub(taken);
            match event_entry_without_input(model, step) {
                Some(entry) => parameters.min(limits::EVENT_ENTRY.figure.saturating_sub(entry)),
                None => parameters,
            }
        })
        .collect()
}

/// What a bus step's event takes of a PutEvents entry before its input, counted as EventBridge counts an entry
/// ([`limits::EVENT_ENTRY`]): its source and detail type, the detail (the message: envelope, context, the longest
/// token, the state's name, the static fields) and the longest ARNs of the state machine and of an execution, which
/// Step Functions adds to the entry's `Resources`. `None` for a step on another channel, or a bus the model lacks.
pub fn event_entry_without_input(model: &Model, step: &Step) -> Option<u64> {
    // An approval step's task goes to the approvals queue; its bus carries a small notification, no input.
    let Channel::Bus(key) = &step.channel else {
        return None;
    };
    if step.approval {
        return None;
    }
    let bus = model.find_bus(key)?;
    let mut detail = serde_json::Map::new();
    detail.insert("input".into(), serde_json::Value::Null);
    detail.insert("token".into(), serde_json::Value::String(String::new()));
    detail.insert(MESSAGE_CONTEXT_FIELD.into(), worst_context(model));
    // The input takes the place of `null`; the token is ASCII, measured empty.
    let detail = serde_json::Value::Object(detail).to_string().len() as u64 - "null".len() as u64
        + limits::MAX_TASK_TOKEN_CHARS
        + state_name_bytes(step)
        + fields_bytes(step);
    let machine = model.state_machine.name.with(&limits::worst_name());
    let arn = |resource: String| {
        format!(
            "arn:{}:states:{}:{}:{resource}",
            limits::WORST_PARTITION,
            limits::WORST_REGION,
            limits::WORST_ACCOUNT
        )
        .len() as u64
    };
    let resources = arn(format!("stateMachine:{machine}"))
        + arn(format!(
            "execution:{machine}:{}",
            "e".repeat(limits::MAX_EXECUTION_NAME_CHARS)
        ));
    Some(bus.source.len() as u64 + bus.detail_type.len() as u64 + detail + resources)
}

/// Each task's parameters, with no input at all, within Step Functions' quota: otherwise every execution fails
/// at that step.
fn task_parameters(spec: &Spec, model: &Model) -> Vec<Diagnostic> {
    let steps = spec.steps.as_ref().map(|s| s.value.as_slice()).unwrap_or_default();
    let mut diags = Vec::new();
    let taken = task_parameters_without_input(model);
    for (index, (fixed, written)) in taken.into_iter().zip(steps).enumerate() {
        // The smallest input, `{}`, must fit too.
        if limits::TASK_PARAMETERS.allows(fixed + 2) {
            continue;
        }
        let span = written
            .message
            .first()
            .map(|(key, _)| key.span.clone())
            .unwrap_or(written.span.clone());
        diags.push(
            Diagnostic::error(
                format!("steps[{index}].message"),
                Some(span),
                format!(
                    "the static message fields make this task's parameters {} bytes before any input (with the \
                     longest queue URL, task token and context); {} is at most {}",
                    thousands(fixed),
                    limits::TASK_PARAMETERS.what,
                    limits::TASK_PARAMETERS.figure_text()
                ),
            )
            .with_help(format!(
                "keep large data out of the message: put it where the worker can fetch it (S3, a table) and send \
                 its key (source: {})",
                limits::TASK_PARAMETERS.source
            )),
        );
    }
    // One message per mistake: a step whose parameters are already too large is not reported twice.
    let reported: Vec<usize> = diags
        .iter()
        .filter_map(|d| d.path.strip_prefix("steps[")?.split(']').next()?.parse().ok())
        .collect();
    diags.extend(event_entries(model, steps, &reported));
    diags
}

/// Each bus step's PutEvents entry, with no input at all, within EventBridge's quota: otherwise PutEvents fails the
/// entry and every execution fails at that step (`EventBridge.FailedEntry`).
/// `reported`: the steps whose task parameters are already reported as too large.
fn event_entries(model: &Model, steps: &[crate::spec::StepSpec], reported: &[usize]) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for (index, (step, written)) in model.steps.iter().zip(steps).enumerate() {
        if reported.contains(&index) {
            continue;
        }
        let Some(fixed) = event_entry_without_input(model, step) else {
            continue;
        };
        if limits::EVENT_ENTRY.allows(fixed + 2) {
            continue;
        }
        let span = written
            .message
            .first()
            .map(|(key, _)| key.span.clone())
            .unwrap_or(written.span.clone());
        diags.push(
            Diagnostic::error(
                format!("steps[{index}].message"),
                Some(span),
                format!(
                    "the static message fields make this step's event {} bytes before any input (its source, detail \
                     type and detail with the longest task token and context, and the state machine's and the \
                     execution's ARNs that Step Functions adds); {} is at most {}",
                    thousands(fixed),
                    limits::EVENT_ENTRY.what,
                    limits::EVENT_ENTRY.figure_text()
                ),
            )
            .with_help(format!(
                "keep large data out of the message: put it where the worker can fetch it (S3, a table) and send \
                 its key (source: {})",
                limits::EVENT_ENTRY.source
            )),
        );
    }
    diags
}

/// History events a Standard execution records for one callback Task attempt: TaskScheduled, TaskStarted,
/// TaskSubmitted, and TaskSucceeded, TaskFailed or TaskTimedOut (the HistoryEvent types of GetExecutionHistory,
/// https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html).
pub const EVENTS_PER_ATTEMPT: u64 = 4;
/// TaskStateEntered and TaskStateExited (or, at a Fail state, FailStateEntered).
pub const EVENTS_PER_STATE: u64 = 2;
/// ExecutionStarted and ExecutionSucceeded, ExecutionFailed or ExecutionTimedOut.
pub const EVENTS_PER_EXECUTION: u64 = 2;

/// MapStateEntered, MapStateStarted, MapStateSucceeded (or MapStateFailed) and MapStateExited.
pub const EVENTS_PER_MAP: u64 = 4;
/// MapIterationStarted and MapIterationSucceeded, MapIterationFailed or MapIterationAborted: each item's own.
pub const EVENTS_PER_ITERATION: u64 = 2;

/// The most events a step can add to the history: entering and leaving it, and every attempt its retriers allow;
/// a fan-out step, its Map's own and, for each of the most items it may hold ([`fan_out_items`]), the iteration's,
/// the item Task's with every retry, and the Pass state a tolerated failure goes to.
pub fn step_events(step: &Step) -> u64 {
    let attempts = 1 + step.retry.iter().map(|r| u64::from(r.max_attempts)).sum::<u64>();
    let task = EVENTS_PER_STATE + EVENTS_PER_ATTEMPT * attempts;
    let Some(fan_out) = step.fan_out.as_ref() else {
        return task;
    };
    let failed = if fan_out.tolerate_failures { EVENTS_PER_STATE } else { 0 };
    EVENTS_PER_MAP + fan_out_items(fan_out) * (EVENTS_PER_ITERATION + task + failed)
}

/// The most items a fan-out step's array holds: its `max_items`, or as many as the largest state input holds
/// ([`limits::STATE_INPUT`]): `[0,0,…,0]`, two bytes an item and one for the brackets.
pub fn fan_out_items(fan_out: &FanOut) -> u64 {
    fan_out
        .max_items
        .map_or((limits::STATE_INPUT.figure - 1) / 2, u64::from)
}

/// A warning at the first step an execution can reach with more events than Step Functions keeps: the path
/// through every step, each retried as often as its retriers allow (a catch only skips steps or ends the
/// execution, so no path is longer).
fn execution_history(spec: &Spec, model: &Model) -> Option<Diagnostic> {
    let steps = spec.steps.as_ref().map(|s| s.value.as_slice()).unwrap_or_default();
    let mut events = EVENTS_PER_EXECUTION;
    for (index, step) in model.steps.iter().enumerate() {
        events += step_events(step);
        if limits::EXECUTION_HISTORY.allows(events) {
            continue;
        }
        let span = steps.get(index).map(|s| s.span.clone());
        return Some(
            Diagnostic::warning(
                format!("steps[{index}]"),
                span,
                format!(
                    "an execution that reaches step {:?} with every retry taken has recorded up to {} events; Step \
                     Functions fails an execution whose history reaches {}",
                    step.name,
                    thousands(events),
                    limits::EXECUTION_HISTORY.figure_text()
                ),
            )
            .with_help(history_help(index, step)),
        );
    }
    None
}

/// How to keep an execution's history within its limit, for the step where it goes over.
fn history_help(index: usize, step: &Step) -> String {
    let fan_out = match step.fan_out.as_ref() {
        Some(fan_out) if fan_out.max_items.is_none() => format!(
            "set steps[{index}].max_items to the most items its array holds (unset, sfngen counts {}, as many as a \
             state input holds), ",
            thousands(fan_out_items(fan_out))
        ),
        Some(_) => "lower max_items or split the items across executions, ".to_string(),
        None => String::new(),
    };
    format!(
        "{fan_out}lower the retries' attempts, or split the workflow into state machines that start one another \
         (source: {})",
        limits::EXECUTION_HISTORY.source
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bus_steps_event_entry_is_its_own_limit_reported_once() {
        let spec = |blob: usize| {
            format!(
                "name = \"d\"\n[[steps]]\nname = \"A\"\nbus = \"b\"\nmessage = {{ blob = \"{}\" }}\n[buses.b]\nsource = \"com.example\"\n",
                "b".repeat(blob)
            )
        };
        let model = crate::load_model(&spec(1), "sfngen.toml").unwrap();
        let entry = event_entry_without_input(&model, &model.steps[0]).unwrap();
        let parameters = task_parameters_without_input(&model)[0];
        // With a custom bus, the entry (with the state machine's and the execution's ARNs) is the larger.
        assert!(entry > parameters, "{entry} <= {parameters}");
        assert_eq!(
            input_rooms(&model)[0],
            limits::EVENT_ENTRY.figure - entry,
            "the room is the entry's"
        );
        // Past the entry's limit only: one error, the entry's.
        let past_entry = (limits::EVENT_ENTRY.figure - entry) as usize;
        let diags = crate::load_model(&spec(past_entry), "sfngen.toml").unwrap_err();
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(diags[0].message.contains("a PutEvents entry"), "{}", diags[0].message);
        // Past both: one error still.
        let past_both = (limits::TASK_PARAMETERS.figure - parameters) as usize + 1;
        assert_eq!(crate::load_model(&spec(past_both), "sfngen.toml").unwrap_err().len(), 1);
    }

    #[test]
    fn a_tasks_parameters_are_measured_as_serialized() {
        let spec = "name = \"d\"\n[[steps]]\nname = \"Ré\\u00e9A\"\nqueue = \"q\"\n\
                    message = { \"ké\\\"y\" = \"v\\u0001é\", n = 1.5, list = [1, {a = true}] }\n\
                    [queues.q]\nfifo = true\n";
        let model = crate::load_model(spec, "sfngen.toml").unwrap();
        let step = &model.steps[0];
        let mut body = serde_json::Map::new();
        body.insert("input".into(), serde_json::Value::Null);
        body.insert("token".into(), serde_json::Value::String("t".repeat(2048)));
        // The longest execution ARN: the longest partition, region, state machine name and execution name.
        let execution = format!(
            "arn:aws-us-gov:states:us-isof-south-1:123456789012:execution:{}:{}",
            "n".repeat(32),
            "x".repeat(80)
        );
        body.insert(
            "context".into(),
            serde_json::json!({
                "execution": execution,
                "state": "R\u{e9}\u{e9}A",
                "entered_time": "2019-03-26T20:14:13.192Z",
                "retry_count": 4_294_967_295_u64,
                "redrive_count": 4_294_967_295_u64,
            }),
        );
        for (key, value) in &step.message_fields {
            body.insert(key.clone(), value.clone());
        }
        let parameters = serde_json::json!({
            "QueueUrl": limits::worst_queue_url(&model.queues[0].name.with(&limits::worst_name())),
            "MessageBody": body,
            "MessageGroupId": "0".repeat(64),
        });
        assert_eq!(
            task_parameters_without_input(&model),
            [parameters.to_string().len() as u64 - 4]
        );
    }

    #[test]
    fn a_step_records_its_state_and_every_attempt() {
        let mut step = Step {
            name: "A".into(),
            channel: crate::model::Channel::Queue("q".into()),
            timeout_seconds: None,
            heartbeat_seconds: None,
            input_path: "$".into(),
            message_fields: Vec::new(),
            retry: Vec::new(),
            catch: Vec::new(),
            fan_out: None,
            approval: false,
        };
        assert_eq!(step_events(&step), 6);
        step.retry.push(crate::model::Retry {
            errors: vec!["States.ALL".into()],
            max_attempts: 99,
            interval_seconds: 1,
            backoff_rate_milli: 2000,
            max_delay_seconds: None,
            jitter: false,
        });
        assert_eq!(step_events(&step), 2 + 4 * 100);
    }

    #[test]
    fn a_fan_out_step_records_its_map_and_every_item() {
        let mut step = crate::load_model(
            "name = \"d\"\n[[steps]]\nname = \"A\"\nqueue = \"q\"\nfor_each = \"$.x\"\nmax_items = 10\n\
             [[steps.retry]]\nattempts = 2\n[queues.q]\n",
            "sfngen.toml",
        )
        .unwrap()
        .steps
        .remove(0);
        // The Map's 4, and per item: the iteration's 2, the task state's 2 and 4 per attempt (3 attempts).
        assert_eq!(step_events(&step), 4 + 10 * (2 + 2 + 4 * 3));
        if let Some(fan_out) = step.fan_out.as_mut() {
            fan_out.tolerate_failures = true;
            fan_out.max_items = None;
        }
        // Tolerated failures add the Pass state's 2; unset max_items, as many items as a state input holds.
        assert_eq!(step_events(&step), 4 + 131_071 * (2 + 2 + 4 * 3 + 2));
    }
}
